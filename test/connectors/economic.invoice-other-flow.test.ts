/**
 * createInvoice in a second flow of an order (invoicing moved from the paid flow to the fulfilled
 * one, or a flow on another stage invoicing too): each transfer has its own reference, so the step
 * finds nothing by its own and would invoice the order again. It adopts the invoice the other flow
 * made on this connection instead, unless booked credit notes took that back in full; a step's own
 * invoice still comes first on a re-run.
 */
import { describe, expect, it } from "vitest";
import type { ActionResult, StepHistoryEntry } from "../../src/connectors/contract";
import { bookInvoice, cancelOrder, createCreditNote, createInvoice, createOrder } from "../../src/connectors/economic";
import type { Stage } from "../../src/domain/stage";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, done, refundOf, run, TS1 } from "../mocks/economic.mock.fixtures";

const BOOKED = { invoiceState: "booked" };
const fulfilled = () => danishOrder({ stage: "fulfilled" });

function step(stage: Stage, transferId: string, stepIndex: number, action: string, result: ActionResult): StepHistoryEntry {
  return { ...done(action, result), stage, transferId, stepIndex };
}

const posts = (mock: EconomicMock, path: string) =>
  mock.state.requests.filter((r) => r.method === "POST" && r.path === path).length;

function setup() {
  const mock = createEconomicMock({ products: [TS1] });
  installEconomicMock(mock);
  return mock;
}

