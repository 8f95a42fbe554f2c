/**
 * Billy createInvoice in a second flow of an order (invoicing moved from the paid flow to the
 * fulfilled one, or a flow on another stage invoicing too): it adopts the invoice the other flow
 * made on this connection instead of invoicing the order again, unless that one was voided or
 * approved credit notes of the order took it back in full. A step's own invoice comes first.
 */
import { describe, expect, it } from "vitest";
import { createCreditNote, createInvoice } from "../../src/connectors/billy";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, historyEntry, PRODUCTS, refund, run, SETTINGS } from "../mocks/billy.mock.fixtures";

const BOOKED = { ...SETTINGS, invoiceState: "booked" };
const DRAFT = { ...SETTINGS, invoiceState: "draft" };
const REF_PAID = "orderly-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-0";
const REF_FULFILLED = "orderly-ffffffffffffffffffffffffffffffff-0";
const fulfilled = () => danishOrder({ stage: "fulfilled" });

function setup() {
  const mock = createBillyMock({ products: PRODUCTS });
  installBillyMock(mock);
  const invoices = () => mock.state.invoices.filter((i) => i.type === "invoice");
  return { mock, invoices };
}

describe("Billy createInvoice in a second flow of the order", () => {
  it("adopts the approved invoice the paid flow made: no second invoice, outputs name it and where it came from", async () => {
    const { invoices } = setup();
    const paid = await run(createInvoice, danishOrder(), BOOKED, { reference: REF_PAID });
    const history = [historyEntry("createInvoice", paid.result)];

    const { result } = await run(createInvoice, fulfilled(), BOOKED, { reference: REF_FULFILLED, history });

    expect(invoices()).toHaveLength(1);
    expect(result).toMatchObject({
      externalId: paid.result.outputs.invoiceId,
      created: false,
      outputs: {
        documentType: "invoice",
        invoiceId: paid.result.outputs.invoiceId,
        state: "approved",
        adoptedFrom: { transferId: "t-paid", stage: "paid", stepIndex: 0 },
      },
    });
    expect(result.outputs.reason).toContain("made earlier by another flow");
  });

  it("adopts the paid flow's draft and approves it as this step says, keeping its reference", async () => {
    const { mock, invoices } = setup();
    const paid = await run(createInvoice, danishOrder(), DRAFT, { reference: REF_PAID });
    const history = [historyEntry("createInvoice", paid.result)];

    const { result } = await run(createInvoice, fulfilled(), BOOKED, { reference: REF_FULFILLED, history });

    expect(invoices()).toHaveLength(1);
    expect(result).toMatchObject({ created: false, outputs: { invoiceId: paid.result.outputs.invoiceId, state: "approved" } });
    expect(mock.invoice(String(paid.result.outputs.invoiceId))).toMatchObject({ state: "approved", externalId: REF_PAID });
  });

  it("adopts the invoice refunds credited in full: a new one would stand uncredited", async () => {
    const { invoices } = setup();
    const paid = await run(createInvoice, danishOrder(), BOOKED, { reference: REF_PAID });
    const history = [historyEntry("createInvoice", paid.result)];
    const note = await run(createCreditNote, danishOrder(), BOOKED, {
      reference: "orderly-11111111111111111111111111111111-0",
      history,
      refund: refund({ shipping: 4900, total: 24800 }),
    });
    history.push(historyEntry("createCreditNote", note.result, { transferId: "t-r1", stage: "refunded", occurrence: "r1" }));

    const { result } = await run(createInvoice, fulfilled(), BOOKED, { reference: REF_FULFILLED, history });

    expect(invoices()).toHaveLength(1);
    expect(result).toMatchObject({ created: false, outputs: { invoiceId: paid.result.outputs.invoiceId } });
  });

  it("makes a new invoice when a cancellation's approved credit note took the earlier one back in full", async () => {
    const { invoices } = setup();
    const paid = await run(createInvoice, danishOrder(), BOOKED, { reference: REF_PAID });
    const history = [historyEntry("createInvoice", paid.result)];
    const note = await run(createCreditNote, danishOrder(), BOOKED, {
      reference: "orderly-11111111111111111111111111111111-0",
      history,
      refund: refund({ shipping: 4900, total: 24800 }),
    });
    history.push(historyEntry("createCreditNote", note.result, { transferId: "t-c1", stage: "cancelled" }));

    const { result } = await run(createInvoice, fulfilled(), BOOKED, { reference: REF_FULFILLED, history });

    expect(invoices()).toHaveLength(2);
    expect(result.created).toBe(true);
    expect(result.outputs.invoiceId).not.toBe(paid.result.outputs.invoiceId);
    expect(result.outputs.adoptedFrom).toBeUndefined();
  });

  it("adopts an earlier invoice credited only in part", async () => {
    const { invoices } = setup();
    const paid = await run(createInvoice, danishOrder(), BOOKED, { reference: REF_PAID });
    const history = [historyEntry("createInvoice", paid.result)];
    const note = await run(createCreditNote, danishOrder(), BOOKED, {
      reference: "orderly-11111111111111111111111111111111-0",
      history,
      refund: refund(),
    });
    history.push(historyEntry("createCreditNote", note.result, { transferId: "t-r1", stage: "refunded", occurrence: "r1" }));

    const { result } = await run(createInvoice, fulfilled(), BOOKED, { reference: REF_FULFILLED, history });

    expect(invoices()).toHaveLength(1);
    expect(result.outputs).toMatchObject({ invoiceId: paid.result.outputs.invoiceId, adoptedFrom: { transferId: "t-paid" } });
  });

  it("keeps a re-run to its own invoice, even beside another flow's", async () => {
    const { invoices } = setup();
    const paid = await run(createInvoice, danishOrder(), BOOKED, { reference: REF_PAID });
    // The fulfilled flow's own invoice, made before it could adopt the paid one.
    const own = await run(createInvoice, fulfilled(), BOOKED, { reference: REF_FULFILLED });
    const history = [historyEntry("createInvoice", paid.result)];

    const again = await run(createInvoice, fulfilled(), BOOKED, { reference: REF_FULFILLED, history });

    expect(invoices()).toHaveLength(2);
    expect(again.result).toMatchObject({ created: false, outputs: { invoiceId: own.result.outputs.invoiceId } });
    expect(again.result.outputs.adoptedFrom).toBeUndefined();
  });
});
