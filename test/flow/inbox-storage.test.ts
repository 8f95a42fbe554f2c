import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getConnector } from "../../src/connectors/registry";
import type { InboxDO } from "../../src/durable/inbox-do";
import { type InboxAccept, inboxEntry } from "../../src/durable/inbox-entry";
import type { OrderDO } from "../../src/durable/order-do";
import { type IngestRequest, orderObjectName } from "../../src/durable/order-types";
import { runtimeConfig } from "../../src/worker/config";
import { inboxFor, inboxShard } from "../../src/worker/routes/hooks";
import { shopifyDelivery } from "../fixtures/shopify";
import { createWorld, eventually, shopifyOrder } from "../helpers/world";

interface InboxInternals {
  handed: number[];
  accepted: Map<number, unknown>;
}

const SHARDS = runtimeConfig(env).inboxShards;

function shardOf(name: string) {
  return inboxFor(env, name);
}

async function orderEvents(name: string): Promise<number> {
  const order = env.ORDERS.get(env.ORDERS.idFromName(name));
  return runInDurableObject(order, async (instance: OrderDO) => (await instance.describe()).events.length);
}

describe("the inbox's storage", () => {
  it("deletes a handed-on event with the next accept, and hands it on again after a restart, once", async () => {
    const world = await createWorld();
    const first = shopifyOrder();
    const name = orderObjectName(world.shopId, String(first.id));
    expect((await world.sendShopify("orders/paid", first)).status).toBe(200);
    await eventually(async () => (await orderEvents(name)) === 1, "the order's object has the event");

    const shard = shardOf(name);
    // Taken by the order's object, its row is still there: the delete waits for the next write.
    const waiting = await runInDurableObject(shard, (instance: InboxDO, state) => {
      const own = instance as unknown as InboxInternals;
      expect(own.accepted.size).toBe(0);
      return {
        handed: [...own.handed],
        rows: state.storage.sql.exec<{ seq: number }>("SELECT seq FROM pending").toArray(),
      };
    });
    expect(waiting.rows.map((r) => r.seq)).toEqual(waiting.handed);

    // A restart loses the list: the alarm hands the event on again, the order's object drops the
    // duplicate, and the row goes.
    await runInDurableObject(shard, async (instance: InboxDO, state) => {
      const own = instance as unknown as InboxInternals;
      own.handed = [];
      await instance.alarm();
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM pending").one().n).toBe(0);
    });
    expect(await orderEvents(name)).toBe(1);
    const described = await runInDurableObject(env.ORDERS.get(env.ORDERS.idFromName(name)), (instance: OrderDO) =>
      instance.describe(),
    );
    expect(described.transfers).toHaveLength(0);
  });

  it("an accept deletes the rows of events handed on before it", async () => {
    const world = await createWorld();
    // Two orders that share a shard.
    const first = shopifyOrder();
    const name = orderObjectName(world.shopId, String(first.id));
    let second = shopifyOrder();
    while (inboxShard(orderObjectName(world.shopId, String(second.id)), SHARDS) !== inboxShard(name, SHARDS))
      second = shopifyOrder();
    expect((await world.sendShopify("orders/paid", first)).status).toBe(200);
    await eventually(async () => (await orderEvents(name)) === 1, "the first order's object has its event");
    expect((await world.sendShopify("orders/paid", second)).status).toBe(200);
    const secondName = orderObjectName(world.shopId, String(second.id));
    await eventually(async () => (await orderEvents(secondName)) === 1, "the second order's object has its event");
    await runInDurableObject(shardOf(name), (instance: InboxDO, state) => {
      const rows = state.storage.sql
        .exec<{ order_name: string }>("SELECT order_name FROM pending")
        .toArray()
        .map((r) => r.order_name);
      // Only the second order's row is left, waiting for the next accept or the alarm.
      expect(rows).toEqual([secondName]);
      expect((instance as unknown as InboxInternals).handed).toHaveLength(1);
    });
  });

  it("takes a delivery in the shape a Worker of the previous release sends, during a gradual deployment", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    const name = orderObjectName(world.shopId, String(order.id));
    const delivery = await shopifyDelivery("orders/paid", order, world.secret, {});
    const body = new Uint8Array(await new Response(delivery.body).arrayBuffer());
    const parsed = getConnector("shopify")!.source!.parse({ body, headers: new Headers(delivery.headers) });
    if ("ignored" in parsed) throw new Error("the delivery was ignored");
    const [event] = parsed;
    const request: IngestRequest = {
      tenantId: world.tenantId,
      connectionId: world.shopId,
      event: event!,
      raw: { body: new TextDecoder().decode(body), blobKey: null, size: body.byteLength, headers: {} },
      receivedAt: Date.now(),
    };
    const previous = [{ orderName: name, request }] as unknown as InboxAccept[];
    expect(await shardOf(name).accept(previous)).toEqual({ accepted: 1, duplicates: 0 });
    // The same delivery again, now in the current shape: the shard takes it (it keeps no keys), and
    // the order's object, which knows the delivery id, keeps the event once.
    expect(await shardOf(name).accept([inboxEntry(name, request)])).toEqual({ accepted: 1, duplicates: 0 });
    await eventually(async () => (await orderEvents(name)) === 1, "the order's object has the event");
    await eventually(
      () =>
        runInDurableObject(
          shardOf(name),
          (_i, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM pending").one().n === 0,
        ),
      "both deliveries were handed on",
    );
    expect(await orderEvents(name)).toBe(1);
  });
});
