import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import type { InboxDO } from "../../src/durable/inbox-do";
import type { OrderDO } from "../../src/durable/order-do";
import { orderObjectName } from "../../src/durable/order-types";
import { runtimeConfig } from "../../src/worker/config";
import { inboxFor, inboxShard } from "../../src/worker/routes/hooks";
import { inboxTestEntry } from "../helpers/inbox-entry";
import { createWorld, orderObject, shopifyOrder, type World } from "../helpers/world";

const SHARDS = runtimeConfig(env).inboxShards;

type IngestRequest = Parameters<DurableObjectStub<OrderDO>["ingest"]>[0];

/** `count` orders of the world's shop that share one inbox shard. */
function ordersOnOneShard(world: World, count: number) {
  const first = shopifyOrder({ financial_status: "pending" });
  const shard = inboxShard(orderObjectName(world.shopId, String(first.id)), SHARDS);
  const orders = [first];
  while (orders.length < count) {
    const order = shopifyOrder({ financial_status: "pending" });
    if (inboxShard(orderObjectName(world.shopId, String(order.id)), SHARDS) === shard) orders.push(order);
  }
  return orders;
}

describe("the inbox's hand-off of a backlog", () => {
  it("reads a backlog in pages by seq and hands each order's events on in order; an order whose object fails holds its later events behind its first", async () => {
    const world = await createWorld();
    const orders = ordersOnOneShard(world, 4);
    const failing = orders[1]!;
    const failingName = orderObjectName(world.shopId, String(failing.id));
    const shard = inboxFor(env, orderObjectName(world.shopId, String(orders[0]!.id)));
    // Hold the hand-off while the backlog builds (as while order objects are unavailable).
    await runInDurableObject(shard, (instance: InboxDO) => {
      vi.spyOn(instance as unknown as { forward(): Promise<void> }, "forward").mockImplementation(async () => {});
    });
    const topics = ["orders/create", "orders/updated", "orders/paid"] as const;
    const sent = new Map<number, string[]>(orders.map((o) => [o.id, []]));
    for (const [step, topic] of topics.entries())
      for (const order of orders) {
        const id = `${topic}-${order.id}-${crypto.randomUUID()}`;
        const body = { ...order, financial_status: topic === "orders/paid" ? "paid" : "pending", note: `step ${step}` };
        expect((await world.sendShopify(topic, body, { "X-Shopify-Webhook-Id": id })).status).toBe(200);
        sent.get(order.id)!.push(id);
      }

    // Every hand-off the shard tries, in order; the failing order's object refuses until told.
    const tried: Array<{ order: string; delivery: string }> = [];
    let refusing = true;
    const statements: string[] = [];
    let firstHandOff: typeof tried = [];
    await runInDurableObject(shard, async (instance: InboxDO, state) => {
      await state.storage.deleteAlarm();
      const own = instance as unknown as { env: Env; backlogPage: number; accepted: Map<number, unknown> };
      const real = own.env.ORDERS;
      const names = new Map<string, string>();
      own.env = {
        ...own.env,
        ORDERS: {
          idFromName: (n: string) => {
            const id = real.idFromName(n);
            names.set(id.toString(), n);
            return id;
          },
          get: (id: DurableObjectId) => ({
            ingest: async (request: IngestRequest) => {
              const order = names.get(id.toString())!;
              tried.push({ order, delivery: request.event.deliveryId });
              if (refusing && order === failingName) throw new Error("order object overloaded");
              return real.get(id).ingest(request);
            },
          }),
        } as unknown as Env["ORDERS"],
      };
      // Pages smaller than the backlog and than an order's events: an order's later events come in later pages.
      own.backlogPage = 5;
      // As after a restart: the requests are read back from SQLite.
      own.accepted.clear();
      vi.restoreAllMocks();
      const exec = vi.spyOn(Object.getPrototypeOf(state.storage.sql) as SqlStorage, "exec");
      try {
        await instance.alarm();
        // Before the alarm it set can ring and try the failing order again.
        firstHandOff = [...tried];
        statements.push(...exec.mock.calls.map((call) => String(call[0]).replace(/\s+/g, " ").trim()));
      } finally {
        vi.restoreAllMocks();
      }
      const left = state.storage.sql
        .exec<{ order_name: string; attempts: number; next_at: number }>(
          "SELECT order_name, attempts, next_at FROM pending ORDER BY seq",
        )
        .toArray();
      // Only the failing order's events are left: its first tried once, the two behind it waiting as
      // long (the alarm does not wake for them sooner), their own tries not counted.
      expect(left.map((r) => [r.order_name, r.attempts])).toEqual([
        [failingName, 1],
        [failingName, 0],
        [failingName, 0],
      ]);
      expect(new Set(left.map((r) => r.next_at)).size).toBe(1);
    });
    // Twelve events, five a page: three pages and the empty read that ends the hand-off; no
    // statement looks up an order's rows (pending has no index by order). The order objects run in
    // this isolate too: only the shard's statements count.
    const shards = statements.filter((s) => /\b(FROM|UPDATE|INTO) pending\b/.test(s));
    expect(shards.filter((s) => s.startsWith("SELECT seq, order_name, attempts, next_at FROM pending"))).toHaveLength(4);
    expect(shards.filter((s) => /order_name\s*=/.test(s))).toEqual([]);
    // The failing order's first event was tried once, and nothing behind it.
    const failingSent = sent.get(failing.id)!;
    expect(firstHandOff.filter((t) => t.order === failingName).map((t) => t.delivery)).toEqual([failingSent[0]]);
    const deliveries = async (order: { id: number }) =>
      ((await orderObject(world, order).describe()).events as Array<{ delivery_id: string }>).map((e) => e.delivery_id);
    for (const order of orders.filter((o) => o !== failing)) {
      const name = orderObjectName(world.shopId, String(order.id));
      expect(firstHandOff.filter((t) => t.order === name).map((t) => t.delivery)).toEqual(sent.get(order.id));
      expect(await deliveries(order)).toEqual(sent.get(order.id));
    }
    expect(await deliveries(failing)).toEqual([]);

    // The failing order's object recovers; once its first event is due again, its events go in order.
    refusing = false;
    await runInDurableObject(shard, async (instance: InboxDO, state) => {
      state.storage.sql.exec("UPDATE pending SET next_at = ?", Date.now());
      await instance.alarm();
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM pending").one().n).toBe(0);
    });
    expect(await deliveries(failing)).toEqual(failingSent);
    // Its first event was tried until taken (the shard's own alarm may have tried it meanwhile), then the rest.
    const triedFailing = tried.filter((t) => t.order === failingName).map((t) => t.delivery);
    expect(triedFailing.filter((d, i) => d !== triedFailing[i - 1])).toEqual(failingSent);
  });

  it("holds a new event of an order whose oldest event is backing off, instead of handing it on before it", async () => {
    const world = await createWorld();
    const [order] = ordersOnOneShard(world, 1);
    const name = orderObjectName(world.shopId, String(order!.id));
    const shard = inboxFor(env, name);
    const tried: string[] = [];
    let refusing = true;
    await runInDurableObject(shard, (instance: InboxDO) => {
      const own = instance as unknown as { env: Env };
      const real = own.env.ORDERS;
      own.env = {
        ...own.env,
        ORDERS: {
          idFromName: (n: string) => real.idFromName(n),
          get: (id: DurableObjectId) => ({
            ingest: async (request: IngestRequest) => {
              tried.push(request.event.deliveryId);
              if (refusing) throw new Error("order object overloaded");
              return real.get(id).ingest(request);
            },
          }),
        } as unknown as Env["ORDERS"],
      };
    });
    const created = `create-${crypto.randomUUID()}`;
    const paid = `paid-${crypto.randomUUID()}`;
    expect((await world.sendShopify("orders/create", order!, { "X-Shopify-Webhook-Id": created })).status).toBe(200);
    await vi.waitFor(() => expect(tried).toEqual([created]), { timeout: 5_000, interval: 20 });
    // The first event now backs off; the next one, stored due, waits behind it (its own hand-off
    // reads it and skips it) and is set to wait as long.
    expect(
      (await world.sendShopify("orders/paid", { ...order!, financial_status: "paid" }, { "X-Shopify-Webhook-Id": paid })).status,
    ).toBe(200);
    await vi.waitFor(
      () =>
        runInDurableObject(shard, (_instance, state) => {
          const rows = state.storage.sql.exec<{ next_at: number }>("SELECT next_at FROM pending ORDER BY seq").toArray();
          expect(rows).toHaveLength(2);
          expect(rows[1]!.next_at).toBe(rows[0]!.next_at);
        }),
      { timeout: 5_000, interval: 20 },
    );
    // Only the first event was tried (maybe again, once due): never the one behind it.
    expect(new Set(tried)).toEqual(new Set([created]));
    refusing = false;
    await runInDurableObject(shard, async (instance: InboxDO, state) => {
      state.storage.sql.exec("UPDATE pending SET next_at = ?", Date.now());
      await instance.alarm();
    });
    expect(
      ((await orderObject(world, order!).describe()).events as Array<{ delivery_id: string }>).map((e) => e.delivery_id),
    ).toEqual([created, paid]);
  });

  it("hands on an event stored during its hand-off under the seq of a row deleted meanwhile", async () => {
    const shard = env.INBOXES.get(env.INBOXES.idFromName(`inbox-reused-seq:${crypto.randomUUID()}`));
    const entry = (tag: string) => ({ ...inboxTestEntry("con_reuse", tag), request: JSON.stringify({ tag }) });
    await runInDurableObject(shard, async (instance: InboxDO, state) => {
      const own = instance as unknown as { env: Env; quietMs: number; burstAt: number; forwarding: Promise<void> | null };
      const tags: string[] = [];
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      own.env = {
        ...own.env,
        ORDERS: {
          idFromName: (n: string) => n,
          get: () => ({
            ingest: async (request: { tag: string }) => {
              tags.push(request.tag);
              if (request.tag === "a") await held;
            },
          }),
        } as unknown as Env["ORDERS"],
      };
      own.quietMs = 1000;
      await instance.acceptEach([[entry("a")]]);
      await state.storage.deleteAlarm();
      await vi.waitFor(() => expect(tags).toEqual(["a"]), { timeout: 5_000, interval: 10 });
      // "a" is taken while a burst begins: the hand-off, past its first page, waits for the quiet.
      own.burstAt = Date.now();
      release();
      await vi.waitFor(() => expect((instance as unknown as { handed: number[] }).handed).toEqual([1]), {
        timeout: 5_000,
        interval: 10,
      });
      // The next accept deletes "a"'s row, and "b" takes its seq, behind the page already read.
      await instance.acceptEach([[entry("b")]]);
      await state.storage.deleteAlarm();
      expect(state.storage.sql.exec("SELECT seq FROM pending").toArray()).toEqual([{ seq: 1 }]);
      await own.forwarding;
      // Handed on by the same hand-off, not left for the alarm.
      expect(tags).toEqual(["a", "b"]);
    });
  });
});
