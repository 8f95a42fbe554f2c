import { describe, expect, it } from "vitest";
import { createCreditNote, createInvoice } from "../../src/connectors/billy";
import type { ActionResult } from "../../src/connectors/contract";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, failure, historyEntry, PRODUCTS, refund, run, SETTINGS } from "../mocks/billy.mock.fixtures";

const REF_R1 = "orderly-11111111111111111111111111111111-0";
const REF_R2 = "orderly-22222222222222222222222222222222-0";
const SHIPPING_REFUND = refund({
  source: { connector: "shopify", orderId: "5001", refundId: "r2", createdAt: "2026-03-06T09:00:00Z" },
  lines: [],
  shipping: 4900,
  total: 4900,
});

async function withApprovedInvoice() {
  const mock = createBillyMock({ products: PRODUCTS });
  installBillyMock(mock);
  const { result } = await run(createInvoice, danishOrder(), { ...SETTINGS, invoiceState: "booked" });
  return { mock, history: [historyEntry("createInvoice", result)], writesBefore: mock.writes().length };
}

const creditEntry = (result: ActionResult, refundId: string) =>
  historyEntry("createCreditNote", result, { transferId: `t-${refundId}`, stage: "refunded", occurrence: refundId });

describe("Billy createCreditNote", () => {
  it("credits the refund on a credit note linked to the invoice, with positive net lines, and approves it", async () => {
    const { mock, history, writesBefore } = await withApprovedInvoice();

    const { result, mapped } = await run(
      createCreditNote,
      danishOrder(),
      { ...SETTINGS, invoiceState: "booked" },
      {
        reference: REF_R1,
        history,
        refund: refund(),
      },
    );

    const creditNote = {
      type: "creditNote",
      contactId: "con-1",
      entryDate: "2026-03-05",
      currencyId: "DKK",
      taxMode: "excl",
      externalId: REF_R1,
      state: "draft",
      contactMessage: "Refund of order #1001",
      lines: [{ productId: "prod-ts1", description: "T-shirt", quantity: 1, unitPrice: 159.2, taxRateId: "tr-dk-25" }],
      creditedInvoiceId: "inv-3",
    };
    expect(mock.writes().slice(writesBefore)).toEqual([
      { method: "POST", path: "/invoices", query: {}, body: { invoice: creditNote } },
      { method: "PUT", path: "/invoices/inv-6", query: {}, body: { invoice: { state: "approved" } } },
    ]);
    expect(mapped).toEqual([{ document: expect.objectContaining({ type: "credit-note" }), billyInvoice: creditNote }]);
    expect(result).toEqual({
      externalId: "inv-6",
      created: true,
      outputs: {
        documentType: "creditNote",
        creditNoteId: "inv-6",
        creditedInvoiceId: "inv-3",
        contactId: "con-1",
        state: "approved",
        creditNoteNo: "1002",
        total: 19900,
        currency: "DKK",
        vatCase: "domestic",
        warnings: [],
        refundId: "r1",
      },
    });
    expect(mock.invoice("inv-6")).toMatchObject({ type: "creditNote", creditedInvoiceId: "inv-3", grossAmount: 199 });
  });

  it("two refunds make two credit notes, and a re-run of either adopts its own", async () => {
    const { mock, history } = await withApprovedInvoice();
    const settings = { ...SETTINGS, invoiceState: "booked" };

    const first = await run(createCreditNote, danishOrder(), settings, { reference: REF_R1, history, refund: refund() });
    const second = await run(createCreditNote, danishOrder(), settings, { reference: REF_R2, history, refund: SHIPPING_REFUND });
    const writes = mock.writes().length;
    const rerun = await run(createCreditNote, danishOrder(), settings, { reference: REF_R2, history, refund: SHIPPING_REFUND });

    const notes = mock.state.invoices.filter((i) => i.type === "creditNote");
    expect(notes.map((n) => [n.externalId, n.creditedInvoiceId, n.grossAmount])).toEqual([
      [REF_R1, "inv-3", 199],
      [REF_R2, "inv-3", 49],
    ]);
    expect(first.result.externalId).not.toBe(second.result.externalId);
    expect(mock.linesOf(second.result.externalId)).toEqual([
      expect.objectContaining({
        productId: "prod-shipping",
        description: "Shipping refund",
        unitPrice: 39.2,
        taxRateId: "tr-dk-25",
      }),
    ]);
    expect(rerun.result).toMatchObject({ externalId: second.result.externalId, created: false });
    expect(mock.writes()).toHaveLength(writes);
  });

  it("with one credit note per invoice, adds a later refund to the earlier draft credit note", async () => {
    const { mock, history } = await withApprovedInvoice();
    const settings = { ...SETTINGS, oneCreditNotePerInvoice: true };
    const first = await run(createCreditNote, danishOrder(), settings, { reference: REF_R1, history, refund: refund() });
    const later = [...history, creditEntry(first.result, "r1")];
    const writes = mock.writes().length;

    const second = await run(createCreditNote, danishOrder(), settings, {
      reference: REF_R2,
      history: later,
      refund: SHIPPING_REFUND,
    });

    expect(mock.writes().slice(writes)).toEqual([
      {
        method: "PUT",
        path: "/invoices/inv-6",
        query: {},
        body: {
          invoice: {
            externalId: `${REF_R1},${REF_R2}`,
            lines: [
              { productId: "prod-ts1", description: "T-shirt", quantity: 1, unitPrice: 159.2, taxRateId: "tr-dk-25" },
              { productId: "prod-shipping", description: "Shipping refund", quantity: 1, unitPrice: 39.2, taxRateId: "tr-dk-25" },
            ],
          },
        },
      },
    ]);
    expect(second.result).toMatchObject({
      externalId: "inv-6",
      created: false,
      outputs: { creditNoteId: "inv-6", merged: true, mergedRefunds: ["r1", "r2"], refundId: "r2", state: "draft" },
    });
    expect(mock.state.invoices.filter((i) => i.type === "creditNote")).toHaveLength(1);
    expect(mock.invoice("inv-6")).toMatchObject({ grossAmount: 248 });

    const rerun = await run(createCreditNote, danishOrder(), settings, {
      reference: REF_R2,
      history: later,
      refund: SHIPPING_REFUND,
    });
    expect(rerun.result).toMatchObject({ externalId: "inv-6", created: false, outputs: { merged: true } });
    expect(mock.linesOf("inv-6")).toHaveLength(2);
  });

  it("with one credit note per invoice, refuses a later refund once the credit note is approved", async () => {
    const { mock, history } = await withApprovedInvoice();
    const settings = { ...SETTINGS, invoiceState: "booked", oneCreditNotePerInvoice: true };
    const first = await run(createCreditNote, danishOrder(), settings, { reference: REF_R1, history, refund: refund() });
    const writes = mock.writes().length;

    const error = await failure(
      run(createCreditNote, danishOrder(), settings, {
        reference: REF_R2,
        history: [...history, creditEntry(first.result, "r1")],
        refund: SHIPPING_REFUND,
      }),
    );

    expect(error.errorClass).toBe("validation");
    expect(error.code).toBe("billy_one_credit_note_per_invoice");
    expect(error.message).toMatch(/one credit note per invoice.*1002 is approved/);
    expect(mock.writes()).toHaveLength(writes);
  });

  it("fails with 'no invoice to credit' when this connection made no invoice for the order", async () => {
    const { mock, history, writesBefore } = await withApprovedInvoice();
    const elsewhere = history.map((h) => ({ ...h, target: "con_other" }));

    const error = await failure(run(createCreditNote, danishOrder(), SETTINGS, { history: elsewhere, refund: refund() }));

    expect(error.errorClass).toBe("validation");
    expect(error.message).toMatch(/^There is no invoice to credit/);
    expect(mock.writes()).toHaveLength(writesBefore);
  });

  it("refuses a refund in another currency than its order, naming both, and writes nothing", async () => {
    const { mock, history, writesBefore } = await withApprovedInvoice();
    // A Shopify refund mapped in shop money (its presentment amounts missing) for an order paid in DKK.
    const inEuro = refund({
      currency: "EUR",
      lines: [{ lineId: "l1", quantity: 1, subtotal: 2670, tax: 534, restock: true }],
      total: 2670,
    });

    const error = await failure(run(createCreditNote, danishOrder(), SETTINGS, { history, refund: inEuro }));

    expect(error.errorClass).toBe("validation");
    expect(error.code).toBe("refund_currency_mismatch");
    expect(error.message).toBe(
      "Refund r1 is in EUR but order #1001 was paid in DKK, so its amounts cannot be credited on the order's invoice: create the credit note by hand in the accounting system.",
    );
    expect(mock.writes()).toHaveLength(writesBefore);
  });

  it("refuses to credit an invoice that is still a draft", async () => {
    const mock = createBillyMock({ products: PRODUCTS });
    installBillyMock(mock);
    const { result } = await run(createInvoice, danishOrder(), SETTINGS);

    const error = await failure(
      run(createCreditNote, danishOrder(), SETTINGS, { history: [historyEntry("createInvoice", result)], refund: refund() }),
    );

    expect(error.code).toBe("billy_invoice_not_approved");
    expect(mock.state.invoices).toHaveLength(1);
  });

  it("needs a refund", async () => {
    const { history } = await withApprovedInvoice();

    const error = await failure(run(createCreditNote, danishOrder(), SETTINGS, { history }));

    expect(error.code).toBe("billy_no_refund");
  });
});
