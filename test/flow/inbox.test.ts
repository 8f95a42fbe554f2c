import { env, evictAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { InboxDO } from "../../src/durable/inbox-do";
import { orderObjectName } from "../../src/durable/order-types";
import { inboxShard } from "../../src/worker/routes/hooks";
import { createWorld, settledTransfers, shopifyOrder } from "../helpers/world";

describe("the webhook inbox", () => {
  it("spreads orders over the shards and keeps each order on one", () => {
    const shards = new Set(Array.from({ length: 200 }, (_, i) => inboxShard(`con_x:${i}`, 16)));
    expect(shards.size).toBe(16);
    expect(inboxShard("con_x:42", 16)).toBe(inboxShard("con_x:42", 16));
  });

  it("keeps an acknowledged event until its order's object takes it, even when that object fails at first", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    const name = orderObjectName(world.shopId, String(order.id));
    const shard = env.INBOXES.get(env.INBOXES.idFromName(`inbox-${inboxShard(name, 16)}`));
    let refused = 0;
    await runInDurableObject(shard, (instance: InboxDO) => {
      const own = instance as unknown as { env: Env };
      const real = own.env.ORDERS;
      // The first two hand-overs fail, as when the order's object is overloaded or being moved.
      const flaky = {
        idFromName: (n: string) => real.idFromName(n),
        get: (id: DurableObjectId) => {
          const stub = real.get(id);
          return {
            ingest: async (request: unknown) => {
              if (refused++ < 2) throw new Error("order object overloaded");
              return stub.ingest(request as Parameters<typeof stub.ingest>[0]);
            },
          };
        },
      };
      own.env = { ...own.env, ORDERS: flaky as unknown as Env["ORDERS"] };
    });
    const res = await world.sendShopify("orders/paid", order);
    expect(res.status).toBe(200);
    const [transfer] = await settledTransfers(world, String(order.id), 1, 20_000);
    expect(transfer.status).toBe("completed");
    expect(refused).toBeGreaterThanOrEqual(3);
  });

  it("hands on what it holds after being evicted, from its alarm", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    const name = orderObjectName(world.shopId, String(order.id));
    const shard = env.INBOXES.get(env.INBOXES.idFromName(`inbox-${inboxShard(name, 16)}`));
    // Hold the hand-over so the event is only in the inbox when the objects are evicted.
    await runInDurableObject(shard, (instance: InboxDO) => {
      vi.spyOn(instance as unknown as { forward(): Promise<void> }, "forward").mockImplementation(async () => {});
    });
    expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    vi.restoreAllMocks();
    await evictAllDurableObjects();
    const [transfer] = await settledTransfers(world, String(order.id), 1, 20_000);
    expect(transfer.status).toBe("completed");
  });
});
