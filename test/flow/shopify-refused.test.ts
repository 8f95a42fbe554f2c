/**
 * Shopify retries a failed delivery 8 times over about 4 hours, then drops it: a signed delivery
 * that retrying cannot cure (connection disabled, a payload Orderly cannot read or map, an order
 * too large to store) used to get a 503, 400 or 413 and was lost without a trace. It is now kept
 * in dead_letters with its raw body, alerted and answered 200, as a WooCommerce one is
 * (test/flow/woocommerce-refused.test.ts). A failure that may pass still answers an error, so
 * Shopify sends the delivery again: the inbox not storing it, and a connection disabled for less
 * than an hour (judged by X-Shopify-Triggered-At). A refund still pending at the payment provider
 * is kept too; a topic Orderly does not read is ignored, not kept. A delivery whose payload fails
 * validation or mapping is answered 200 accepted before it is read, and kept by the inbox's
 * hand-off (src/worker/deferred-intake.ts); one that cannot even be routed (not JSON, no order id,
 * a header missing) is kept before the answer.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import type { InboxDO } from "../../src/durable/inbox-do";
import { orderObjectName } from "../../src/durable/order-types";
import { DISABLED_RETRY_WINDOW_MS, inboxFor } from "../../src/worker/routes/hooks";
import { keptAfterAnswer } from "../helpers/kept-delivery";
import { createWorld, eventually, settledTransfers, shopifyOrder, type World } from "../helpers/world";

/** Sends a signed Shopify delivery; answers the response, its JSON and the body as sent. */
async function send(world: World, topic: string, body: object | string, headers: Record<string, string | null> = {}) {
  const res = await world.sendShopify(topic, body, headers);
  return { res, json: (await res.json()) as any, sent: typeof body === "string" ? body : JSON.stringify(body) };
}

const MINUTE = 60_000;

/** X-Shopify-Triggered-At for an event that happened `ms` ago. */
function triggered(ms: number): Record<string, string> {
  return { "X-Shopify-Triggered-At": new Date(Date.now() - ms).toISOString() };
}

/** Older than the 503 window: a delivery to a disabled connection is kept. */
const OLD = triggered(DISABLED_RETRY_WINDOW_MS + MINUTE);

async function disable(world: World, enabled = false) {
  expect((await world.api(`/connections/${world.shopId}`, { method: "PATCH", body: { enabled } })).status).toBe(200);
}

