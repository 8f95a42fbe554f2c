/**
 * Shopify retries a failed delivery 8 times over about 4 hours, then drops it: a signed delivery
 * that retrying cannot cure (connection disabled, a payload Orderly cannot read or map, an order
 * too large to store) used to get a 503, 400 or 413 and was lost without a trace. It is now kept
 * in dead_letters with its raw body, alerted and answered 200, as a WooCommerce one is
 * (test/flow/woocommerce-refused.test.ts). A failure to store that may pass (the inbox) still
 * answers an error, so Shopify sends the delivery again.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import type { InboxDO } from "../../src/durable/inbox-do";
import { orderObjectName } from "../../src/durable/order-types";
import { inboxFor } from "../../src/worker/routes/hooks";
import { createWorld, eventually, settledTransfers, shopifyOrder, type World } from "../helpers/world";

/** Sends a signed Shopify delivery; answers the response, its JSON and the body as sent. */
async function send(world: World, topic: string, body: object | string) {
  const res = await world.sendShopify(topic, body);
  return { res, json: (await res.json()) as any, sent: typeof body === "string" ? body : JSON.stringify(body) };
}

async function alertMail(world: World) {
  return eventually(
    () =>
      database(env)
        .select()
        .from(mailOutbox)
        .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.subject, "%kept, not booked%")))
        .get(),
    "the refused-delivery alert",
  );
}

async function transfersOf(world: World, orderId: number): Promise<unknown[]> {
  return (await world.api(`/transfers?order=${orderId}`)).body.transfers as unknown[];
}

describe("a signed Shopify delivery Orderly cannot take is kept, alerted and answered 200", () => {
  it("keeps (does not process) an order sent to a disabled connection, and tells the merchant to enable it and re-send from Shopify", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    expect((await world.api(`/connections/${world.shopId}`, { method: "PATCH", body: { enabled: false } })).status).toBe(200);
    const order = shopifyOrder({ name: "#S-1001" });
    const { res, json, sent } = await send(world, "orders/paid", order);
    expect(res.status).toBe(200);
    expect(json).toMatchObject({ ok: true, kept: { code: "connection_disabled" } });
    expect(json.accepted).toBeUndefined();
    expect(json.kept.reason).toMatch(/Enable the connection in Orderly, then send the order again from Shopify/);
    expect(json.kept.reason).toMatch(/add a tag.*orders\/updated/);

    const list = await world.api("/dead-letters");
    expect(list.body.deadLetters).toEqual([
      expect.objectContaining({ kind: "refused_delivery", connectionId: world.shopId, order: "#S-1001" }),
    ]);
    const detail = await world.api(`/dead-letters/${json.kept.deadLetterId}`);
    expect(detail.body.rawBody).toBe(sent);
    expect(detail.body.body).toMatchObject({ connector: "shopify", headers: { "x-shopify-topic": "orders/paid" } });

    const mail = await alertMail(world);
    expect(mail.subject).toContain('Order #S-1001 from "Shop" was kept, not booked');
    expect(mail.text).toMatch(/Enable the connection in Orderly, then send the order again from Shopify/);
    expect(mail.text).toContain(`/api/v1/dead-letters/${json.kept.deadLetterId}`);

    // A refund is not sent again by Shopify: the reason says to book it by hand.
    const refund = await send(world, "refunds/create", { id: 7001, order_id: order.id, created_at: new Date().toISOString() });
    expect(refund.res.status).toBe(200);
    expect(refund.json.kept.reason).toMatch(/then book this refund by hand.*Shopify does not send a refund again/);

    // Nothing was processed while disabled; once enabled, the order Shopify sends again is.
    expect(await transfersOf(world, order.id)).toEqual([]);
    expect((await world.api(`/connections/${world.shopId}`, { method: "PATCH", body: { enabled: true } })).status).toBe(200);
    expect((await send(world, "orders/updated", { ...order, tags: "resend" })).json).toMatchObject({ ok: true, accepted: 1 });
    await settledTransfers(world, String(order.id), 1);
  });

  it("still refuses an unsigned delivery to a disabled connection with 401, and keeps nothing", async () => {
    const world = await createWorld();
    await world.api(`/connections/${world.shopId}`, { method: "PATCH", body: { enabled: false } });
    const res = await world.sendShopify("orders/paid", shopifyOrder(), { "X-Shopify-Hmac-Sha256": "bm90IGl0" });
    expect(res.status).toBe(401);
    expect((await world.api("/dead-letters")).body.deadLetters).toEqual([]);
  });

  it("keeps an order whose payload no longer maps (a field changed shape in a new API version), naming the field", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder() as Record<string, any>;
    order.line_items = [{ ...order.line_items[0], price: { amount: "199.00", currency_code: "DKK" } }];
    const { res, json, sent } = await send(world, "orders/paid", order);
    expect(res.status).toBe(200);
    expect(json.kept).toMatchObject({ code: "shopify_payload_invalid", reason: expect.stringMatching(/line_items\.0\.price/) });
    expect(json.kept.reason).toMatch(/in Shopify admin, open the order and add a tag/);
    expect((await world.api(`/dead-letters/${json.kept.deadLetterId}`)).body.rawBody).toBe(sent);
    expect((await alertMail(world)).text).toMatch(/line_items\.0\.price/);
    expect(await transfersOf(world, order.id)).toEqual([]);
  });

  it("keeps a body that is not JSON", async () => {
    const world = await createWorld();
    const { res, json } = await send(world, "orders/paid", '{"id": 1, "line_items": [');
    expect(res.status).toBe(200);
    expect(json.kept).toMatchObject({ code: "shopify_body_not_json", reason: expect.stringMatching(/not valid JSON/) });
  });

  it("keeps an order too large to store once mapped, its body in R2, and alerts", async () => {
    const world = await createWorld();
    const order = shopifyOrder({ note: "n".repeat(2_000_000) });
    const { res, json, sent } = await send(world, "orders/paid", order);
    expect(res.status).toBe(200);
    expect(json.kept).toMatchObject({ code: "event_too_large", reason: expect.stringMatching(/too large to store.*by hand/) });
    const detail = await world.api(`/dead-letters/${json.kept.deadLetterId}`);
    expect(detail.body.body.raw.blobKey).toMatch(new RegExp(`^raw/${world.tenantId}/${world.shopId}/refused-`));
    expect(detail.body.rawBody).toBe(sent);
    expect((await alertMail(world)).subject).toContain(`Order #${order.id} from "Shop" was kept`);
  }, 30_000);

  it("still answers an error when its inbox shard cannot store it just now, so Shopify sends it again", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    const shard = inboxFor(env, orderObjectName(world.shopId, String(order.id)));
    await runInDurableObject(shard, (instance: InboxDO, state) => {
      (instance as unknown as { sql: { one(query: string): unknown } }).sql.one("SELECT 1");
      state.storage.sql.exec(
        "CREATE TRIGGER no_room BEFORE INSERT ON pending BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
      );
    });
    const failed = await world.sendShopify("orders/paid", order);
    await runInDurableObject(shard, (_instance, state) => state.storage.sql.exec("DROP TRIGGER no_room"));
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect((await world.api("/dead-letters")).body.deadLetters).toEqual([]);
    // Shopify's retry is stored.
    expect(await (await world.sendShopify("orders/paid", order)).json()).toMatchObject({ ok: true, accepted: 1 });
  });
});
