/**
 * registerRefund enters the money a refund paid back as a customer payment in a journal against the
 * credit note this transfer booked: positive (money out debits the customer, the opposite of a
 * payment), on the contra account of the order's one gateway, in the credit note's currency. A retry
 * after a lost answer finds its entry by the step's reference and enters nothing more.
 */
import { describe, expect, it } from "vitest";
import { createCreditNote, createInvoice, registerRefund } from "../../src/connectors/economic";
import type { CanonicalOrder, CanonicalRefund } from "../../src/domain/order";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, done, failure, refundOf, run, TS1, writes } from "../mocks/economic.mock.fixtures";

const BOOKED = { invoiceState: "booked" };
const SETTINGS = { journalNumber: 1, byGateway: { shopify_payments: { contraAccountNumber: 5820 } } };
const REFUND_REFERENCE = "orderly-refund-1";
/** The customer paid in EUR; the shop keeps its books in DKK. */
const EXCHANGE = { currency: "EUR", exchange: { shopCurrency: "DKK", rate: "7.4603" } };

/** A booked invoice (paid flow), then this refunded transfer's booked credit note. */
async function creditedOrder(
  order: CanonicalOrder = danishOrder(),
  refund: CanonicalRefund = refundOf(),
  settings: Record<string, unknown> = BOOKED,
) {
  const mock = createEconomicMock({ products: [TS1] });
  installEconomicMock(mock);
  const invoice = await run(createInvoice, order, settings, { reference: "orderly-invoice-0" });
  const history = [done("createInvoice", invoice.result)];
  const note = await run(createCreditNote, order, settings, { refund, history, reference: "orderly-refund-0" });
  return { mock, history, previous: [note.result], creditNote: note.result.outputs.bookedInvoiceNumber as number };
}

const vouchers = (mock: ReturnType<typeof createEconomicMock>) =>
  mock.state.requests.filter((r) => r.method === "POST" && r.path === "/journals/1/vouchers");

