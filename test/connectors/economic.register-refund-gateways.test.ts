/**
 * e-conomic registerRefund of a refund that states its split per gateway (a gift card and a card):
 * one voucher with a line per gateway, each on that gateway's contra account, never more in all than
 * the credit note has open; a retry finds the voucher and enters nothing.
 */
import { describe, expect, it } from "vitest";
import { createCreditNote, createInvoice, registerRefund } from "../../src/connectors/economic";
import type { CanonicalOrder, CanonicalRefund } from "../../src/domain/order";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, done, failure, refundOf, run, TS1 } from "../mocks/economic.mock.fixtures";

const BOOKED = { invoiceState: "booked" };
const SETTINGS = {
  journalNumber: 1,
  byGateway: { shopify_payments: { contraAccountNumber: 5820 }, gift_card: { contraAccountNumber: 5830 } },
};
const REFERENCE = "orderly-refund-1";
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

async function creditedOrder(order: CanonicalOrder, refund: CanonicalRefund, settings: Record<string, unknown> = BOOKED) {
  const mock = createEconomicMock({ products: [TS1] });
  installEconomicMock(mock);
  const invoice = await run(createInvoice, order, settings, { reference: "orderly-invoice-0" });
  const history = [done("createInvoice", invoice.result)];
  const note = await run(createCreditNote, order, settings, { refund, history, reference: "orderly-refund-0" });
  return { mock, options: { refund, history, previous: [note.result], reference: REFERENCE } };
}

const setRemainder = (mock: ReturnType<typeof createEconomicMock>, remainder: number) => {
  const note = mock.state.booked.find((b) => b.bookedInvoiceNumber === 2);
  if (note) note.remainder = remainder;
};

const customerPayments = (mock: ReturnType<typeof createEconomicMock>) =>
  mock.state.requests
    .filter((r) => r.method === "POST" && r.path === "/journals/1/vouchers")
    .map((r) => (r.body as { entries: { customerPayments: unknown[] } }).entries.customerPayments);

