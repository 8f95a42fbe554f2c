/**
 * registerPayment on a converted invoice (`invoiceCurrency: "shop"`): an order paid in EUR, invoiced
 * in the shop's DKK at the order's rate. The whole payment is the invoice's own gross (so it settles
 * to the cent), a part of it is converted at the order's rate (`convertMinor`, half-up), and an
 * invoice in a currency with no rate to the order's is refused before anything is entered. The
 * payment is entered negative, registerRefund's refund on the same order positive.
 */
import { describe, expect, it } from "vitest";
import { createCreditNote, createInvoice, registerPayment, registerRefund } from "../../src/connectors/economic";
import { convertMinor } from "../../src/domain/accounting/exchange";
import type { CanonicalOrder } from "../../src/domain/order";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, done, failure, refundOf, run, TS1, writes } from "../mocks/economic.mock.fixtures";

const PAYMENT_REF = "orderly-payment-0123-1";
const SETTINGS = {
  journalNumber: 1,
  byGateway: { shopify_payments: { contraAccountNumber: 5820 }, gift_card: { contraAccountNumber: 5840 } },
};
const SHOP = { invoiceState: "booked", invoiceCurrency: "shop" };

/** The customer paid in EUR; the shop keeps its books in DKK at `rate` DKK per EUR. */
function eurOrder(rate = "7.4603", overrides: Partial<CanonicalOrder> = {}): CanonicalOrder {
  return danishOrder({ currency: "EUR", exchange: { shopCurrency: "DKK", rate }, ...overrides });
}

/** The paid flow's booked invoice for `order`, in the shop's DKK unless the settings say otherwise. */
async function convertedInvoice(order: CanonicalOrder, settings: Record<string, unknown> = SHOP) {
  const mock = createEconomicMock({ products: [TS1] });
  installEconomicMock(mock);
  const invoice = await run(createInvoice, order, settings, { reference: "orderly-invoice-0" });
  const booked = mock.state.booked[0];
  if (!booked) throw new Error("createInvoice booked no invoice");
  return { mock, booked, history: [done("createInvoice", invoice.result)] };
}

/** The customer payment entries of every voucher posted to journal 1. */
function entered(mock: EconomicMock) {
  return mock.state.requests
    .filter((r) => r.method === "POST" && r.path === "/journals/1/vouchers")
    .flatMap((r) => (r.body as { entries: { customerPayments: Array<Record<string, unknown>> } }).entries.customerPayments);
}

const remainderOf = (mock: EconomicMock, number: number) =>
  mock.state.booked.find((b) => b.bookedInvoiceNumber === number)?.remainder;

describe("e-conomic registerPayment on an invoice in the shop's currency", () => {
  it("a whole payment enters the invoice's DKK gross, settling it to the cent", async () => {
    const order = eurOrder();
    const { mock, booked, history } = await convertedInvoice(order);
    // 248.00 EUR × 7.4603 = 1850.1544 → 1850.15 DKK: the invoice's gross is the converted total.
    expect(booked).toMatchObject({ currency: "DKK", grossAmount: 1850.15, remainder: 1850.15 });
    expect(convertMinor(24800, "EUR", "DKK", "7.4603", "half-up")).toBe(185015);

    const { result } = await run(registerPayment, order, SETTINGS, { history, reference: PAYMENT_REF });

    expect(entered(mock)).toEqual([expect.objectContaining({ amount: -1850.15, currency: { code: "DKK" }, customerInvoice: 1 })]);
    expect(result.outputs).toMatchObject({ amount: "1850.15", currency: "DKK", partial: false });
    mock.bookJournal(1);
    expect(remainderOf(mock, 1)).toBe(0);
  });

  it("the whole payment is the gross even where the invoice rounded its conversion otherwise (half-even)", async () => {
    // 248.00 EUR × 7.461875 = 1850.545 DKK: half-even makes the invoice 1850.54, half-up 1850.55.
    const order = eurOrder("7.461875");
    const { mock, booked, history } = await convertedInvoice(order, { ...SHOP, roundingMode: "half-even" });
    expect(booked.grossAmount).toBe(1850.54);
    expect(convertMinor(24800, "EUR", "DKK", "7.461875", "half-up")).toBe(185055);

    await run(registerPayment, order, SETTINGS, { history, reference: PAYMENT_REF });

    expect(entered(mock)).toEqual([expect.objectContaining({ amount: -1850.54, currency: { code: "DKK" } })]);
    mock.bookJournal(1);
    expect(remainderOf(mock, 1)).toBe(0);
  });

  it("an order paid as a whole with no amount per payment enters the invoice's DKK gross", async () => {
    const order = eurOrder("7.4603", { payments: [{ gateway: "shopify_payments", status: "paid" }] });
    const { mock, history } = await convertedInvoice(order);

    await run(registerPayment, order, SETTINGS, { history, reference: PAYMENT_REF });

    expect(entered(mock)).toEqual([expect.objectContaining({ amount: -1850.15, currency: { code: "DKK" } })]);
  });
});

