/**
 * A totals mismatch keeps the document a draft and fails the step, but a person may book it anyway:
 * the draft order createOrder made (where a mismatch is only a warning), or the draft a failed
 * createInvoice left. The step that then finds the booked invoice reports what the customer paid
 * among its `differences`, which the differences sweep alerts (docs/accounting.md, "Cents
 * differences and mismatches"); what is booked is never changed.
 */
import { describe, expect, it } from "vitest";
import { createCreditNote, createInvoice, createOrder } from "../../src/connectors/economic";
import { bookedDifferences } from "../../src/connectors/economic/economic.document-steps";
import { accountingSettingsSchema } from "../../src/domain/accounting/accounting-settings";
import { buildCreditNoteDocument, buildInvoiceDocument } from "../../src/domain/accounting/build-document";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import {
  BASE_URL,
  danishOrder,
  done,
  failure,
  GOOD_TOKENS,
  REFERENCE,
  refundOf,
  run,
  writes,
} from "../mocks/economic.mock.fixtures";

const ORDER_REFERENCE = "orderly-order-0";
const SETTINGS = accountingSettingsSchema.parse({});
/** The customer paid 300.00; the order's lines make 248.00 (a difference of 52.00, above the threshold). */
const PAID = { total: 30000, tax: 4960, discounts: 0, shipping: 4900 };
const mismatched = (stage: "created" | "paid" = "paid") =>
  danishOrder({
    totals: PAID,
    ...(stage === "created" ? { stage, payments: [], financialStatus: "pending" as const } : {}),
  });
const PAID_DIFFERENCE =
  "total: 248.00 DKK on booked invoice 1 → 300.00 DKK, what the customer paid for order #1001 (booked despite the totals mismatch)";

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

describe("e-conomic: a document with a totals mismatch that a person booked", () => {
  it("createOrder reports the mismatch among its differences, not only as a warning", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);

    const { result } = await run(createOrder, mismatched("created"), {}, { reference: ORDER_REFERENCE });

    expect(result.outputs.differences).toEqual([
      "total: 248.00 DKK on draft order 1 → 300.00 DKK, what the customer paid for order #1001 (correct the draft before it is invoiced)",
    ]);
    expect(result.outputs.warnings).toContainEqual(
      expect.stringMatching(/^The invoice would total 248.00 DKK but the customer paid/),
    );
    expect(mock.state.orders).toHaveLength(1);
  });

  it("createInvoice reports it when it adopts the booked invoice a person made from the draft order", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = await run(createOrder, mismatched("created"), {}, { reference: ORDER_REFERENCE });
    const { draftInvoice } = await byPerson(mock, "GET", "/orders/drafts/1/templates/upgrade-instructions/draftInvoice");
    await byPerson(mock, "POST", "/invoices/drafts", draftInvoice);
    await byPerson(mock, "DELETE", "/orders/drafts/1");
    await byPerson(mock, "POST", "/invoices/booked", { draftInvoice: { draftInvoiceNumber: 1 } });
    mock.state.requests.length = 0;

    const { result } = await run(createInvoice, mismatched(), {}, { history: [done("createOrder", order.result)] });

    expect(result).toMatchObject({
      externalId: "1",
      created: false,
      outputs: { bookedInvoiceNumber: 1, adopted: true, fromOrderNumber: 1, differences: [PAID_DIFFERENCE] },
    });
    expect(writes(mock)).toEqual([]);
    expect(mock.state.booked).toHaveLength(1);
  });

  it("createInvoice reports it when a person booked the draft a failed attempt left", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const error = await failure(run(createInvoice, mismatched()));
    expect(error.code).toBe("invoice_totals_mismatch");
    await byPerson(mock, "POST", "/invoices/booked", { draftInvoice: { draftInvoiceNumber: 1 } });
    mock.state.requests.length = 0;

    const { result } = await run(createInvoice, mismatched(), {}, { reference: REFERENCE });

    expect(result.outputs).toMatchObject({ bookedInvoiceNumber: 1, differences: [PAID_DIFFERENCE] });
    expect(writes(mock)).toEqual([]);
  });

  it("reports nothing when the booked invoice is what the customer paid", () => {
    const document = buildInvoiceDocument(mismatched(), SETTINGS);
    expect(document.mismatch).toBeDefined();

    const corrected = { bookedInvoiceNumber: 1, currency: "DKK", grossAmount: 300, vatAmount: 49.6 };
    expect(bookedDifferences(corrected, document, "#1001")).toEqual([]);
    // Orderly's own document (248.00) is not what it should be, so it is not offered as the new total.
    const partly = { ...corrected, grossAmount: 290 };
    expect(bookedDifferences(partly, document, "#1001")).toEqual([
      "total: 290.00 DKK on booked invoice 1 → 300.00 DKK, what the customer paid for order #1001 (booked despite the totals mismatch)",
    ]);
  });

  it("names the VAT when it is the VAT that differs, and a credit note's refund", () => {
    const vatOff = buildInvoiceDocument(danishOrder({ totals: { ...danishOrder().totals, tax: 2000 } }), SETTINGS);
    expect(vatOff.mismatch).toMatch(/^The VAT would be/);
    expect(bookedDifferences({ bookedInvoiceNumber: 7, grossAmount: 248, vatAmount: 49.6 }, vatOff, "#1001")).toEqual([
      "VAT: 49.60 DKK on booked invoice 7 → 20.00 DKK, the VAT of order #1001 (booked despite the totals mismatch)",
    ]);

    const note = buildCreditNoteDocument(danishOrder(), refundOf({ total: 25000 }), SETTINGS);
    expect(note.mismatch).toBeDefined();
    // e-conomic's credit note is an invoice with a negative total.
    expect(bookedDifferences({ bookedInvoiceNumber: 8, grossAmount: -199, vatAmount: -39.8 }, note, "#1001")).toEqual([
      "total: 199.00 DKK on booked credit note 8 → 250.00 DKK, what was refunded for order #1001 (booked despite the totals mismatch)",
    ]);
  });

  it("a credit note a person booked despite its mismatch is reported on the step's re-run", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const invoice = await run(createInvoice, danishOrder(), { invoiceState: "booked" });
    const history = [done("createInvoice", invoice.result)];
    const refund = refundOf({ total: 25000 });
    const error = await failure(run(createCreditNote, danishOrder(), {}, { refund, history, reference: "orderly-refund-0" }));
    expect(error.code).toBe("credit_note_totals_mismatch");
    const draft = mock.state.drafts[0] as { draftInvoiceNumber: number };
    await byPerson(mock, "POST", "/invoices/booked", { draftInvoice: { draftInvoiceNumber: draft.draftInvoiceNumber } });

    const { result } = await run(createCreditNote, danishOrder(), {}, { refund, history, reference: "orderly-refund-0" });

    expect(result.outputs.differences).toEqual([
      "total: 199.00 DKK on booked credit note 2 → 250.00 DKK, what was refunded for order #1001 (booked despite the totals mismatch)",
    ]);
  });

  it("a document without a mismatch still compares the booked invoice with the document", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    await run(createInvoice, danishOrder(), { invoiceState: "booked" });

    const { result } = await run(createInvoice, danishOrder(), { invoiceState: "booked" });

    expect(result.outputs.differences).toEqual([]);
  });
});
