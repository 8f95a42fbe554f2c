/**
 * createOrder once the order has become an invoice: a re-run (an update of the order) must not
 * make a second draft order, since the upgrade to the invoice deleted the first
 * (docs/guarantees.md, gap 6).
 */
import { describe, expect, it } from "vitest";
import { bookInvoice, createInvoice, createOrder } from "../../src/connectors/economic";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { BASE_URL, danishOrder, done, failure, GOOD_TOKENS, REFERENCE, run, sent, writes } from "../mocks/economic.mock.fixtures";

const ORDER_REFERENCE = "orderly-order-0";
const pending = () => danishOrder({ stage: "created", payments: [], financialStatus: "pending" });

/** createOrder, then the paid flow's createInvoice made from that order (optionally booked by bookInvoice). */
async function invoicedOrder(book: boolean) {
  const mock = createEconomicMock();
  installEconomicMock(mock);
  const order = await run(createOrder, pending(), {}, { reference: ORDER_REFERENCE });
  const invoice = await run(createInvoice, danishOrder(), {}, { history: [done("createOrder", order.result)] });
  const history = [done("createInvoice", invoice.result)];
  if (book) {
    const booked = await run(bookInvoice, danishOrder(), {}, { previous: [invoice.result] });
    history.push(done("bookInvoice", booked.result));
  }
  expect(mock.state.orders).toEqual([]);
  return { mock, history };
}

describe("e-conomic createOrder after the order became an invoice", () => {
  it("makes no draft order beside a booked invoice and says which invoice the order is", async () => {
    const { mock, history } = await invoicedOrder(true);
    const writesBefore = writes(mock).length;

    const again = await run(createOrder, danishOrder(), {}, { reference: ORDER_REFERENCE, history });

    expect(again.result).toEqual({
      externalId: "1",
      created: false,
      outputs: {
        invoiced: true,
        invoiceState: "booked",
        invoiceNumber: 1,
        reference: ORDER_REFERENCE,
        reason:
          "the order is already e-conomic booked invoice 1; no draft order is made again, and the invoice's own step brings it up to date",
      },
    });
    expect(writes(mock)).toHaveLength(writesBefore);
    expect(mock.state.orders).toEqual([]);
    expect(again.mapped).toEqual([]);
  });

  it("finds a draft invoice as e-conomic has it now: still a draft, or booked by a person since", async () => {
    const { mock, history } = await invoicedOrder(false);

    const draft = await run(createOrder, danishOrder(), {}, { reference: ORDER_REFERENCE, history });
    expect(draft.result.outputs).toMatchObject({ invoiced: true, invoiceState: "draft", invoiceNumber: 1 });

    mock.state.requests.length = 0;
    await run(bookInvoice, danishOrder(), {}, { previous: [history[0]!.result] });
    const booked = await run(createOrder, danishOrder(), {}, { reference: ORDER_REFERENCE, history });
    expect(booked.result.outputs).toMatchObject({ invoiced: true, invoiceState: "booked", invoiceNumber: 1 });
    expect(mock.state.orders).toEqual([]);
    expect(mock.state.requests.filter((r) => r.method === "POST" && r.path === "/orders/drafts")).toEqual([]);
  });

  it("says so when the invoice is gone from e-conomic, and still makes no draft order", async () => {
    const { mock, history } = await invoicedOrder(false);
    mock.state.drafts.length = 0;

    const again = await run(createOrder, danishOrder(), {}, { reference: ORDER_REFERENCE, history });

    expect(again.result.outputs).toMatchObject({ invoiced: true, invoiceState: "gone", invoiceNumber: 1 });
    expect(String(again.result.outputs.reason)).toMatch(/no longer in e-conomic; no draft order is made again/);
    expect(mock.state.orders).toEqual([]);
  });

  it("deletes the draft order an interrupted upgrade left behind instead of updating it", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = await run(createOrder, pending(), {}, { reference: ORDER_REFERENCE });
    const left = structuredClone(mock.state.orders[0]!);
    const invoice = await run(createInvoice, danishOrder(), {}, { history: [done("createOrder", order.result)] });
    mock.state.orders.push(left);

    const again = await run(
      createOrder,
      danishOrder(),
      {},
      { reference: ORDER_REFERENCE, history: [done("createInvoice", invoice.result)] },
    );

    expect(again.result.outputs).toMatchObject({ invoiced: true, invoiceState: "draft", invoiceNumber: 1, deletedOrders: [1] });
    expect(mock.state.orders).toEqual([]);
    expect(mock.state.requests.filter((r) => r.method === "PUT" && r.path.startsWith("/orders/drafts"))).toEqual([]);
  });

  it("without an invoice, a re-run still updates its own draft order", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const first = await run(createOrder, pending(), {}, { reference: REFERENCE });

    const again = await run(createOrder, pending(), {}, { reference: REFERENCE, history: [], prior: first.result });

    expect(again.result).toMatchObject({ externalId: "1", created: false, outputs: { orderNumber: 1, updated: true } });
    expect(mock.state.orders).toHaveLength(1);
  });
});