describe("e-conomic registerPayment on an invoice in a currency with no rate to the order's", () => {
  /** The order's rate is to DKK; the booked invoice is in SEK (e.g. made by hand for the order). */
  async function sekInvoice(order: CanonicalOrder) {
    const made = await convertedInvoice(order);
    made.booked.currency = "SEK";
    return made;
  }

  it("a part payment fails with economic_currency_mismatch, made nothing, and posts nothing", async () => {
    const order = eurOrder("7.4603", {
      payments: [{ gateway: "shopify_payments", amount: 10000, status: "partially_paid" }],
      financialStatus: "partially_paid",
    });
    const { mock, history } = await sekInvoice(order);
    const before = writes(mock).length;

    const error = await failure(run(registerPayment, order, SETTINGS, { history, reference: PAYMENT_REF }));

    expect(error).toMatchObject({ errorClass: "validation", code: "economic_currency_mismatch", madeNothing: true });
    expect(error.message).toBe("The order was paid in EUR but invoice 1 is in SEK.");
    expect(writes(mock)).toHaveLength(before);
    expect(entered(mock)).toEqual([]);
  });

  // amountIn's whole-payment shortcut returned the invoice's gross for any invoice currency not the
  // order's, before the rate check: the SEK gross was entered as if 248.00 EUR had paid it.
  it("a whole payment fails the same way (it entered the SEK gross before)", async () => {
    const order = eurOrder();
    const { mock, history } = await sekInvoice(order);

    const error = await failure(run(registerPayment, order, SETTINGS, { history, reference: PAYMENT_REF }));

    expect(error.code).toBe("economic_currency_mismatch");
    expect(entered(mock)).toEqual([]);
  });
});