async function mailsWith(world: World, subject: string) {
  return database(env)
    .select()
    .from(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.subject, `%${subject}%`)));
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
  it("keeps (does not process) an order sent to a disabled connection, and tells the merchant to enable it and replay it", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    expect((await world.api(`/connections/${world.shopId}`, { method: "PATCH", body: { enabled: false } })).status).toBe(200);
    const order = shopifyOrder({ name: "#S-1001" });
    // An hour after its event: Shopify's later tries would only find the connection still disabled.
    const { res, json, sent } = await send(world, "orders/paid", order, OLD);
    expect(res.status).toBe(200);
    expect(json).toMatchObject({ ok: true, kept: { code: "connection_disabled" } });
    expect(json.accepted).toBeUndefined();
    expect(json.kept.reason).toMatch(
      /Enable the connection first, then replay it in Orderly \(the Replay button on this kept delivery\)/,
    );

    const list = await world.api("/dead-letters");
    expect(list.body.deadLetters).toEqual([
      expect.objectContaining({ kind: "refused_delivery", connectionId: world.shopId, order: "#S-1001" }),
    ]);
    const detail = await world.api(`/dead-letters/${json.kept.deadLetterId}`);
    expect(detail.body.rawBody).toBe(sent);
    expect(detail.body.body).toMatchObject({ connector: "shopify", headers: { "x-shopify-topic": "orders/paid" } });

    const mail = await alertMail(world);
    expect(mail.subject).toContain('Order #S-1001 from "Shop" was kept, not booked');
    expect(mail.text).toMatch(/Enable the connection first, then replay it/);
    expect(mail.text).toContain(`/dead-letters/${json.kept.deadLetterId}`);
    // Shopify does send a delivery again until it is answered: the mail must not say it never does.
    expect(mail.text).toMatch(/once answered, the shop will not send this delivery again/);
    expect(mail.text).not.toMatch(/does not send a delivery twice/);

    // A refund is not sent again by Shopify, but a replay of the kept one books it.
    const refund = await send(
      world,
      "refunds/create",
      { id: 7001, order_id: order.id, created_at: new Date().toISOString() },
      OLD,
    );
    expect(refund.res.status).toBe(200);
    expect(refund.json.kept.reason).toMatch(/Enable the connection first, then replay it/);

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
    const kept = await keptAfterAnswer(world, json);
    expect(kept).toMatchObject({ code: "shopify_payload_invalid", reason: expect.stringMatching(/line_items\.0\.price/) });
    expect(kept.reason).toMatch(/in Shopify admin, open the order and add a tag/);
    expect(kept.detail.rawBody).toBe(sent);
    expect((await alertMail(world)).text).toMatch(/line_items\.0\.price/);
    expect(await transfersOf(world, order.id)).toEqual([]);
  });

  it("keeps a refused delivery Shopify sends again (its answer lost or late) once, answers it with the same dead letter, and alerts once", async () => {
    const world = await createWorld();
    const again = { "X-Shopify-Webhook-Id": `wh-again-${crypto.randomUUID()}` };
    const first = await send(world, "orders/paid", '{"id": 1, "line_items": [', again);
    const second = await send(world, "orders/paid", '{"id": 1, "line_items": [', again);
    expect(first.json.kept).toMatchObject({ code: "shopify_body_not_json" });
    expect(second.json.kept.deadLetterId).toBe(first.json.kept.deadLetterId);
    expect((await world.api("/dead-letters")).body.deadLetters).toHaveLength(1);
    await alertMail(world);
    // The second answer's alert would have been raised beside it, as the first's was.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await mailsWith(world, "kept, not booked")).toHaveLength(1);
    // Another delivery (another webhook id) of the same bytes is a delivery of its own.
    await send(world, "orders/paid", '{"id": 1, "line_items": [');
    expect((await world.api("/dead-letters")).body.deadLetters).toHaveLength(2);
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
    const kept = await keptAfterAnswer(world, json);
    expect(kept).toMatchObject({
      code: "event_too_large",
      reason: expect.stringMatching(/too large to store: \d+ KB once mapped.*by hand/),
    });
    expect(kept.detail.body.raw.blobKey).toMatch(new RegExp(`^raw/${world.tenantId}/${world.shopId}/refused-`));
    expect(kept.detail.rawBody).toBe(sent);
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

describe("a disabled Shopify connection answers a young delivery 503, so Shopify tries again", () => {
  it("answers 503 within the hour after the event, and keeps the delivery once it is older", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    await disable(world);
    const order = shopifyOrder();
    const young = await send(world, "orders/paid", order, triggered(DISABLED_RETRY_WINDOW_MS - MINUTE));
    expect(young.res.status).toBe(503);
    expect(young.json).toMatchObject({ error: { code: "connection_disabled" } });
    expect((await world.api("/dead-letters")).body.deadLetters).toEqual([]);

    // Shopify's try after the hour: kept, alerted, not processed.
    const old = await send(world, "orders/paid", order, triggered(DISABLED_RETRY_WINDOW_MS + MINUTE));
    expect(old.res.status).toBe(200);
    expect(old.json).toMatchObject({ ok: true, kept: { code: "connection_disabled" } });
    expect((await world.api("/dead-letters")).body.deadLetters).toHaveLength(1);
    await alertMail(world);
    expect(await transfersOf(world, order.id)).toEqual([]);
  });

  it("loses nothing when the connection is enabled again within the hour: Shopify's retry is processed", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    await disable(world);
    const order = shopifyOrder();
    // The same delivery each time, as Shopify retries it: same webhook id and trigger time.
    const headers = { ...triggered(10 * MINUTE), "X-Shopify-Webhook-Id": crypto.randomUUID() };
    expect((await send(world, "orders/paid", order, headers)).res.status).toBe(503);
    await disable(world, true);
    expect((await send(world, "orders/paid", order, headers)).json).toMatchObject({ ok: true, accepted: 1 });
    await settledTransfers(world, String(order.id), 1);
    expect((await world.api("/dead-letters")).body.deadLetters).toEqual([]);
  });

  it("keeps at once a delivery whose trigger time is missing, unreadable or far in the future", async () => {
    const world = await createWorld();
    await disable(world);
    const times = [null, "yesterday-ish", new Date(Date.now() + 24 * 60 * MINUTE).toISOString()];
    for (const at of times) {
      const { res, json } = await send(world, "orders/paid", shopifyOrder(), { "X-Shopify-Triggered-At": at });
      expect(res.status, String(at)).toBe(200);
      expect(json, String(at)).toMatchObject({ kept: { code: "connection_disabled" } });
    }
  });
});

describe("a Shopify refund still pending at the payment provider", () => {
  it("is kept and alerted, naming the amount and saying to credit it by hand once it settles", async () => {
    const world = await createWorld();
    await world.flow("refunded", [{ target: world.ledgerId, action: "createCreditNote" }]);
    const order = shopifyOrder();
    const refund = {
      id: 7101,
      order_id: order.id,
      created_at: new Date().toISOString(),
      refund_line_items: [],
      transactions: [{ kind: "refund", status: "pending", amount: "249.00", currency: "DKK", gateway: "klarna" }],
    };
    const { res, json, sent } = await send(world, "refunds/create", refund);
    expect(res.status).toBe(200);
    // Before, it totalled 0.00 and was answered `ignored`: no record, no credit note, nobody told.
    expect(json.ignored).toBeUndefined();
    const kept = await keptAfterAnswer(world, json);
    expect(kept).toMatchObject({
      code: "shopify_refund_pending",
      reason: expect.stringMatching(/pending at the payment provider: 249\.00 DKK.*credit the whole refund by hand/),
    });
    expect(kept.detail.rawBody).toBe(sent);
    const mail = await alertMail(world);
    expect(mail.subject).toContain(`Order #${order.id} from "Shop" was kept`);
    expect(mail.text).toMatch(/pending at the payment provider: 249\.00 DKK/);
    expect(await transfersOf(world, order.id)).toEqual([]);
  });
});

describe("a Shopify delivery of a topic Orderly does not read", () => {
  it("is answered 200 ignored, naming the topic, and neither kept nor alerted", async () => {
    const world = await createWorld();
    for (const topic of ["orders/edited", "products/update"]) {
      const { res, json } = await send(world, topic, { id: 1, order_edit: { order_id: 2 } });
      expect(res.status, topic).toBe(200);
      expect(json, topic).toMatchObject({ ok: true, ignored: expect.stringContaining(`"${topic}"`) });
      expect(json.kept, topic).toBeUndefined();
    }
    expect((await world.api("/dead-letters")).body.deadLetters).toEqual([]);
    // Give a stray alert time to be written before looking for it.
    await new Promise((r) => setTimeout(r, 200));
    expect(await mailsWith(world, "kept, not booked")).toEqual([]);
  });
});
