/**
 * The order object's housekeeping: dropping delivery ids past the dedupe retention, trying parked
 * projections again, sleeping when there is nothing left to do, and outbox jobs queued by the
 * previous release in their older shape.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { OrderDO } from "../../src/durable/order-do";
import { createWorld, ledgerSteps, orderObject, settledTransfers, shopifyOrder } from "../helpers/world";

const DAY_MS = 86_400_000;

function metaValue(state: DurableObjectState, key: string): string | undefined {
  return state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
}

/** The object's alarm comes to rest at its newest delivery id's expiry (30 days by default). */
async function expectAlarmAtRetentionEnd(stub: DurableObjectStub<OrderDO>): Promise<void> {
  const receivedAt = await runInDurableObject(
    stub,
    (_instance, state) => state.storage.sql.exec<{ t: number }>("SELECT MAX(received_at) AS t FROM events").one().t,
  );
  await expect
    .poll(async () => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm()), { timeout: 8000 })
    .toBe(receivedAt + 30 * DAY_MS);
}

describe("the order object's housekeeping", () => {
  it("drops delivery ids past the dedupe retention, then sleeps: no alarm is left set", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    const stub = orderObject(world, order);
    await runInDurableObject(stub, (_instance, state) => {
      // The event arrived 40 days ago (the dedupe retention is 30 days by default), and the object
      // of the previous release kept its daily pass's time in meta.
      state.storage.sql.exec("UPDATE events SET received_at = ?", Date.now() - 40 * DAY_MS);
      state.storage.sql.exec("INSERT INTO meta (key, value) VALUES ('cleanup_at', ?)", String(Date.now()));
    });
    await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(Date.now()));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (_instance, state) => {
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM events").one().n).toBe(0);
      expect(metaValue(state, "cleanup_at")).toBeUndefined();
      // Nothing left to do: no alarm, so no daily wake-up for ever (each was billed).
      expect(await state.storage.getAlarm()).toBeNull();
    });
    // The delivery is forgotten, the order is not: its state and transfer stay.
    const state = await stub.describe();
    expect(state.transfers.map((t) => t.status)).toEqual(["completed"]);
  });

  it("keeps an expired delivery a queued plan job still reads (a refund applied late keeps its old arrival time)", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const stub = orderObject(world, order);
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE events SET received_at = ?", Date.now() - 40 * DAY_MS);
      const seq = state.storage.sql.exec<{ seq: number }>("SELECT seq FROM events").one().seq;
      // A plan job for that event waits (its D1 read failed, say) when the alarm's housekeeping runs.
      state.storage.sql.exec(
        "INSERT INTO outbox (kind, payload, next_at, attempts) VALUES ('plan', ?, ?, 1)",
        JSON.stringify({ stages: [{ stage: "paid", occurrence: "" }], eventSeq: seq }),
        Date.now() + DAY_MS,
      );
    });
    await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(Date.now()));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (_instance, state) => {
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM events").one().n).toBe(1);
      // ...and the next alarm is the job's, not one that would find the kept event again at once.
      expect(await state.storage.getAlarm()).toBeGreaterThan(Date.now() + DAY_MS - 60_000);
      state.storage.sql.exec("DELETE FROM outbox");
    });
  });

  it("tries a parked projection again a day after it was parked, and sleeps once it is written", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    const stub = orderObject(world, order);
    const parkedAt = Date.now() - DAY_MS - 1000;
    await runInDurableObject(stub, (_instance, state) => {
      // A projection that failed for an hour was parked a day ago, to be tried again now.
      state.storage.sql.exec(
        "INSERT INTO outbox (kind, transfer_id, payload, next_at, attempts, parked) VALUES ('project', ?, ?, ?, 60, 1)",
        transfer.id,
        JSON.stringify({ transferId: transfer.id, snapshots: [], extra: [] }),
        parkedAt + DAY_MS,
      );
    });
    await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(Date.now()));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    // What remains is the day its delivery id expires.
    await expectAlarmAtRetentionEnd(stub);
  });

  it("sets an alarm for an event that queues nothing when the object slept with none, for its id's expiry", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    const stub = orderObject(world, order);
    await expectAlarmAtRetentionEnd(stub);
    // It has slept since (its ids dropped at an earlier pass, say, and evicted): no alarm is set.
    await runInDurableObject(stub, (instance, state) => {
      (instance as unknown as { alarmAt: number | null }).alarmAt = null;
      return state.storage.deleteAlarm();
    });
    const noted = { ...order, note: "leave at the door", updated_at: new Date(Date.now() + 1000).toISOString() };
    expect((await world.sendShopify("orders/updated", noted)).status).toBe(200);
    // Nothing to run, but the new delivery id is dropped when it expires.
    await expectAlarmAtRetentionEnd(stub);
  });

  it("leaves one alarm set, for when its first delivery id expires, after a few setAlarm calls", async () => {
    const world = await createWorld();
    await world.flow("paid", ledgerSteps(world));
    const order = shopifyOrder();
    const stub = orderObject(world, order);
    let calls = 0;
    await runInDurableObject(stub, (_instance, state) => {
      const setAlarm = state.storage.setAlarm.bind(state.storage);
      state.storage.setAlarm = (time, options) => {
        calls++;
        return setAlarm(time, options);
      };
    });
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    // Once the work is done and the early alarm has looked, the next is the dedupe retention's end.
    await expectAlarmAtRetentionEnd(stub);
    // An alarm already set early enough is kept: 2 calls here on an idle machine, 6 when every
    // kick and every drain set their own (each is a billed row).
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(5);
  });

  it("runs a plan job in the previous release's shape (one stage per job)", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    // No flow yet: the order arrives and plans nothing.
    await world.sendShopify("orders/paid", order);
    const stub = orderObject(world, order);
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    await runInDurableObject(stub, (_instance, state) => {
      const seq = state.storage.sql.exec<{ seq: number }>("SELECT seq FROM events").one().seq;
      state.storage.sql.exec(
        "INSERT INTO outbox (kind, payload, next_at) VALUES ('plan', ?, ?)",
        JSON.stringify({ stage: "paid", occurrence: "", eventSeq: seq }),
        Date.now(),
      );
    });
    await stub.nudge();
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer).toMatchObject({ status: "completed", stage: "paid" });
  });

  it("waits for the line's first job's retry, not for a due job behind it that cannot run first (no 10 ms alarm loop)", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const stub = orderObject(world, order);
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    const retryAt = Date.now() + 30_000;
    await runInDurableObject(stub, async (_instance, state) => {
      // The first job failed (a Queue outage, say) and waits 30 s; a job queued after it is due.
      const message = JSON.stringify({ message: { transferId: "trf_x", stepIndex: 0, dispatchId: "d" } });
      state.storage.sql.exec("INSERT INTO outbox (kind, payload, next_at, attempts) VALUES ('send', ?, ?, 1)", message, retryAt);
      state.storage.sql.exec("INSERT INTO outbox (kind, payload, next_at) VALUES ('send', ?, ?)", message, Date.now());
      await state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (_instance, state) => {
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM outbox").one().n).toBe(2);
      expect(await state.storage.getAlarm()).toBe(retryAt);
      state.storage.sql.exec("DELETE FROM outbox");
    });
  });
});
