import { describe, expect, it } from "vitest";
import { createInvoice } from "../../src/connectors/economic";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, failure, orderTo, REFERENCE, run, sent } from "../mocks/economic.mock.fixtures";

const KIM = { name: "Kim Meyer", address: "Hauptstraße 5", zip: "10115", city: "Berlin" };

describe("e-conomic createInvoice: VAT through zones and products", () => {
  it("an OSS sale to Germany goes on the German OSS product in the EU zone and carries German VAT", async () => {
    const mock = createEconomicMock({
      products: [{ productNumber: "oss-de", name: "OSS Germany", productGroup: { productGroupNumber: 10 } }],
    });
    installEconomicMock(mock);
    const order = orderTo("DE", {
      lines: [
        { id: "l1", sku: "TS-1", title: "T-shirt", quantity: 1, unitPrice: 11900, discount: 0, tax: 1900, taxRateBp: 1900 },
      ],
      shipping: [{ title: "Standard shipping", price: 1190, discount: 0, tax: 190, taxRateBp: 1900 }],
      totals: { total: 13090, tax: 2090, discounts: 0, shipping: 1190 },
    });

    const { result } = await run(createInvoice, order, { ossRegistered: true, ossProducts: { DE: "oss-de" } });

    expect(result.outputs).toMatchObject({ vatCase: "oss", total: "130.90", warnings: [] });
    expect(sent(mock, "POST", "/invoices/drafts")).toEqual({
      date: "2025-11-03",
      currency: "DKK",
      customer: { customerNumber: 1 },
      layout: { layoutNumber: 19 },
      paymentTerms: { paymentTermsNumber: 1 },
      recipient: { ...KIM, country: "Germany", vatZone: { vatZoneNumber: 2 } },
      references: { other: REFERENCE },
      lines: [
        { lineNumber: 1, product: { productNumber: "oss-de" }, description: "T-shirt", quantity: 1, unitNetPrice: 100 },
        { lineNumber: 2, product: { productNumber: "oss-de" }, description: "Standard shipping", quantity: 1, unitNetPrice: 10 },
      ],
    });
    // No SKU lookup: an OSS sale is booked on the country's product whatever the item.
    expect(mock.state.requests.some((r) => r.path.startsWith("/products"))).toBe(false);
    expect(mock.state.drafts[0]).toMatchObject({ netAmount: 110, vatAmount: 20.9, grossAmount: 130.9 });
  });

  it("an OSS sale to a country without a mapped product fails naming the setting, before anything is written", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = orderTo("DE", {
      lines: [{ id: "l1", title: "T-shirt", quantity: 1, unitPrice: 11900, discount: 0, tax: 1900, taxRateBp: 1900 }],
      shipping: [],
      totals: { total: 11900, tax: 1900, discounts: 0, shipping: 0 },
    });

    const error = await failure(run(createInvoice, order, { ossRegistered: true }));

    expect(error).toMatchObject({
      errorClass: "validation",
      code: "economic_setting_missing",
      details: { setting: "ossProducts.DE" },
    });
    expect(error.message).toMatch(/ossProducts\.DE/);
    expect(mock.state.requests.filter((r) => r.method !== "GET")).toEqual([]);
  });

  it("a reverse-charge B2B sale in the EU uses the EU zone and the B2B customer group, terms and layout", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = orderTo("DE", {
      pricesIncludeTax: false,
      customer: { email: "buy@mueller.de", company: "Müller GmbH", vatNumber: "DE123456789" },
      lines: [{ id: "l1", title: "Workshop tools", quantity: 2, unitPrice: 50000, discount: 0, tax: 0 }],
      shipping: [{ title: "Freight", price: 10000, discount: 0, tax: 0 }],
      payments: [],
      totals: { total: 110000, tax: 0, discounts: 0, shipping: 10000 },
    });
    const settings = {
      customerGroups: { b2b: 2, b2c: 1 },
      paymentTerms: { b2b: 5 },
      layouts: { b2b: 21 },
    };

    const { result } = await run(createInvoice, order, settings);

    expect(result.outputs).toMatchObject({ vatCase: "reverse-charge", total: "1100.00" });
    expect(sent(mock, "POST", "/customers")).toEqual({
      email: "buy@mueller.de",
      name: "Müller GmbH",
      currency: "DKK",
      customerGroup: { customerGroupNumber: 2 },
      paymentTerms: { paymentTermsNumber: 5 },
      vatZone: { vatZoneNumber: 2 },
      address: KIM.address,
      zip: KIM.zip,
      city: KIM.city,
      country: "Germany",
    });
    expect(sent(mock, "POST", "/invoices/drafts")).toEqual({
      date: "2025-11-03",
      currency: "DKK",
      customer: { customerNumber: 1 },
      layout: { layoutNumber: 21 },
      paymentTerms: { paymentTermsNumber: 5 },
      recipient: {
        name: "Müller GmbH",
        address: KIM.address,
        zip: KIM.zip,
        city: KIM.city,
        country: "Germany",
        vatZone: { vatZoneNumber: 2 },
      },
      references: { other: REFERENCE },
      lines: [
        { lineNumber: 1, product: { productNumber: "1" }, description: "Workshop tools", quantity: 2, unitNetPrice: 500 },
        { lineNumber: 2, product: { productNumber: "shipping" }, description: "Freight", quantity: 1, unitNetPrice: 100 },
      ],
    });
    expect(mock.state.drafts[0]).toMatchObject({ vatAmount: 0, grossAmount: 1100 });
  });

  it("an export outside the EU uses the abroad zone without VAT", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = orderTo("US", {
      pricesIncludeTax: false,
      lines: [{ id: "l1", title: "T-shirt", quantity: 1, unitPrice: 15920, discount: 0, tax: 0 }],
      shipping: [{ title: "Air mail", price: 8000, discount: 0, tax: 0 }],
      totals: { total: 23920, tax: 0, discounts: 0, shipping: 8000 },
    });

    const { result } = await run(createInvoice, order);

    expect(result.outputs).toMatchObject({ vatCase: "export", warnings: [] });
    const draft = sent(mock, "POST", "/invoices/drafts") as { recipient: unknown; lines: unknown };
    expect(draft.recipient).toEqual({ ...KIM, country: "United States", vatZone: { vatZoneNumber: 3 } });
    expect(draft.lines).toEqual([
      { lineNumber: 1, product: { productNumber: "1" }, description: "T-shirt", quantity: 1, unitNetPrice: 159.2 },
      { lineNumber: 2, product: { productNumber: "shipping" }, description: "Air mail", quantity: 1, unitNetPrice: 80 },
    ]);
    expect(mock.state.drafts[0]).toMatchObject({ vatAmount: 0, grossAmount: 239.2 });
  });

  it("a line at a reduced rate goes on the product mapped for that rate", async () => {
    const mock = createEconomicMock({
      products: [{ productNumber: "food-12", name: "Food 12%", productGroup: { productGroupNumber: 3 } }],
    });
    installEconomicMock(mock);
    const se = { name: "Sven Berg", line1: "Storgatan 1", postcode: "11122", city: "Stockholm", country: "SE" };
    const order = danishOrder({
      currency: "SEK",
      customer: { email: "sven@example.se", firstName: "Sven", lastName: "Berg" },
      billingAddress: se,
      shippingAddress: se,
      lines: [
        { id: "l1", title: "T-shirt", quantity: 1, unitPrice: 25000, discount: 0, tax: 5000, taxRateBp: 2500 },
        { id: "l2", title: "Coffee beans", quantity: 2, unitPrice: 11200, discount: 0, tax: 2400, taxRateBp: 1200 },
      ],
      shipping: [],
      payments: [],
      totals: { total: 47400, tax: 7400, discounts: 0, shipping: 0 },
    });

    await run(createInvoice, order, { homeCountry: "SE", reducedRateProducts: { "1200": "food-12" } });

    const draft = sent(mock, "POST", "/invoices/drafts") as { currency: string; lines: unknown };
    expect(draft.currency).toBe("SEK");
    expect(draft.lines).toEqual([
      { lineNumber: 1, product: { productNumber: "1" }, description: "T-shirt", quantity: 1, unitNetPrice: 200 },
      { lineNumber: 2, product: { productNumber: "food-12" }, description: "Coffee beans", quantity: 2, unitNetPrice: 100 },
    ]);
    expect(mock.state.drafts[0]).toMatchObject({ netAmount: 400, vatAmount: 74, grossAmount: 474 });

    const missing = await failure(run(createInvoice, order, { homeCountry: "SE" }, { reference: "ref-2" }));
    expect(missing.details).toEqual({ setting: "reducedRateProducts.1200" });
  });

  it("a cents difference within the threshold becomes a line on the rounding product", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    // 3 × 33.33 incl. 25% with 20.00 VAT as the shop rounded it: 79.99 net, which 3 units cannot carry exactly.
    const order = danishOrder({
      lines: [{ id: "l1", title: "Socks", quantity: 3, unitPrice: 3333, discount: 0, tax: 2000, taxRateBp: 2500 }],
      shipping: [],
      payments: [],
      totals: { total: 9999, tax: 2000, discounts: 0, shipping: 0 },
    });

    const { result } = await run(createInvoice, order);

    expect((sent(mock, "POST", "/invoices/drafts") as { lines: unknown }).lines).toEqual([
      { lineNumber: 1, product: { productNumber: "1" }, description: "Socks", quantity: 3, unitNetPrice: 26.66 },
      {
        lineNumber: 2,
        product: { productNumber: "rounding" },
        description: "Rounding difference",
        quantity: 1,
        unitNetPrice: 0.01,
      },
    ]);
    expect(result.outputs).toMatchObject({ total: "99.99" });
    expect(mock.state.drafts[0]).toMatchObject({ grossAmount: 99.99 });
  });

  it("totals that differ beyond the threshold leave the draft and fail with both totals, without booking", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = danishOrder({ totals: { total: 30000, tax: 4960, discounts: 0, shipping: 4900 } });

    const error = await failure(run(createInvoice, order, { invoiceState: "booked" }));

    expect(error).toMatchObject({ errorClass: "validation", code: "invoice_totals_mismatch", retryable: false });
    expect(error.message).toContain("248.00 DKK");
    expect(error.message).toContain("300.00 DKK");
    expect(error.message).toMatch(/left as e-conomic draft 1/);
    expect(error.details).toMatchObject({ draftInvoiceNumber: 1, expected: { total: 30000 }, totals: { total: 24800 } });
    expect(mock.state.drafts).toHaveLength(1);
    expect(mock.state.booked).toEqual([]);
    expect(mock.state.requests.some((r) => r.path === "/invoices/booked" && r.method === "POST")).toBe(false);
  });

  it("books the draft at once when the step says so", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);

    const { result, mapped } = await run(createInvoice, danishOrder(), { invoiceState: "booked" });

    expect(result).toMatchObject({ externalId: "1", created: true, outputs: { draftInvoiceNumber: 1, bookedInvoiceNumber: 1 } });
    expect(sent(mock, "POST", "/invoices/booked")).toEqual({ draftInvoice: { draftInvoiceNumber: 1 } });
    expect(mapped).toHaveLength(2);
    expect(mock.state.booked[0]).toMatchObject({ grossAmount: 248, remainder: 248, references: { other: REFERENCE } });
    expect(mock.state.drafts).toEqual([]);
  });
  it("an invoice in the customer's currency carries the webshop's exchange rate (per 100) and says so", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = orderTo("DE", {
      currency: "EUR",
      exchange: { shopCurrency: "DKK", rate: "7.4561" },
      lines: [{ id: "l1", title: "T-shirt", quantity: 1, unitPrice: 2500, discount: 0, tax: 500, taxRateBp: 2500 }],
      shipping: [],
      totals: { total: 2500, tax: 500, discounts: 0, shipping: 0 },
    });

    await run(createInvoice, order);

    expect(sent(mock, "POST", "/invoices/drafts")).toMatchObject({
      currency: "EUR",
      exchangeRate: 745.61,
      notes: { textLine1: "Exchange rate 7.4561 DKK per EUR as the webshop reported it." },
      lines: [{ unitNetPrice: 20 }],
    });
  });
});
