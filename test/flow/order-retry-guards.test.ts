/**
 * What a retry, a bulk replay or an update's re-run may run, where the order stands
 * (OrderDO.outOfTurn), and where a step that ran must stay in the flow (OrderDO.stepMovedAway).
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  createWorld,
  DEARER_SHIPPING,
  eventually,
  orderObject,
  settledTransfers,
  shopifyOrder,
  type World,
} from "../helpers/world";

async function secondLedger(world: World): Promise<string> {
  return (await world.api("/connections", { body: { connector: "sandbox-ledger", name: "Ledger 2" } })).body.id;
}

async function reject(world: World, ledger: string, above?: number) {
  const settings = above === undefined ? {} : { rejectOrdersAbove: above };
  expect((await world.api(`/connections/${ledger}`, { method: "PATCH", body: { settings } })).status).toBe(200);
}

async function invoicesOf(world: World, ledger: string, orderNumber: string) {
  const docs = (await world.api(`/ledger/invoices?connection=${ledger}`)).body.invoices as any[];
  return docs.filter((d) => d.type === "invoice" && d.orderNumber === orderNumber);
}

/** Versions of one order a second apart. */
function versions(overrides: Record<string, unknown> = {}) {
  const start = Date.now();
  const order = shopifyOrder(overrides);
  const at = (s: number) => new Date(start + s * 1000).toISOString();
  return { order, at };
}

