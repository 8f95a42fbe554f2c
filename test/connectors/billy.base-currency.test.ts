/**
 * Billy's `exchangeRate` is units of the company's base currency per unit of the invoice's
 * currency; the webshop's rate is shop currency per order currency. The two agree only when the
 * shop's currency is the company's base currency, which Orderly reads from Billy
 * (`GET /organization`, its `baseCurrencyId`); otherwise no rate is sent and Billy uses its day's
 * rate. A cash account without a currency of its own is in the base currency too.
 */
import { describe, expect, it } from "vitest";
import { createCreditNote, createInvoice, registerPayment } from "../../src/connectors/billy";
import type { CanonicalOrder } from "../../src/domain/order";
import { type BillyMock, type BillyMockOptions, createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, historyEntry, PRODUCTS, refund, run, SETTINGS } from "../mocks/billy.mock.fixtures";

/** A Danish customer paying 248.00 SEK in a shop whose currency is EUR (0.0874 EUR per SEK). */
const sekOrder = (overrides: Partial<CanonicalOrder> = {}) =>
  danishOrder({ currency: "SEK", exchange: { shopCurrency: "EUR", rate: "0.0874" }, ...overrides });

/** A company of its own per test: the base currency is remembered per connection and token. */
function billy(token: string, options: BillyMockOptions = {}) {
  const mock = createBillyMock({ products: PRODUCTS, accessToken: token, ...options });
  installBillyMock(mock);
  return mock;
}

const as = (token: string, connection: Record<string, string> = {}) => ({ credentials: { accessToken: token }, connection });
const postedInvoices = (mock: BillyMock) =>
  mock.requests
    .filter((r) => r.method === "POST" && r.path === "/invoices")
    .map((r) => (r.body as { invoice: Record<string, unknown> }).invoice);
const organizationReads = (mock: BillyMock) =>
  mock.requests.filter((r) => r.method === "GET" && r.path.startsWith("/organization")).map((r) => r.path);

describe("Billy exchangeRate and the company's base currency", () => {
  it("books in DKK, a EUR shop, a customer paying SEK: sends no rate (the EUR rate is not SEK → DKK)", async () => {
    const mock = billy("token-dkk-books");

    await run(createInvoice, sekOrder(), SETTINGS, as("token-dkk-books"));

    const [invoice] = postedInvoices(mock);
    expect(invoice).toMatchObject({ currencyId: "SEK" });
    expect(invoice).not.toHaveProperty("exchangeRate");
    expect(organizationReads(mock)).toEqual(["/organization"]);
  });

  it("books in EUR like the shop: sends the webshop's rate, as before", async () => {
    const mock = billy("token-eur-books", { baseCurrency: "EUR" });

    await run(createInvoice, sekOrder(), SETTINGS, as("token-eur-books"));

    expect(postedInvoices(mock)).toEqual([expect.objectContaining({ currencyId: "SEK", exchangeRate: 0.0874 })]);
  });

  it("reads the base currency once per connection, and asks for the named organization of a user-bound token", async () => {
    const mock = billy("token-user", { organizationId: "org-7" });

    await run(createInvoice, sekOrder(), SETTINGS, { ...as("token-user", { organizationId: "org-7" }), reference: "ref-a" });
    await run(createInvoice, sekOrder(), SETTINGS, { ...as("token-user", { organizationId: "org-7" }), reference: "ref-b" });

    expect(organizationReads(mock)).toEqual(["/organizations/org-7"]);
    expect(postedInvoices(mock)).toHaveLength(2);
  });

  it("asks Billy nothing about the company for an order in the shop's currency", async () => {
    const mock = billy("token-home");

    await run(createInvoice, danishOrder(), SETTINGS, as("token-home"));

    expect(organizationReads(mock)).toEqual([]);
  });

  it("credits a SEK refund without the EUR rate when the books are in DKK", async () => {
    const mock = billy("token-credit");
    const booked = { ...SETTINGS, invoiceState: "booked" };
    const { result: invoice } = await run(createInvoice, sekOrder(), booked, as("token-credit"));

    await run(createCreditNote, sekOrder(), booked, {
      ...as("token-credit"),
      reference: "ref-credit",
      history: [historyEntry("createInvoice", invoice)],
      refund: refund({ currency: "SEK" }),
    });

    const [, creditNote] = postedInvoices(mock);
    expect(creditNote).toMatchObject({ type: "creditNote", currencyId: "SEK" });
    expect(creditNote).not.toHaveProperty("exchangeRate");
  });
});

describe("Billy registerPayment and a cash account without a currency", () => {
  it("takes it in the company's base currency (DKK), not the shop's (EUR): a DKK invoice is paid in DKK, without a rate", async () => {
    const mock = billy("token-pay", { accountsWithoutCurrency: ["acc-bank"] });
    const order = danishOrder({
      exchange: { shopCurrency: "EUR", rate: "0.1341" },
      payments: [{ gateway: "stripe", amount: 24800, status: "paid" }],
    });
    const { result: invoice } = await run(createInvoice, order, { ...SETTINGS, invoiceState: "booked" }, as("token-pay"));
    const writesBefore = mock.writes().length;

    const { result } = await run(
      registerPayment,
      order,
      { byGateway: { stripe: { cashAccountId: "acc-bank" } } },
      {
        ...as("token-pay"),
        previous: [invoice],
      },
    );

    const [payment] = mock
      .writes()
      .slice(writesBefore)
      .map((w) => (w.body as { bankPayment: Record<string, unknown> }).bankPayment);
    expect(payment).toMatchObject({ cashAmount: 248, cashAccountId: "acc-bank" });
    expect(payment).not.toHaveProperty("cashExchangeRate");
    expect(result.outputs).toMatchObject({ currency: "DKK", registered: 24800, isPaid: true });
    expect(mock.invoice(invoice.outputs.invoiceId as string)).toMatchObject({ isPaid: true, balance: 0 });
  });
});
