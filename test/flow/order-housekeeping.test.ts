/**
 * The order object's housekeeping: its daily clean-up of old delivery ids, and outbox jobs queued
 * by the previous release in their older shape.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createWorld, ledgerSteps, orderObject, settledTransfers, shopifyOrder } from "../helpers/world";

const DAY_MS = 86_400_000;

function metaValue(state: DurableObjectState, key: string): string | undefined {
  return state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
}

describe("the order object's housekeeping", () => {
  it("drops delivery ids past the dedupe retention a day after the first event, writing nothing for it before", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    const stub = orderObject(world, order);
    await runInDurableObject(stub, (_instance, state) => {
      expect(metaValue(state, "cleanup_at")).toBeUndefined();
      // The event arrived 40 days ago (the dedupe retention is 30 days by default).
      state.storage.sql.exec("UPDATE events SET received_at = ?", Date.now() - 40 * DAY_MS);
    });
    await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(Date.now()));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, (_instance, state) => {
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM events").one().n).toBe(0);
      expect(Number(metaValue(state, "cleanup_at"))).toBeGreaterThan(Date.now() + DAY_MS - 60_000);
    });
    // The delivery is forgotten, the order is not: its state and transfer stay.
    const state = await stub.describe();
    expect(state.transfers.map((t) => t.status)).toEqual(["completed"]);
  });

  it("leaves one alarm set, for the clean-up a day after the first event, after a few setAlarm calls", async () => {
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
    // Once the work is done and the early alarm has looked, the next is the daily clean-up.
    const receivedAt = await runInDurableObject(
      stub,
      (_instance, state) => state.storage.sql.exec<{ t: number }>("SELECT MIN(received_at) AS t FROM events").one().t,
    );
    await expect
      .poll(async () => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm()), { timeout: 8000 })
      .toBe(receivedAt + DAY_MS);
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
});
