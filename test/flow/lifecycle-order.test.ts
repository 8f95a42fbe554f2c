/**
 * An order's whole life at e-conomic with the chaos suite's lifecycle flows (created → draft
 * order; paid → invoice from the order, booked, payment entered; refunded → booked credit note),
 * driven through the webhook in the orders Shopify may deliver them in. Regression tests for
 * docs/guarantees.md "Known gaps" 5 and 6.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createWorld, eventually, settledTransfers, shopifyOrder, shopifyRefund, type World } from "../helpers/world";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";

const PAYMENT = { journalNumber: 1, defaultContraAccountNumber: 5820 };

async function lifecycle(world: World) {
  const e = world.economicId;
  await world.flow("created", [{ target: e, action: "createOrder", settings: {} }]);
  await world.flow("paid", [
    { target: e, action: "createInvoice", settings: { invoiceState: "draft" } },
    { target: e, action: "bookInvoice", settings: {} },
    { target: e, action: "registerPayment", settings: PAYMENT },
  ]);
  await world.flow("refunded", [{ target: e, action: "createCreditNote", settings: { invoiceState: "booked" } }]);
}

/** Versions of one order a second apart, as Shopify stamps `updated_at`. */
function versions() {
  const t0 = Date.now();
  const base = shopifyOrder({ created_at: new Date(t0).toISOString() });
  return (n: number, overrides: Record<string, unknown> = {}) => ({
    ...base,
    updated_at: new Date(t0 + n * 1000).toISOString(),
    ...overrides,
  });
}

const count = (mock: EconomicMock, method: string, path: string) =>
  mock.state.requests.filter((r) => r.method === method && r.path === path).length;

/** Waits until the order's object has taken `events` events and nothing is left to run or send. */
async function quiet(world: World, orderId: number, events: number) {
  const stub = env.ORDERS.get(env.ORDERS.idFromName(`${world.shopId}:${orderId}`));
  return eventually(async () => {
    const s = await stub.describe();
    const busy = s.steps.some((step) => step.status !== "done" && step.status !== "failed");
    return s.events.length === events && s.outbox === 0 && !busy ? s : undefined;
  }, `order ${orderId} to take ${events} events and settle`);
}

