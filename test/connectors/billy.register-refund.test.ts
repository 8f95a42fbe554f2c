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
import { createBankPayment } from "../mocks/billy.mock.records";

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
  it("a refund larger than its credit note pays out what the credit note has open; a smaller one its own total", async () => {
    const larger = await creditedOrder();
    const { result } = await run(registerRefund, danishOrder(), PAYMENTS, {
      refund: refund({ total: 20900 }),
      previous: larger.previous,
      history: larger.history,
    });
    expect(bankPayments(larger.mock).map((p) => (p as { cashAmount: number }).cashAmount)).toEqual([199]);
    expect(result.outputs).toMatchObject({ amount: 19900, paidNow: 19900 });
    expect(larger.mock.invoice(larger.creditNoteId)).toMatchObject({ balance: 0 });

    const smaller = await creditedOrder();
    await run(registerRefund, danishOrder(), PAYMENTS, {
      refund: refund({ total: 15000 }),
      previous: smaller.previous,
      history: smaller.history,
    });
    expect(bankPayments(smaller.mock).map((p) => (p as { cashAmount: number }).cashAmount)).toEqual([150]);
    expect(smaller.mock.invoice(smaller.creditNoteId)).toMatchObject({ balance: 49 });
  });

  it("a credit note partly paid out already gets only the rest, adopting the payment there", async () => {
    const { mock, history, previous, creditNoteId } = await creditedOrder();
    // A bookkeeper paid 50.00 of it out by hand.
    createBankPayment(mock.state, {
      entryDate: "2026-03-04",
      cashAmount: 50,
      cashSide: "credit",
      cashAccountId: "acc-bank",
      associations: [{ subjectReference: `invoice:${creditNoteId}` }],
    });
    const byHand = mock.state.bankPayments[0]?.id;

    const { result } = await run(registerRefund, danishOrder(), PAYMENTS, { refund: refund(), previous, history });

    expect(bankPayments(mock).map((p) => (p as { cashAmount: number }).cashAmount)).toEqual([149]);
    expect(result.outputs).toMatchObject({ amount: 19900, paidNow: 14900, adoptedPayments: [byHand] });
    expect(mock.invoice(creditNoteId)).toMatchObject({ balance: 0, isPaid: true });
  });

  it("two refunds merged into one credit note, the first's answer lost: each accounts for its own, and all is paid out", async () => {
    // One approved credit note of 199.00 holding refund r1 (120.00) and r2 (79.00).
    const { mock, history, previous, creditNoteId } = await creditedOrder();
    const r1 = refund({ total: 12000 });
    const r2 = refund({ source: { ...refund().source, refundId: "r2" }, total: 7900 });
    const first = { refund: r1, previous, history, reference: REFUND_REFERENCE };
    mock.failNext({ status: 503, method: "POST", path: /^\/bankPayments$/, afterEffect: true });
    await failure(run(registerRefund, danishOrder(), PAYMENTS, first));

    // r2's transfer runs while r1's step is failed: it finds 120.00 paid out, of which only 79.00 can be its own.
    const second = await run(registerRefund, danishOrder(), PAYMENTS, {
      refund: r2,
      previous,
      history,
      reference: "orderly-44444444444444444444444444444444-1",
    });
    expect(second.result).toMatchObject({ created: false, outputs: { refundId: "r2", amount: 7900 } });

    // r1's retry sees r2 account for 79.00 of the 120.00, so 41.00 is its own and it pays out the 79.00 left.
    const done = historyEntry("registerRefund", second.result, { transferId: "t-r2", stage: "refunded" });
    const retry = await run(registerRefund, danishOrder(), PAYMENTS, { ...first, history: [...history, done] });
    expect(retry.result).toMatchObject({ created: true, outputs: { refundId: "r1", amount: 12000, paidNow: 7900 } });
    expect(bankPayments(mock).map((p) => (p as { cashAmount: number }).cashAmount)).toEqual([120, 79]);
    expect(mock.invoice(creditNoteId)).toMatchObject({ balance: 0, isPaid: true });
  });

  it("a voided bank payment still listed on the credit note is not counted as paid out", async () => {
    const { mock, history, previous, creditNoteId } = await creditedOrder();
    const options = { refund: refund(), previous, history, reference: REFUND_REFERENCE };
    await run(registerRefund, danishOrder(), PAYMENTS, options);
    // Voided in Billy: the credit note is owed again, though its embed still lists the payment's modifier.
    const voided = mock.state.bankPayments[0];
    if (voided) voided.isVoided = true;
    Object.assign(mock.invoice(creditNoteId) ?? {}, { balance: 199, isPaid: false });

    const again = await run(registerRefund, danishOrder(), PAYMENTS, options);

    expect(again.result).toMatchObject({ created: true, outputs: { amount: 19900, paidNow: 19900 } });
    expect(again.result.outputs.adoptedPayments).toBeUndefined();
    expect(mock.state.bankPayments).toHaveLength(2);
  });

  it("each failure before the bank payment says it made nothing", async () => {
    const { mock, history, previous } = await creditedOrder();
    mock.state.cashAccounts.set("acc-sek", "SEK");
    const before = mock.writes().length;
    const options = { refund: refund(), previous, history };
    const account = (cashAccountId: string) => ({ byGateway: { shopify_payments: { cashAccountId } } });

    const unmapped = await failure(run(registerRefund, danishOrder(), { byGateway: {} }, options));
    expect(unmapped).toMatchObject({ code: "billy_cash_account_missing", madeNothing: true });
    const missing = await failure(run(registerRefund, danishOrder(), account("acc-nope"), options));
    expect(missing).toMatchObject({
      code: "billy_cash_account_missing",
      madeNothing: true,
      details: { cashAccountId: "acc-nope" },
    });
    const currency = await failure(run(registerRefund, danishOrder(), account("acc-sek"), options));
    expect(currency).toMatchObject({ code: "billy_payment_currency", madeNothing: true });
    const gone = await failure(
      run(registerRefund, danishOrder(), PAYMENTS, {
        ...options,
        previous: [{ externalId: "inv-nope", created: true, outputs: { documentType: "creditNote", creditNoteId: "inv-nope" } }],
      }),
    );
    expect(gone).toMatchObject({ code: "billy_invoice_gone", madeNothing: true });
    expect(mock.writes()).toHaveLength(before);
  });
});
