import { describe, expect, it, vi } from "vitest";
import { type BillyMock, createBillyMock, installBillyMock } from "../mocks/billy.mock";

const HEADERS = { "x-access-token": "billy-token" };

function call(mock: BillyMock, method: string, path: string, body?: unknown, headers: Record<string, string> = HEADERS) {
  return mock.handle(
    new Request(`https://billy.test${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    }),
  );
}

const seeded = () =>
  createBillyMock({
    contacts: [{ id: "con-a", type: "person", name: "Ane", countryId: "DK" }],
    contactPersons: [{ id: "cp-a", contactId: "con-a", name: "Ane", email: "ane@example.dk" }],
    products: [{ id: "prod-a", name: "T-shirt", productNo: "TS-1" }],
  });

const INVOICE = {
  contactId: "con-a",
  entryDate: "2026-03-02",
  currencyId: "DKK",
  taxMode: "excl",
  lines: [{ productId: "prod-a", quantity: 2, unitPrice: 100, taxRateId: "tr-dk-25" }],
};

describe("Billy mock", () => {
  it("answers 401 without the access token or with a wrong one, in Billy's error shape", async () => {
    const mock = seeded();
    const missing = await call(mock, "GET", "/invoices", undefined, {});
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({
      errorCode: "AUTHENTICATION_REQUIRED",
      meta: { statusCode: 401, success: false },
    });
    const wrong = await call(mock, "GET", "/invoices", undefined, { "x-access-token": "nope" });
    expect(await wrong.json()).toMatchObject({ errorCode: "OAUTH_INVALID_ACCESS_TOKEN" });
  });

  it("wants one record wrapped in its singular name", async () => {
    const mock = seeded();
    expect((await call(mock, "POST", "/invoices", INVOICE)).status).toBe(400);
    expect((await call(mock, "POST", "/invoices", { invoice: INVOICE, extra: 1 })).status).toBe(400);
    expect((await call(mock, "POST", "/invoices", "{not json")).status).toBe(400);
  });

  it("rejects missing and mistyped properties, unknown ones and unknown ids with 422", async () => {
    const mock = seeded();
    const response = await call(mock, "POST", "/invoices", {
      invoice: {
        ...INVOICE,
        entryDate: "02-03-2026",
        currencyId: undefined,
        reference: "x",
        lines: [{ productId: "prod-x", quantity: "2", unitPrice: 100, taxRateId: "tr-x" }, { quantity: 1 }],
      },
    });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { errorCode: string; validationErrors: Array<{ property: string }> };
    expect(body.errorCode).toBe("VALIDATION_ERROR");
    expect(body.validationErrors.map((p) => p.property)).toEqual([
      "invoice.reference",
      "invoice.entryDate",
      "invoice.currencyId",
      "invoice.lines[0].quantity",
      "invoice.lines[1].productId",
      "invoice.lines[1].unitPrice",
      "invoice.lines[0].productId",
      "invoice.lines[0].taxRateId",
    ]);
    expect(mock.state.invoices).toEqual([]);
  });

  it("lists the changed records by plural name, computes amounts, and approves one way only", async () => {
    const mock = seeded();
    const created = (await (await call(mock, "POST", "/invoices", { invoice: INVOICE })).json()) as {
      invoices: Array<{ id: string }>;
      invoiceLines: unknown[];
    };
    const id = created.invoices[0]?.id as string;
    expect(created.invoiceLines).toHaveLength(1);
    expect(mock.invoice(id)).toMatchObject({ state: "draft", amount: 200, tax: 50, grossAmount: 250, invoiceNo: null });

    const approved = await call(mock, "PUT", `/invoices/${id}`, { invoice: { state: "approved" } });
    expect(await approved.json()).toMatchObject({ invoices: [{ id, state: "approved", invoiceNo: "1001" }] });
    expect((await call(mock, "PUT", `/invoices/${id}`, { invoice: { state: "draft" } })).status).toBe(422);
    const edit = await call(mock, "PUT", `/invoices/${id}`, { invoice: { lines: INVOICE.lines } });
    expect(edit.status).toBe(422);
    expect(await edit.json()).toMatchObject({ errorCode: "INVOICE_APPROVED" });

    const read = await call(mock, "GET", `/invoices/${id}?include=invoice.lines:embed`);
    expect(await read.json()).toMatchObject({ invoice: { id, lines: [{ productId: "prod-a", amount: 200, tax: 50 }] } });
  });

  it("filters lists only by the filters it knows", async () => {
    const mock = seeded();
    const found = await call(mock, "GET", "/contactPersons?email=ANE@example.dk");
    expect(await found.json()).toMatchObject({ contactPersons: [{ id: "cp-a" }], meta: { paging: { total: 1 } } });
    const none = await call(mock, "GET", "/products?productNo=TS-2");
    expect(await none.json()).toMatchObject({ products: [] });
    expect((await call(mock, "GET", "/contacts?email=ane@example.dk")).status).toBe(400);
    expect((await call(mock, "GET", "/invoices/nope")).status).toBe(404);
  });

  it("pages lists as Billy documents, and lists every record for a filter it is told to ignore", async () => {
    const products = Array.from({ length: 2_500 }, (_, i) => ({ id: `prod-${i}`, name: `P ${i}`, productNo: `P-${i}` }));
    const mock = createBillyMock({ products, ignoredFilters: ["products.productNo"] });

    const first = (await (await call(mock, "GET", "/products?productNo=P-2400")).json()) as Record<string, unknown>;
    expect(first.meta).toEqual({
      paging: {
        page: 1,
        pageCount: 3,
        pageSize: 1000,
        total: 2500,
        firstUrl: "https://billy.test/products?productNo=P-2400&pageSize=1000",
        nextUrl: "https://billy.test/products?productNo=P-2400&page=2&pageSize=1000",
        lastUrl: "https://billy.test/products?productNo=P-2400&page=3&pageSize=1000",
      },
    });
    expect(first.products).toHaveLength(1000);
    const last = (await (await call(mock, "GET", "/products?productNo=P-2400&page=3")).json()) as {
      meta: { paging: Record<string, unknown> };
      products: Array<{ id: string }>;
    };
    expect(last.meta.paging).toMatchObject({ page: 3, previousUrl: expect.stringContaining("page=2") });
    expect(last.meta.paging).not.toHaveProperty("nextUrl");
    expect(last.products.map((p) => p.id)).toContain("prod-2400");
    expect((await call(mock, "GET", "/products?pageSize=1001")).status).toBe(400);

    const applied = createBillyMock({ products });
    expect(await (await call(applied, "GET", "/products?productNo=P-2400")).json()).toMatchObject({
      products: [{ id: "prod-2400" }],
      meta: { paging: { pageCount: 1, total: 1 } },
    });
  });

  it("refuses entryDate and invoiceNo on a PUT: Billy's docs say they must not be set once the invoice exists", async () => {
    const mock = seeded();
    const { invoices } = (await (await call(mock, "POST", "/invoices", { invoice: INVOICE })).json()) as {
      invoices: Array<{ id: string }>;
    };
    const id = invoices[0]?.id as string;

    const dated = await call(mock, "PUT", `/invoices/${id}`, { invoice: { entryDate: "2026-03-03", lines: INVOICE.lines } });
    expect(dated.status).toBe(422);
    expect(await dated.json()).toMatchObject({ validationErrors: [{ property: "invoice.entryDate" }] });
    expect((await call(mock, "PUT", `/invoices/${id}`, { invoice: { invoiceNo: "7" } })).status).toBe(422);
    expect((await call(mock, "PUT", `/invoices/${id}`, { invoice: { currencyId: "DKK", lines: INVOICE.lines } })).status).toBe(
      200,
    );
  });

  it("puts a product's tax rate on its lines when told Billy takes it from the product", async () => {
    const mock = createBillyMock({
      products: [{ id: "prod-a", name: "T-shirt", productNo: "TS-1" }],
      contacts: [{ id: "con-a", type: "person", name: "Ane", countryId: "DK" }],
      taxRateFromProduct: { "prod-a": "tr-export" },
    });
    const created = (await (await call(mock, "POST", "/invoices", { invoice: INVOICE })).json()) as {
      invoices: Array<{ id: string; tax: number }>;
      invoiceLines: Array<{ taxRateId: string }>;
    };
    expect(created.invoiceLines.map((l) => l.taxRateId)).toEqual(["tr-export"]);
    expect(created.invoices[0]?.tax).toBe(0);
  });

  it("settles an approved invoice with bank payments and refuses payments on drafts", async () => {
    const mock = seeded();
    const { invoices } = (await (await call(mock, "POST", "/invoices", { invoice: INVOICE })).json()) as {
      invoices: Array<{ id: string }>;
    };
    const id = invoices[0]?.id as string;
    const payment = (amount: number) => ({
      bankPayment: {
        entryDate: "2026-03-02",
        cashAmount: amount,
        cashSide: "debit",
        cashAccountId: "acc-bank",
        associations: [{ subjectReference: `invoice:${id}` }],
      },
    });
    expect((await call(mock, "POST", "/bankPayments", payment(250))).status).toBe(422);
    await call(mock, "PUT", `/invoices/${id}`, { invoice: { state: "approved" } });
    await call(mock, "POST", "/bankPayments", payment(100));
    expect(mock.invoice(id)).toMatchObject({ balance: 150, isPaid: false });
    await call(mock, "POST", "/bankPayments", payment(150));
    expect(mock.invoice(id)).toMatchObject({ balance: 0, isPaid: true });
    const view = await call(mock, "GET", `/invoices/${id}?include=invoice.balanceModifiers:embed`);
    expect(await view.json()).toMatchObject({ invoice: { balanceModifiers: [{ amount: -100 }, { amount: -150 }] } });
    expect(
      (await call(mock, "POST", "/bankPayments", { bankPayment: { ...payment(1).bankPayment, cashAccountId: "acc-x" } })).status,
    ).toBe(422);
  });

  it("sends e-mails of approved invoices to a person of the invoice's contact and marks them sent", async () => {
    const mock = seeded();
    const { invoices } = (await (
      await call(mock, "POST", "/invoices", { invoice: { ...INVOICE, state: "approved" } })
    ).json()) as {
      invoices: Array<{ id: string }>;
    };
    const id = invoices[0]?.id as string;
    const email = { contactPersonId: "cp-a", emailSubject: "Invoice", emailBody: "Hello" };
    expect((await call(mock, "POST", `/invoices/${id}/emails`, { email: { ...email, contactPersonId: "cp-x" } })).status).toBe(
      422,
    );
    expect((await call(mock, "POST", `/invoices/${id}/emails`, { email })).status).toBe(200);
    expect(mock.invoice(id)).toMatchObject({ sentState: "sent" });
    expect(mock.state.emails).toHaveLength(1);
  });

  it("fails the next matching requests on demand", async () => {
    const mock = seeded();
    mock.failNext({ status: 429, retryAfter: 3, times: 2, method: "GET" });
    const first = await call(mock, "GET", "/invoices");
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("3");
    expect((await call(mock, "GET", "/invoices")).status).toBe(429);
    expect((await call(mock, "GET", "/invoices")).status).toBe(200);
  });

  it("composes with a fetch spy installed before it and fails on URLs nobody owns", async () => {
    const other = vi.fn(async () => new Response("other vendor"));
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(other);
    const mock = seeded();
    const installed = installBillyMock(mock, "https://billy.test/v2");

    const billy = await fetch("https://billy.test/v2/products?productNo=TS-1", { headers: HEADERS });
    const elsewhere = await fetch("https://economic.test/customers");

    expect(await billy.json()).toMatchObject({ products: [{ id: "prod-a" }] });
    expect(await elsewhere.text()).toBe("other vendor");
    expect(mock.requests.map((r) => r.path)).toEqual(["/products"]);
    installed.restore();
    expect(spy.getMockImplementation()).toBe(other);
    spy.mockRestore();

    const alone = createBillyMock();
    const lone = installBillyMock(alone);
    await expect(fetch("https://example.com/")).rejects.toThrow(/test network is closed/);
    expect(lone.unexpected).toEqual(["GET https://example.com/"]);
    lone.unexpected.length = 0;
  });
});
