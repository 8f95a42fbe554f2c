/**
 * Billy registerPayment when the invoice and the cash account are in different currencies: Billy's
 * `cashAmount` is in the cash account's currency and `cashExchangeRate` (1 invoice unit = that many
 * account units) is required when the two differ. The rate is the order's, as on the invoice.
 */
import { describe, expect, it } from "vitest";
import { cashSide, createInvoice, registerPayment } from "../../src/connectors/billy";
import type { CanonicalOrder } from "../../src/domain/order";
import { type BillyMock, createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, failure, germanOrder, PRODUCTS, run, SETTINGS } from "../mocks/billy.mock.fixtures";

const RATE = "7.4603";

/** A German consumer paying 130.90 EUR in a Danish (DKK) shop, with the webshop's rate. */
const eurOrder = (overrides: Partial<CanonicalOrder> = {}) =>
  germanOrder({ exchange: { shopCurrency: "DKK", rate: RATE }, ...overrides });

const PAYMENTS = {
  byGateway: {
    stripe: { cashAccountId: "acc-bank" },
    stripe_eur: { cashAccountId: "acc-eur" },
    klarna_sek: { cashAccountId: "acc-sek" },
  },
};

async function approvedInvoice(order: CanonicalOrder, settings: Record<string, unknown> = {}) {
  const mock = createBillyMock({
    products: PRODUCTS,
    cashAccounts: ["acc-bank", { id: "acc-eur", currencyId: "EUR" }, { id: "acc-sek", currencyId: "SEK" }],
  });
  installBillyMock(mock);
  const { result } = await run(createInvoice, order, { ...SETTINGS, invoiceState: "booked", ...settings });
  return { mock, invoice: result, writesBefore: mock.writes().length };
}

const bankPayments = (mock: BillyMock, from: number) =>
  mock
    .writes()
    .slice(from)
    .map((w) => (w.body as { bankPayment: Record<string, unknown> }).bankPayment);

