/**
 * The order object's state (whose order, its stage, its newest version) is one meta row written
 * once per event, and objects made before keep working from the rows they wrote.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createWorld, orderObject, settledTransfers, shopifyOrder } from "../helpers/world";

type Row = { key: string; value: string };

describe("an order object's state", () => {
  it("is one meta row, written with the event that changed it", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    const stub = orderObject(world, order);
    await runInDurableObject(stub, (_instance, state) => {
      // Besides the schema's version (a meta row since v12, written with the tables).
      const rows = state.storage.sql.exec<Row>("SELECT key, value FROM meta WHERE key != 'schema_version'").toArray();
      expect(rows.map((r) => r.key)).toEqual(["state"]);
      const saved = JSON.parse(rows[0]!.value);
      expect(saved.identity).toEqual({ tenantId: world.tenantId, connectionId: world.shopId, orderId: String(order.id) });
      expect(JSON.stringify(saved.order)).toContain(String(order.id));
      // A delivery that changes nothing (the same order sent again under a new delivery id) is
      // stored, but must not write the state: any write of it fails from here.
      state.storage.sql.exec("CREATE TRIGGER state_kept BEFORE UPDATE ON meta BEGIN SELECT RAISE(ABORT, 'written'); END");
      state.storage.sql.exec("CREATE TRIGGER state_added BEFORE INSERT ON meta BEGIN SELECT RAISE(ABORT, 'written'); END");
    });
    const again = await world.sendShopify("orders/paid", order);
    expect(again.status).toBe(200);
    await runInDurableObject(stub, (_instance, state) => {
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM events").one().n).toBe(2);
      state.storage.sql.exec("DROP TRIGGER state_kept");
      state.storage.sql.exec("DROP TRIGGER state_added");
    });
  });

  it("of an object made before the state row is read from the rows it kept, and carried on in one row", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    await world.flow("fulfilled", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    const stub = orderObject(world, order);
    // As the previous release left it: identity, stage and order in rows of their own.
    const before = await runInDurableObject(stub, (instance, state) => {
      const saved = JSON.parse(state.storage.sql.exec<Row>("SELECT value FROM meta WHERE key = 'state'").one().value);
      state.storage.sql.exec("DELETE FROM meta");
      for (const [key, value] of Object.entries(saved)) {
        state.storage.sql.exec("INSERT INTO meta (key, value) VALUES (?, ?)", key, JSON.stringify(value));
      }
      (instance as unknown as { stateCache: unknown }).stateCache = null;
      return saved;
    });
    await world.sendShopify("orders/fulfilled", {
      ...order,
      fulfillment_status: "fulfilled",
      updated_at: new Date(Date.now() + 1000).toISOString(),
    });
    const transfers = await settledTransfers(world, String(order.id), 2);
    // The paid stage was read from the old row: it ran once, and the fulfilled stage once.
    expect(transfers.map((t) => t.stage).sort()).toEqual(["fulfilled", "paid"]);
    await runInDurableObject(stub, (_instance, state) => {
      const saved = JSON.parse(state.storage.sql.exec<Row>("SELECT value FROM meta WHERE key = 'state'").one().value);
      expect(saved.identity).toEqual(before.identity);
      expect(saved.stage).not.toEqual(before.stage);
    });
  });

  it("takes a cancelled order back when its newest version is paid, but not for a late delivery of an older one", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const start = Date.now();
    const at = (s: number) => new Date(start + s * 1000).toISOString();
    const order = shopifyOrder({ financial_status: "pending", updated_at: at(0) });
    await world.sendShopify("orders/create", order);
    await world.sendShopify("orders/cancelled", { ...order, cancelled_at: at(1), updated_at: at(1) });
    // A paid delivery older than the cancellation, arriving late: still cancelled.
    await world.sendShopify("orders/paid", { ...order, financial_status: "paid", updated_at: at(0.5) });
    const stub = orderObject(world, order);
    const stage = () =>
      runInDurableObject(
        stub,
        (_i, state) => JSON.parse(state.storage.sql.exec<Row>("SELECT value FROM meta WHERE key = 'state'").one().value).stage,
      );
    await expect.poll(stage, { timeout: 5000 }).toEqual({ reached: "created", cancelled: true });
    // Paid after the cancellation (a late payment WooCommerce accepts on a cancelled order).
    await world.sendShopify("orders/paid", { ...order, financial_status: "paid", updated_at: at(2) });
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer).toMatchObject({ stage: "paid", status: "completed" });
    expect(await stage()).toEqual({ reached: "paid", cancelled: false, reopened: 1 });
    // The cancellation delivered again, late: older than the paid version, it cancels nothing.
    await world.sendShopify("orders/cancelled", { ...order, cancelled_at: at(1), updated_at: at(1) });
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(5);
    expect(await stage()).toEqual({ reached: "paid", cancelled: false, reopened: 1 });
  });

  it("does not reopen for a version of the same second as the cancellation, nor re-run the cancellation after a reopening", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    await world.flow("cancelled", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    const start = Date.now();
    const at = (s: number) => new Date(start + s * 1000).toISOString();
    const order = shopifyOrder({ financial_status: "pending", updated_at: at(0) });
    await world.sendShopify("orders/create", order);
    await world.sendShopify("orders/cancelled", { ...order, cancelled_at: at(1), updated_at: at(1) });
    await settledTransfers(world, String(order.id), 1);
    // Paid in the same second as the cancellation: which came first cannot be told, so it stays cancelled.
    await world.sendShopify("orders/paid", { ...order, financial_status: "paid", updated_at: at(1) });
    const stub = orderObject(world, order);
    const described = () => stub.describe();
    await expect.poll(async () => (await described()).outbox, { timeout: 5000 }).toBe(0);
    expect((await described()).transfers.map((t) => t.stage)).toEqual(["cancelled"]);
    // Paid later: reopened, the paid transfer runs.
    const paid = { ...order, financial_status: "paid", updated_at: at(2) };
    await world.sendShopify("orders/paid", paid);
    await settledTransfers(world, String(order.id), 2);
    // The buyer's address changes: the paid transfer runs again, the cancellation does not.
    await world.sendShopify("orders/updated", { ...paid, email: "other@example.dk", updated_at: at(3) });
    await expect
      .poll(
        async () => {
          const { transfers, steps } = await described();
          return transfers.map((t) => [t.stage, t.status, steps.find((s) => s.transfer_id === t.id)?.attempts]);
        },
        { timeout: 10_000 },
      )
      .toEqual([
        ["cancelled", "completed", 1],
        ["paid", "completed", 2],
      ]);
  });
});
