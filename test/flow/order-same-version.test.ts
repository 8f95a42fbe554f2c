/**
 * Two versions of an order stamped alike (the same `updated_at` second): which is newer cannot be
 * told, so the one delivered last replaces the stored order unless it shows the order behind it: a
 * lower stage, or no payment (or no payment to enter) where the stored one shows it
 * (OrderDO.storeEvent, `notBehind`).
 */
import { describe, expect, it } from "vitest";
import { createWorld, orderObject, shopifyOrder } from "../helpers/world";

describe("a version stamped as the newest", () => {
  it("does not take the payment away: orders/create delivered after orders/paid of the same second", async () => {
    const world = await createWorld();
    const order = shopifyOrder({ updated_at: new Date().toISOString() });
    await world.sendShopify("orders/paid", order);
    await world.sendShopify("orders/create", { ...order, financial_status: "pending" });
    const stub = orderObject(world, order);
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(2);
    const state = await stub.describe();
    expect(state.order).toMatchObject({ stage: "paid", financialStatus: "paid" });
    expect(state.stage).toMatchObject({ reached: "paid", cancelled: false });
    // Kept in history and not stale: it was not older.
    expect(state.events.map((e) => e.stale)).toEqual([0, 0]);
  });

  it("does not take a payment to enter away: a partly paid version of the same second after a paid one", async () => {
    const world = await createWorld();
    const order = shopifyOrder({ updated_at: new Date().toISOString(), fulfillment_status: "fulfilled" });
    await world.sendShopify("orders/fulfilled", order);
    // The same stage (fulfilled), and money received either way, but nothing to enter in this one.
    await world.sendShopify("orders/updated", { ...order, financial_status: "partially_paid", total_outstanding: "50.00" });
    const stub = orderObject(world, order);
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(2);
    expect((await stub.describe()).order).toMatchObject({ stage: "fulfilled", financialStatus: "paid" });
  });

  it("replaces the stored order when it shows the payment or a later stage", async () => {
    const world = await createWorld();
    const order = shopifyOrder({ financial_status: "pending", updated_at: new Date().toISOString() });
    await world.sendShopify("orders/create", order);
    await world.sendShopify("orders/paid", { ...order, financial_status: "paid" });
    const stub = orderObject(world, order);
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(2);
    expect((await stub.describe()).order).toMatchObject({ stage: "paid", financialStatus: "paid" });
    await world.sendShopify("orders/fulfilled", { ...order, financial_status: "paid", fulfillment_status: "fulfilled" });
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(3);
    expect((await stub.describe()).order).toMatchObject({ stage: "fulfilled", fulfillmentStatus: "fulfilled" });
  });

  it("replaces the stored order when it is as far along: two edits within a second, the last delivered wins", async () => {
    const world = await createWorld();
    const order = shopifyOrder({ updated_at: new Date().toISOString() });
    await world.sendShopify("orders/paid", order);
    await world.sendShopify("orders/updated", { ...order, email: "second-edit@example.dk" });
    const stub = orderObject(world, order);
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(2);
    expect((await stub.describe()).order).toMatchObject({ stage: "paid", customer: { email: "second-edit@example.dk" } });
  });
});