describe("Billy registerPayment across currencies", () => {
  it("pays a EUR invoice into a DKK bank account: cashAmount in DKK with the order's rate as cashExchangeRate", async () => {
    const { mock, invoice, writesBefore } = await approvedInvoice(eurOrder());
    const invoiceId = invoice.outputs.invoiceId as string;
    expect(mock.invoice(invoiceId)).toMatchObject({ currencyId: "EUR", exchangeRate: 7.4603, grossAmount: 130.9 });

    const { result, mapped } = await run(registerPayment, eurOrder(), PAYMENTS, { previous: [invoice] });

    // 130.90 EUR × 7.4603 = 976.553... DKK, rounded half-up to 976.55.
    expect(bankPayments(mock, writesBefore)).toEqual([
      {
        entryDate: "2026-03-02",
        cashAmount: 976.55,
        cashSide: "debit",
        cashAccountId: "acc-bank",
        cashExchangeRate: 7.4603,
        associations: [{ subjectReference: `invoice:${invoiceId}` }],
      },
    ]);
    expect(mapped).toHaveLength(1);
    expect(mock.requests.some((r) => r.method === "GET" && r.path === "/accounts/acc-bank")).toBe(true);
    expect(result.outputs).toMatchObject({
      currency: "EUR",
      paid: 13090,
      registered: 13090,
      isPaid: true,
      partial: false,
      payments: [
        {
          cashAccountId: "acc-bank",
          gateways: ["stripe"],
          amount: 13090,
          cashAmount: 97655,
          cashCurrency: "DKK",
          cashExchangeRate: 7.4603,
        },
      ],
    });
    expect(mock.invoice(invoiceId)).toMatchObject({ isPaid: true, balance: 0 });
    expect(mock.state.bankPayments[0]).toMatchObject({ subjectCurrencyId: "EUR", cashExchangeRate: 7.4603 });
  });

  it("a re-run adopts the payment (counted in EUR from what it settled) and registers nothing", async () => {
    const { mock, invoice } = await approvedInvoice(eurOrder());
    await run(registerPayment, eurOrder(), PAYMENTS, { previous: [invoice] });
    const writes = mock.writes().length;

    const again = await run(registerPayment, eurOrder(), PAYMENTS, { previous: [invoice] });

    expect(mock.writes()).toHaveLength(writes);
    expect(again.result).toMatchObject({ created: false, outputs: { registered: 13090, isPaid: true, payments: [] } });
  });

  it("a partial payment and its later rest are each converted; the rest is what the invoice still lacks in EUR", async () => {
    const { mock, invoice, writesBefore } = await approvedInvoice(eurOrder());
    const partly = eurOrder({
      payments: [{ gateway: "stripe", amount: 5000, status: "partially_paid" }],
      financialStatus: "partially_paid",
    });
    const first = await run(registerPayment, partly, PAYMENTS, { previous: [invoice] });
    expect(first.result.outputs).toMatchObject({ registered: 5000, partial: true });

    const second = await run(registerPayment, eurOrder(), PAYMENTS, { previous: [invoice] });

    // 50.00 EUR → 373.015 → 373.02 DKK; the remaining 80.90 EUR → 603.538... → 603.54 DKK.
    expect(bankPayments(mock, writesBefore)).toEqual([
      expect.objectContaining({ cashAmount: 373.02, cashExchangeRate: 7.4603 }),
      expect.objectContaining({ cashAmount: 603.54, cashExchangeRate: 7.4603 }),
    ]);
    expect(second.result.outputs).toMatchObject({ registered: 13090, isPaid: true });
    expect(mock.invoice(invoice.outputs.invoiceId as string)).toMatchObject({ isPaid: true, balance: 0 });
  });

  it("pays a EUR invoice into a EUR account in EUR, without a rate", async () => {
    const order = eurOrder({ payments: [{ gateway: "stripe_eur", amount: 13090, status: "paid" }] });
    const { mock, writesBefore, invoice } = await approvedInvoice(order);

    await run(registerPayment, order, PAYMENTS, { previous: [invoice] });

    const [payment] = bankPayments(mock, writesBefore);
    expect(payment).toMatchObject({ cashAmount: 130.9, cashAccountId: "acc-eur" });
    expect(payment).not.toHaveProperty("cashExchangeRate");
  });

  it("an invoice converted into DKK (invoiceCurrency shop) paid into a EUR account: the EUR the customer paid, rate 1 / 7.4603", async () => {
    const order = eurOrder({ payments: [{ gateway: "stripe_eur", amount: 13090, status: "paid" }] });
    const { mock, writesBefore, invoice } = await approvedInvoice(order, { invoiceCurrency: "shop" });
    expect(mock.invoice(invoice.outputs.invoiceId as string)).toMatchObject({ currencyId: "DKK", grossAmount: 976.55 });

    const { result } = await run(registerPayment, order, PAYMENTS, { previous: [invoice] });

    expect(bankPayments(mock, writesBefore)).toEqual([
      expect.objectContaining({ cashAmount: 130.9, cashAccountId: "acc-eur", cashExchangeRate: 0.134042866909 }),
    ]);
    expect(result.outputs).toMatchObject({ currency: "DKK", registered: 97655, isPaid: true });
  });

  it("a DKK order paid into a DKK account sends no rate, as before", async () => {
    const { mock, writesBefore, invoice } = await approvedInvoice(
      danishOrder({ payments: [{ gateway: "stripe", amount: 24800, status: "paid" }] }),
    );

    await run(registerPayment, danishOrder({ payments: [{ gateway: "stripe", amount: 24800, status: "paid" }] }), PAYMENTS, {
      previous: [invoice],
    });

    const [payment] = bankPayments(mock, writesBefore);
    expect(payment).toMatchObject({ cashAmount: 248, cashAccountId: "acc-bank" });
    expect(payment).not.toHaveProperty("cashExchangeRate");
  });

  it("refuses a cash account in a third currency, naming the account, both currencies and the gateway, and writes nothing", async () => {
    const order = eurOrder({ payments: [{ gateway: "klarna_sek", amount: 13090, status: "paid" }] });
    const { mock, writesBefore, invoice } = await approvedInvoice(order);

    const error = await failure(run(registerPayment, order, PAYMENTS, { previous: [invoice] }));

    expect(error).toMatchObject({ errorClass: "validation", code: "billy_payment_currency" });
    expect(error.message).toBe(
      "Billy cash account acc-sek (for \"klarna_sek\") is in SEK, but the invoice is in EUR and the order's only rate is between EUR and DKK: choose a cash account in EUR or DKK for that gateway in the step's settings.",
    );
    expect(mock.writes()).toHaveLength(writesBefore);
  });

  it("refuses a foreign-currency account for an order that carries no rate", async () => {
    const order = danishOrder({ payments: [{ gateway: "stripe_eur", amount: 24800, status: "paid" }] });
    const { mock, writesBefore, invoice } = await approvedInvoice(order);

    const error = await failure(run(registerPayment, order, PAYMENTS, { previous: [invoice] }));

    expect(error.code).toBe("billy_payment_currency");
    expect(error.message).toMatch(/acc-eur .* is in EUR, but the invoice is in DKK and the order carries no exchange rate/);
    expect(mock.writes()).toHaveLength(writesBefore);
  });

  it("names a cash account Billy does not have", async () => {
    const { mock, writesBefore, invoice } = await approvedInvoice(eurOrder());

    const error = await failure(
      run(registerPayment, eurOrder(), { byGateway: { stripe: { cashAccountId: "acc-gone" } } }, { previous: [invoice] }),
    );

    expect(error).toMatchObject({ errorClass: "validation", code: "billy_cash_account_missing" });
    expect(error.message).toContain('Billy has no account acc-gone, the cash account for "stripe"');
    expect(mock.writes()).toHaveLength(writesBefore);
  });
});

