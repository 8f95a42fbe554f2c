import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createInvoice } from "../../src/connectors/billy";
import { orderSchema } from "../../src/domain/order";
import type { StepMessage } from "../../src/durable/order-types";
import { runtimeConfig } from "../../src/worker/config";
import { gateExclusive } from "../../src/worker/queue/target-gate-client";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import {
  danishOrder,
  failure,
  germanBusinessOrder,
  germanOrder,
  PRODUCTS,
  REFERENCE,
  run,
  SETTINGS,
  usOrder,
} from "../mocks/billy.mock.fixtures";

function billy(options: Parameters<typeof createBillyMock>[0] = {}) {
  const mock = createBillyMock({ products: PRODUCTS, ...options });
  installBillyMock(mock);
  return mock;
}

const calls = (mock: ReturnType<typeof createBillyMock>) =>
  mock.requests.map((r) => `${r.method} ${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query)}` : ""}`);

const ANE_CONTACT = { id: "con-ane", type: "person", name: "Ane Lund", countryId: "DK" };
const ANE_PERSON = { id: "cp-ane", contactId: "con-ane", name: "Ane Lund", email: "ANE@example.dk", isPrimary: true };

describe("Billy createInvoice", () => {
  it("books a domestic DKK consumer order with net lines, its new contact and the domestic tax rate", async () => {
    const mock = billy();

    const { result, mapped } = await run(createInvoice, danishOrder());

    expect(calls(mock)).toEqual([
      `GET /invoices?externalId=${REFERENCE}`,
      "GET /products?productNo=TS-1",
      "GET /contactPersons?email=ane%40example.dk",
      "POST /contacts",
      "POST /invoices",
    ]);
    const [contactPost, invoicePost] = mock.writes();
    expect(contactPost?.body).toEqual({
      contact: {
        type: "person",
        name: "Ane Lund",
        countryId: "DK",
        street: "Vestergade 1",
        zipcodeText: "8000",
        cityText: "Aarhus",
        phone: "+4512345678",
        isCustomer: true,
        paymentTermsDays: 0,
        contactPersons: [{ name: "Ane Lund", email: "ane@example.dk", isPrimary: true }],
      },
    });
    const invoice = {
      type: "invoice",
      contactId: "con-1",
      entryDate: "2026-03-02",
      currencyId: "DKK",
      taxMode: "excl",
      externalId: REFERENCE,
      state: "draft",
      paymentTermsDays: 0,
      contactMessage: "Order #1001",
      lines: [
        { productId: "prod-ts1", description: "T-shirt", quantity: 1, unitPrice: 159.2, taxRateId: "tr-dk-25" },
        { productId: "prod-shipping", description: "Standard shipping", quantity: 1, unitPrice: 39.2, taxRateId: "tr-dk-25" },
      ],
    };
    expect(invoicePost?.body).toEqual({ invoice });
    expect(mapped).toEqual([{ document: expect.objectContaining({ type: "invoice", currency: "DKK" }), billyInvoice: invoice }]);
    expect(result).toEqual({
      externalId: "inv-3",
      created: true,
      outputs: {
        documentType: "invoice",
        invoiceId: "inv-3",
        contactId: "con-1",
        state: "draft",
        total: 24800,
        currency: "DKK",
        vatCase: "domestic",
        warnings: [],
        contactCreated: true,
      },
    });
    expect(mock.invoice("inv-3")).toMatchObject({ state: "draft", amount: 198.4, tax: 49.6, grossAmount: 248 });
  });

  it("books an OSS sale to a German consumer on the DE tax rate in EUR", async () => {
    const mock = billy();

    const { result } = await run(createInvoice, germanOrder());

    const body = mock.writes().find((w) => w.path === "/invoices")?.body as { invoice: Record<string, unknown> };
    expect(body.invoice).toMatchObject({ currencyId: "EUR", paymentTermsDays: 0 });
    expect(body.invoice.lines).toEqual([
      { productId: "prod-ts1", description: "T-shirt", quantity: 1, unitPrice: 100, taxRateId: "tr-de-19" },
      { productId: "prod-shipping", description: "DHL", quantity: 1, unitPrice: 10, taxRateId: "tr-de-19" },
    ]);
    expect(mock.writes()[0]?.body).toMatchObject({ contact: { type: "person", name: "Kim Meyer", countryId: "DE" } });
    expect(result.outputs).toMatchObject({ vatCase: "oss", total: 13090, currency: "EUR" });
    expect(mock.invoice("inv-3")).toMatchObject({ tax: 20.9, grossAmount: 130.9 });
  });

  it("books an EU business sale as reverse charge for a company contact with its VAT number", async () => {
    const mock = billy();

    const { result } = await run(createInvoice, germanBusinessOrder());

    expect(mock.writes().map((w) => w.body)).toEqual([
      {
        contact: {
          type: "company",
          name: "Meyer GmbH",
          countryId: "DE",
          street: "Hauptstraße 5",
          zipcodeText: "10115",
          cityText: "Berlin",
          registrationNo: "DE123456789",
          isCustomer: true,
          paymentTermsDays: 8,
          contactPersons: [{ name: "Kim Meyer", email: "einkauf@meyer.de", isPrimary: true }],
        },
      },
      {
        invoice: expect.objectContaining({
          paymentTermsDays: 8,
          lines: [
            { productId: "prod-ts1", description: "T-shirt", quantity: 10, unitPrice: 100, taxRateId: "tr-eu-rc" },
            { productId: "prod-shipping", description: "DHL", quantity: 1, unitPrice: 20, taxRateId: "tr-eu-rc" },
          ],
        }),
      },
    ]);
    expect(result.outputs).toMatchObject({ vatCase: "reverse-charge", total: 102000 });
    expect(mock.invoice("inv-3")).toMatchObject({ tax: 0, grossAmount: 1020 });
  });

  it("books a sale outside the EU as export", async () => {
    const mock = billy();

    const { result } = await run(createInvoice, usOrder());

    const body = mock.writes().find((w) => w.path === "/invoices")?.body as { invoice: { lines: unknown[] } };
    expect(body.invoice.lines).toEqual([
      { productId: "prod-ts1", description: "T-shirt", quantity: 2, unitPrice: 30, taxRateId: "tr-export" },
      { productId: "prod-shipping", description: "UPS", quantity: 1, unitPrice: 15, taxRateId: "tr-export" },
    ]);
    expect(result.outputs).toMatchObject({ vatCase: "export", currency: "USD", total: 7500 });
  });

  it("maps a reduced-rate line by its rate, and refuses it before any write when no rate is configured", async () => {
    const book = { id: "l2", sku: "BK-1", title: "Book", quantity: 1, unitPrice: 1070, discount: 0, tax: 70, taxRateBp: 700 };
    const order = germanOrder({
      lines: [...germanOrder().lines, book],
      payments: [{ gateway: "stripe", amount: 14160, status: "paid" }],
      totals: { total: 14160, tax: 2160, discounts: 0, shipping: 1190 },
    });
    const mock = billy();

    const error = await failure(run(createInvoice, order));
    expect(error.errorClass).toBe("validation");
    expect(error.message).toBe(
      '"Book" has VAT at 7 %, not the 19 % standard rate of this One Stop Shop (DE) sale: add taxRatesByRate["700"] (a Billy tax rate id) to the step\'s settings.',
    );
    expect(mock.writes()).toEqual([]);

    const { result } = await run(createInvoice, order, { ...SETTINGS, taxRatesByRate: { "DE:700": "tr-de-7" } });
    const body = mock.writes().find((w) => w.path === "/invoices")?.body as { invoice: { lines: unknown[] } };
    expect(body.invoice.lines[1]).toEqual({
      productId: "prod-default",
      description: "Book",
      quantity: 1,
      unitPrice: 10,
      taxRateId: "tr-de-7",
    });
    expect(result.outputs.warnings).toEqual(['SKU "BK-1" is not a Billy product; "Book" is booked on the default product.']);
    expect(mock.invoice("inv-3")).toMatchObject({ tax: 21.6, grossAmount: 141.6 });
  });

  it("puts a cents difference within the threshold on the rounding product without VAT", async () => {
    const mock = billy();
    const order = danishOrder({
      lines: [{ id: "l1", title: "Pen", quantity: 3, unitPrice: 3333, discount: 0, tax: 2000, taxRateBp: 2500 }],
      shipping: [],
      payments: [{ gateway: "shopify_payments", amount: 9999, status: "paid" }],
      totals: { total: 9999, tax: 2000, discounts: 0, shipping: 0 },
    });

    await run(createInvoice, order, { ...SETTINGS, invoiceState: "booked" });

    const body = mock.writes().find((w) => w.path === "/invoices")?.body as { invoice: { lines: unknown[] } };
    expect(body.invoice.lines).toEqual([
      { productId: "prod-default", description: "Pen", quantity: 3, unitPrice: 26.66, taxRateId: "tr-dk-25" },
      { productId: "prod-rounding", description: "Rounding difference", quantity: 1, unitPrice: 0.01, taxRateId: "tr-none" },
    ]);
    expect(mock.invoice("inv-3")).toMatchObject({ state: "approved", grossAmount: 99.99 });
  });

  it("predicts VAT per line by default, as Billy computes it, so lines whose VAT rounds up each need no rounding line", async () => {
    const mock = billy();
    // Three lines of 10.02 net: VAT per line is 3 × 2.51 = 7.53; once on the total it would be 7.52.
    const line = (id: string) => ({ id, title: "Sticker", quantity: 1, unitPrice: 1002, discount: 0, tax: 251, taxRateBp: 2500 });
    const order = danishOrder({
      pricesIncludeTax: false,
      lines: [line("l1"), line("l2"), line("l3")],
      shipping: [],
      payments: [{ gateway: "shopify_payments", amount: 3759, status: "paid" }],
      totals: { total: 3759, tax: 753, discounts: 0, shipping: 0 },
    });
    expect(SETTINGS).not.toHaveProperty("roundingBasis");

    await run(createInvoice, order, { ...SETTINGS, invoiceState: "booked" });

    const body = mock.writes().find((w) => w.path === "/invoices")?.body as {
      invoice: { lines: Array<{ description: string }> };
    };
    expect(body.invoice.lines.map((l) => l.description)).toEqual(["Sticker", "Sticker", "Sticker"]);
    expect(mock.invoice("inv-3")).toMatchObject({ state: "approved", grossAmount: 37.59, tax: 7.53 });
  });

  it("keeps a draft whose totals are off by more than the threshold and fails with both totals", async () => {
    const mock = billy();
    const order = danishOrder({ totals: { total: 26000, tax: 4960, discounts: 0, shipping: 4900 } });

    const error = await failure(run(createInvoice, order, { ...SETTINGS, invoiceState: "booked" }));

    expect(error.errorClass).toBe("validation");
    expect(error.code).toBe("invoice_totals_mismatch");
    expect(error.message).toBe(
      "The invoice would total 248.00 DKK but the customer paid 260.00 DKK: a difference of 12.00 DKK, above the threshold of 1.00 DKK.",
    );
    expect(error.details).toEqual({ draftId: "inv-3" });
    expect(mock.invoice("inv-3")?.state).toBe("draft");
    expect(mock.writes().map((w) => `${w.method} ${w.path}`)).toEqual(["POST /contacts", "POST /invoices"]);
  });

  it("approves the invoice when invoices are booked and its totals match", async () => {
    const mock = billy();

    const { result } = await run(createInvoice, danishOrder(), { ...SETTINGS, invoiceState: "booked" });

    expect(mock.writes().at(-1)).toMatchObject({
      method: "PUT",
      path: "/invoices/inv-3",
      body: { invoice: { state: "approved" } },
    });
    expect(result.outputs).toMatchObject({ state: "approved", invoiceNo: "1001" });
    expect(mock.invoice("inv-3")).toMatchObject({ state: "approved", isPaid: false, balance: 248 });
  });

  it("matches an existing contact by the e-mail of its contact person instead of creating one", async () => {
    const mock = billy({ contacts: [ANE_CONTACT], contactPersons: [ANE_PERSON] });

    const { result } = await run(createInvoice, danishOrder());

    expect(result.outputs).toMatchObject({ contactId: "con-ane", contactCreated: false });
    expect(mock.writes().map((w) => w.path)).toEqual(["/invoices"]);
    expect(mock.state.contacts).toHaveLength(1);
  });

  it("two orders of one new buyer at once make one contact: the creating step holds the buyer at the gate", async () => {
    const mock = billy();
    const message = { target: `con_exclusive_${crypto.randomUUID()}` } as StepMessage;
    const leaseUntil = Date.now() + 60_000;
    const step = (ticket: string, reference: string) =>
      run(createInvoice, danishOrder(), SETTINGS, {
        reference,
        exclusive: gateExclusive(env, message, ticket, leaseUntil, runtimeConfig(env)),
      });
    await Promise.all([step("ticket-a", "ref-a"), step("ticket-b", "ref-b")]);
    expect(mock.state.contacts).toHaveLength(1);
  });

  it("two orders with one new SKU at once make one product: the creating step holds the SKU at the gate", async () => {
    const mock = billy();
    const order = danishOrder({
      lines: [{ id: "l1", sku: "MUG-1", title: "Mug", quantity: 1, unitPrice: 19900, discount: 0, tax: 3980, taxRateBp: 2500 }],
    });
    const settings = { ...SETTINGS, createMissingProducts: true, newProducts: { accountId: "acc-sales" } };
    const message = { target: `con_exclusive_${crypto.randomUUID()}` } as StepMessage;
    const leaseUntil = Date.now() + 60_000;
    const step = (ticket: string, reference: string) =>
      run(createInvoice, order, settings, {
        reference,
        exclusive: gateExclusive(env, message, ticket, leaseUntil, runtimeConfig(env)),
      });

    const [a, b] = await Promise.all([step("ticket-a", "ref-a"), step("ticket-b", "ref-b")]);

    expect(mock.state.products.filter((p) => p.productNo === "MUG-1")).toHaveLength(1);
    expect([a.result.outputs.productsCreated, b.result.outputs.productsCreated]).toContainEqual(["MUG-1"]);
  });

  it("puts consumer orders on the shared contact and still matches a business by its VAT number", async () => {
    const meyer = { id: "con-meyer", type: "company", name: "Meyer GmbH", countryId: "DE", registrationNo: "DE123456789" };
    const mock = billy({ contacts: [{ id: "con-shop", type: "company", name: "Webshop customers", countryId: "DK" }, meyer] });
    const settings = { ...SETTINGS, customerMatch: "shared", sharedContactId: "con-shop" };

    const consumer = await run(createInvoice, danishOrder(), settings);
    const business = await run(createInvoice, germanBusinessOrder(), settings, { reference: "ref-b2b" });

    expect(consumer.result.outputs).toMatchObject({ contactId: "con-shop", contactCreated: false });
    expect(business.result.outputs).toMatchObject({ contactId: "con-meyer", contactCreated: false });
    expect(calls(mock).filter((c) => c.includes("/contact"))).toEqual(["GET /contacts?registrationNo=DE123456789"]);
    expect(mock.writes().map((w) => w.path)).toEqual(["/invoices", "/invoices"]);
  });

  it("finds products by SKU, falls back to the default product, or creates the product when asked", async () => {
    const order = danishOrder({
      lines: [
        { id: "l1", sku: "TS-1", title: "T-shirt", quantity: 1, unitPrice: 19900, discount: 0, tax: 3980, taxRateBp: 2500 },
        { id: "l2", sku: "MUG-1", title: "Mug", quantity: 2, unitPrice: 5000, discount: 0, tax: 2000, taxRateBp: 2500 },
        { id: "l3", title: "Gift wrap", quantity: 1, unitPrice: 1000, discount: 0, tax: 200, taxRateBp: 2500 },
      ],
      payments: [{ gateway: "shopify_payments", amount: 35800, status: "paid" }],
      totals: { total: 35800, tax: 7160, discounts: 0, shipping: 4900 },
    });
    const mock = billy();

    const fallback = await run(createInvoice, order);
    const created = await run(
      createInvoice,
      order,
      {
        ...SETTINGS,
        createMissingProducts: true,
        newProducts: { accountId: "acc-sales", salesTaxRulesetId: "rs-standard" },
      },
      { reference: "ref-create" },
    );

    const productIds = (n: number) => {
      const body = mock.writes().filter((w) => w.path === "/invoices")[n]?.body as {
        invoice: { lines: Array<{ productId: string }> };
      };
      return body.invoice.lines.map((l) => l.productId);
    };
    expect(productIds(0)).toEqual(["prod-ts1", "prod-default", "prod-default", "prod-shipping"]);
    expect(fallback.result.outputs.warnings).toEqual([
      'SKU "MUG-1" is not a Billy product; "Mug" is booked on the default product.',
    ]);
    expect(mock.writes().find((w) => w.path === "/products")?.body).toEqual({
      product: {
        name: "Mug",
        productNo: "MUG-1",
        accountId: "acc-sales",
        salesTaxRulesetId: "rs-standard",
        prices: [{ unitPrice: 40, currencyId: "DKK" }],
      },
    });
    const newId = mock.state.products.find((p) => p.productNo === "MUG-1")?.id;
    expect(productIds(1)).toEqual(["prod-ts1", newId, "prod-default", "prod-shipping"]);
    expect(created.result.outputs).toMatchObject({ productsCreated: ["MUG-1"], warnings: [] });
  });

  it("a re-run with the same reference adopts the invoice and writes nothing", async () => {
    const mock = billy();
    const first = await run(createInvoice, danishOrder());
    const writes = mock.writes().length;

    const second = await run(createInvoice, danishOrder());

    expect(second.result).toMatchObject({ externalId: first.result.externalId, created: false, outputs: { updated: false } });
    expect(mock.writes()).toHaveLength(writes);
    expect(second.mapped).toEqual([]);
    expect(mock.state.invoices).toHaveLength(1);
  });

  it("brings a draft up to date when the order changed before it was approved, without its entryDate", async () => {
    const mock = billy();
    await run(createInvoice, danishOrder());
    const changed = danishOrder({
      lines: [
        { id: "l1", sku: "TS-1", title: "T-shirt", quantity: 2, unitPrice: 19900, discount: 0, tax: 7960, taxRateBp: 2500 },
      ],
      totals: { total: 44700, tax: 8940, discounts: 0, shipping: 4900 },
    });

    const { result, mapped } = await run(createInvoice, changed);

    expect(mock.writes().at(-1)).toEqual({
      method: "PUT",
      path: "/invoices/inv-3",
      query: {},
      body: {
        invoice: {
          currencyId: "DKK",
          lines: [
            { productId: "prod-ts1", description: "T-shirt", quantity: 2, unitPrice: 159.2, taxRateId: "tr-dk-25" },
            { productId: "prod-shipping", description: "Standard shipping", quantity: 1, unitPrice: 39.2, taxRateId: "tr-dk-25" },
          ],
        },
      },
    });
    expect(mapped).toHaveLength(1);
    expect(result).toMatchObject({
      externalId: "inv-3",
      created: false,
      outputs: { updated: true, state: "draft", total: 44700 },
    });
    expect(mock.invoice("inv-3")).toMatchObject({ grossAmount: 447 });
    expect(mock.state.invoices).toHaveLength(1);
  });

  it("never touches an approved invoice and reports what the changed order would change", async () => {
    const mock = billy();
    await run(createInvoice, danishOrder(), { ...SETTINGS, invoiceState: "booked" });
    const writes = mock.writes().length;
    const mug = { id: "l2", title: "Mug", quantity: 1, unitPrice: 10000, discount: 0, tax: 2000, taxRateBp: 2500 };
    const changed = danishOrder({
      lines: [...danishOrder().lines, mug],
      totals: { total: 34800, tax: 6960, discounts: 0, shipping: 4900 },
    });

    const { result } = await run(createInvoice, changed, { ...SETTINGS, invoiceState: "booked" });

    expect(mock.writes()).toHaveLength(writes);
    expect(result).toMatchObject({
      externalId: "inv-3",
      created: false,
      outputs: {
        state: "approved",
        updated: false,
        differences: ["total: 248.00 DKK → 348.00 DKK", "VAT: 49.60 DKK → 69.60 DKK", "lines: 2 → 3"],
      },
    });
  });

  it("a write that succeeded but answered 500 is adopted on retry, with no second invoice or contact", async () => {
    const mock = billy();
    mock.failNext({ status: 500, method: "POST", path: /^\/invoices$/, afterEffect: true });

    const error = await failure(run(createInvoice, danishOrder()));
    expect(error.errorClass).toBe("unavailable");
    expect(error.retryable).toBe(true);

    const retry = await run(createInvoice, danishOrder());
    expect(retry.result).toMatchObject({ externalId: "inv-3", created: false });
    expect(mock.state.invoices).toHaveLength(1);
    expect(mock.state.contacts).toHaveLength(1);
  });

  it("an order without any name is refused before anything is written", async () => {
    const mock = billy();
    const order = orderSchema.parse({
      ...danishOrder(),
      customer: { email: "x@example.dk" },
      billingAddress: undefined,
      shippingAddress: undefined,
    });

    const error = await failure(run(createInvoice, order));

    expect(error.message).toMatch(/no customer name/);
    expect(mock.writes()).toEqual([]);
  });
});

describe("Billy errors", () => {
  it("a wrong access token is answered 401 and becomes an auth error", async () => {
    const mock = billy();

    const error = await failure(run(createInvoice, danishOrder(), SETTINGS, { credentials: { accessToken: "revoked" } }));

    expect(error.errorClass).toBe("auth");
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      "Billy refused the access token (The access token is invalid or revoked). Check the connection's credentials.",
    );
    expect(mock.state.invoices).toEqual([]);
  });

  it("a 429 with Retry-After becomes rate_limited with retryAfterSeconds", async () => {
    const mock = billy();
    mock.failNext({ status: 429, retryAfter: 7 });

    const error = await failure(run(createInvoice, danishOrder()));

    expect(error.errorClass).toBe("rate_limited");
    expect(error.retryAfterSeconds).toBe(7);
    expect(error.retryable).toBe(true);
  });

  it("a 503 becomes a retryable unavailable error", async () => {
    const mock = billy();
    mock.failNext({ status: 503, method: "POST", path: /^\/contacts$/ });

    const error = await failure(run(createInvoice, danishOrder()));

    expect(error.errorClass).toBe("unavailable");
    expect(error.retryable).toBe(true);
    expect(mock.state.invoices).toEqual([]);
  });

  it("a 422 from Billy becomes a permanent error naming the field", async () => {
    const mock = billy();

    const error = await failure(
      run(createInvoice, danishOrder(), { ...SETTINGS, products: { ...SETTINGS.products, shipping: "prod-gone" } }),
    );

    expect(error.errorClass).toBe("validation");
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      "Billy rejected POST /invoices: Validation failed: invoice.lines[1].productId no product prod-gone.",
    );
    expect(error.details).toMatchObject({ errorCode: "VALIDATION_ERROR", meta: { statusCode: 422 } });
    expect(mock.state.invoices).toEqual([]);
  });

  it("makes the invoice on its first attempt without searching for one under its reference; a later attempt adopts it", async () => {
    const mock = billy();

    const first = await run(createInvoice, danishOrder(), SETTINGS, { firstAttempt: true });
    expect(calls(mock)).toEqual([
      "GET /products?productNo=TS-1",
      "GET /contactPersons?email=ane%40example.dk",
      "POST /contacts",
      "POST /invoices",
    ]);
    // A retry (its answer lost, say) searches, and takes the invoice over instead of making another.
    const again = await run(createInvoice, danishOrder());
    expect(again.result).toMatchObject({ externalId: first.result.externalId, created: false });
    expect(mock.state.invoices).toHaveLength(1);
  });

  it("sends the organization id with lists and records when the connection names one", async () => {
    const mock = billy();

    await run(createInvoice, danishOrder(), SETTINGS, { connection: { organizationId: "org-1" } });

    expect(mock.requests[0]?.query).toEqual({ externalId: REFERENCE, organizationId: "org-1" });
    expect(mock.writes().map((w) => Object.values(w.body as object)[0].organizationId)).toEqual(["org-1", "org-1"]);
  });
});
