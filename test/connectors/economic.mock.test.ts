import { describe, expect, it } from "vitest";
import { createEconomicMock } from "../mocks/economic.mock";

const AUTH = { "x-appsecrettoken": "app-ok", "x-agreementgranttoken": "grant-ok" };

function call(mock: ReturnType<typeof createEconomicMock>, method: string, path: string, body?: unknown, headers = {}) {
  return mock.handle(
    new Request(`https://economic.test${path}`, {
      method,
      headers: { ...AUTH, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    }),
  );
}

const DRAFT = {
  date: "2025-11-03",
  currency: "DKK",
  customer: { customerNumber: 1 },
  layout: { layoutNumber: 19 },
  paymentTerms: { paymentTermsNumber: 1 },
  recipient: { name: "Ane Lund", vatZone: { vatZoneNumber: 1 } },
  lines: [{ lineNumber: 1, product: { productNumber: "1" }, description: "T-shirt", quantity: 1, unitNetPrice: 159.2 }],
};
const CUSTOMER = {
  customerNumber: 1,
  name: "Ane",
  currency: "DKK",
  customerGroup: { customerGroupNumber: 1 },
  paymentTerms: { paymentTermsNumber: 1 },
  vatZone: { vatZoneNumber: 1 },
};

describe("e-conomic mock", () => {
  it("answers 401 without both tokens and 415 for a write that is not JSON", async () => {
    const mock = createEconomicMock();
    const noGrant = await mock.handle(
      new Request("https://economic.test/customers", { headers: { "x-appsecrettoken": "app-ok" } }),
    );
    expect(noGrant.status).toBe(401);
    expect(await noGrant.json()).toMatchObject({ httpStatusCode: 401 });
    const text = await call(mock, "POST", "/customers", undefined, { "content-type": "text/plain" });
    expect(text.status).toBe(415);
  });

  it("rejects missing required fields, nulls, unknown customers and prices with three decimals in e-conomic's error shape", async () => {
    const mock = createEconomicMock({ customers: [CUSTOMER] });
    const response = await call(mock, "POST", "/invoices/drafts", {
      ...DRAFT,
      layout: undefined,
      customer: { customerNumber: 99 },
      notes: { heading: null },
      lines: [{ ...DRAFT.lines[0], unitNetPrice: 10.123 }, { product: { productNumber: "X" } }],
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ message: "Validation error.", httpStatusCode: 400 });
    expect(body.errors).toMatchObject({
      layout: { layoutNumber: { errors: [{ message: "layout.layoutNumber is required." }] } },
      customer: { errors: [{ errorCode: "E06000", message: "customer does not exist." }] },
      notes: { heading: { errors: [{ value: null }] } },
      lines: [
        { arrayIndex: 0, unitNetPrice: { errors: [{ errorCode: "E04740" }] } },
        { arrayIndex: 1, quantity: { errors: [{ errorCode: "E04730" }] }, description: { errors: [{}] } },
      ],
    });
    expect(mock.createdInvoiceCount()).toBe(0);
  });

  it("filters on documented properties only, with escapes, and pages the collection", async () => {
    const mock = createEconomicMock({ customers: [CUSTOMER, { ...CUSTOMER, customerNumber: 2, name: "A (B)" }] });
    const filter = (f: string) => call(mock, "GET", `/customers?filter=${encodeURIComponent(f)}`);

    const escaped = (await (await filter("name$eq:a $(b$)")).json()) as { collection: unknown[]; pagination: unknown };
    expect(escaped.collection).toMatchObject([{ customerNumber: 2 }]);
    expect(escaped.pagination).toMatchObject({ results: 1, resultsWithoutFilter: 2, pageSize: 20, skipPages: 0 });
    expect((await filter("name$eq:A (B)")).status).toBe(400);
    expect((await filter("mobilePhone$eq:1")).status).toBe(400);
    const page = (await (await call(mock, "GET", "/customers?skippages=1&pagesize=1")).json()) as { collection: unknown[] };
    expect(page.collection).toMatchObject([{ customerNumber: 2 }]);
  });

  it("books a draft into a booked invoice with the next number and removes the draft", async () => {
    const mock = createEconomicMock({ customers: [CUSTOMER] });
    const draft = (await (await call(mock, "POST", "/invoices/drafts", DRAFT)).json()) as { draftInvoiceNumber: number };
    const booked = await call(mock, "POST", "/invoices/booked", {
      draftInvoice: { draftInvoiceNumber: draft.draftInvoiceNumber },
    });
    expect(booked.status).toBe(201);
    expect(await booked.json()).toMatchObject({ bookedInvoiceNumber: 1, currency: "DKK" });
    expect(mock.state.drafts).toEqual([]);
    const again = await call(mock, "POST", "/invoices/booked", {
      draftInvoice: { draftInvoiceNumber: draft.draftInvoiceNumber },
    });
    expect(again.status).toBe(400);
  });

  it("injects faults before or after the write", async () => {
    const mock = createEconomicMock();
    mock.failNext({ status: 429, retryAfter: 3, times: 2 });
    expect((await call(mock, "GET", "/customers")).headers.get("retry-after")).toBe("3");
    expect((await call(mock, "GET", "/customers")).status).toBe(429);
    expect((await call(mock, "GET", "/customers")).status).toBe(200);
    mock.failNext({ status: 500, method: "POST", path: /^\/customers$/, afterEffect: true });
    const { customerNumber: _n, ...fields } = CUSTOMER;
    expect((await call(mock, "POST", "/customers", fields)).status).toBe(500);
    expect(mock.state.customers).toHaveLength(1);
  });
  it("refuses lines whose product does not exist, and products without an existing group", async () => {
    const mock = createEconomicMock({ customers: [CUSTOMER] });
    const draft = await call(mock, "POST", "/invoices/drafts", {
      ...DRAFT,
      lines: [{ ...DRAFT.lines[0], product: { productNumber: "NOPE" } }],
    });
    expect(draft.status).toBe(400);
    expect(((await draft.json()) as { errors: unknown }).errors).toMatchObject({
      lines: [{ arrayIndex: 0, product: { errors: [{ errorCode: "E06000", message: "product does not exist." }] } }],
    });
    expect((await call(mock, "GET", "/products/NOPE")).status).toBe(404);
    const product = { productNumber: "NOPE", name: "Nope", productGroup: { productGroupNumber: 99 } };
    expect((await call(mock, "POST", "/products", product)).status).toBe(400);
    expect((await call(mock, "POST", "/products", { ...product, productGroup: { productGroupNumber: 1 } })).status).toBe(201);
    expect(await (await call(mock, "GET", "/products/NOPE")).json()).toMatchObject({ productNumber: "NOPE", barred: false });
    expect((await call(mock, "POST", "/products", { ...product, productGroup: { productGroupNumber: 1 } })).status).toBe(400);
  });

  it("finds a product only under e-conomic's self-link escaping of its number, as the real API does", async () => {
    const mock = createEconomicMock({
      products: [
        { productNumber: "My Awesome Product_Discount5%", name: "Doc example", productGroup: { productGroupNumber: 1 } },
        { productNumber: "Æble/2.5", name: "Apple", productGroup: { productGroupNumber: 1 } },
      ],
    });
    // The documentation's own example.
    expect((await call(mock, "GET", "/products/My_9_Awesome_9_Product_8_Discount5_3_")).status).toBe(200);
    expect(await (await call(mock, "GET", "/products/%C3%86ble_6_2_11_5")).json()).toMatchObject({ productNumber: "Æble/2.5" });
    expect((await call(mock, "GET", "/products/%C3%86ble%2F2.5")).status).toBe(404);
    expect((await call(mock, "GET", "/products/My%20Awesome%20Product_Discount5%25")).status).toBe(404);
    const made = await call(mock, "POST", "/products", {
      productNumber: "A+B #1",
      name: "A and B",
      productGroup: { productGroupNumber: 1 },
    });
    expect(await made.json()).toMatchObject({ self: "https://restapi.e-conomic.com/products/A_13_B_9__12_1" });
  });

  it("replaces a draft with PUT, deletes it with DELETE, and computes VAT from the product group and zone", async () => {
    const mock = createEconomicMock({ customers: [CUSTOMER] });
    await call(mock, "POST", "/invoices/drafts", DRAFT);
    expect(mock.state.drafts[0]).toMatchObject({ netAmount: 159.2, vatAmount: 39.8, grossAmount: 199 });
    const abroad = { ...DRAFT, recipient: { name: "Kim", vatZone: { vatZoneNumber: 3 } } };
    expect((await call(mock, "PUT", "/invoices/drafts/1", abroad)).status).toBe(200);
    expect(mock.state.drafts[0]).toMatchObject({ draftInvoiceNumber: 1, vatAmount: 0, grossAmount: 159.2 });
    expect((await call(mock, "PUT", "/invoices/drafts/1", { ...abroad, layout: undefined })).status).toBe(400);
    const deleted = await call(mock, "DELETE", "/invoices/drafts/1", undefined, { "content-type": "application/json" });
    expect(await deleted.json()).toMatchObject({ deletedCount: 1, deletedItems: [{ draftInvoiceNumber: 1 }] });
    expect((await call(mock, "DELETE", "/invoices/drafts/1", undefined, { "content-type": "application/json" })).status).toBe(
      404,
    );
  });

  it("serves a booked invoice's PDF as bytes", async () => {
    const mock = createEconomicMock({ customers: [CUSTOMER] });
    await call(mock, "POST", "/invoices/drafts", DRAFT);
    const booked = (await (
      await call(mock, "POST", "/invoices/booked", { draftInvoice: { draftInvoiceNumber: 1 } })
    ).json()) as Record<string, unknown>;
    expect(booked).toMatchObject({ remainder: 199, pdf: { download: "https://restapi.e-conomic.com/invoices/booked/1/pdf" } });
    const pdf = await call(mock, "GET", "/invoices/booked/1/pdf");
    expect(pdf.headers.get("content-type")).toBe("application/pdf");
    expect((await pdf.text()).startsWith("%PDF-")).toBe(true);
    expect((await call(mock, "GET", "/invoices/booked/2/pdf")).status).toBe(404);
  });

  it("keeps draft orders with their upgrade instructions and deletes them with 204, then 404", async () => {
    const mock = createEconomicMock({ customers: [CUSTOMER] });
    const created = await call(mock, "POST", "/orders/drafts", { ...DRAFT, references: { other: "ref-1" } });
    expect(await created.json()).toMatchObject({ orderNumber: 1, grossAmount: 199 });
    const found = (await (
      await call(mock, "GET", `/orders/drafts?filter=${encodeURIComponent("references.other$eq:ref-1")}`)
    ).json()) as {
      collection: unknown[];
    };
    expect(found.collection).toHaveLength(1);
    const template = await (await call(mock, "GET", "/orders/drafts/1/templates/upgrade-instructions/draftInvoice")).json();
    expect(template).toEqual({ draftInvoice: { ...DRAFT, references: { other: "ref-1" } } });
    expect((await call(mock, "DELETE", "/orders/drafts/1", undefined, { "content-type": "application/json" })).status).toBe(204);
    expect((await call(mock, "DELETE", "/orders/drafts/1", undefined, { "content-type": "application/json" })).status).toBe(404);
  });

  it("checks customer payment vouchers against the accounting year, customer and amount", async () => {
    const mock = createEconomicMock({ customers: [CUSTOMER] });
    const payment = {
      customer: { customerNumber: 1 },
      amount: -199,
      contraAccount: { accountNumber: 5820 },
      date: "2025-11-03",
      text: "x",
    };
    const voucher = (entry: object, year = "2025") => ({
      accountingYear: { year },
      journal: { journalNumber: 1 },
      entries: { customerPayments: [entry] },
    });
    const bad = await call(
      mock,
      "POST",
      "/journals/1/vouchers",
      voucher({ ...payment, customer: { customerNumber: 9 }, amount: 1.234, date: "2024-12-31" }),
    );
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: unknown }).errors).toMatchObject({
      entries: {
        customerPayments: [
          { arrayIndex: 0, amount: { errors: [{ errorCode: "E04740" }] }, customer: { errors: [{}] }, date: { errors: [{}] } },
        ],
      },
    });
    expect((await call(mock, "POST", "/journals/1/vouchers", voucher(payment, "1999"))).status).toBe(400);
    expect((await call(mock, "POST", "/journals/2/vouchers", voucher(payment))).status).toBe(404);
    const made = await call(mock, "POST", "/journals/1/vouchers", voucher(payment));
    expect(made.status).toBe(201);
    expect(await made.json()).toMatchObject([{ voucherNumber: 1, accountingYear: { year: "2025" } }]);
    const listed = (await (await call(mock, "GET", "/journals/1/vouchers")).json()) as { collection: unknown[] };
    expect(listed.collection).toHaveLength(1);
    expect((await call(mock, "GET", `/journals/1/vouchers?filter=${encodeURIComponent("text$eq:x")}`)).status).toBe(400);
    const years = (await (await call(mock, "GET", "/accounting-years")).json()) as { collection: Array<{ year: string }> };
    expect(years.collection.map((y) => y.year)).toContain("2025");
  });
});