describe("cashSide", () => {
  const where = { cashAccountId: "acc", gateways: ["stripe"] };

  it("converts each way between the order's and the shop's currency, and leaves equal currencies alone", () => {
    const order = eurOrder();
    expect(cashSide(13090, "EUR", "EUR", order, where)).toEqual({ cashAmount: 13090, cashCurrency: "EUR" });
    expect(cashSide(13090, "EUR", "DKK", order, where)).toEqual({
      cashAmount: 97655,
      cashCurrency: "DKK",
      cashExchangeRate: 7.4603,
    });
    expect(cashSide(97655, "DKK", "EUR", order, where)).toEqual({
      cashAmount: 13090,
      cashCurrency: "EUR",
      cashExchangeRate: 0.134042866909,
    });
  });

  it("handles a currency without minor units", () => {
    const yen = eurOrder({ currency: "JPY", exchange: { shopCurrency: "DKK", rate: "0.0437" } });
    // 1000 JPY × 0.0437 = 43.70 DKK; back: 4370 øre ÷ 0.0437 = 1000 JPY.
    expect(cashSide(1000, "JPY", "DKK", yen, where)).toMatchObject({ cashAmount: 4370, cashExchangeRate: 0.0437 });
    expect(cashSide(4370, "DKK", "JPY", yen, where)).toMatchObject({ cashAmount: 1000 });
  });
});

describe("the Billy mock's bank payments across currencies", () => {
  function post(mock: BillyMock, bankPayment: Record<string, unknown>) {
    return mock.handle(
      new Request("https://billy.test/bankPayments", {
        method: "POST",
        headers: { "x-access-token": "billy-token", "content-type": "application/json" },
        body: JSON.stringify({ bankPayment }),
      }),
    );
  }

  it("refuses a payment into an account in another currency than the invoice's without cashExchangeRate, as Billy does", async () => {
    const { mock, invoice } = await approvedInvoice(eurOrder());
    const base = {
      entryDate: "2026-03-02",
      cashAmount: 976.55,
      cashSide: "debit",
      cashAccountId: "acc-bank",
      associations: [{ subjectReference: `invoice:${invoice.outputs.invoiceId}` }],
    };

    const refused = await post(mock, base);
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({
      errorCode: "VALIDATION_ERROR",
      validationErrors: [
        {
          property: "bankPayment.cashExchangeRate",
          message: "is required: the cash account is in DKK and the invoice in EUR",
        },
      ],
    });
    expect(mock.state.bankPayments).toEqual([]);

    const accepted = await post(mock, { ...base, cashExchangeRate: 7.4603 });
    expect(accepted.status).toBe(200);
    expect(mock.invoice(invoice.outputs.invoiceId as string)).toMatchObject({ isPaid: true, balance: 0 });
  });

  it("ignores the rate when the currencies are the same (stored as 1), and lists its accounts with their currency", async () => {
    const { mock, invoice } = await approvedInvoice(
      eurOrder({ payments: [{ gateway: "stripe_eur", amount: 13090, status: "paid" }] }),
    );

    const paid = await post(mock, {
      entryDate: "2026-03-02",
      cashAmount: 130.9,
      cashSide: "debit",
      cashAccountId: "acc-eur",
      cashExchangeRate: 9,
      associations: [{ subjectReference: `invoice:${invoice.outputs.invoiceId}` }],
    });
    expect(paid.status).toBe(200);
    expect(mock.state.bankPayments[0]).toMatchObject({ cashExchangeRate: 1, subjectCurrencyId: "EUR" });
    expect(mock.invoice(invoice.outputs.invoiceId as string)).toMatchObject({ isPaid: true });

    const account = await mock.handle(
      new Request("https://billy.test/accounts/acc-eur", { headers: { "x-access-token": "billy-token" } }),
    );
    expect(await account.json()).toMatchObject({ account: { id: "acc-eur", currencyId: "EUR", isPaymentEnabled: true } });
  });
});
