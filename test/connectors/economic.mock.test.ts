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
  lines: [{ lineNumber: 1, product: { productNumber: "TS-1" }, description: "T-shirt", quantity: 1, unitNetPrice: 159.2 }],
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
});
