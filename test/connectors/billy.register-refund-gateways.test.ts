/**
 * Billy registerRefund of a refund that states its split per gateway (a gift card and a card): one
 * bank payment per gateway out of its cash account, never more in all than the credit note has
 * open; a retry counts what is on the credit note per cash account and pays out only the rest.
 */
import { describe, expect, it } from "vitest";
import { createCreditNote, createInvoice, registerRefund } from "../../src/connectors/billy";
import type { CanonicalOrder, CanonicalRefund } from "../../src/domain/order";
import { type BillyMock, createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, failure, historyEntry, PRODUCTS, refund, run, SETTINGS } from "../mocks/billy.mock.fixtures";
import { createBankPayment } from "../mocks/billy.mock.records";

const APPROVED = { ...SETTINGS, invoiceState: "booked" };
const PAYMENTS = { byGateway: { shopify_payments: { cashAccountId: "acc-bank" }, gift_card: { cashAccountId: "acc-gift" } } };
const GIFT_CARD_AND_CARD = danishOrder({
  payments: [
    { gateway: "gift_card", amount: 4800, status: "paid" },
    { gateway: "shopify_payments", amount: 20000, status: "paid" },
  ],
});
const SPLIT = [
  { gateway: "gift_card", amount: 4800 },
  { gateway: "shopify_payments", amount: 15100 },
];

async function creditedOrder(order: CanonicalOrder, theRefund: CanonicalRefund) {
  const mock = createBillyMock({ products: PRODUCTS, cashAccounts: ["acc-bank", "acc-gift", "acc-gift2"] });
  installBillyMock(mock);
  const invoice = await run(createInvoice, order, APPROVED, { reference: "orderly-invoice-0" });
  const history = [historyEntry("createInvoice", invoice.result)];
  const note = await run(createCreditNote, order, APPROVED, { refund: theRefund, history, reference: "orderly-refund-0" });
  const creditNoteId = note.result.outputs.creditNoteId as string;
  return { mock, creditNoteId, options: { refund: theRefund, history, previous: [note.result] } };
}

const paidOut = (mock: BillyMock) =>
  mock.writes().flatMap((w) => {
    if (w.path !== "/bankPayments") return [];
    const { cashAccountId, cashAmount, cashSide } = (w.body as { bankPayment: Record<string, unknown> }).bankPayment;
    return [{ cashAccountId, cashAmount, cashSide }];
  });