describe("a cancelled order", () => {
  it("refuses a retry of its failed invoice, one by one and in a bulk replay, and runs its cancellation's", async () => {
    const world = await createWorld();
    const other = await secondLedger(world);
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    // A stand-in for a cancel flow, on a ledger of its own.
    await world.flow("cancelled", [{ target: other, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    await reject(world, world.ledgerId, 100);
    await reject(world, other, 100);
    const { order, at } = versions();
    await world.sendShopify("orders/paid", { ...order, updated_at: at(0) });
    await settledTransfers(world, String(order.id), 1);
    await world.sendShopify("orders/cancelled", { ...order, cancelled_at: at(1), updated_at: at(1) });
    const transfers = await settledTransfers(world, String(order.id), 2);
    expect(transfers.map((t) => t.status)).toEqual(["failed", "failed"]);
    const paid = transfers.find((t) => t.stage === "paid")!;
    const cancelled = transfers.find((t) => t.stage === "cancelled")!;
    // The outage is over; the merchant retries every failed transfer.
    await reject(world, world.ledgerId);
    await reject(world, other);
    const one = await world.api(`/transfers/${paid.id}/retry`, { body: {} });
    expect(one.status).toBe(409);
    expect(one.body.error.message).toMatch(/the order is cancelled, so its paid stage's flows do not run again/);
    const bulk = await world.api("/transfers/retry", { body: {} });
    expect(bulk.status).toBe(202);
    expect(bulk.body.queued).toBe(1);
    expect(bulk.body.skipped).toEqual([{ id: paid.id, reason: expect.stringMatching(/the order is cancelled/) }]);
    await eventually(async () => (await world.api(`/transfers/${cancelled.id}`)).body.status === "completed", "the cancellation");
    expect(await invoicesOf(world, world.ledgerId, String(order.name))).toHaveLength(0);
  });

  it("re-runs no ladder transfer for an update, a replay from the start or a re-run queued before it was cancelled", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const { order, at } = versions();
    await world.sendShopify("orders/paid", { ...order, updated_at: at(0) });
    const [paid] = await settledTransfers(world, String(order.id), 1);
    const cancelled = { ...order, cancelled_at: at(1), updated_at: at(1) };
    await world.sendShopify("orders/cancelled", cancelled);
    const stub = orderObject(world, order);
    await expect.poll(async () => (await stub.describe()).stage.cancelled, { timeout: 5000 }).toBe(true);
    // The buyer's address changes on the cancelled order.
    await world.sendShopify("orders/updated", { ...cancelled, email: "other@example.dk", updated_at: at(2) });
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(3);
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    const attempts = async () => (await stub.describe()).steps.map((s) => [s.status, s.attempts]);
    expect(await attempts()).toEqual([["done", 1]]);
    // It still takes the new version, as a switched-off flow's transfer does.
    const input = await runInDurableObject(stub, (_i, state) =>
      JSON.parse(state.storage.sql.exec<{ input: string }>("SELECT input FROM transfers").one().input),
    );
    expect(input.order.customer.email).toBe("other@example.dk");

    const replay = await world.api("/transfers/retry", { body: { status: "completed", fromStart: true } });
    expect(replay.body).toMatchObject({ queued: 0, skipped: [{ id: paid.id }] });

    // An update's re-run queued while the transfer ran, before the cancellation: it does not start.
    const status = await runInDurableObject(stub, (instance, state) => {
      state.storage.sql.exec("UPDATE transfers SET rerun_pending = 1");
      (instance as unknown as { startReruns(): void }).startReruns();
      return state.storage.sql.exec<{ status: string }>("SELECT status FROM transfers").one().status;
    });
    expect(status).toBe("completed");
    expect(await attempts()).toEqual([["done", 1]]);
    expect(await invoicesOf(world, world.ledgerId, String(order.name))).toHaveLength(1);
  });
});

describe("an order taken back after a cancellation", () => {
  it("refuses a retry of that cancellation, which would undo the new invoice", async () => {
    const world = await createWorld();
    const other = await secondLedger(world);
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    await world.flow("cancelled", [{ target: other, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    await reject(world, other, 100);
    const { order, at } = versions({ financial_status: "pending" });
    await world.sendShopify("orders/create", { ...order, updated_at: at(0) });
    await world.sendShopify("orders/cancelled", { ...order, cancelled_at: at(1), updated_at: at(1) });
    const [cancelled] = await settledTransfers(world, String(order.id), 1);
    expect(cancelled).toMatchObject({ stage: "cancelled", status: "failed" });
    await reject(world, other);
    // A late payment takes the order back (WooCommerce accepts one on an order it cancelled).
    await world.sendShopify("orders/paid", { ...order, financial_status: "paid", updated_at: at(2) });
    await settledTransfers(world, String(order.id), 2);

    const one = await world.api(`/transfers/${cancelled.id}/retry`, { body: {} });
    expect(one.status).toBe(409);
    expect(one.body.error.message).toMatch(/the order was taken back after this cancellation/);
    const bulk = await world.api("/transfers/retry", { body: {} });
    expect(bulk.body).toMatchObject({ queued: 0, skipped: [{ id: cancelled.id }] });
    const { transfers } = await orderObject(world, order).describe();
    expect(transfers.map((t) => [t.stage, t.status])).toEqual([
      ["cancelled", "failed"],
      ["paid", "completed"],
    ]);
  });
});

describe("an update that came while the order was cancelled", () => {
  /** A paid order invoiced (draft) on the world's ledger, cancelled, then made dearer while cancelled. */
  async function updatedWhileCancelled(world: World) {
    const paid = await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const { order, at } = versions();
    await world.sendShopify("orders/paid", { ...order, updated_at: at(0) });
    await settledTransfers(world, String(order.id), 1);
    const cancelled = { ...order, cancelled_at: at(1), updated_at: at(1) };
    await world.sendShopify("orders/cancelled", cancelled);
    const stub = orderObject(world, order);
    await expect.poll(async () => (await stub.describe()).stage.cancelled, { timeout: 5000 }).toBe(true);
    await world.sendShopify("orders/updated", { ...cancelled, ...DEARER_SHIPPING, updated_at: at(2) });
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(3);
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    const attempts = async () => (await stub.describe()).steps.map((s) => [s.status, s.attempts]);
    const total = async () => (await invoicesOf(world, world.ledgerId, String(order.name))).map((d) => d.total);
    // Cancelled: the draft of the version before the update stays as it is.
    expect(await total()).toEqual([24900]);
    // The shop takes the order back: a newer version, fulfilled, with the update's shipping. It is
    // materially the version the update brought, so only the update's own re-run can carry it.
    const takeBack = () =>
      world.sendShopify("orders/fulfilled", {
        ...order,
        ...DEARER_SHIPPING,
        fulfillment_status: "fulfilled",
        cancelled_at: null,
        updated_at: at(3),
      });
    return { order, stub, paid, attempts, total, takeBack };
  }

  it("re-runs the transfers it changed once the shop takes the order back, not before, ahead of the new stage's", async () => {
    const world = await createWorld();
    const other = await secondLedger(world);
    const { order, stub, attempts, total, takeBack } = await updatedWhileCancelled(world);
    expect(await attempts()).toEqual([["done", 1]]);
    await world.flow("fulfilled", [{ target: other, action: "createInvoice" }]);
    await takeBack();
    await expect.poll(async () => (await stub.describe()).stage.cancelled, { timeout: 5000 }).toBe(false);
    const transfers = await settledTransfers(world, String(order.id), 2);
    expect(await total()).toEqual([25900]);
    const detail = async (stage: string) => (await world.api(`/transfers/${transfers.find((t) => t.stage === stage)!.id}`)).body;
    const rerun = (await detail("paid")).attempts.at(-1);
    const fulfilled = (await detail("fulfilled")).attempts.at(-1);
    expect(rerun.attempt).toBe(2);
    // The re-run went first: a later stage's step may read what it made.
    expect(rerun.createdAt).toBeLessThanOrEqual(fulfilled.createdAt);
  });

  it("re-runs nothing where the cancellation ran a flow (it may have deleted the draft: the new invoice is the merchant's to make)", async () => {
    const world = await createWorld();
    const other = await secondLedger(world);
    // A stand-in for a cancel flow, on a ledger of its own.
    await world.flow("cancelled", [{ target: other, action: "createInvoice" }]);
    const { order, stub, total, takeBack } = await updatedWhileCancelled(world);
    await takeBack();
    await expect.poll(async () => (await stub.describe()).stage.cancelled, { timeout: 5000 }).toBe(false);
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    const transfers = await settledTransfers(world, String(order.id), 2);
    const paid = (await world.api(`/transfers/${transfers.find((t) => t.stage === "paid")!.id}`)).body;
    expect(paid.steps.map((s: { attempts: number }) => s.attempts)).toEqual([1]);
    expect(await total()).toEqual([24900]);
  });

  it("re-runs nothing where a cancel flow exists, though the change came with the cancellation itself (its re-run is decided before the cancel flow's transfer is made)", async () => {
    const world = await createWorld();
    const other = await secondLedger(world);
    await world.flow("cancelled", [{ target: other, action: "createInvoice" }]);
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const { order, at } = versions();
    await world.sendShopify("orders/paid", { ...order, updated_at: at(0) });
    await settledTransfers(world, String(order.id), 1);
    await world.sendShopify("orders/cancelled", { ...order, ...DEARER_SHIPPING, cancelled_at: at(1), updated_at: at(1) });
    await settledTransfers(world, String(order.id), 2);
    await world.sendShopify("orders/fulfilled", {
      ...order,
      ...DEARER_SHIPPING,
      fulfillment_status: "fulfilled",
      cancelled_at: null,
      updated_at: at(2),
    });
    const stub = orderObject(world, order);
    await expect.poll(async () => (await stub.describe()).stage.cancelled, { timeout: 5000 }).toBe(false);
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    const transfers = await settledTransfers(world, String(order.id), 2);
    const paid = (await world.api(`/transfers/${transfers.find((t) => t.stage === "paid")!.id}`)).body;
    expect(paid.steps.map((s: { attempts: number }) => s.attempts)).toEqual([1]);
    expect((await invoicesOf(world, world.ledgerId, String(order.name))).map((d) => d.total)).toEqual([24900]);
  });

  it("re-runs nothing for a flow switched off before the order is taken back", async () => {
    const world = await createWorld();
    const { stub, paid, attempts, total, takeBack } = await updatedWhileCancelled(world);
    expect((await world.api(`/flows/${paid}`, { method: "PATCH", body: { enabled: false } })).status).toBe(200);
    await takeBack();
    await expect.poll(async () => (await stub.describe()).stage.cancelled, { timeout: 5000 }).toBe(false);
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    expect(await attempts()).toEqual([["done", 1]]);
    expect(await total()).toEqual([24900]);
  });
});

describe("a retry with the flow's current steps", () => {
  /** A booked invoice, then a payment on a second ledger that is switched off: the payment fails before sending anything. */
  async function paymentOnSwitchedOffLedger() {
    const world = await createWorld();
    const other = await secondLedger(world);
    const invoice = { target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } };
    const flowId = await world.flow("paid", [invoice, { target: other, action: "registerPayment" }]);
    expect((await world.api(`/connections/${other}`, { method: "PATCH", body: { enabled: false } })).status).toBe(200);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [failed] = await settledTransfers(world, String(order.id), 1);
    return { world, other, invoice, flowId, order, failed };
  }

  it("takes another action in the place of a step whose every attempt failed before sending anything (its connection was off)", async () => {
    const { world, other, invoice, flowId, order, failed } = await paymentOnSwitchedOffLedger();
    expect(failed.status).toBe("failed");
    expect(failed.errorReason).toMatch(/is disabled/);
    // The merchant meant a second invoice there, not a payment: registerPayment made nothing.
    expect((await world.api(`/connections/${other}`, { method: "PATCH", body: { enabled: true } })).status).toBe(200);
    const steps = [invoice, { target: other, action: "createInvoice" }];
    expect((await world.api(`/flows/${flowId}`, { method: "PATCH", body: { steps } })).status).toBe(200);
    expect((await world.api(`/transfers/${failed.id}/retry`, { body: { useCurrentSettings: true } })).status).toBe(202);
    await eventually(async () => (await world.api(`/transfers/${failed.id}`)).body.status === "completed", "the retry");
    expect(await invoicesOf(world, other, String(order.name))).toHaveLength(1);
    expect(await invoicesOf(world, world.ledgerId, String(order.name))).toHaveLength(1);
  });

  it("still refuses it when an earlier attempt of the step may have made something, whatever the later ones", async () => {
    const { world, other, invoice, flowId, order, failed } = await paymentOnSwitchedOffLedger();
    // As if an attempt before the idle one had timed out after its call left: counted, not idle.
    await runInDurableObject(orderObject(world, order), (_instance, state) => {
      state.storage.sql.exec("UPDATE step_rows SET attempts = attempts + 1 WHERE step_index = 1");
    });
    const steps = [invoice, { target: other, action: "createInvoice" }];
    expect((await world.api(`/flows/${flowId}`, { method: "PATCH", body: { steps } })).status).toBe(200);
    const refused = await world.api(`/transfers/${failed.id}/retry`, { body: { useCurrentSettings: true } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/step 2 \(registerPayment\) has run and may have made something/);
  });

  it("is refused when another action stands where a step that failed after an attempt was (it may have made a draft)", async () => {
    const world = await createWorld();
    const other = await secondLedger(world);
    const invoice = { target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } };
    const flowId = await world.flow("paid", [invoice]);
    // The totals do not match: the invoice is left as a draft and the step fails.
    const order = shopifyOrder({ total_price: "260.00" });
    await world.sendShopify("orders/paid", order);
    const [failed] = await settledTransfers(world, String(order.id), 1);
    expect(failed.status).toBe("failed");
    expect(await invoicesOf(world, world.ledgerId, String(order.name))).toHaveLength(1);

    // A step added in front would give createInvoice a new reference: it would not find its draft.
    for (const [front, reason] of [
      [
        { target: other, action: "registerPayment" },
        /step 1 \(createInvoice\) has run and may have made something.*registerPayment in its place/,
      ],
      [
        { target: other, action: "createInvoice" },
        /step 1 \(createInvoice\) has run and may have made something.*now has it as step 2/,
      ],
    ] as const) {
      expect((await world.api(`/flows/${flowId}`, { method: "PATCH", body: { steps: [front, invoice] } })).status).toBe(200);
      for (const fromStart of [false, true]) {
        const refused = await world.api(`/transfers/${failed.id}/retry`, { body: { useCurrentSettings: true, fromStart } });
        expect(refused.status).toBe(409);
        expect(refused.body.error.message).toMatch(reason);
      }
    }
    // The failed step may still be pointed at another connection (it keeps no result).
    expect(
      (await world.api(`/flows/${flowId}`, { method: "PATCH", body: { steps: [{ ...invoice, target: other }] } })).status,
    ).toBe(200);
    expect((await world.api(`/transfers/${failed.id}/retry`, { body: { useCurrentSettings: true } })).status).toBe(202);
    // It fails again there (the same totals), after leaving its own draft in that ledger.
    const stub = orderObject(world, order);
    await expect
      .poll(async () => (await stub.describe()).steps.map((s) => [s.status, s.attempts]), { timeout: 8000 })
      .toEqual([["failed", 2]]);
    expect(await invoicesOf(world, other, String(order.name))).toHaveLength(1);
    expect(await invoicesOf(world, world.ledgerId, String(order.name))).toHaveLength(1);
  });
});
