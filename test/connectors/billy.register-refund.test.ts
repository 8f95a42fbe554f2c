/**
 * registerRefund registers the money a refund paid back as a Billy bank payment out of the gateway's
 * cash account (credit side, positive amount), associated with the credit note this transfer made,
 * which it settles. A retry after a lost answer finds the payment on the credit note and makes none.
 */
import { describe, expect, it } from "vitest";
import { createCreditNote, createInvoice, registerRefund } from "../../src/connectors/billy";
import type { CanonicalOrder, CanonicalRefund } from "../../src/domain/order";
import { type BillyMock, createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, failure, germanOrder, historyEntry, PRODUCTS, refund, run, SETTINGS } from "../mocks/billy.mock.fixtures";

const APPROVED = { ...SETTINGS, invoiceState: "booked" };
const PAYMENTS = { byGateway: { shopify_payments: { cashAccountId: "acc-bank" }, stripe: { cashAccountId: "acc-bank" } } };
const REFUND_REFERENCE = "orderly-33333333333333333333333333333333-1";

/** An approved invoice (paid flow), then this refunded transfer's credit note (approved unless said). */
async function creditedOrder(
  order: CanonicalOrder = danishOrder(),
  theRefund: CanonicalRefund = refund(),
  noteSettings: Record<string, unknown> = APPROVED,
) {
  const mock = createBillyMock({ products: PRODUCTS });
  installBillyMock(mock);
  const invoice = await run(createInvoice, order, APPROVED, { reference: "orderly-invoice-0" });
  const history = [historyEntry("createInvoice", invoice.result)];
  const note = await run(createCreditNote, order, noteSettings, { refund: theRefund, history, reference: "orderly-refund-0" });
  return { mock, history, previous: [note.result], creditNoteId: note.result.outputs.creditNoteId as string };
}

const bankPayments = (mock: BillyMock) =>
  mock.writes().flatMap((w) => (w.path === "/bankPayments" ? [(w.body as { bankPayment: unknown }).bankPayment] : []));