describe("e-conomic createOrder: a draft order left beside an invoice made without it", () => {
  it("deletes the draft order a failed createOrder left when a retry finds the order invoiced", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    // The created transfer's createOrder POST landed but its answer was lost: the step failed.
    await run(createOrder, pending(), {}, { reference: ORDER_REFERENCE });
    // The paid transfer, seeing no completed createOrder, made the invoice without the order.
    const invoice = await run(createInvoice, danishOrder());
    expect(mock.state.orders).toHaveLength(1);

    // A person retries the created transfer.
    const again = await run(
      createOrder,
      pending(),
      {},
      { reference: ORDER_REFERENCE, history: [done("createInvoice", invoice.result)] },
    );

    expect(again.result.outputs).toMatchObject({ invoiced: true, invoiceState: "draft", invoiceNumber: 1, deletedOrders: [1] });
    expect(mock.state.orders).toEqual([]);
    expect(mock.state.requests.filter((r) => r.method === "PUT" && r.path.startsWith("/orders/drafts"))).toEqual([]);
  });
});

/** A request a person's work in e-conomic makes, straight to the mock. */
async function byPerson(mock: EconomicMock, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await mock.handle(
    new Request(`${BASE_URL}${path}`, {
      method,
      headers: {
        "x-appsecrettoken": GOOD_TOKENS.appSecretToken,
        "x-agreementgranttoken": GOOD_TOKENS.agreementGrantToken,
        "content-type": "application/json",
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
  expect(response.ok, `${method} ${path}`).toBe(true);
  return response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>);
}

/**
 * createOrder's draft order 1, which a bookkeeper then turns into an invoice in e-conomic (adding a
 * delivery date), optionally booking it. The invoice carries the order's reference, assuming
 * e-conomic copies it as its upgrade instructions do [unconfirmed for an invoice a person makes].
 */
async function orderInvoicedByPerson(book: boolean, keepReference = true) {
  const mock = createEconomicMock();
  installEconomicMock(mock);
  const order = await run(createOrder, pending(), {}, { reference: ORDER_REFERENCE });
  const { draftInvoice } = await byPerson(mock, "GET", "/orders/drafts/1/templates/upgrade-instructions/draftInvoice");
  const template = draftInvoice as Record<string, unknown>;
  const references = keepReference ? template.references : { other: "typed by the bookkeeper" };
  await byPerson(mock, "POST", "/invoices/drafts", { ...template, references, delivery: { deliveryDate: "2025-11-05" } });
  await byPerson(mock, "DELETE", "/orders/drafts/1");
  if (book) await byPerson(mock, "POST", "/invoices/booked", { draftInvoice: { draftInvoiceNumber: 1 } });
  mock.state.requests.length = 0;
  return { mock, made: order.result, history: [done("createOrder", order.result)] };
}

describe("e-conomic createInvoice after a person invoiced the draft order", () => {
  it("adopts the person's draft invoice, brought up to date with this step's reference, instead of a second", async () => {
    const { mock, history } = await orderInvoicedByPerson(false);

    const { result } = await run(createInvoice, danishOrder(), {}, { history });

    expect(result).toMatchObject({
      externalId: "1",
      created: false,
      outputs: { draftInvoiceNumber: 1, adopted: true, fromOrderNumber: 1, reference: REFERENCE, updated: true },
    });
    expect(String(result.outputs.reason)).toMatch(/a person turned draft order 1 into e-conomic draft invoice 1/);
    expect(mock.state.requests.filter((r) => r.method === "POST")).toEqual([]);
    expect(sent(mock, "PUT", "/invoices/drafts/1")).toMatchObject({
      references: { other: REFERENCE },
      delivery: { deliveryDate: "2025-11-05" },
    });
    expect(mock.state.drafts).toHaveLength(1);
  });

  it("adopts the person's booked invoice without touching it", async () => {
    const { mock, history } = await orderInvoicedByPerson(true);

    const { result } = await run(createInvoice, danishOrder(), {}, { history });

    expect(result).toMatchObject({
      externalId: "1",
      created: false,
      outputs: { bookedInvoiceNumber: 1, adopted: true, fromOrderNumber: 1, reference: ORDER_REFERENCE, differences: [] },
    });
    expect(writes(mock)).toEqual([]);
    expect(mock.state.drafts).toEqual([]);
    expect(mock.state.booked).toHaveLength(1);
  });

  it("fails, making nothing, when the order is gone and no invoice carries its reference: a fresh draft would invoice it twice", async () => {
    const { mock, history } = await orderInvoicedByPerson(false, false);

    const error = await failure(run(createInvoice, danishOrder(), {}, { history }));

    expect(error).toMatchObject({ errorClass: "validation", code: "economic_order_gone", madeNothing: true });
    expect(error.message).toMatch(
      /draft order 1, .* is neither among the draft nor the sent orders and no invoice carries its reference orderly-order-0/,
    );
    expect(error.message).toMatch(/write orderly-order-0 in that invoice's "Other reference" and retry/);
    expect(writes(mock)).toEqual([]);
    expect(mock.state.drafts).toHaveLength(1);
  });
});

/** The same order 10.00 dearer (the T-shirt at 209.00), still unpaid: an update the created flow re-runs. */
const dearer = () =>
  danishOrder({
    stage: "created",
    payments: [],
    financialStatus: "pending",
    lines: [{ id: "l1", sku: "TS-1", title: "T-shirt", quantity: 1, unitPrice: 20900, discount: 0, tax: 4180, taxRateBp: 2500 }],
    totals: { total: 25800, tax: 5160, discounts: 0, shipping: 4900 },
  });

describe("e-conomic createOrder alone in its flow, after a person invoiced the draft order", () => {
  it("finds the person's draft invoice by the order's reference and makes no second draft order", async () => {
    const { mock, made } = await orderInvoicedByPerson(false);

    const again = await run(createOrder, dearer(), {}, { reference: ORDER_REFERENCE, prior: made });

    expect(again.result).toEqual({
      externalId: "1",
      created: false,
      outputs: {
        invoiced: true,
        invoiceState: "draft",
        invoiceNumber: 1,
        orderNumber: 1,
        reference: ORDER_REFERENCE,
        differences: ["total: 248.00 → 258.00", "VAT: 49.60 → 51.60"],
        reason:
          "a person turned e-conomic draft order 1 into draft invoice 1; no draft order is made again, and Orderly does not change the invoice: its differences from the order are listed",
      },
    });
    expect(writes(mock)).toEqual([]);
    expect(mock.state.orders).toEqual([]);
    expect(mock.state.drafts).toHaveLength(1);
  });

  it("finds the person's booked invoice and lists what the update would change, touching nothing", async () => {
    const { mock, made } = await orderInvoicedByPerson(true);

    const again = await run(createOrder, dearer(), {}, { reference: ORDER_REFERENCE, prior: made });

    expect(again.result.outputs).toMatchObject({
      invoiced: true,
      invoiceState: "booked",
      invoiceNumber: 1,
      orderNumber: 1,
      differences: ["total: 248.00 → 258.00", "VAT: 49.60 → 51.60"],
    });
    expect(writes(mock)).toEqual([]);
    expect(mock.state.orders).toEqual([]);
    expect(mock.state.booked).toHaveLength(1);
  });

  it("names a totals mismatch against the person's draft invoice, to correct before it is booked", async () => {
    const { mock, made } = await orderInvoicedByPerson(false);
    // The shop says 300.00 while the lines make 248.00.
    const mismatched = danishOrder({
      stage: "created",
      payments: [],
      financialStatus: "pending",
      totals: { total: 30000, tax: 4960, discounts: 0, shipping: 4900 },
    });

    const again = await run(createOrder, mismatched, {}, { reference: ORDER_REFERENCE, prior: made });

    expect(again.result.outputs.differences).toEqual([
      "total: 248.00 DKK on draft invoice 1 → 300.00 DKK, what the customer paid for order #1001 (correct the draft before it is invoiced)",
    ]);
    expect(writes(mock)).toEqual([]);
  });

  it("makes no draft order again when its order is gone and no invoice carries the reference", async () => {
    const { mock, made } = await orderInvoicedByPerson(false, false);

    const again = await run(createOrder, dearer(), {}, { reference: ORDER_REFERENCE, prior: made });

    expect(again.result).toMatchObject({
      externalId: "1",
      created: false,
      outputs: { orderGone: true, orderNumber: 1, reference: ORDER_REFERENCE },
    });
    expect(String(again.result.outputs.reason)).toMatch(
      /draft order 1, which this step made, is no longer among e-conomic's draft orders/,
    );
    // A difference, so the differences sweep mails the tenant: the update reached no record.
    expect(again.result.outputs.differences).toEqual([expect.stringMatching(/^order #\S+: draft order 1, which this step made/)]);
    expect(writes(mock)).toEqual([]);
    expect(mock.state.orders).toEqual([]);
  });

  it("keeps to it on the next update, and a later createInvoice adopts the person's invoice", async () => {
    const { mock, made } = await orderInvoicedByPerson(true);
    const first = await run(createOrder, dearer(), {}, { reference: ORDER_REFERENCE, prior: made });

    const second = await run(createOrder, dearer(), {}, { reference: ORDER_REFERENCE, prior: first.result });
    expect(second.result.outputs).toMatchObject({ invoiced: true, invoiceState: "booked", invoiceNumber: 1 });

    const invoice = await run(createInvoice, danishOrder(), {}, { history: [done("createOrder", second.result)] });
    expect(invoice.result.outputs).toMatchObject({ bookedInvoiceNumber: 1, adopted: true, fromOrderNumber: 1 });
    expect(writes(mock)).toEqual([]);
    expect(mock.createdInvoiceCount()).toBe(1);
    expect(mock.state.orders).toEqual([]);
  });
});
