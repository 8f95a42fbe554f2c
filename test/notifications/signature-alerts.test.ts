/**
 * A delivery whose signature fails is refused (401) and nothing of it is kept; the tenant is told,
 * throttled under `signature:<source connection>`, since a secret mistyped or changed in the shop
 * fails every order that way. Anyone with the URL can cause it too, so an isolate records at most
 * one failure per connection a minute, and the route's answer never waits for the record.
 */
import { env } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import { fallbackAlertText, groupedAlertText, signatureAlertText } from "../../src/notifications/alert-emails";
import { flushAlertGroups } from "../../src/notifications/notify-tenant";
import {
  alertSignatureFailure,
  noteSignatureFailure,
  SIGNATURE_MEMO_MS,
  type SignatureFailure,
  signatureTopic,
} from "../../src/notifications/signature-alerts";
import { withFailingD1 } from "./failing-d1";
import { MINUTE, seedTenant, T0 } from "./notification-helpers";

const WINDOW = 15 * MINUTE;

function failure(tenantId: string, connectionId: string, connector = "woocommerce"): SignatureFailure {
  return {
    tenantId,
    connectionId,
    sourceName: "Shop",
    connector,
    connectorName: connector === "woocommerce" ? "WooCommerce" : "Shopify",
    reason: "The X-WC-Webhook-Signature signature does not match the body.",
  };
}

async function pending(tenantId: string, connectionId: string) {
  return env.DB.prepare("SELECT pending, samples FROM alert_state WHERE tenant_id = ? AND topic = ?")
    .bind(tenantId, signatureTopic(connectionId))
    .first<{ pending: number; samples: string }>();
}

describe("signature failure alerts", () => {
  it("records one failure per connection a minute in an isolate, counting the rest into the next record's sample", async () => {
    const seeded = await seedTenant();
    const calls: Promise<unknown>[] = [];
    const waitUntil = (p: Promise<unknown>) => calls.push(p);
    const bad = failure(seeded.tenantId, seeded.shop);
    // A flood: the first opens the window (mailed at once), the next two are only counted in memory.
    for (const at of [T0, T0 + 1000, T0 + 2000]) noteSignatureFailure(env, bad, waitUntil, at);
    expect(calls).toHaveLength(1);
    await Promise.all(calls);
    expect((await pending(seeded.tenantId, seeded.shop))?.pending).toBe(0);
    // A minute on, one more record, which says how many were not recorded one by one.
    noteSignatureFailure(env, bad, waitUntil, T0 + SIGNATURE_MEMO_MS);
    expect(calls).toHaveLength(2);
    await Promise.all(calls);
    const state = await pending(seeded.tenantId, seeded.shop);
    expect(state?.pending).toBe(1);
    expect(JSON.parse(state!.samples)[0]).toMatch(/ UTC \(and 2 more since \d\d:\d\d UTC\): The X-WC-Webhook-Signature/);

    const mails = () =>
      database(env)
        .select()
        .from(mailOutbox)
        .where(and(eq(mailOutbox.tenantId, seeded.tenantId), like(mailOutbox.idempotencyKey, "%/signature:%")));
    const [first] = await mails();
    expect(first?.subject).toBe('[Orderly] Deliveries to "Shop" fail their signature check');
    await flushAlertGroups(env, T0 + WINDOW + MINUTE, WINDOW);
    const grouped = (await mails()).find((m) => m.idempotencyKey.endsWith("/grouped"));
    expect(grouped?.subject).toMatch(/^\[Orderly\] 1 more delivery to "Shop" failed its signature check/);
    expect(grouped?.text).toContain("(and 2 more since");
  });

  it("keeps connections apart: a flood on one does not hide another's failure", async () => {
    const seeded = await seedTenant();
    const calls: Promise<unknown>[] = [];
    noteSignatureFailure(env, failure(seeded.tenantId, seeded.shop), (p) => calls.push(p), T0);
    noteSignatureFailure(env, failure(seeded.tenantId, seeded.shop2), (p) => calls.push(p), T0);
    expect(calls).toHaveLength(2);
    await Promise.all(calls);
  });

  it("never throws when the alert cannot be recorded: the failure is logged", async () => {
    const seeded = await seedTenant();
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    await expect(
      alertSignatureFailure(withFailingD1(/alert_state/), failure(seeded.tenantId, seeded.shop), T0),
    ).resolves.toBeUndefined();
    expect(errors.mock.calls.some(([m]) => String(m).startsWith("signature failure alert not recorded"))).toBe(true);
    errors.mockRestore();
  });

  it("says what a failure means for each source, and that it is a hint, not proof", () => {
    const base = { sourceName: "Shop", connectionId: "con_1", reason: "does not match", at: T0, windowMs: WINDOW };
    const woo = signatureAlertText({ ...base, connector: "woocommerce", connectorName: "WooCommerce" });
    expect(woo.subject).toBe('Deliveries to "Shop" fail their signature check');
    expect(woo.text).toContain("Why: does not match");
    expect(woo.text).toMatch(/WooCommerce does not send a failed delivery again/);
    expect(woo.text).toMatch(/disables the webhook/);
    expect(woo.text).toMatch(/set it back to Active/);
    expect(woo.text).toMatch(/click Update/);
    expect(woo.text).toMatch(/hint, not proof/);
    expect(woo.text).toContain("/connections/con_1");
    expect(woo.text).toMatch(/in the next 15 minutes are collected into one email/);
    const shopify = signatureAlertText({ ...base, connector: "shopify", connectorName: "Shopify" });
    expect(shopify.text).toMatch(/about 4 hours/);
    expect(shopify.text).not.toMatch(/disables the webhook/);
    expect(shopify.text).toMatch(/hint, not proof/);

    const grouped = groupedAlertText({
      kind: "signature",
      connectionId: "con_1",
      connectionName: "Shop",
      count: 4,
      samples: [],
      windowStart: T0,
      now: T0 + WINDOW,
    });
    expect(grouped.subject).toBe('4 more deliveries to "Shop" failed their signature check in the last 15 minutes');
    expect(grouped.text).toMatch(/refused/);
    expect(fallbackAlertText({ kind: "signature", connectionId: "c1", sample: "x" }).subject).toBe(
      "Deliveries to connection c1 fail their signature check",
    );
  });
});