describe("e-conomic registerRefund", () => {
  it("enters the refund positive against the booked credit note, on the gateway's contra account, dated the refund", async () => {
    const { mock, history, previous, creditNote } = await creditedOrder();
    expect(creditNote).toBe(2);

    const { result } = await run(registerRefund, danishOrder(), SETTINGS, {
      refund: refundOf(),
      previous,
      history,
      reference: REFUND_REFERENCE,
    });

    expect(vouchers(mock)).toHaveLength(1);
    expect(vouchers(mock)[0]?.body).toMatchObject({
      entries: {
        customerPayments: [
          {
            amount: 199,
            contraAccount: { accountNumber: 5820 },
            currency: { code: "DKK" },
            date: "2025-11-10",
            customerInvoice: 2,
            text: `Refund #1001 (shopify_payments) ${REFUND_REFERENCE}`,
          },
        ],
      },
    });
    expect(result).toMatchObject({
      created: true,
      outputs: { creditNoteNumber: 2, amount: "199.00", currency: "DKK", gateway: "shopify_payments", contraAccountNumber: 5820 },
    });
    // Booked, the entry settles the credit note: the customer is no longer owed the refund.
    mock.bookJournal(1);
    expect(mock.state.booked.find((b) => b.bookedInvoiceNumber === 2)?.remainder).toBe(0);
  });

  it("a retry after a lost answer finds its entry and enters it once; after the journal is booked, nothing more", async () => {
    const { mock, history, previous } = await creditedOrder();
    const options = { refund: refundOf(), previous, history, reference: REFUND_REFERENCE };
    mock.failNext({ status: 503, method: "POST", path: /\/vouchers$/, afterEffect: true });

    const lost = await failure(run(registerRefund, danishOrder(), SETTINGS, options));
    expect(lost.retryable).toBe(true);
    const retry = await run(registerRefund, danishOrder(), SETTINGS, options);

    expect(retry.result).toMatchObject({ created: false, outputs: { voucher: expect.any(String) } });
    expect(mock.state.vouchers).toHaveLength(1);
    mock.bookJournal(1);
    const again = await run(registerRefund, danishOrder(), SETTINGS, options);
    expect(again.result).toMatchObject({ created: false, outputs: { reason: "credit note 2 is already settled in e-conomic" } });
    expect(vouchers(mock)).toHaveLength(1);
  });

  it("without a booked credit note from this transfer it fails, naming what to do, and makes nothing", async () => {
    const { mock, history } = await creditedOrder();
    const before = writes(mock).length;

    // The order's invoice is in its history; it is never what a refund is paid out against.
    const none = await failure(
      run(registerRefund, danishOrder(), SETTINGS, { refund: refundOf(), history, reference: REFUND_REFERENCE }),
    );
    expect(none).toMatchObject({ errorClass: "validation", code: "economic_no_booked_credit_note", madeNothing: true });
    expect(none.message).toContain("there is no credit note from this flow");
    expect(none.message).toContain("createCreditNote with the booked state");

    const draft = await failure(
      run(registerRefund, danishOrder(), SETTINGS, {
        refund: refundOf(),
        history,
        previous: [{ externalId: "9", created: true, outputs: { draftInvoiceNumber: 9, creditedInvoiceNumber: 1 } }],
        reference: REFUND_REFERENCE,
      }),
    );
    expect(draft).toMatchObject({ code: "economic_no_booked_credit_note", madeNothing: true });
    expect(draft.message).toContain("still a draft (draft invoice 9)");
    expect(writes(mock)).toHaveLength(before);
  });

  it("an order paid through two gateways fails, naming both, for the refund to be booked by hand", async () => {
    const order = danishOrder({
      payments: [
        { gateway: "gift_card", amount: 4800, status: "paid" },
        { gateway: "shopify_payments", amount: 20000, status: "paid" },
      ],
    });
    const { mock, history, previous } = await creditedOrder(order);
    const before = writes(mock).length;

    const error = await failure(
      run(registerRefund, order, SETTINGS, { refund: refundOf(), previous, history, reference: REFUND_REFERENCE }),
    );

    expect(error).toMatchObject({
      errorClass: "validation",
      code: "refund_gateway_unknown",
      madeNothing: true,
      details: { gateways: ["gift_card", "shopify_payments"] },
    });
    expect(error.message).toBe(
      "Refund r1 of order #1001 was not registered: the order was paid through gift_card and shopify_payments, and the webshop does not say which of them paid the refund back. Enter the refund payment by hand in e-conomic.",
    );
    expect(writes(mock)).toHaveLength(before);
  });

  it("a converted order's refund is entered in the credit note's DKK at the order's rate", async () => {
    const order = danishOrder(EXCHANGE);
    const shop = { ...BOOKED, invoiceCurrency: "shop" };
    const { mock, history, previous } = await creditedOrder(order, refundOf({ currency: "EUR" }), shop);

    const { result } = await run(registerRefund, order, SETTINGS, {
      refund: refundOf({ currency: "EUR" }),
      previous,
      history,
      reference: REFUND_REFERENCE,
    });

    // 199.00 EUR × 7.4603 = 1484.5997 → 1484.60 DKK.
    expect(vouchers(mock)[0]?.body).toMatchObject({
      entries: { customerPayments: [{ amount: 1484.6, currency: { code: "DKK" }, customerInvoice: 2 }] },
    });
    expect(result.outputs).toMatchObject({ amount: "1484.60", currency: "DKK" });
  });

  it("a credit note in the customer's EUR gets the refund's EUR as it is", async () => {
    const order = danishOrder(EXCHANGE);
    const { mock, history, previous } = await creditedOrder(order, refundOf({ currency: "EUR" }));

    await run(registerRefund, order, SETTINGS, {
      refund: refundOf({ currency: "EUR" }),
      previous,
      history,
      reference: REFUND_REFERENCE,
    });

    expect(vouchers(mock)[0]?.body).toMatchObject({
      entries: { customerPayments: [{ amount: 199, currency: { code: "EUR" } }] },
    });
  });
  it("a refund larger than its credit note enters only what the credit note has open; a smaller one its own total", async () => {
    const { mock, history, previous } = await creditedOrder();

    // The webshop refunded 209.00 (10.00 more than the credit note credits, e.g. a goodwill amount).
    const { result } = await run(registerRefund, danishOrder(), SETTINGS, {
      refund: refundOf({ total: 20900 }),
      previous,
      history,
      reference: REFUND_REFERENCE,
    });
    expect(vouchers(mock)[0]?.body).toMatchObject({ entries: { customerPayments: [{ amount: 199, customerInvoice: 2 }] } });
    expect(result.outputs).toMatchObject({ amount: "199.00", beyondCreditNote: "10.00" });
    mock.bookJournal(1);
    expect(mock.state.booked.find((b) => b.bookedInvoiceNumber === 2)?.remainder).toBe(0);

    const smaller = await creditedOrder();
    await run(registerRefund, danishOrder(), SETTINGS, {
      refund: refundOf({ total: 18900 }),
      previous: smaller.previous,
      history: smaller.history,
      reference: REFUND_REFERENCE,
    });
    expect(vouchers(smaller.mock)[0]?.body).toMatchObject({ entries: { customerPayments: [{ amount: 189 }] } });
  });

  it("a credit note paid out beyond its total (a larger entry booked) is settled: a re-run enters nothing", async () => {
    const { mock, history, previous } = await creditedOrder();
    // An earlier entry of 209.00 against the 199.00 credit note, booked: its remainder is +10.00.
    const note = mock.state.booked.find((b) => b.bookedInvoiceNumber === 2);
    if (note) note.remainder = 10;

    const again = await run(registerRefund, danishOrder(), SETTINGS, {
      refund: refundOf({ total: 20900 }),
      previous,
      history,
      reference: REFUND_REFERENCE,
    });

    expect(again.result).toMatchObject({ created: false, outputs: { reason: "credit note 2 is already settled in e-conomic" } });
    expect(vouchers(mock)).toHaveLength(0);
  });

  it("a credit note already partly paid out gets only the rest", async () => {
    const { mock, history, previous } = await creditedOrder();
    // A bookkeeper entered and booked 50.00 of it.
    const note = mock.state.booked.find((b) => b.bookedInvoiceNumber === 2);
    if (note) note.remainder = -149;

    const { result } = await run(registerRefund, danishOrder(), SETTINGS, {
      refund: refundOf(),
      previous,
      history,
      reference: REFUND_REFERENCE,
    });

    expect(vouchers(mock)[0]?.body).toMatchObject({ entries: { customerPayments: [{ amount: 149 }] } });
    expect(result.outputs).toMatchObject({ amount: "149.00", alreadySettled: "50.00" });
    mock.bookJournal(1);
    expect(mock.state.booked.find((b) => b.bookedInvoiceNumber === 2)?.remainder).toBe(0);
  });

  it("a gateway mapped to payment terms enters nothing only when the credit note carries those terms", async () => {
    const { mock, history, previous } = await creditedOrder();
    const before = writes(mock).length;
    const terms = (n: number) => ({ journalNumber: 1, byGateway: { shopify_payments: { paymentTermsNumber: n } } });
    const options = { refund: refundOf(), previous, history, reference: REFUND_REFERENCE };
    // createCreditNote gave the credit note the credited invoice's payment terms (1, the default).
    const note = mock.state.booked.find((b) => b.bookedInvoiceNumber === 2);
    expect(note?.paymentTerms).toEqual({ paymentTermsNumber: 1 });

    // Terms of type net settle nothing at booking: the note is still open, so nothing says it was paid out.
    const open = await failure(run(registerRefund, danishOrder(), terms(1), options));
    expect(open).toMatchObject({ code: "economic_refund_terms_open", madeNothing: true });
    expect(open.message).toContain('payment terms 1 "Netto 8 dage" (type net)');
    // Shown settled (the refund paid out and booked by hand): nothing to register.
    if (note) note.remainder = 0;
    const same = await run(registerRefund, danishOrder(), terms(1), options);
    expect(same.result).toMatchObject({ created: false, outputs: { reason: expect.stringContaining("payment terms 1") } });

    const other = await failure(run(registerRefund, danishOrder(), terms(3), options));
    expect(other).toMatchObject({
      errorClass: "validation",
      code: "economic_refund_terms_differ",
      madeNothing: true,
      details: { gateway: "shopify_payments", gatewayTerms: 3, creditNoteTerms: 1 },
    });
    expect(other.message).toContain("credit note 2 has payment terms 1");
    expect(other.message).toContain("Map byGateway.shopify_payments in this step's settings to the contra account");
    expect(writes(mock)).toHaveLength(before);
  });
});