describe("e-conomic registerRefund: a refund paid back through several gateways", () => {
  it("enters one line per gateway on its contra account, in one voucher that settles the credit note", async () => {
    const refund = refundOf({ payments: SPLIT });
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refund);

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, options);

    expect(customerPayments(mock)).toEqual([
      [
        expect.objectContaining({
          amount: 48,
          contraAccount: { accountNumber: 5830 },
          customerInvoice: 2,
          text: `Refund #1001 (gift_card) ${REFERENCE}`,
        }),
        expect.objectContaining({
          amount: 151,
          contraAccount: { accountNumber: 5820 },
          customerInvoice: 2,
          text: `Refund #1001 (shopify_payments) ${REFERENCE}`,
        }),
      ],
    ]);
    expect(result).toMatchObject({
      created: true,
      outputs: {
        amount: "199.00",
        lines: [
          { gateway: "gift_card", contraAccountNumber: 5830, amount: "48.00" },
          { gateway: "shopify_payments", contraAccountNumber: 5820, amount: "151.00" },
        ],
      },
    });
    mock.bookJournal(1);
    expect(mock.state.booked.find((b) => b.bookedInvoiceNumber === 2)?.remainder).toBe(0);
  });

  it("a retry after a lost answer finds the voucher and writes nothing; after booking, nothing more", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    mock.failNext({ status: 503, method: "POST", path: /\/vouchers$/, afterEffect: true });

    expect((await failure(run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, options))).retryable).toBe(true);
    const retry = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, options);

    expect(retry.result).toMatchObject({ created: false, outputs: { voucher: expect.any(String) } });
    expect(customerPayments(mock)).toHaveLength(1);
    mock.bookJournal(1);
    const again = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, options);
    expect(again.result).toMatchObject({ created: false, outputs: { reason: "credit note 2 is already settled in e-conomic" } });
    expect(customerPayments(mock)).toHaveLength(1);
  });

  it("never enters more in all than the credit note has open", async () => {
    // 209.00 paid back (10.00 beyond the 199.00 credit note): the last line is cut.
    const refund = refundOf({
      total: 20900,
      payments: [
        { gateway: "gift_card", amount: 4800 },
        { gateway: "shopify_payments", amount: 16100 },
      ],
    });
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, refund });

    expect(customerPayments(mock)).toEqual([[expect.objectContaining({ amount: 48 }), expect.objectContaining({ amount: 151 })]]);
    expect(result.outputs).toMatchObject({ amount: "199.00", beyondCreditNote: "10.00" });
  });

  it("a gateway mapped to the credit note's payment terms enters nothing beside the other's line", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    const settings = { ...SETTINGS, byGateway: { ...SETTINGS.byGateway, gift_card: { paymentTermsNumber: 1 } } };
    // The credit note shows the gift card's 48.00 settled: only the card's 151.00 is open.
    setRemainder(mock, -151);

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, settings, options);

    expect(customerPayments(mock)).toEqual([[expect.objectContaining({ amount: 151, contraAccount: { accountNumber: 5820 } })]]);
    expect(result.outputs).toMatchObject({ gateway: "shopify_payments", amount: "151.00", skippedGateways: ["gift_card"] });
  });

  it("a converted refund's lines add up to the converted whole", async () => {
    const exchange = { currency: "EUR", exchange: { shopCurrency: "DKK", rate: "7.4603" } };
    const order = { ...GIFT_CARD_AND_CARD, ...exchange } as CanonicalOrder;
    const refund = refundOf({ currency: "EUR", payments: SPLIT });
    const { mock, options } = await creditedOrder(order, refund, { ...BOOKED, invoiceCurrency: "shop" });

    await run(registerRefund, order, SETTINGS, options);

    // 48.00 EUR → 358.09 DKK; 199.00 EUR → 1484.60 DKK in all, so the card's line is 1126.51.
    expect(customerPayments(mock)).toEqual([
      [expect.objectContaining({ amount: 358.09 }), expect.objectContaining({ amount: 1126.51 })],
    ]);
  });

  it("a refund without a split on a one-gateway order enters one line, as before", async () => {
    const { mock, options } = await creditedOrder(danishOrder(), refundOf());

    const { result } = await run(registerRefund, danishOrder(), SETTINGS, options);

    expect(customerPayments(mock)).toEqual([[expect.objectContaining({ amount: 199, contraAccount: { accountNumber: 5820 } })]]);
    expect(result.outputs).toMatchObject({ gateway: "shopify_payments", contraAccountNumber: 5820, amount: "199.00" });
    expect(result.outputs.lines).toBeUndefined();
  });

  it("a re-run after the card's line was booked enters the gift card's own 48.00 on its own account", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    // The first run (gift_card mapped to payment terms) entered only the card's 151.00, and a
    // bookkeeper booked it; since then gift_card is mapped to its contra account 5830.
    const first = {
      externalId: "2025-1",
      created: true,
      outputs: { creditNoteNumber: 2, amount: "151.00", currency: "DKK", gateway: "shopify_payments", contraAccountNumber: 5820 },
    };
    setRemainder(mock, -48);

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, prior: first });

    expect(customerPayments(mock)).toEqual([
      [
        expect.objectContaining({
          amount: 48,
          contraAccount: { accountNumber: 5830 },
          text: `Refund #1001 (gift_card) ${REFERENCE}`,
        }),
      ],
    ]);
    expect(result.outputs).toMatchObject({ gateway: "gift_card", amount: "48.00", alreadySettled: "151.00" });
    mock.bookJournal(1);
    expect(mock.state.booked.find((b) => b.bookedInvoiceNumber === 2)?.remainder).toBe(0);
  });

  it("part settled by hand with two lines still owed: fails for hand entry, naming each gateway's amount, writing nothing", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    // A bookkeeper paid out 151.00 by hand: whose share it was, e-conomic's total does not say.
    setRemainder(mock, -48);

    const error = await failure(run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, options));

    expect(error).toMatchObject({ errorClass: "validation", code: "economic_refund_settled_unattributed", madeNothing: true });
    expect(error.message).toContain("151.00 DKK");
    expect(error.message).toContain("gift_card 48.00 DKK");
    expect(error.message).toContain("shopify_payments 151.00 DKK");
    // Part of it may be booked already: the person is sent to compare, not told to enter the amounts.
    expect(error.message).toContain("shows 151.00 DKK paid out");
    expect(error.message).toContain("compare the credit note's payments in e-conomic with journal 1");
    expect(error.message).not.toMatch(/Enter what is missing/);
    expect(error.details).toMatchObject({ settled: "151.00" });
    expect(customerPayments(mock)).toEqual([]);
  });

  it("a voucher found by a retry is reported with its lines, so a later run can tell what it entered", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    mock.failNext({ status: 503, method: "POST", path: /\/vouchers$/, afterEffect: true });
    await failure(run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, options));

    const retry = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, options);

    expect(retry.result.outputs).toMatchObject({
      currency: "DKK",
      lines: [
        { gateway: "gift_card", contraAccountNumber: 5830, amount: "48.00" },
        { gateway: "shopify_payments", contraAccountNumber: 5820, amount: "151.00" },
      ],
    });
  });

  it("mixed terms and account: a credit note that does not show the terms gateway's share settled fails before writing", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    const settings = { ...SETTINGS, byGateway: { ...SETTINGS.byGateway, gift_card: { paymentTermsNumber: 1 } } };

    const error = await failure(run(registerRefund, GIFT_CARD_AND_CARD, settings, options));

    expect(error).toMatchObject({
      errorClass: "validation",
      code: "economic_refund_terms_open",
      madeNothing: true,
      details: { creditNoteNumber: 2, open: [{ gateway: "gift_card", amount: "48.00" }] },
    });
    expect(error.message).toContain('"gift_card"');
    expect(error.message).toContain("48.00 DKK");
    expect(customerPayments(mock)).toEqual([]);
  });

  it("a refund larger than the credit note is cut off its largest line whatever the listing order, and says so", async () => {
    const refund = refundOf({
      total: 20900,
      payments: [
        { gateway: "shopify_payments", amount: 16100 },
        { gateway: "gift_card", amount: 4800 },
      ],
    });
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, refund });

    expect(customerPayments(mock)).toEqual([
      [
        expect.objectContaining({ amount: 151, contraAccount: { accountNumber: 5820 } }),
        expect.objectContaining({ amount: 48, contraAccount: { accountNumber: 5830 } }),
      ],
    ]);
    expect(result.outputs).toMatchObject({
      amount: "199.00",
      beyondCreditNote: "10.00",
      cut: [{ gateway: "shopify_payments", contraAccountNumber: 5820, amount: "10.00" }],
    });
  });

  it("gateways switched to payment terms after a voucher was written (unbooked): the voucher is named", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    const first = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, options);
    const terms = {
      journalNumber: 1,
      byGateway: { gift_card: { paymentTermsNumber: 1 }, shopify_payments: { paymentTermsNumber: 1 } },
    };

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, terms, options);

    expect(result).toMatchObject({ created: false, outputs: { voucher: first.result.outputs.voucher } });
    expect(customerPayments(mock)).toHaveLength(1);
  });

  // 48.00 + 150.99: lines a cent short of the 199.00 credit note (as conversion rounding leaves them).
  const SHORT = refundOf({
    total: 19899,
    payments: [
      { gateway: "gift_card", amount: 4800 },
      { gateway: "shopify_payments", amount: 15099 },
    ],
  });

  it("re-runs after the lines a cent short of the note were booked skip, and carry what was entered forward", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    const first = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, refund: SHORT });
    mock.bookJournal(1);

    const second = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, refund: SHORT, prior: first.result });
    const third = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, refund: SHORT, prior: second.result });

    const entered = [
      { gateway: "gift_card", amount: "48.00" },
      { gateway: "shopify_payments", amount: "150.99" },
    ];
    expect(second.result).toMatchObject({ created: false, outputs: { currency: "DKK", enteredBefore: entered } });
    expect(third.result).toMatchObject({ created: false, outputs: { currency: "DKK", enteredBefore: entered } });
    expect(customerPayments(mock)).toHaveLength(1);
  });

  it("a retry with no earlier result, after the lost voucher was booked, skips instead of failing for hand entry", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    mock.failNext({ status: 503, method: "POST", path: /\/vouchers$/, afterEffect: true });
    await failure(run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, refund: SHORT }));
    mock.bookJournal(1);

    const retry = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, refund: SHORT });
    const again = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, refund: SHORT, prior: retry.result });

    expect(retry.result).toMatchObject({
      created: false,
      outputs: { reason: "credit note 2 already shows 198.99 DKK paid out in e-conomic" },
    });
    expect(again.result.created).toBe(false);
    expect(customerPayments(mock)).toHaveLength(1);
  });

  it("a voucher found by a later run carries what came before it, counting its own lines once", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    // The card's 151.00 entered and booked while the gift card was on payment terms; then the gift
    // card's 48.00 entered on its account, not yet booked.
    const first = {
      externalId: "2025-1",
      created: true,
      outputs: { creditNoteNumber: 2, amount: "151.00", currency: "DKK", gateway: "shopify_payments", contraAccountNumber: 5820 },
    };
    setRemainder(mock, -48);
    const second = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, prior: first });

    const third = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, prior: second.result });

    expect(third.result.outputs).toMatchObject({
      voucher: second.result.outputs.voucher,
      enteredBefore: [{ gateway: "shopify_payments", amount: "151.00" }],
      lines: [{ gateway: "gift_card", amount: "48.00" }],
    });
    mock.bookJournal(1);
    const fourth = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, prior: third.result });
    expect(fourth.result).toMatchObject({
      created: false,
      outputs: {
        reason: "credit note 2 is already settled in e-conomic",
        enteredBefore: [
          { gateway: "shopify_payments", amount: "151.00" },
          { gateway: "gift_card", amount: "48.00" },
        ],
      },
    });
  });

  it("one gateway: a found voucher is reported as before refunds were split", async () => {
    const { mock, options } = await creditedOrder(danishOrder(), refundOf());
    mock.failNext({ status: 503, method: "POST", path: /\/vouchers$/, afterEffect: true });
    await failure(run(registerRefund, danishOrder(), SETTINGS, options));

    const retry = await run(registerRefund, danishOrder(), SETTINGS, options);

    expect(retry.result.outputs).toEqual({ creditNoteNumber: 2, refundId: "r1", voucher: expect.any(String) });
  });

  it("every gateway on the credit note's payment terms: a journal that cannot be read leaves the skip as before", async () => {
    // Terms 7 ("Paid by card", paidInCash) on the invoice, and so on its credit note: settled at booking.
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }), {
      ...BOOKED,
      paymentTermsNumber: 7,
    });
    const terms = {
      journalNumber: 1,
      byGateway: { gift_card: { paymentTermsNumber: 7 }, shopify_payments: { paymentTermsNumber: 7 } },
    };
    mock.failNext({ status: 500, method: "GET", path: /\/vouchers/, times: 5 });

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, terms, options);

    expect(result).toMatchObject({ created: false, outputs: { reason: expect.stringContaining("payment terms 7") } });
    expect(customerPayments(mock)).toEqual([]);
  });

  const TERMS_GIFT = { ...SETTINGS, byGateway: { ...SETTINGS.byGateway, gift_card: { paymentTermsNumber: 1 } } };
  // A split run's result when it entered the gift card's line alone.
  const GIFT_ENTERED = {
    externalId: "2025-1",
    created: true,
    outputs: { creditNoteNumber: 2, amount: "48.00", currency: "DKK", gateway: "gift_card", contraAccountNumber: 5830 },
  };

  it("a single-gateway refund naming a gateway other than the order's books exactly as before refunds were split", async () => {
    const refund = refundOf({ payments: [{ gateway: "manual", amount: 19900 }] });
    const { mock, options } = await creditedOrder(danishOrder(), refund);

    const { result } = await run(registerRefund, danishOrder(), SETTINGS, options);

    expect(customerPayments(mock)).toEqual([
      [
        expect.objectContaining({
          amount: 199,
          contraAccount: { accountNumber: 5820 },
          text: `Refund #1001 (shopify_payments) ${REFERENCE}`,
        }),
      ],
    ]);
    expect(result.outputs).toEqual({
      creditNoteNumber: 2,
      refundId: "r1",
      voucher: expect.any(String),
      amount: "199.00",
      currency: "DKK",
      gateway: "shopify_payments",
      contraAccountNumber: 5820,
    });
  });

  it("a single-gateway refund larger than its credit note says beyondCreditNote only, as before", async () => {
    const refund = refundOf({ total: 20900, payments: [{ gateway: "shopify_payments", amount: 20900 }] });
    const { options } = await creditedOrder(danishOrder(), refundOf());

    const { result } = await run(registerRefund, danishOrder(), SETTINGS, { ...options, refund });

    expect(result.outputs).toEqual({
      creditNoteNumber: 2,
      refundId: "r1",
      voucher: expect.any(String),
      amount: "199.00",
      currency: "DKK",
      gateway: "shopify_payments",
      contraAccountNumber: 5820,
      beyondCreditNote: "10.00",
    });
  });

  it("a gift card line this step entered and booked, then mapped to payment terms, is not asked for again", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    setRemainder(mock, -151);

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, TERMS_GIFT, { ...options, prior: GIFT_ENTERED });

    expect(customerPayments(mock)).toEqual([[expect.objectContaining({ amount: 151, contraAccount: { accountNumber: 5820 } })]]);
    expect(result.outputs).toMatchObject({ gateway: "shopify_payments", amount: "151.00", skippedGateways: ["gift_card"] });
  });

  it("a terms share this step's earlier result shows entered, but the note does not, sends the person to compare", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));

    const error = await failure(run(registerRefund, GIFT_CARD_AND_CARD, TERMS_GIFT, { ...options, prior: GIFT_ENTERED }));

    expect(error).toMatchObject({ code: "economic_refund_terms_open", madeNothing: true });
    expect(error.message).toContain("compare journal 1");
    expect(error.message).not.toContain("enter that share by hand");
    expect(customerPayments(mock)).toEqual([]);
  });

  it("a 209.00 refund on a 199.00 note: the terms share is what the note can take beside the card, and entered by hand it passes", async () => {
    const larger = refundOf({
      total: 20900,
      payments: [
        { gateway: "gift_card", amount: 4800 },
        { gateway: "shopify_payments", amount: 16100 },
      ],
    });
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));

    const error = await failure(run(registerRefund, GIFT_CARD_AND_CARD, TERMS_GIFT, { ...options, refund: larger }));
    expect(error).toMatchObject({ code: "economic_refund_terms_open", details: { leftOpen: "38.00" } });
    // The bookkeeper enters the 38.00 asked for.
    setRemainder(mock, -161);
    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, TERMS_GIFT, { ...options, refund: larger });

    expect(customerPayments(mock)).toEqual([[expect.objectContaining({ amount: 161, contraAccount: { accountNumber: 5820 } })]]);
    expect(result.outputs).toMatchObject({ amount: "161.00", alreadySettled: "38.00" });
  });

  it("a voucher found after a skip that carried its lines counts them once", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    const first = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, options);
    const terms = {
      journalNumber: 1,
      byGateway: { gift_card: { paymentTermsNumber: 1 }, shopify_payments: { paymentTermsNumber: 1 } },
    };
    // Switched to payment terms with the journal unreadable, the note shown settled: the skip carries what was entered.
    setRemainder(mock, 0);
    mock.failNext({ status: 500, method: "GET", path: /\/vouchers/ });
    const second = await run(registerRefund, GIFT_CARD_AND_CARD, terms, { ...options, prior: first.result });
    expect(second.result.outputs).toMatchObject({ enteredBefore: [{ gateway: "gift_card" }, { gateway: "shopify_payments" }] });

    const third = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, prior: second.result });

    expect(third.result.outputs).toMatchObject({ voucher: first.result.outputs.voucher });
    expect(third.result.outputs.enteredBefore).toBeUndefined();
    expect(customerPayments(mock)).toHaveLength(1);
  });

  it("money paid by hand counted as the one line still owed is named in the result", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    // The gift card's 48.00 entered by this step and booked, and 100.00 paid out by hand.
    setRemainder(mock, -51);

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, SETTINGS, { ...options, prior: GIFT_ENTERED });

    expect(customerPayments(mock)).toEqual([[expect.objectContaining({ amount: 51, contraAccount: { accountNumber: 5820 } })]]);
    expect(result.outputs).toMatchObject({ settledCountedAs: { gateway: "shopify_payments", amount: "100.00" } });
  });

  it("mixed terms and account with no remainder in e-conomic's answer: the card's line entered, the terms share skipped, as one gateway always was", async () => {
    const { mock, options } = await creditedOrder(GIFT_CARD_AND_CARD, refundOf({ payments: SPLIT }));
    const note = mock.state.booked.find((b) => b.bookedInvoiceNumber === 2);
    if (note) delete note.remainder;

    const { result } = await run(registerRefund, GIFT_CARD_AND_CARD, TERMS_GIFT, options);

    expect(customerPayments(mock)).toEqual([[expect.objectContaining({ amount: 151, contraAccount: { accountNumber: 5820 } })]]);
    expect(result.outputs).toMatchObject({ amount: "151.00", skippedGateways: ["gift_card"] });
  });
});
