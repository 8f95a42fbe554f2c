/**
 * Links in alert and status-report emails: full links under PUBLIC_URL (the cron and queues that
 * write most of them have no request to take a host from), words a merchant can follow without it.
 */
import { env } from "cloudflare:test";
import { withEnv } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { shopifyConnector } from "../../src/connectors/shopify";
import {
  type AlertText,
  differencesAlertText,
  failureAlertText,
  fallbackAlertText,
  groupedAlertText,
  refusedDeliveryAlertText,
} from "../../src/notifications/alert-emails";
import { alertHeldEvent, heldOrder } from "../../src/notifications/held-alerts";
import { buildStatusReport, reportPeriod, type StatusReportFacts } from "../../src/notifications/status-report";
import { publicUrl } from "../../src/worker/config";
import { shopifyDelivery, shopifyFixtures } from "../fixtures/shopify";
import { outbox, seedTenant, T0 } from "./notification-helpers";

const SITE = "https://orderly.example.com";
const WINDOW = 15 * 60_000;

/** Every email that carries a link: the first email of each kind, the grouped ones, the fallback. */
function emails(): AlertText[] {
  const group = {
    connectionId: "con_ledger",
    connectionName: "Ledger",
    count: 2,
    samples: [],
    windowStart: T0,
    now: T0 + WINDOW,
  };
  return [
    failureAlertText({
      transferId: "tr_1",
      orderNumber: "#1001",
      reason: "Rejected.",
      targetId: "con_ledger",
      targetName: "Ledger",
      windowMs: WINDOW,
    }),
    differencesAlertText({ transferId: "tr_1", orderNumber: "#1001", targetName: "Ledger", differences: ["total"] }),
    refusedDeliveryAlertText({ sourceName: "Shop", order: "#1001", deadLetterId: 12, reason: "Disabled.", windowMs: WINDOW }),
    fallbackAlertText({ kind: "failures", connectionId: "con_ledger", sample: "#1001: Rejected.", transferId: "tr_1" }),
    fallbackAlertText({ kind: "refused", connectionId: "con_shop", sample: "#1001: Disabled." }),
    groupedAlertText({ kind: "failures", ...group }),
    groupedAlertText({ kind: "refused", ...group }),
  ];
}

function report(): StatusReportFacts {
  return {
    tenantName: "Ane's shop",
    period: reportPeriod("daily", T0, 6),
    sources: [],
    targets: [],
    silentSources: [],
    silenceHours: 24,
  };
}

/** Runs `make` as if PUBLIC_URL were `value` (withEnv is typed to return unknown). */
function withPublicUrl<T>(value: string, make: () => T): T {
  return withEnv({ ...env, PUBLIC_URL: value }, make) as T;
}

/** A path standing alone after a colon or in parentheses: what a mail client shows as a dead link. */
const BARE_PATH = /(^|[:(]\s*)\/(transfers|dead-letters|connections)\b/m;

describe("PUBLIC_URL", () => {
  it("is an absolute http(s) address, its trailing slash dropped", () => {
    expect(publicUrl({ PUBLIC_URL: "https://orderly.example.com/" })).toBe(SITE);
    expect(publicUrl({ PUBLIC_URL: " https://orderly.example.com " })).toBe(SITE);
    expect(publicUrl({ PUBLIC_URL: "http://127.0.0.1:8787" })).toBe("http://127.0.0.1:8787");
    expect(publicUrl({ PUBLIC_URL: "https://example.com/orderly//" })).toBe("https://example.com/orderly");
    expect(publicUrl({ PUBLIC_URL: "" })).toBeNull();
    expect(publicUrl({})).toBeNull();
  });

  it("ignores a value that is not one, warning once instead of failing the alerts that would carry it", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      for (const bad of [
        "orderly.example.com",
        "ftp://orderly.example.com",
        "https://orderly.example.com/?x=1",
        "https://a:b@x.io",
      ])
        expect(publicUrl({ PUBLIC_URL: bad }), bad).toBeNull();
      expect(publicUrl({ PUBLIC_URL: "orderly.example.com" })).toBeNull();
      expect(warn).toHaveBeenCalledTimes(4);
      expect(String(warn.mock.calls[0]?.[0])).toMatch(
        /PUBLIC_URL "orderly\.example\.com" is ignored: it must be an absolute http\(s\)/,
      );
      // A broken setting words the emails as if it were unset; it does not throw.
      const text = withPublicUrl("orderly.example.com", () => emails()[0]!.text);
      expect(text).toContain("open Orderly → Transfer log → search #1001");
    } finally {
      warn.mockRestore();
    }
  });
});