describe("e-conomic createInvoice in a second flow of the order", () => {
  it("adopts the booked invoice the paid flow made: no second invoice, outputs name it and where it came from", async () => {
    const mock = setup();
    const paid = await run(createInvoice, danishOrder(), BOOKED, { reference: "orderly-paid-0" });
    const history = [step("paid", "t-paid", 0, "createInvoice", paid.result)];

    const { result } = await run(createInvoice, fulfilled(), BOOKED, { reference: "orderly-fulfilled-0", history });

    expect(posts(mock, "/invoices/drafts")).toBe(1);
    expect(mock.state.booked).toHaveLength(1);
    expect(result).toMatchObject({
      externalId: "1",
      created: false,
      outputs: {
        bookedInvoiceNumber: 1,
        customerNumber: paid.result.outputs.customerNumber,
        reference: "orderly-paid-0",
        adoptedFrom: { transferId: "t-paid", stage: "paid", stepIndex: 0 },
        differences: [],
      },
    });
    expect(result.outputs.reason).toContain("made earlier by another flow");
    // A bookInvoice after it adopts the booked invoice rather than booking anything.
    const booked = await run(bookInvoice, fulfilled(), {}, { previous: [result] });
    expect(booked.result).toMatchObject({ created: false, outputs: { bookedInvoiceNumber: 1 } });
    expect(posts(mock, "/invoices/booked")).toBe(1);
  });

  it("adopts the paid flow's draft, keeps its reference, and books it as this step says", async () => {
    const mock = setup();
    const paid = await run(createInvoice, danishOrder(), { invoiceState: "draft" }, { reference: "orderly-paid-0" });
    const history = [step("paid", "t-paid", 0, "createInvoice", paid.result)];

    const { result } = await run(createInvoice, fulfilled(), BOOKED, { reference: "orderly-fulfilled-0", history });

    expect(posts(mock, "/invoices/drafts")).toBe(1);
    expect(mock.state.drafts).toHaveLength(0);
    expect(mock.state.booked).toHaveLength(1);
    expect(result).toMatchObject({
      created: false,
      outputs: {
        draftInvoiceNumber: paid.result.outputs.draftInvoiceNumber,
        bookedInvoiceNumber: 1,
        reference: "orderly-paid-0",
        updated: true,
        adoptedFrom: { transferId: "t-paid", stage: "paid" },
      },
    });
    expect((mock.state.booked[0] as { references?: { other?: string } }).references?.other).toBe("orderly-paid-0");
  });

  it("adopts the invoice a paid flow's bookInvoice booked, with its createInvoice's reference", async () => {
    const mock = setup();
    const draft = await run(createInvoice, danishOrder(), { invoiceState: "draft" }, { reference: "orderly-paid-0" });
    const booked = await run(bookInvoice, danishOrder(), {}, { previous: [draft.result] });
    const history = [
      step("paid", "t-paid", 0, "createInvoice", draft.result),
      step("paid", "t-paid", 1, "bookInvoice", booked.result),
    ];

    const { result } = await run(createInvoice, fulfilled(), BOOKED, { reference: "orderly-fulfilled-0", history });

    expect(posts(mock, "/invoices/drafts")).toBe(1);
    expect(result).toMatchObject({
      created: false,
      outputs: { bookedInvoiceNumber: 1, reference: "orderly-paid-0", adoptedFrom: { stepIndex: 1 } },
    });
  });

  it("adopts the invoice refunds credited in full: a new one would stand uncredited", async () => {
    const mock = setup();
    const paid = await run(createInvoice, danishOrder(), BOOKED, { reference: "orderly-paid-0" });
    const history = [step("paid", "t-paid", 0, "createInvoice", paid.result)];
    const note = await run(createCreditNote, danishOrder({ stage: "refunded" }), BOOKED, {
      refund: refundOf({ shipping: 4900, total: 24800 }),
      history,
      reference: "orderly-r1-0",
    });
    history.push(step("refunded", "t-r1", 0, "createCreditNote", note.result));

    const { result } = await run(createInvoice, fulfilled(), BOOKED, { reference: "orderly-fulfilled-0", history });

    expect(result).toMatchObject({ created: false, outputs: { bookedInvoiceNumber: 1, adoptedFrom: { transferId: "t-paid" } } });
    expect(posts(mock, "/invoices/drafts")).toBe(2);
  });

  it("makes a new invoice when a cancellation's booked credit notes took the earlier one back in full", async () => {
    const _mock = setup();
    const paid = await run(createInvoice, danishOrder(), BOOKED, { reference: "orderly-paid-0" });
    const history = [step("paid", "t-paid", 0, "createInvoice", paid.result)];
    const whole = refundOf({ shipping: 4900, total: 24800 });
    const note = await run(createCreditNote, danishOrder({ stage: "refunded" }), BOOKED, {
      refund: whole,
      history,
      reference: "orderly-c1-0",
    });
    history.push(step("cancelled", "t-c1", 0, "createCreditNote", note.result));

    const { result } = await run(createInvoice, fulfilled(), BOOKED, { reference: "orderly-fulfilled-0", history });

    expect(result).toMatchObject({ created: true, outputs: { bookedInvoiceNumber: 3, reference: "orderly-fulfilled-0" } });
    expect(result.outputs.adoptedFrom).toBeUndefined();
  });

  it("adopts an earlier invoice credited only in part", async () => {
    const mock = setup();
    const paid = await run(createInvoice, danishOrder(), BOOKED, { reference: "orderly-paid-0" });
    const history = [step("paid", "t-paid", 0, "createInvoice", paid.result)];
    const note = await run(createCreditNote, danishOrder({ stage: "refunded" }), BOOKED, {
      refund: refundOf({ lines: [], shipping: 4900, total: 4900 }),
      history,
      reference: "orderly-r1-0",
    });
    history.push(step("refunded", "t-r1", 0, "createCreditNote", note.result));

    const { result } = await run(createInvoice, fulfilled(), BOOKED, { reference: "orderly-fulfilled-0", history });

    expect(result).toMatchObject({ created: false, outputs: { bookedInvoiceNumber: 1, adoptedFrom: { transferId: "t-paid" } } });
    expect(mock.state.booked).toHaveLength(2);
  });

  it("keeps a re-run to its own invoice, even beside another flow's", async () => {
    const mock = setup();
    const paid = await run(createInvoice, danishOrder(), BOOKED, { reference: "orderly-paid-0" });
    // The fulfilled flow's own invoice, made before it could adopt the paid one.
    const own = await run(createInvoice, fulfilled(), BOOKED, { reference: "orderly-fulfilled-0" });
    const history = [step("paid", "t-paid", 0, "createInvoice", paid.result)];

    const again = await run(createInvoice, fulfilled(), BOOKED, { reference: "orderly-fulfilled-0", history, prior: own.result });

    expect(again.result).toMatchObject({
      externalId: own.result.externalId,
      created: false,
      outputs: { bookedInvoiceNumber: own.result.outputs.bookedInvoiceNumber, reference: "orderly-fulfilled-0" },
    });
    expect(again.result.outputs.adoptedFrom).toBeUndefined();
    expect(posts(mock, "/invoices/drafts")).toBe(2);
  });

  it("adopts the invoice the paid flow made of the created flow's draft order, rather than fail on the order gone", async () => {
    const mock = setup();
    const made = await run(createOrder, danishOrder({ stage: "created" }), {}, { reference: "orderly-created-0" });
    const created = [step("created", "t-created", 0, "createOrder", made.result)];
    const paid = await run(createInvoice, danishOrder(), BOOKED, { reference: "orderly-paid-0", history: created });
    expect(paid.result.outputs.fromOrderNumber).toBe(made.result.outputs.orderNumber);
    const history = [...created, step("paid", "t-paid", 0, "createInvoice", paid.result)];

    const { result } = await run(createInvoice, fulfilled(), BOOKED, { reference: "orderly-fulfilled-0", history });

    expect(result).toMatchObject({
      created: false,
      outputs: { bookedInvoiceNumber: 1, reference: "orderly-paid-0", adoptedFrom: { transferId: "t-paid" } },
    });
    expect(mock.state.booked).toHaveLength(1);
  });

  it("makes a fresh invoice, not fail on the order gone, when the invoice made of the draft order was credited in full", async () => {
    const mock = setup();
    const made = await run(createOrder, danishOrder({ stage: "created" }), {}, { reference: "orderly-created-0" });
    const created = [step("created", "t-created", 0, "createOrder", made.result)];
    const paid = await run(createInvoice, danishOrder(), BOOKED, { reference: "orderly-paid-0", history: created });
    expect(paid.result.outputs.fromOrderNumber).toBe(made.result.outputs.orderNumber);
    const history = [...created, step("paid", "t-paid", 0, "createInvoice", paid.result)];
    const note = await run(createCreditNote, danishOrder({ stage: "refunded" }), BOOKED, {
      refund: refundOf({ shipping: 4900, total: 24800 }),
      history,
      reference: "orderly-c1-0",
    });
    history.push(step("cancelled", "t-c1", 0, "createCreditNote", note.result));

    const { result } = await run(createInvoice, fulfilled(), BOOKED, { reference: "orderly-fulfilled-0", history });

    expect(result).toMatchObject({ created: true, outputs: { reference: "orderly-fulfilled-0" } });
    expect(result.outputs.adoptedFrom).toBeUndefined();
    expect(mock.state.booked).toHaveLength(3);
  });
});