describe("gap 5: a refund that beats orders/paid", () => {
  it("enters the payment once orders/paid brings it, without a second invoice, booking or credit note", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    await lifecycle(world);
    const at = versions();
    const created = at(1, { financial_status: "pending" });

    await world.sendShopify("orders/create", created);
    await settledTransfers(world, String(created.id), 1);
    await world.sendShopify("refunds/create", shopifyRefund(created.id, 9001));
    await settledTransfers(world, String(created.id), 3);
    // The catch-up made the paid transfer from the pending order: nothing to enter yet.
    expect(mock.state.vouchers).toHaveLength(0);
    const ordersCallsBefore = mock.state.requests.filter((r) => r.path.startsWith("/orders/drafts")).length;

    await world.sendShopify("orders/paid", at(2, { financial_status: "paid" }));
    const state = await quiet(world, created.id, 3);

    expect(mock.state.vouchers).toHaveLength(1);
    expect(count(mock, "POST", "/orders/drafts")).toBe(1);
    expect(count(mock, "POST", "/invoices/booked")).toBe(2); // the invoice and the credit note
    expect(mock.state.booked.map((b) => (b as { grossAmount: number }).grossAmount)).toEqual([249, -199]);
    expect(state.transfers.map((t) => [t.stage, t.status])).toEqual([
      ["created", "completed"],
      ["paid", "completed"],
      ["refunded", "completed"],
    ]);
    const paid = state.transfers.find((t) => t.stage === "paid")!;
    const payment = state.steps.find((s) => s.transfer_id === paid.id && s.step_index === 2)!;
    expect(JSON.parse(payment.result!)).toMatchObject({ created: true, outputs: { amount: "249.00" } });
    // Only the paid transfer ran again: the draft order's step and the credit note did not.
    expect(count(mock, "PUT", "/orders/drafts/1")).toBe(0);
    expect(mock.state.requests.filter((r) => r.path.startsWith("/orders/drafts")).length).toBe(ordersCallsBefore);

    // A re-delivery and a later paid version change nothing more.
    await world.sendShopify("orders/updated", at(3, { financial_status: "partially_refunded" }));
    await quiet(world, created.id, 4);
    expect(mock.state.vouchers).toHaveLength(1);
    expect(count(mock, "POST", "/invoices/booked")).toBe(2);
  });

  it("a pay-later order fulfilled before it is paid gets its payment entered when it is paid", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    await lifecycle(world);
    const at = versions();
    const order = at(1, { financial_status: "pending" });
    await world.sendShopify("orders/create", order);
    await settledTransfers(world, String(order.id), 1);
    // Fulfilled implies paid on the ladder: the paid flows run at fulfilment, from a pending version.
    await world.sendShopify("orders/fulfilled", at(2, { financial_status: "pending", fulfillment_status: "fulfilled" }));
    await quiet(world, order.id, 2);
    expect(mock.state.booked).toHaveLength(1);
    expect(mock.state.vouchers).toHaveLength(0);

    await world.sendShopify("orders/paid", at(3, { financial_status: "paid", fulfillment_status: "fulfilled" }));
    await quiet(world, order.id, 3);

    expect(mock.state.vouchers).toHaveLength(1);
    expect(mock.state.booked).toHaveLength(1);
    expect(count(mock, "POST", "/orders/drafts")).toBe(1);
  });

  it("a deposit order (partly paid) whose refund ran the paid flows gets its payment entered once it is paid in full", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    await lifecycle(world);
    const at = versions();
    const deposit = at(1, { financial_status: "partially_paid", total_outstanding: "149.00" });
    await world.sendShopify("orders/create", deposit);
    await settledTransfers(world, String(deposit.id), 1);
    // A refund of part of the deposit climbs the ladder to paid: the paid flows run from a version
    // with no amount to enter, so nothing is entered yet.
    await world.sendShopify("orders/updated", at(2, { financial_status: "partially_refunded", total_outstanding: "149.00" }));
    await world.sendShopify("refunds/create", shopifyRefund(deposit.id, 9101));
    await settledTransfers(world, String(deposit.id), 3);
    expect(mock.state.vouchers).toHaveLength(0);

    // The customer pays the rest: the paid transfer runs again and enters the payment.
    await world.sendShopify("orders/updated", at(3, { financial_status: "partially_refunded", total_outstanding: "0.00" }));
    await quiet(world, deposit.id, 4);
    expect(mock.state.vouchers).toHaveLength(1);
    expect(count(mock, "POST", "/orders/drafts")).toBe(1);
  });

  it("an order paid from the start runs its paid transfer once", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    await lifecycle(world);
    const at = versions();
    const order = at(1, { financial_status: "pending" });
    await world.sendShopify("orders/create", order);
    await settledTransfers(world, String(order.id), 1);
    await world.sendShopify("orders/paid", at(2));
    await settledTransfers(world, String(order.id), 2);
    await quiet(world, order.id, 2);
    const calls = mock.state.requests.length;
    await world.sendShopify("orders/updated", at(3, { note: "gift wrap", financial_status: "partially_refunded" }));
    await quiet(world, order.id, 3);

    expect(mock.state.vouchers).toHaveLength(1);
    expect(mock.state.requests).toHaveLength(calls);
  });
});

describe("gap 6: a material update after invoicing", () => {
  it("does not make a second draft order beside the booked invoice", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    await lifecycle(world);
    const at = versions();
    const order = at(1, { financial_status: "pending" });

    await world.sendShopify("orders/create", order);
    await settledTransfers(world, String(order.id), 1);
    await world.sendShopify("orders/paid", at(2));
    await settledTransfers(world, String(order.id), 2);
    expect(mock.state.orders).toHaveLength(0);
    const writesBefore = mock.state.requests.filter((r) => r.method !== "GET").length;

    await world.sendShopify(
      "orders/updated",
      at(3, {
        line_items: [
          {
            id: 1,
            sku: "TS-1",
            title: "T-shirt",
            quantity: 2,
            price: "199.00",
            total_discount: "0.00",
            tax_lines: [{ title: "Moms", rate: 0.25, price: "79.60" }],
            discount_allocations: [],
          },
        ],
        subtotal_price: "398.00",
        total_price: "448.00",
        total_tax: "89.60",
      }),
    );
    const state = await quiet(world, order.id, 3);

    expect(count(mock, "POST", "/orders/drafts")).toBe(1);
    expect(mock.state.orders).toHaveLength(0);
    expect(mock.state.requests.filter((r) => r.method !== "GET").length).toBe(writesBefore);
    expect(state.transfers.map((t) => t.status)).toEqual(["completed", "completed"]);
    const createdTransfer = state.transfers.find((t) => t.stage === "created")!;
    const step = state.steps.find((s) => s.transfer_id === createdTransfer.id)!;
    expect(step.attempts).toBe(2); // numbers go on across re-runs: the first run, then the re-run
    expect(JSON.parse(step.result!)).toMatchObject({ created: false, outputs: { invoiced: true } });
    // The booked invoice is never changed; its re-run reports what the update would have changed.
    expect(mock.state.booked).toHaveLength(1);
  });
});
