/**
 * A Shopify delivery is validated and mapped after its answer, in its inbox shard's hand-off
 * (src/worker/deferred-intake.ts). What the hand-off cannot read yet stays in the shard and is
 * tried again, like any event its order's object did not take: acknowledged means never lost.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { InboxDO } from "../../src/durable/inbox-do";
import { inboxEntry } from "../../src/durable/inbox-entry";
import { type DeferredIngest, orderObjectName } from "../../src/durable/order-types";
import { inboxFor } from "../../src/worker/routes/hooks";
import { createWorld, eventually, shopifyOrder } from "../helpers/world";

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
});