describe("e-conomic registerPayment: part payments on a converted invoice", () => {
  it("a deposit is converted at the order's rate; the rest later enters exactly what the invoice lacks", async () => {
    const deposit = eurOrder("7.4603", {
      payments: [{ gateway: "shopify_payments", amount: 10000, status: "partially_paid" }],
      financialStatus: "partially_paid",
    });
    const { mock, history } = await convertedInvoice(deposit);

    const first = await run(registerPayment, deposit, SETTINGS, { history, reference: PAYMENT_REF });

    // 100.00 EUR × 7.4603 = 746.03 DKK.
    expect(convertMinor(10000, "EUR", "DKK", "7.4603", "half-up")).toBe(74603);
    expect(entered(mock)).toEqual([expect.objectContaining({ amount: -746.03, currency: { code: "DKK" } })]);
    expect(first.result.outputs).toMatchObject({ amount: "746.03", currency: "DKK", partial: true });
    mock.bookJournal(1);
    expect(remainderOf(mock, 1)).toBe(1104.12);

    const paid = eurOrder("7.4603", {
      payments: [
        { gateway: "shopify_payments", amount: 10000, status: "paid" },
        { gateway: "shopify_payments", amount: 14800, status: "paid" },
      ],
    });
    const rest = await run(registerPayment, paid, SETTINGS, { history, reference: PAYMENT_REF });

    expect(entered(mock).at(-1)).toMatchObject({ amount: -1104.12 });
    expect(rest.result.outputs).toMatchObject({ amount: "1104.12", alreadySettled: "746.03", partial: false });
    mock.bookJournal(1);
    expect(remainderOf(mock, 1)).toBe(0);
  });

  it("two gateways each get their own amount converted at the order's rate, together the invoice's gross", async () => {
    const order = eurOrder("7.4603", {
      payments: [
        { gateway: "gift_card", amount: 4800, status: "paid" },
        { gateway: "shopify_payments", amount: 20000, status: "paid" },
      ],
    });
    const { mock, history } = await convertedInvoice(order);

    const { result } = await run(registerPayment, order, SETTINGS, { history, reference: PAYMENT_REF });

    // 48.00 × 7.4603 = 358.0944 → 358.09; 200.00 × 7.4603 = 1492.06; together 1850.15.
    expect(entered(mock)).toEqual([
      expect.objectContaining({ amount: -358.09, contraAccount: { accountNumber: 5840 }, currency: { code: "DKK" } }),
      expect.objectContaining({ amount: -1492.06, contraAccount: { accountNumber: 5820 }, currency: { code: "DKK" } }),
    ]);
    expect(result.outputs).toMatchObject({ amount: "1850.15", gateways: ["gift_card", "shopify_payments"], partial: false });
    mock.bookJournal(1);
    expect(remainderOf(mock, 1)).toBe(0);
  });

  // Each gateway's part was converted and rounded on its own: 123.45 + 124.55 EUR at 7.4561 gave
  // 920.46 + 928.66 = 1849.12 DKK against an invoice of 1849.11. Now a running total.
  it("two gateways never enter more than the invoice has open (0.01 more before)", async () => {
    const order = eurOrder("7.4561", {
      payments: [
        { gateway: "gift_card", amount: 12345, status: "paid" },
        { gateway: "shopify_payments", amount: 12455, status: "paid" },
      ],
    });
    const { mock, booked, history } = await convertedInvoice(order);
    expect(booked.grossAmount).toBe(1849.11);

    await run(registerPayment, order, SETTINGS, { history, reference: PAYMENT_REF });

    const total = entered(mock).reduce((sum, e) => sum - Math.round(Number(e.amount) * 100), 0);
    expect(total).toBeLessThanOrEqual(184911);
    mock.bookJournal(1);
    expect(remainderOf(mock, 1)).toBe(0);
  });

  // The other way: 123.45 + 124.55 EUR at 7.4572 converted part by part to 920.59 + 928.79 =
  // 1849.38 DKK against 1849.39: a fully paid order left 0.01 open and was reported partial.
  it("two gateways paying the whole order settle the invoice (0.01 stayed open before)", async () => {
    const order = eurOrder("7.4572", {
      payments: [
        { gateway: "gift_card", amount: 12345, status: "paid" },
        { gateway: "shopify_payments", amount: 12455, status: "paid" },
      ],
    });
    const { mock, booked, history } = await convertedInvoice(order);
    expect(booked.grossAmount).toBe(1849.39);

    const { result } = await run(registerPayment, order, SETTINGS, { history, reference: PAYMENT_REF });

    expect(result.outputs).toMatchObject({ amount: "1849.39", partial: false });
    mock.bookJournal(1);
    expect(remainderOf(mock, 1)).toBe(0);
  });
});

describe("e-conomic payment and refund signs on a converted order", () => {
  it("the payment is entered negative, the refund positive, each settling its own DKK document", async () => {
    const order = eurOrder();
    const { mock, history } = await convertedInvoice(order);
    await run(registerPayment, order, SETTINGS, { history, reference: PAYMENT_REF });

    const refund = refundOf({ currency: "EUR" });
    const note = await run(createCreditNote, order, SHOP, { refund, history, reference: "orderly-refund-0" });
    const creditNote = note.result.outputs.bookedInvoiceNumber as number;
    expect(creditNote).toBe(2);
    await run(registerRefund, order, SETTINGS, {
      refund,
      previous: [note.result],
      history,
      reference: "orderly-refund-1",
    });

    // 199.00 EUR × 7.4603 = 1484.5997 → 1484.60 DKK.
    expect(entered(mock)).toEqual([
      expect.objectContaining({ amount: -1850.15, currency: { code: "DKK" }, customerInvoice: 1 }),
      expect.objectContaining({ amount: 1484.6, currency: { code: "DKK" }, customerInvoice: 2 }),
    ]);
    expect(remainderOf(mock, 2)).toBe(-1484.6);
    mock.bookJournal(1);
    expect(remainderOf(mock, 1)).toBe(0);
    expect(remainderOf(mock, 2)).toBe(0);
  });
});
