/**
 * A Shopify delivery is validated and mapped after its answer, in its inbox shard's hand-off
 * (src/worker/deferred-intake.ts). What the hand-off cannot read yet stays in the shard and is
 * tried again, like any event its order's object did not take: acknowledged means never lost.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import type { InboxDO } from "../../src/durable/inbox-do";
import { inboxEntry } from "../../src/durable/inbox-entry";
import { type DeferredIngest, orderObjectName } from "../../src/durable/order-types";
import { takeDeferred } from "../../src/worker/deferred-intake";
import { inboxFor } from "../../src/worker/routes/hooks";
import { createWorld, eventually, shopifyOrder, type World } from "../helpers/world";

/** A Shopify delivery as the webhook route defers it: inline, or its body under `blobKey` in R2. */
function deferredDelivery(world: World, order: Record<string, unknown>, blobKey?: string): DeferredIngest {
  const body = JSON.stringify(order);
  const deliveryId = `wh-${crypto.randomUUID()}`;
  return {
    tenantId: world.tenantId,
    connectionId: world.shopId,
    deferred: { orderId: String(order.id), deliveryId, connector: "shopify", settings: {} },
    raw: {
      body: blobKey ? null : body,
      blobKey: blobKey ?? null,
      size: body.length,
      headers: { "content-type": "application/json", "x-shopify-topic": "orders/paid", "x-shopify-webhook-id": deliveryId },
    },
    receivedAt: Date.now(),
  };
}

async function keptRows(world: World) {
  const { results } = await env.DB.prepare("SELECT id, delivery_key FROM dead_letters WHERE tenant_id = ?")
    .bind(world.tenantId)
    .all<{ id: number; delivery_key: string | null }>();
  return results;
}

async function alertsSent(world: World): Promise<number> {
  const rows = await database(env)
    .select({ id: mailOutbox.id })
    .from(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.subject, "%kept, not booked%")));
  return rows.length;
}

describe("a delivery validated and mapped after its answer", () => {
  it("stays in its shard while its body cannot be read from R2, and reaches its order once it can", async () => {
    const world = await createWorld();
    const order = shopifyOrder({ financial_status: "paid" });
    const body = JSON.stringify(order);
    const blobKey = `raw/${world.tenantId}/${world.shopId}/deferred-test-${crypto.randomUUID()}`;
    const request: DeferredIngest = {
      tenantId: world.tenantId,
      connectionId: world.shopId,
      deferred: { orderId: String(order.id), deliveryId: `wh-${crypto.randomUUID()}`, connector: "shopify", settings: {} },
      raw: {
        body: null,
        blobKey,
        size: body.length,
        headers: { "content-type": "application/json", "x-shopify-topic": "orders/paid" },
      },
      receivedAt: Date.now(),
    };
    request.raw.headers["x-shopify-webhook-id"] = request.deferred.deliveryId;
    const name = orderObjectName(world.shopId, String(order.id));
    const shard = inboxFor(env, name);
    expect(await shard.acceptEach([[inboxEntry(name, request)]], 1)).toEqual([{ accepted: 1, duplicates: 0 }]);

    const pending = () =>
      runInDurableObject(shard, (_instance: InboxDO, state) =>
        state.storage.sql
          .exec<{ attempts: number }>("SELECT attempts FROM pending WHERE order_name = ?", name)
          .toArray()
          .map((r) => r.attempts),
      );
    // Its body is not in R2: the hand-off fails, and the event waits for its next try.
    await eventually(async () => ((await pending())[0] ?? 0) >= 1 || undefined, "a failed try");
    const object = env.ORDERS.get(env.ORDERS.idFromName(name));
    expect((await object.describe()).events).toEqual([]);

    await env.BLOBS.put(blobKey, body);
    const events = await eventually(async () => {
      const state = await object.describe();
      return state.events.length > 0 ? state.events : undefined;
    }, "the event in its order's object");
    expect(events).toMatchObject([{ delivery_id: request.deferred.deliveryId, stage: "paid" }]);
    await eventually(async () => ((await pending()).length === 0 ? true : undefined), "the shard's row deleted");
    expect((await world.api("/dead-letters")).body.deadLetters).toEqual([]);
  }, 30_000);

  it("keeps a refused delivery once when the hand-off tries it again whole (a try whose end the shard did not see), and alerts once", async () => {
    const world = await createWorld();
    const order = shopifyOrder() as Record<string, any>;
    order.line_items = [{ ...order.line_items[0], price: { amount: "199.00", currency_code: "DKK" } }];
    const request = deferredDelivery(world, order);
    expect(await takeDeferred(env, request)).toEqual([]);
    expect(await takeDeferred(env, request)).toEqual([]);
    const rows = await keptRows(world);
    expect(rows).toEqual([{ id: expect.any(Number), delivery_key: `${world.shopId}:${request.deferred.deliveryId}` }]);
    await eventually(async () => ((await alertsSent(world)) === 1 ? true : undefined), "the refused-delivery alert");
    // The second try's alert would have been raised beside it, as the first's was.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await alertsSent(world)).toBe(1);

    // Another delivery of the same order is a delivery of its own: kept beside the first.
    expect(await takeDeferred(env, deferredDelivery(world, order))).toEqual([]);
    expect(await keptRows(world)).toHaveLength(2);
  }, 30_000);

  it("takes nothing from a large delivery a try already kept, whose event copy of the body that try deleted", async () => {
    const world = await createWorld();
    const order = shopifyOrder({ note: "n".repeat(2_000_000) });
    const blobKey = `raw/${world.tenantId}/${world.shopId}/deferred-test-${crypto.randomUUID()}`;
    await env.BLOBS.put(blobKey, JSON.stringify(order));
    const request = deferredDelivery(world, order, blobKey);
    expect(await takeDeferred(env, request)).toEqual([]);
    expect(await env.BLOBS.get(blobKey), "the event's copy, deleted once the dead letter has its own").toBeNull();
    // Before the key the second try could not read the body, and would have been tried for good.
    expect(await takeDeferred(env, request)).toEqual([]);
    const rows = await keptRows(world);
    expect(rows).toHaveLength(1);
    const detail = (await world.api(`/dead-letters/${rows[0]!.id}`)).body;
    expect(detail.body.code).toBe("event_too_large");
    expect(detail.rawBody).toBe(JSON.stringify(order));
  }, 30_000);

  it("still waits for a body R2 cannot give when no try kept the delivery", async () => {
    const world = await createWorld();
    const request = deferredDelivery(
      world,
      shopifyOrder(),
      `raw/${world.tenantId}/${world.shopId}/missing-${crypto.randomUUID()}`,
    );
    await expect(takeDeferred(env, request)).rejects.toThrow(/not in R2.*trying again later/);
    expect(await keptRows(world)).toEqual([]);
  });
});