describe("links in alert and report emails", () => {
  it("are full links under PUBLIC_URL", () => {
    const [failure, differences, refused, fallback, fallbackRefused, groupedFailures, groupedRefused] = withPublicUrl(
      `${SITE}/`,
      emails,
    );
    expect(failure!.text).toContain(`The transfer: ${SITE}/transfers/tr_1\n`);
    expect(failure!.text).toContain(`All failed transfers on "Ledger": ${SITE}/transfers?status=failed&target=con_ledger`);
    expect(differences!.text).toContain(`The transfer: ${SITE}/transfers/tr_1`);
    expect(refused!.text).toContain(`The delivery, with its body as received: ${SITE}/dead-letters/12\n`);
    expect(refused!.text).toContain(`All kept deliveries: ${SITE}/dead-letters\n`);
    expect(fallback!.text).toContain(`The connection: ${SITE}/connections/con_ledger`);
    expect(fallbackRefused!.text).toContain(`All kept deliveries: ${SITE}/dead-letters`);
    expect(groupedFailures!.text).toContain(`${SITE}/transfers?status=failed&target=con_ledger`);
    expect(groupedRefused!.text).toContain(`All kept deliveries: ${SITE}/dead-letters`);
    for (const email of [failure, differences, refused, fallback, fallbackRefused, groupedFailures, groupedRefused])
      expect(email!.text).not.toMatch(BARE_PATH);

    const { text, html } = withPublicUrl(SITE, () => buildStatusReport(report()));
    expect(text).toContain(`Failed transfers: ${SITE}/transfers?status=failed`);
    expect(html).toContain(`<a href="${SITE}/transfers?status=failed">`);
  });

  it("say where to click in Orderly when PUBLIC_URL is not set, never a bare path", () => {
    const [failure, differences, refused, fallback, , groupedFailures] = withPublicUrl("", emails);
    expect(failure!.text).toContain(
      "The transfer: open Orderly → Transfer log → search #1001 (or add /transfers/tr_1 to Orderly's address)",
    );
    expect(failure!.text).toContain(
      `All failed transfers on "Ledger": open Orderly → Transfer log → status "failed" (or add /transfers?status=failed&target=con_ledger to Orderly's address)`,
    );
    expect(differences!.text).toContain("open Orderly → Transfer log → search #1001");
    expect(refused!.text).toContain(
      `The delivery, with its body as received: open Orderly → Kept, not processed → order #1001 from "Shop" (or add /dead-letters/12 to Orderly's address)`,
    );
    expect(fallback!.text).toContain("The connection: open Orderly → Connections → connection con_ledger");
    expect(groupedFailures!.text).toContain('open Orderly → Transfer log → status "failed"');
    for (const email of withPublicUrl("", emails)) expect(email.text).not.toMatch(BARE_PATH);

    const { text, html } = withPublicUrl("", () => buildStatusReport(report()));
    expect(text).toContain('Failed transfers: open Orderly → Transfer log → status "failed"');
    expect(text).not.toMatch(BARE_PATH);
    expect(html).not.toContain("<a ");
    expect(html).toContain("open Orderly → Transfer log → status &#34;failed&#34;");
  });
});

describe("the held-event alert", () => {
  async function events(topic: string, body: string) {
    const parsed = shopifyConnector.source!.parse(await shopifyDelivery(topic, body, "secret"));
    if (!Array.isArray(parsed)) throw new Error(`not parsed: ${parsed.reason}`);
    return parsed;
  }

  it("names the order by its shop number, and a refund by its id and its order's id", async () => {
    const [order] = await events("orders/paid", shopifyFixtures.orderCompleted);
    expect(heldOrder(order!)).toEqual({ orderId: "450789469", orderNumber: "#1007", refundId: null });
    const [refund] = await events("refunds/create", shopifyFixtures.refundTwoLines);
    expect(heldOrder(refund!)).toMatchObject({ orderId: "450789469", orderNumber: null, refundId: expect.any(String) });
    // A stored row without its object (or a damaged one) still gets its alert, by the order's id.
    expect(heldOrder({ orderId: "450789469" })).toEqual({ orderId: "450789469", orderNumber: null, refundId: null });
  });

  it("is mailed with the order's number in its subject and text", async () => {
    const world = await seedTenant();
    const [order] = await events("orders/paid", shopifyFixtures.orderCompleted);
    const [refund] = await events("refunds/create", shopifyFixtures.refundTwoLines);
    const held = { tenantId: world.tenantId, deliveryId: "d1", tries: 10, reason: "The order's object did not answer." };
    await alertHeldEvent(env, { ...held, connectionId: world.shop, ...heldOrder(order!) }, T0);
    await alertHeldEvent(env, { ...held, connectionId: world.shop2, ...heldOrder(refund!) }, T0);
    const [first, second] = await outbox(world.tenantId);
    expect(first!.subject).toBe('[Orderly] Order #1007 from "Shop" is held on its way in');
    expect(first!.text).toContain('Orderly stored the webhook for order #1007 from "Shop" (delivery d1)');
    const refundId = heldOrder(refund!).refundId;
    expect(second!.subject).toBe(
      `[Orderly] Refund ${refundId} of the order with the shop's id 450789469 from "Second shop" is held on its way in`,
    );
  });
});