describe("e-conomic createOrder in a second flow of the order", () => {
  it("makes a fresh draft order when the order's cancelOrder deleted the other flow's (a cancelled order reopened)", async () => {
    const mock = setup();
    const made = await run(createOrder, danishOrder({ stage: "created" }), {}, { reference: "orderly-created-0" });
    const history = [step("created", "t-created", 0, "createOrder", made.result)];
    const cancelled = await run(cancelOrder, danishOrder({ stage: "cancelled" }), {}, { reference: "orderly-c-0", history });
    expect(cancelled.result.outputs.deletedOrders).toEqual([made.result.outputs.orderNumber]);
    history.push(step("cancelled", "t-c", 0, "cancelOrder", cancelled.result));

    const { result } = await run(createOrder, danishOrder(), {}, { reference: "orderly-paid-0", history });

    expect(posts(mock, "/orders/drafts")).toBe(2);
    expect(result).toMatchObject({ created: true, outputs: { reference: "orderly-paid-0" } });
    expect(result.outputs.orderGone).toBeUndefined();
    expect(result.outputs.adoptedFrom).toBeUndefined();
  });

  it("adopts the draft order the created flow made, under its reference: no second draft order", async () => {
    const mock = setup();
    const made = await run(createOrder, danishOrder({ stage: "created" }), {}, { reference: "orderly-created-0" });
    const history = [step("created", "t-created", 0, "createOrder", made.result)];

    const { result } = await run(createOrder, danishOrder(), {}, { reference: "orderly-paid-0", history });

    expect(posts(mock, "/orders/drafts")).toBe(1);
    expect(result).toMatchObject({
      externalId: made.result.externalId,
      created: false,
      outputs: {
        orderNumber: made.result.outputs.orderNumber,
        reference: "orderly-created-0",
        updated: true,
        adoptedFrom: { transferId: "t-created", stage: "created", stepIndex: 0 },
      },
    });
    expect(result.outputs.reason).toContain("made earlier by another flow");
  });

  it("makes no draft order when the other flow's is gone without an invoice step to say why", async () => {
    const mock = setup();
    const made = await run(createOrder, danishOrder({ stage: "created" }), {}, { reference: "orderly-created-0" });
    mock.state.orders.length = 0;
    const history = [step("created", "t-created", 0, "createOrder", made.result)];

    const { result } = await run(createOrder, danishOrder(), {}, { reference: "orderly-paid-0", history });

    expect(posts(mock, "/orders/drafts")).toBe(1);
    expect(result.outputs).toMatchObject({ orderGone: true, orderNumber: made.result.outputs.orderNumber });
    expect(String(result.outputs.reason)).toContain("which another flow's createOrder step");
  });
});