describe("Billy registerRefund", () => {
  it("pays the refund out of the gateway's cash account on the credit note, which it settles", async () => {
    const { mock, history, previous, creditNoteId } = await creditedOrder();
    expect(mock.invoice(creditNoteId)).toMatchObject({ type: "creditNote", state: "approved", balance: 199 });

    const { result } = await run(registerRefund, danishOrder(), PAYMENTS, {
      refund: refund(),
      previous,
      history,
      reference: REFUND_REFERENCE,
    });

    expect(bankPayments(mock)).toEqual([
      {
        entryDate: "2026-03-05",
        cashAmount: 199,
        cashSide: "credit",
        cashAccountId: "acc-bank",
        associations: [{ subjectReference: `invoice:${creditNoteId}` }],
      },
    ]);
    expect(result).toMatchObject({
      created: true,
      outputs: {
        creditNoteId,
        refundId: "r1",
        gateway: "shopify_payments",
        cashAccountId: "acc-bank",
        amount: 19900,
        currency: "DKK",
      },
    });
    expect(mock.invoice(creditNoteId)).toMatchObject({ balance: 0, isPaid: true });
  });

  it("a retry after a lost answer finds the payment on the credit note and makes no second one", async () => {
    const { mock, history, previous, creditNoteId } = await creditedOrder();
    const options = { refund: refund(), previous, history, reference: REFUND_REFERENCE };
    mock.failNext({ status: 503, method: "POST", path: /^\/bankPayments$/, afterEffect: true });

    const lost = await failure(run(registerRefund, danishOrder(), PAYMENTS, options));
    expect(lost.retryable).toBe(true);
    const retry = await run(registerRefund, danishOrder(), PAYMENTS, options);

    expect(mock.state.bankPayments).toHaveLength(1);
    const paymentId = mock.state.bankPayments[0]?.id;
    expect(retry.result).toMatchObject({ created: false, externalId: paymentId, outputs: { adoptedPayments: [paymentId] } });
    expect(mock.invoice(creditNoteId)).toMatchObject({ balance: 0 });
  });

  it("without an approved credit note from this transfer it fails, saying what to do, and makes nothing", async () => {
    const { mock, history } = await creditedOrder();
    const before = mock.writes().length;

    // The order's invoice is in its history; it is never what a refund is paid out against.
    const none = await failure(
      run(registerRefund, danishOrder(), PAYMENTS, { refund: refund(), history, reference: REFUND_REFERENCE }),
    );
    expect(none).toMatchObject({ errorClass: "validation", code: "billy_no_approved_credit_note", madeNothing: true });
    expect(none.message).toBe(
      "Refund r1 of order #1001 was not registered: there is no credit note from this flow. Put createCreditNote with the booked state before registerRefund in the refunded flow (or approve the credit note in Billy), then retry.",
    );
    expect(mock.writes()).toHaveLength(before);
  });

  it("a credit note left as a draft fails the same way, making nothing", async () => {
    const { mock, history, previous, creditNoteId } = await creditedOrder(danishOrder(), refund(), SETTINGS);
    const before = mock.writes().length;
    const draft = await failure(run(registerRefund, danishOrder(), PAYMENTS, { refund: refund(), previous, history }));
    expect(draft).toMatchObject({ code: "billy_no_approved_credit_note", madeNothing: true });
    expect(draft.message).toContain(`its credit note ${creditNoteId} is still a draft`);
    expect(mock.writes()).toHaveLength(before);
  });

  it("an order paid through two gateways fails, naming both, for the refund to be booked by hand", async () => {
    const order = danishOrder({
      payments: [
        { gateway: "gift_card", amount: 4800, status: "paid" },
        { gateway: "shopify_payments", amount: 20000, status: "paid" },
      ],
    });
    const { mock, history, previous } = await creditedOrder(order);
    const before = mock.writes().length;

    const error = await failure(run(registerRefund, order, PAYMENTS, { refund: refund(), previous, history }));

    expect(error).toMatchObject({
      errorClass: "validation",
      code: "refund_gateway_unknown",
      madeNothing: true,
      details: { gateways: ["gift_card", "shopify_payments"] },
    });
    expect(error.message).toBe(
      "Refund r1 of order #1001 was not registered: the order was paid through gift_card and shopify_payments, and the webshop does not say which of them paid the refund back. Enter the refund payment by hand in Billy.",
    );
    expect(mock.writes()).toHaveLength(before);
  });

  it("a EUR credit note of a converted order is paid out of the DKK bank account at the order's rate", async () => {
    const order = germanOrder({ exchange: { shopCurrency: "DKK", rate: "7.4603" } });
    const eurRefund = refund({
      currency: "EUR",
      lines: [{ lineId: "l1", sku: "TS-1", quantity: 1, subtotal: 11900, tax: 1900, restock: false }],
      total: 11900,
    });
    const { mock, history, previous, creditNoteId } = await creditedOrder(order, eurRefund);

    const { result } = await run(registerRefund, order, PAYMENTS, { refund: eurRefund, previous, history });

    // 119.00 EUR × 7.4603 = 887.7757 → 887.78 DKK out of the bank account.
    expect(bankPayments(mock)).toEqual([
      {
        entryDate: "2026-03-05",
        cashAmount: 887.78,
        cashSide: "credit",
        cashAccountId: "acc-bank",
        cashExchangeRate: 7.4603,
        associations: [{ subjectReference: `invoice:${creditNoteId}` }],
      },
    ]);
    expect(result.outputs).toMatchObject({ amount: 11900, currency: "EUR", cashAmount: 88778, cashCurrency: "DKK" });
    expect(mock.invoice(creditNoteId)).toMatchObject({ currencyId: "EUR", balance: 0 });
  });
});