describe("Billy registerRefund: a refund paid back through several gateways", () => {
  it("pays each gateway's share out of its cash account, settling the credit note", async () => {
    const { mock, creditNoteId, options } = await creditedOrder(GIFT_CARD_AND_CARD, refund({ payments: SPLIT }));

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, PAYMENTS, options);

    expect(paidOut(mock)).toEqual([
      { cashAccountId: "acc-gift", cashAmount: 48, cashSide: "credit" },
      { cashAccountId: "acc-bank", cashAmount: 151, cashSide: "credit" },
    ]);
    expect(result).toMatchObject({
      created: true,
      outputs: {
        amount: 19900,
        paidNow: 19900,
        payments: [
          { gateways: ["gift_card"], cashAccountId: "acc-gift", amount: 4800 },
          { gateways: ["shopify_payments"], cashAccountId: "acc-bank", amount: 15100 },
        ],
      },
    });
    expect(mock.invoice(creditNoteId)).toMatchObject({ balance: 0, isPaid: true });
  });

  it("a retry after the first payment's answer was lost pays out only the other; a further retry nothing", async () => {
    const { mock, creditNoteId, options } = await creditedOrder(GIFT_CARD_AND_CARD, refund({ payments: SPLIT }));
    mock.failNext({ status: 503, method: "POST", path: /^\/bankPayments$/, afterEffect: true });

    expect((await failure(run(registerRefund, GIFT_CARD_AND_CARD, PAYMENTS, options))).retryable).toBe(true);
    const retry = await run(registerRefund, GIFT_CARD_AND_CARD, PAYMENTS, options);
    expect(retry.result).toMatchObject({
      created: true,
      outputs: { amount: 19900, paidNow: 15100, gateway: "shopify_payments" },
    });
    const again = await run(registerRefund, GIFT_CARD_AND_CARD, PAYMENTS, options);

    expect(again.result).toMatchObject({ created: false, outputs: { amount: 19900 } });
    expect(mock.state.bankPayments.map((p) => [p.cashAccountId, p.cashAmount])).toEqual([
      ["acc-gift", 48],
      ["acc-bank", 151],
    ]);
    expect(mock.invoice(creditNoteId)).toMatchObject({ balance: 0 });
  });

  it("what is already paid out of a gateway's cash account counts for that gateway", async () => {
    const { mock, creditNoteId, options } = await creditedOrder(GIFT_CARD_AND_CARD, refund({ payments: SPLIT }));
    // A bookkeeper paid the card's 151.00 out by hand.
    createBankPayment(mock.state, {
      entryDate: "2026-03-04",
      cashAmount: 151,
      cashSide: "credit",
      cashAccountId: "acc-bank",
      associations: [{ subjectReference: `invoice:${creditNoteId}` }],
    });

    await run(registerRefund, GIFT_CARD_AND_CARD, PAYMENTS, options);

    expect(paidOut(mock)).toEqual([{ cashAccountId: "acc-gift", cashAmount: 48, cashSide: "credit" }]);
    expect(mock.invoice(creditNoteId)).toMatchObject({ balance: 0 });
  });

  it("never pays out more in all than the credit note has open", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refund({ payments: SPLIT }));
    const larger = refund({
      total: 20900,
      payments: [
        { gateway: "gift_card", amount: 4800 },
        { gateway: "shopify_payments", amount: 16100 },
      ],
    });

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, PAYMENTS, { ...options, refund: larger });

    expect(paidOut(mock).map((p) => p.cashAmount)).toEqual([48, 151]);
    expect(result.outputs).toMatchObject({ paidNow: 19900 });
  });

  it("a refund without a split on a one-gateway order makes one payment, as before", async () => {
    const { mock, options } = await creditedOrder(danishOrder(), refund());

    const { result } = await run(registerRefund, danishOrder(), PAYMENTS, options);

    expect(paidOut(mock)).toEqual([{ cashAccountId: "acc-bank", cashAmount: 199, cashSide: "credit" }]);
    expect(result.outputs).toMatchObject({ gateway: "shopify_payments", cashAccountId: "acc-bank", amount: 19900 });
    expect(result.outputs.payments).toBeUndefined();
  });

  it("a refund larger than the credit note is cut off its largest payment whatever the listing order, and says so", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refund({ payments: SPLIT }));
    const larger = refund({
      total: 20900,
      payments: [
        { gateway: "shopify_payments", amount: 16100 },
        { gateway: "gift_card", amount: 4800 },
      ],
    });

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, PAYMENTS, { ...options, refund: larger });

    expect(paidOut(mock)).toEqual([
      { cashAccountId: "acc-bank", cashAmount: 151, cashSide: "credit" },
      { cashAccountId: "acc-gift", cashAmount: 48, cashSide: "credit" },
    ]);
    expect(result.outputs).toMatchObject({
      paidNow: 19900,
      beyondCreditNote: 1000,
      cut: [{ gateways: ["shopify_payments"], cashAccountId: "acc-bank", amount: 1000 }],
    });
  });

  it("a retry after the first of a cut refund's payments was lost keeps the cut on the same payment", async () => {
    const { mock, creditNoteId, options } = await creditedOrder(GIFT_CARD_AND_CARD, refund({ payments: SPLIT }));
    // 209.00 paid back on a 199.00 credit note: the card's 161.00 is cut to 151.00, the gift card's 48.00 kept.
    const larger = refund({
      total: 20900,
      payments: [
        { gateway: "shopify_payments", amount: 16100 },
        { gateway: "gift_card", amount: 4800 },
      ],
    });
    mock.failNext({ status: 503, method: "POST", path: /^\/bankPayments$/, afterEffect: true });
    await failure(run(registerRefund, GIFT_CARD_AND_CARD, PAYMENTS, { ...options, refund: larger }));

    const retry = await run(registerRefund, GIFT_CARD_AND_CARD, PAYMENTS, { ...options, refund: larger });

    expect(mock.state.bankPayments.map((p) => [p.cashAccountId, p.cashAmount])).toEqual([
      ["acc-bank", 151],
      ["acc-gift", 48],
    ]);
    expect(retry.result.outputs).toMatchObject({
      paidNow: 4800,
      amount: 19900,
      beyondCreditNote: 1000,
      cut: [{ gateways: ["shopify_payments"], cashAccountId: "acc-bank", amount: 1000 }],
    });
    expect(mock.invoice(creditNoteId)).toMatchObject({ balance: 0 });
  });

  // gift_card moved to acc-gift2 after its 48.00 was paid out of acc-gift.
  const REMAPPED = { byGateway: { ...PAYMENTS.byGateway, gift_card: { cashAccountId: "acc-gift2" } } };
  const CARD_FIRST = [
    { gateway: "shopify_payments", amount: 15100 },
    { gateway: "gift_card", amount: 4800 },
  ];
  const paidBefore = (mock: BillyMock, creditNoteId: string, cashAccountId: string, cashAmount: number) =>
    createBankPayment(mock.state, {
      entryDate: "2026-03-05",
      cashAmount,
      cashSide: "credit",
      cashAccountId,
      associations: [{ subjectReference: `invoice:${creditNoteId}` }],
    });

  it("a single-gateway refund naming a gateway other than the order's pays out exactly as before refunds were split", async () => {
    const { mock, options } = await creditedOrder(danishOrder(), refund());
    const larger = refund({ total: 20900, payments: [{ gateway: "manual", amount: 20900 }] });

    const { result } = await run(registerRefund, danishOrder(), PAYMENTS, { ...options, refund: larger });

    expect(paidOut(mock)).toEqual([{ cashAccountId: "acc-bank", cashAmount: 199, cashSide: "credit" }]);
    expect(result.outputs).toEqual({
      creditNoteId: options.previous[0]?.outputs.creditNoteId,
      refundId: "r1",
      paymentId: expect.any(String),
      gateway: "shopify_payments",
      cashAccountId: "acc-bank",
      amount: 19900,
      paidNow: 19900,
      currency: "DKK",
    });
  });

  it("a retry after a paid gateway was remapped, with two accounts short, stops for hand entry writing nothing", async () => {
    const { mock, creditNoteId, options } = await creditedOrder(GIFT_CARD_AND_CARD, refund({ payments: CARD_FIRST }));
    // The first run paid the gift card's 48.00 out of acc-gift; the card's payment failed.
    paidBefore(mock, creditNoteId, "acc-gift", 48);

    const error = await failure(run(registerRefund, GIFT_CARD_AND_CARD, REMAPPED, options));

    expect(error).toMatchObject({ errorClass: "validation", code: "billy_refund_paid_unattributed", madeNothing: true });
    expect(error.message).toContain("48.00 DKK paid out of acc-gift");
    expect(error.message).toContain("acc-bank (shopify_payments) 151.00 DKK");
    expect(error.message).toContain("acc-gift2 (gift_card) 48.00 DKK");
    expect(mock.state.bankPayments).toHaveLength(1);
  });

  it("a refund paid out in full before its gateways were given accounts of their own pays nothing more", async () => {
    const SEPARATE = {
      byGateway: { shopify_payments: { cashAccountId: "acc-bank2" }, gift_card: { cashAccountId: "acc-gift" } },
    };
    const { mock, creditNoteId, options } = await creditedOrder(GIFT_CARD_AND_CARD, refund({ payments: CARD_FIRST }));
    // Both shares were paid out of acc-bank while both gateways were mapped to it.
    paidBefore(mock, creditNoteId, "acc-bank", 199);

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, SEPARATE, options);

    expect(mock.state.bankPayments).toHaveLength(1);
    expect(result).toMatchObject({ created: false });
  });

  it("this refund's money on a former account, with one account short, is counted as that account's and named", async () => {
    const { mock, creditNoteId, options } = await creditedOrder(GIFT_CARD_AND_CARD, refund({ payments: CARD_FIRST }));
    paidBefore(mock, creditNoteId, "acc-gift", 48);
    paidBefore(mock, creditNoteId, "acc-bank", 151);

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, REMAPPED, options);

    expect(mock.state.bankPayments).toHaveLength(2);
    expect(result).toMatchObject({
      created: false,
      outputs: { amount: 19900, settledCountedAs: { cashAccountId: "acc-gift2", gateways: ["gift_card"], amount: 4800 } },
    });
  });
});
