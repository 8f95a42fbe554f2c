import { env, evictAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { BUSY_INFLIGHT, heldAlertDue, type InboxDO } from "../../src/durable/inbox-do";
import type { OrderDO } from "../../src/durable/order-do";
import { orderObjectName } from "../../src/durable/order-types";
import { HELD_ALERT_TRIES } from "../../src/notifications/held-alerts";
import { inboxFor, inboxShard } from "../../src/worker/routes/hooks";
import { inboxTestEntry } from "../helpers/inbox-entry";
import { createWorld, orderObject, settledTransfers, shopifyOrder } from "../helpers/world";

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
    const shard = inboxFor(env, name);
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

  it("gives up on a hand-off its order's object never answers, and hands the event on again, so the shard's other orders are not held", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    const shard = inboxFor(env, orderObjectName(world.shopId, String(order.id)));
    let calls = 0;
    await runInDurableObject(shard, (instance: InboxDO) => {
      const own = instance as unknown as { env: Env; handOffDeadlineMs: number };
      own.handOffDeadlineMs = 200;
      const real = own.env.ORDERS;
      const hanging = {
        idFromName: (n: string) => real.idFromName(n),
        get: (id: DurableObjectId) => ({
          // The first hand-off never answers (the object is stuck, say); the next one goes through.
          ingest: (request: unknown) =>
            calls++ === 0
              ? new Promise(() => {})
              : real.get(id).ingest(request as Parameters<DurableObjectStub<OrderDO>["ingest"]>[0]),
        }),
      };
      own.env = { ...own.env, ORDERS: hanging as unknown as Env["ORDERS"] };
    });
    expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    const [transfer] = await settledTransfers(world, String(order.id), 1, 20_000);
    expect(transfer.status).toBe("completed");
    expect(calls).toBeGreaterThanOrEqual(2);
  });

  it("hands on what it holds after being evicted, from its alarm", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    const name = orderObjectName(world.shopId, String(order.id));
    const shard = inboxFor(env, name);
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

  it("stores a delivery all or none: a write that fails leaves nothing of it, so the sender's retry is stored", async () => {
    const shard = env.INBOXES.get(env.INBOXES.idFromName("inbox-all-or-none"));
    await runInDurableObject(shard, (instance: InboxDO) => {
      vi.spyOn(instance as unknown as { forward(): Promise<void> }, "forward").mockImplementation(async () => {});
    });
    const entry = inboxTestEntry("con_atomic", "1");
    // The event's row cannot be written (a full disk, say; in production also a row over 2 MB,
    // which the Worker refuses first: MAX_EVENT_BYTES).
    await shard.acceptMany([[inboxTestEntry("con_atomic", "0")]]);
    await runInDurableObject(shard, (_instance, state) => {
      state.storage.sql.exec(
        "CREATE TRIGGER no_room BEFORE INSERT ON pending BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
      );
    });
    await runInDurableObject(shard, async (instance: InboxDO) => {
      await expect(instance.acceptMany([[entry]])).rejects.toThrow(/disk is full/);
    });
    await runInDurableObject(shard, (_instance, state) => {
      state.storage.sql.exec("DROP TRIGGER no_room");
      expect(state.storage.sql.exec("SELECT order_name FROM pending").toArray()).toEqual([{ order_name: "con_atomic:0" }]);
    });
    expect(await shard.acceptMany([[entry]])).toEqual([{ accepted: 1, duplicates: 0 }]);
    // The spy stays: the entries are not real orders, so they are never handed on.
  });

  it("hands on what a call stored before one of its deliveries failed, and caches nothing rolled back", async () => {
    const shard = env.INBOXES.get(env.INBOXES.idFromName("inbox-partly-failed-call"));
    let forwards = 0;
    await runInDurableObject(shard, async (instance: InboxDO, state) => {
      vi.spyOn(instance as unknown as { forward(): Promise<void> }, "forward").mockImplementation(async () => {
        forwards++;
      });
      await instance.acceptMany([[inboxTestEntry("con_partly", "warm")]]);
      state.storage.sql.exec(
        "CREATE TRIGGER no_room BEFORE INSERT ON pending WHEN NEW.order_name = 'con_partly:b2' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
      );
      await state.storage.deleteAlarm();
      (instance as unknown as { alarmAt: number }).alarmAt = 0;
      forwards = 0;
      // The first delivery stores; the second (two events, its second refused) fails the call.
      const second = [
        inboxTestEntry("con_partly", "b1"),
        { ...inboxTestEntry("con_partly", "b2"), deliveryKey: "d:con_partly:b1-2" },
      ];
      await expect(instance.acceptMany([[inboxTestEntry("con_partly", "a")], second])).rejects.toThrow(/disk is full/);
      state.storage.sql.exec("DROP TRIGGER no_room");
      // The stored one is handed on now and by the backstop alarm, though the call failed.
      expect(forwards).toBe(1);
      expect(await state.storage.getAlarm()).not.toBeNull();
      const rows = state.storage.sql.exec<{ seq: number; order_name: string }>("SELECT seq, order_name FROM pending").toArray();
      expect(rows.map((r) => r.order_name).sort()).toEqual(["con_partly:a", "con_partly:warm"]);
      // Only committed rows are in the hand-off's cache (a rolled-back seq is given out again).
      const cached = (instance as unknown as { accepted: Map<number, unknown> }).accepted;
      expect([...cached.keys()].sort()).toEqual(rows.map((r) => r.seq).sort());
    });
  });

  it("answers each delivery of a call on its own: one that cannot be stored fails alone (acceptEach)", async () => {
    const shard = env.INBOXES.get(env.INBOXES.idFromName("inbox-each-outcome"));
    await runInDurableObject(shard, async (instance: InboxDO, state) => {
      vi.spyOn(instance as unknown as { forward(): Promise<void> }, "forward").mockImplementation(async () => {});
      await instance.acceptEach([[inboxTestEntry("con_each", "warm")]]);
      state.storage.sql.exec(
        "CREATE TRIGGER no_room BEFORE INSERT ON pending WHEN NEW.order_name = 'con_each:b' BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
      );
      const outcomes = await instance.acceptEach([
        [inboxTestEntry("con_each", "a")],
        [inboxTestEntry("con_each", "b")],
        [inboxTestEntry("con_each", "c")],
      ]);
      state.storage.sql.exec("DROP TRIGGER no_room");
      expect(outcomes).toEqual([
        { accepted: 1, duplicates: 0 },
        { error: expect.stringMatching(/disk is full/) },
        { accepted: 1, duplicates: 0 },
      ]);
      const stored = state.storage.sql.exec<{ order_name: string }>("SELECT order_name FROM pending ORDER BY seq").toArray();
      expect(stored.map((r) => r.order_name)).toEqual(["con_each:warm", "con_each:a", "con_each:c"]);
    });
  });

  it("keeps an event its order's object could not store whole, and hands it on again until the object stores it", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    const stub = orderObject(world, order);
    // The object's tables, and a write that fails after the event's row (a full disk, say).
    await runInDurableObject(stub, (instance, state) => {
      (instance as unknown as { sql: { one(query: string): unknown } }).sql.one("SELECT 1");
      state.storage.sql.exec(
        "CREATE TRIGGER no_room BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
      );
    });
    expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await runInDurableObject(stub, (_instance, state) => {
      // Nothing of the event stayed: the inbox's next try is not taken for a duplicate.
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM events").one().n).toBe(0);
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM meta WHERE key != 'schema_version'").one().n).toBe(0);
      state.storage.sql.exec("DROP TRIGGER no_room");
    });
    const [transfer] = await settledTransfers(world, String(order.id), 1, 20_000);
    expect(transfer.status).toBe("completed");
  });

  describe("acknowledgements first", () => {
    /**
     * A shard of its own whose hand-off is only recorded (the entries are not real orders; the spy
     * stays for the test file's life), with its quiet window and hold set.
     */
    async function heldShard(name: string, { quietMs, maxHoldSeconds }: { quietMs: number; maxHoldSeconds: string }) {
      const shard = env.INBOXES.get(env.INBOXES.idFromName(name));
      const handedAt: number[] = [];
      await runInDurableObject(shard, (instance: InboxDO) => {
        const own = instance as unknown as { env: Env; quietMs: number; forwardOrder(name: string): Promise<number[]> };
        own.quietMs = quietMs;
        own.env = { ...own.env, INBOX_MAX_HOLD_SECONDS: maxHoldSeconds };
        vi.spyOn(own, "forwardOrder").mockImplementation(async () => {
          handedAt.push(Date.now());
          return [];
        });
      });
      return { shard, handedAt };
    }

    const entry = (key: string) => inboxTestEntry("con_burst", key);

    it("holds the hand-off while webhooks come in a burst and starts it once they stop", async () => {
      const { shard, handedAt } = await heldShard("inbox-test-burst", { quietMs: 1500, maxHoldSeconds: "30" });
      const started = Date.now();
      expect(await shard.accept([entry("a")], BUSY_INFLIGHT)).toEqual({ accepted: 1, duplicates: 0 });
      expect(await shard.accept([entry("b")], BUSY_INFLIGHT + 3)).toEqual({ accepted: 1, duplicates: 0 });
      await new Promise((r) => setTimeout(r, 300));
      expect(handedAt).toEqual([]);
      await vi.waitFor(() => expect(handedAt.length).toBeGreaterThan(0), { timeout: 10_000, interval: 50 });
      // Not before the burst's last delivery was a quiet window old.
      expect(handedAt[0]! - started).toBeGreaterThanOrEqual(1400);
    });

    it("hands on at once when deliveries come one at a time", async () => {
      const { shard, handedAt } = await heldShard("inbox-test-single", { quietMs: 60_000, maxHoldSeconds: "30" });
      await shard.accept([entry("c")], BUSY_INFLIGHT - 1);
      await vi.waitFor(() => expect(handedAt.length).toBeGreaterThan(0), { timeout: 5_000, interval: 20 });
    });

    it("starts no new hold after a pause while the backlog of the last one is still being handed on", async () => {
      const shard = env.INBOXES.get(env.INBOXES.idFromName("inbox-test-pause"));
      const handedAt: number[] = [];
      await runInDurableObject(shard, (instance: InboxDO, state) => {
        const own = instance as unknown as { env: Env; quietMs: number; forwardOrder(name: string): Promise<number[]> };
        own.quietMs = 600;
        own.env = { ...own.env, INBOX_MAX_HOLD_SECONDS: "1" };
        // Each order takes 150 ms to hand on, so the backlog takes a while after the hold.
        vi.spyOn(own, "forwardOrder").mockImplementation(async (name: string) => {
          handedAt.push(Date.now());
          await new Promise((r) => setTimeout(r, 150));
          return state.storage.sql
            .exec<{ seq: number }>("SELECT seq FROM pending WHERE order_name = ?", name)
            .toArray()
            .map((r) => r.seq);
        });
      });
      const started = Date.now();
      await shard.acceptMany(
        Array.from({ length: 64 }, (_, i) => [inboxTestEntry("con_pause", `o${i}`)]),
        BUSY_INFLIGHT,
      );
      // The hand-off starts once the burst is quiet; the backlog is then handed on, round by round.
      await vi.waitFor(() => expect(handedAt.length).toBeGreaterThan(0), { timeout: 10_000, interval: 20 });
      expect(handedAt[0]! - started).toBeGreaterThanOrEqual(550);
      // The burst goes on after a lull longer than the quiet window: the events still waiting were
      // held once already, so the hand-off goes on beside the acks instead of holding again.
      await new Promise((r) => setTimeout(r, 200));
      const resumed = Date.now();
      await shard.accept([inboxTestEntry("con_pause", "late")], BUSY_INFLIGHT);
      await vi.waitFor(() => expect(handedAt.some((t) => t > resumed)).toBe(true), { timeout: 10_000, interval: 20 });
      expect(handedAt.find((t) => t > resumed)! - resumed).toBeLessThan(450);
    });

    it("never holds an event longer than INBOX_MAX_HOLD_SECONDS, even while the burst goes on", async () => {
      const { shard, handedAt } = await heldShard("inbox-test-hold", { quietMs: 60_000, maxHoldSeconds: "1" });
      const started = Date.now();
      await shard.accept([entry("d")], BUSY_INFLIGHT);
      await vi.waitFor(() => expect(handedAt.length).toBeGreaterThan(0), { timeout: 10_000, interval: 50 });
      expect(handedAt[0]! - started).toBeGreaterThanOrEqual(900);
      expect(handedAt[0]! - started).toBeLessThan(8_000);
    });
  });

  it("counts each held event's own tries: one that waited behind another starts afresh when that one goes through", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder({ financial_status: "pending" });
    const shard = inboxFor(env, orderObjectName(world.shopId, String(order.id)));
    const refused = new Set(["orders/create", "orders/paid"]);
    await runInDurableObject(shard, (instance: InboxDO) => {
      const own = instance as unknown as { env: Env };
      const real = own.env.ORDERS;
      const refusing = {
        idFromName: (n: string) => real.idFromName(n),
        get: (id: DurableObjectId) => ({
          ingest: async (request: Parameters<DurableObjectStub<OrderDO>["ingest"]>[0]) => {
            if (refused.has(request.event.topic)) throw new Error(`refused ${request.event.topic}`);
            return real.get(id).ingest(request);
          },
        }),
      };
      own.env = { ...own.env, ORDERS: refusing as unknown as Env["ORDERS"] };
    });
    expect((await world.sendShopify("orders/create", order)).status).toBe(200);
    expect((await world.sendShopify("orders/paid", { ...order, financial_status: "paid" })).status).toBe(200);
    // The first event failed twelve times, and the paid one waited behind it all along.
    await runInDurableObject(shard, (_i, state) => {
      state.storage.sql.exec("UPDATE pending SET attempts = 12, next_at = ?", Date.now());
    });
    refused.delete("orders/create");
    await runDurableObjectAlarm(shard);
    const left = await runInDurableObject(shard, (_i, state) =>
      state.storage.sql.exec<{ attempts: number }>("SELECT attempts FROM pending").toArray(),
    );
    // Its own first failure: its backoff starts short, and its alert comes after its own ten tries.
    expect(left).toEqual([{ attempts: 1 }]);
  });

  it("tells the tenant at the tenth failed try, then every sixty (about an hour apart)", () => {
    const due = Array.from({ length: 200 }, (_, i) => i + 1).filter(heldAlertDue);
    expect(due).toEqual([HELD_ALERT_TRIES, 70, 130, 190]);
  });
});
