/**
 * A delivery whose signature fails is answered 401 and nothing of it is kept, but the tenant is
 * told (throttled, per source connection): a webhook secret mistyped or changed in the shop fails
 * every order that way, and WooCommerce never sends one again. Not for an unknown connection (404)
 * or WooCommerce's unsigned ping.
 */
import { env, SELF } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { deadLetters, mailOutbox } from "../../src/db/schema";
import { signatureTopic } from "../../src/notifications/signature-alerts";
import { shopifyDelivery } from "../fixtures/shopify";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";
import { BASE, createWorld, eventually, shopifyOrder, type World } from "../helpers/world";

const SECRET = "woo_secret_0123456789abcdef";

async function wooConnection(world: World): Promise<string> {
  const res = await world.api("/connections", { body: { connector: "woocommerce", name: "Woo shop", webhookSecret: SECRET } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function post(connectionId: string, delivery: { body: Uint8Array; headers: Headers }) {
  return SELF.fetch(`${BASE}/hooks/${connectionId}`, { method: "POST", headers: delivery.headers, body: delivery.body });
}

async function signatureAlert(world: World) {
  return eventually(
    () =>
      database(env)
        .select()
        .from(mailOutbox)
        .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.subject, "%fail their signature check%")))
        .get(),
    "the signature alert",
  );
}

async function signatureState(tenantId: string, connectionId: string) {
  return env.DB.prepare("SELECT pending FROM alert_state WHERE tenant_id = ? AND topic = ?")
    .bind(tenantId, signatureTopic(connectionId))
    .first<{ pending: number }>();
}

describe("a delivery whose signature fails", () => {
  it("is refused and kept nowhere, and the tenant is told what it means for WooCommerce", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    const order = { ...woocommerceFixture("orderTaxExclusive"), id: Math.floor(Math.random() * 1e9) };
    // A flood of wrongly signed deliveries: each is answered 401 at once.
    for (let n = 0; n < 5; n++) {
      const res = await post(woo, await woocommerceDelivery("order.updated", order, "a_regenerated_secret"));
      expect(res.status).toBe(401);
      expect(((await res.json()) as any).error.code).toBe("signature_invalid");
    }
    const mail = await signatureAlert(world);
    expect(mail.subject).toBe('[Orderly] Deliveries to "Woo shop" fail their signature check');
    expect(mail.text).toMatch(/X-WC-Webhook-Signature signature does not match the body/);
    expect(mail.text).toMatch(/disables the webhook/);
    expect(mail.text).toMatch(/hint, not proof/);
    expect(mail.text).toContain(`/connections/${woo}`);
    // The flood after the first was only counted in memory: one upsert, not five.
    expect(await signatureState(world.tenantId, woo)).toEqual({ pending: 0 });
    const kept = await database(env).select().from(deadLetters).where(eq(deadLetters.tenantId, world.tenantId));
    expect(kept).toHaveLength(0);
  });

  it("tells a Shopify connection's tenant that Shopify retries for about 4 hours", async () => {
    const world = await createWorld();
    const res = await post(world.shopId, await shopifyDelivery("orders/paid", shopifyOrder(), "shpss_wrong"));
    expect(res.status).toBe(401);
    const mail = await signatureAlert(world);
    expect(mail.subject).toBe('[Orderly] Deliveries to "Shop" fail their signature check');
    expect(mail.text).toMatch(/about 4 hours/);
  });

  it("raises nothing for an unknown connection or WooCommerce's unsigned ping", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    const missing = `con_missing_${crypto.randomUUID().slice(0, 8)}`;
    const unknown = await post(missing, await woocommerceDelivery("order.updated", { id: 1 }, "whatever"));
    expect(unknown.status).toBe(404);
    const ping = await SELF.fetch(`${BASE}/hooks/${woo}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "webhook_id=12",
    });
    expect(ping.status).toBe(200);
    // Then a wrongly signed one, whose alert is recorded after both: neither of them raised one.
    expect((await post(woo, await woocommerceDelivery("order.updated", { id: 2 }, "wrong"))).status).toBe(401);
    await signatureAlert(world);
    expect(await signatureState(world.tenantId, woo)).toEqual({ pending: 0 });
    const any = await env.DB.prepare("SELECT COUNT(*) AS n FROM alert_state WHERE topic = ?")
      .bind(signatureTopic(missing))
      .first<{ n: number }>();
    expect(any?.n).toBe(0);
  });
});
