/**
 * The order object's housekeeping: its daily clean-up of old delivery ids, and outbox jobs queued
 * by the previous release in their older shape.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { orderObjectName } from "../../src/durable/order-types";
import { createWorld, settledTransfers, shopifyOrder } from "../helpers/world";

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
    const stub = env.ORDERS.get(env.ORDERS.idFromName(orderObjectName(world.shopId, String(order.id))));
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

  it("runs a plan job in the previous release's shape (one stage per job)", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    // No flow yet: the order arrives and plans nothing.
    await world.sendShopify("orders/paid", order);
    const stub = env.ORDERS.get(env.ORDERS.idFromName(orderObjectName(world.shopId, String(order.id))));
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
