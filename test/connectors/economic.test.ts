import { describe, expect, it } from "vitest";
import { bookInvoice, createInvoice, economicConnectionSettings } from "../../src/connectors/economic";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { ANE, calls, danishOrder, failure, REFERENCE, run, TS1, writes } from "../mocks/economic.mock.fixtures";

describe("e-conomic createInvoice", () => {
  it("creates the customer then a domestic B2C draft with net lines, VAT left to the product and the domestic zone", async () => {
    const mock = createEconomicMock({ products: [TS1] });
    installEconomicMock(mock);

    const { result, mapped } = await run(createInvoice, danishOrder());

    expect(result).toEqual({
      externalId: "1",
      created: true,
      outputs: {
        draftInvoiceNumber: 1,
        customerNumber: 1,
        customerCreated: true,
        reference: REFERENCE,
        total: "248.00",
        currency: "DKK",
        vatCase: "domestic",
        warnings: [],
      },
    });
    expect(calls(mock)).toEqual([
      `GET /invoices/drafts?filter=references.other$eq:${REFERENCE}&skippages=0&pagesize=1000`,
      `GET /invoices/booked?filter=references.other$eq:${REFERENCE}&skippages=0&pagesize=1000`,
      "GET /products/TS-1",
      "GET /customers?filter=email$eq:ane@example.dk",
      "POST /customers",
      "POST /invoices/drafts",
    ]);
    const [customerPost, draftPost] = writes(mock);
    expect(customerPost?.body).toEqual({
      email: "ane@example.dk",
      name: "Ane Lund",
      currency: "DKK",
      customerGroup: { customerGroupNumber: 1 },
      paymentTerms: { paymentTermsNumber: 1 },
      vatZone: { vatZoneNumber: 1 },
      telephoneAndFaxNumber: "+4512345678",
      address: "Vestergade 1",
      zip: "8000",
      city: "Aarhus",
      country: "Denmark",
    });
    const expectedDraft = {
      date: "2025-11-03",
      currency: "DKK",
      customer: { customerNumber: 1 },
      layout: { layoutNumber: 19 },
      paymentTerms: { paymentTermsNumber: 1 },
      recipient: {
        name: "Ane Lund",
        address: "Vestergade 1",
        zip: "8000",
        city: "Aarhus",
        country: "Denmark",
        vatZone: { vatZoneNumber: 1 },
      },
      references: { other: REFERENCE },
      lines: [
        { lineNumber: 1, product: { productNumber: "TS-1" }, description: "T-shirt", quantity: 1, unitNetPrice: 159.2 },
        {
          lineNumber: 2,
          product: { productNumber: "shipping" },
          description: "Standard shipping",
          quantity: 1,
          unitNetPrice: 39.2,
        },
      ],
    };
    expect(draftPost?.body).toEqual(expectedDraft);
    expect(mapped).toEqual([{ document: expect.objectContaining({ type: "invoice", currency: "DKK" }), draft: expectedDraft }]);
    // e-conomic adds the VAT from the product group (25%) in the domestic zone: what the customer paid.
    expect(mock.state.drafts[0]).toMatchObject({ netAmount: 198.4, vatAmount: 49.6, grossAmount: 248 });
  });

  it("matches an existing customer by email instead of creating one", async () => {
    const mock = createEconomicMock({ customers: [ANE] });
    installEconomicMock(mock);

    const { result } = await run(createInvoice, danishOrder());

    expect(result.outputs).toMatchObject({ customerNumber: 42, customerCreated: false });
    expect(writes(mock).map((r) => r.path)).toEqual(["/invoices/drafts"]);
    expect(mock.state.drafts[0]?.customer).toEqual({ customerNumber: 42 });
    expect(mock.state.customers).toHaveLength(1);
  });

  it("escapes filter characters when it matches a customer by name", async () => {
    const company = "Lund & Søn (ApS) $, [DK]*";
    const mock = createEconomicMock({ customers: [{ ...ANE, name: company, email: "other@example.dk" }] });
    installEconomicMock(mock);
    const order = danishOrder({ customer: { company, email: "ane@example.dk" } });

    const { result } = await run(createInvoice, order, { customerMatch: "name" });

    expect(mock.state.requests.find((r) => r.path === "/customers")?.query).toBe(
      "filter=name$eq:Lund & Søn $(ApS$) $$$, $[DK$]$*",
    );
    expect(result.outputs).toMatchObject({ customerNumber: 42, customerCreated: false });
  });

  it("a second run with the same reference updates the draft in place and creates nothing", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);

    const first = await run(createInvoice, danishOrder());
    const second = await run(createInvoice, danishOrder());

    expect(second.result).toMatchObject({
      externalId: first.result.externalId,
      created: false,
      outputs: { draftInvoiceNumber: 1, customerNumber: 1, customerCreated: false, reference: REFERENCE, updated: true },
    });
    expect(writes(mock).map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /customers",
      "POST /invoices/drafts",
      "PUT /invoices/drafts/1",
    ]);
    expect(mock.createdInvoiceCount()).toBe(1);
  });

  it("a write that succeeded but answered 500 is adopted on retry", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    mock.failNext({ status: 500, method: "POST", path: /^\/invoices\/drafts$/, afterEffect: true });

    const error = await failure(run(createInvoice, danishOrder()));
    expect(error.errorClass).toBe("unavailable");
    expect(error.retryable).toBe(true);
    expect(mock.state.drafts).toHaveLength(1);

    const retry = await run(createInvoice, danishOrder());
    expect(retry.result).toMatchObject({ externalId: "1", created: false });
    expect(mock.createdInvoiceCount()).toBe(1);
    expect(mock.state.customers).toHaveLength(1);
  });

  it("wrong tokens are answered 401 and become an auth error", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);

    const error = await failure(
      run(createInvoice, danishOrder(), {}, { credentials: { appSecretToken: "app-ok", agreementGrantToken: "revoked" } }),
    );

    expect(error.errorClass).toBe("auth");
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/credentials/);
    expect(mock.createdInvoiceCount()).toBe(0);
  });

  it("a 429 with Retry-After becomes rate_limited with retryAfterSeconds", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    mock.failNext({ status: 429, retryAfter: 7 });

    const error = await failure(run(createInvoice, danishOrder()));

    expect(error.errorClass).toBe("rate_limited");
    expect(error.retryAfterSeconds).toBe(7);
    expect(error.retryable).toBe(true);
  });

  it("a 503 becomes a retryable unavailable error", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    mock.failNext({ status: 503, path: /^\/customers$/ });

    const error = await failure(run(createInvoice, danishOrder()));

    expect(error.errorClass).toBe("unavailable");
    expect(error.retryable).toBe(true);
    expect(mock.createdInvoiceCount()).toBe(0);
  });

  it("a 400 validation error becomes a permanent error whose message names the field", async () => {
    const mock = createEconomicMock({ customers: [ANE] });
    installEconomicMock(mock);
    const order = danishOrder();
    const line = order.lines[0]!;
    const long = danishOrder({ lines: [{ ...line, title: "T".repeat(2501) }] });

    const error = await failure(run(createInvoice, long));

    expect(error.errorClass).toBe("validation");
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/lines\[0\]\.description: description is longer than 2500 characters/);
    expect(error.details).toMatchObject({ httpStatusCode: 400, errors: { lines: [{ arrayIndex: 0 }] } });
  });

  it("an order without any customer name is refused before anything is created", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = danishOrder({ customer: { email: "ane@example.dk" }, billingAddress: undefined, shippingAddress: undefined });

    const error = await failure(run(createInvoice, order));

    expect(error.errorClass).toBe("validation");
    expect(error.message).toMatch(/no customer name/);
    expect(writes(mock)).toEqual([]);
  });

  it("an EU business gets the EU VAT zone, a US buyer the abroad zone", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const abroad = (country: string, email: string) =>
      danishOrder({
        customer: { email, firstName: "Kim", lastName: "Meyer", ...(country === "DE" ? { vatNumber: "DE123456789" } : {}) },
        billingAddress: { name: "Kim Meyer", line1: "Hauptstraße 5", postcode: "10115", city: "Berlin", country },
        shippingAddress: { name: "Kim Meyer", line1: "Hauptstraße 5", postcode: "10115", city: "Berlin", country },
      });

    // These orders carry Danish VAT that a zero-rated sale does not book, so e-conomic's own total
    // differs and each step fails with its draft written; the zone is what is tested here.
    const lenient = { centsThreshold: "1000.00" };
    for (const [country, email] of [
      ["DE", "kim@example.de"],
      ["US", "kim@example.com"],
    ] as const) {
      const error = await failure(run(createInvoice, abroad(country, email), lenient, { reference: `ref-${country}` }));
      expect(error.code).toBe("invoice_totals_mismatch");
    }

    expect(mock.state.customers.map((c) => [c.country, c.vatZone])).toEqual([
      ["Germany", { vatZoneNumber: 2 }],
      ["United States", { vatZoneNumber: 3 }],
    ]);
    expect(mock.state.drafts.map((d) => (d.recipient as { vatZone: unknown }).vatZone)).toEqual([
      { vatZoneNumber: 2 },
      { vatZoneNumber: 3 },
    ]);
  });

  it("an EU business charged no VAT gets a mismatch only when e-conomic's own total differs from what was paid", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = danishOrder({
      customer: { email: "kim@example.de", firstName: "Kim", lastName: "Meyer", vatNumber: "DE123456789" },
      billingAddress: { name: "Kim Meyer", line1: "Hauptstraße 5", postcode: "10115", city: "Berlin", country: "DE" },
      shippingAddress: { name: "Kim Meyer", line1: "Hauptstraße 5", postcode: "10115", city: "Berlin", country: "DE" },
    });
    // The order charged 25 % VAT; booked in the EU zone e-conomic computes none: the draft stays.
    const error = await failure(run(createInvoice, order, { invoiceState: "booked" }));
    expect(error.code).toBe("invoice_totals_mismatch");
    expect(error.message).toMatch(/e-conomic computed the invoice at .* but the customer paid .*left as e-conomic draft/);
    expect(mock.state.booked).toHaveLength(0);
  });

  it("a total one cent off e-conomic's own is not booked: the rounding line already made the expected total exact", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    // Three lines of 10.02 net: VAT rounded per line is 3 × 2.51 = 7.53, e-conomic's on the total 7.52.
    const line = (id: string) => ({ id, title: "Sticker", quantity: 1, unitPrice: 1002, discount: 0, tax: 251, taxRateBp: 2500 });
    const order = danishOrder({
      pricesIncludeTax: false,
      lines: [line("l1"), line("l2"), line("l3")],
      shipping: [],
      payments: [{ gateway: "shopify_payments", amount: 3759, status: "paid" }],
      totals: { total: 3759, tax: 753, discounts: 0, shipping: 0 },
    });

    // A step set to round per line predicts 37.59, what was paid; e-conomic computes 37.58.
    const error = await failure(run(createInvoice, order, { invoiceState: "booked", roundingBasis: "line" }));

    expect(error.code).toBe("invoice_totals_mismatch");
    expect(error.message).toBe(
      "e-conomic computed the invoice at 37.58 DKK but the customer paid 37.59 DKK; check the VAT zones, the products' VAT settings and the step's roundingBasis (e-conomic must round VAT as it says). The invoice was left as e-conomic draft 1.",
    );
    expect(mock.state.booked).toHaveLength(0);
  });

  it("an EU consumer charged home VAT (no OSS) is booked in the domestic zone, where e-conomic books that VAT", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = danishOrder({
      billingAddress: { name: "Kim Meyer", line1: "Hauptstraße 5", postcode: "10115", city: "Berlin", country: "DE" },
      shippingAddress: { name: "Kim Meyer", line1: "Hauptstraße 5", postcode: "10115", city: "Berlin", country: "DE" },
    });
    await run(createInvoice, order);
    expect((mock.state.drafts[0]!.recipient as { vatZone: unknown }).vatZone).toEqual({ vatZoneNumber: 1 });
  });

  it("honours the connection's baseUrl", async () => {
    const mock = createEconomicMock();
    const { spy } = installEconomicMock(mock, "https://sandbox.example/e-conomic");

    const { result } = await run(createInvoice, danishOrder(), {}, { baseUrl: "https://sandbox.example/e-conomic/" });

    expect(result.created).toBe(true);
    expect(spy.mock.calls.map(([input]) => String(input)).every((u) => u.startsWith("https://sandbox.example/e-conomic/"))).toBe(
      true,
    );
    expect(economicConnectionSettings.parse({}).baseUrl).toBe("https://restapi.e-conomic.com");
  });
});

describe("e-conomic bookInvoice", () => {
  it("books the draft from the previous step and adopts on a re-run", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const created = await run(createInvoice, danishOrder());

    const booked = await run(bookInvoice, danishOrder(), {}, { previous: [created.result], reference: "ref-book" });
    expect(booked.result).toEqual({
      externalId: "1",
      created: true,
      outputs: { bookedInvoiceNumber: 1, draftInvoiceNumber: 1 },
    });
    expect(booked.mapped).toEqual([{ draftInvoice: { draftInvoiceNumber: 1 } }]);
    expect(mock.state.drafts).toEqual([]);
    expect(mock.state.booked[0]?.references).toEqual({ other: REFERENCE });

    const rerun = await run(bookInvoice, danishOrder(), {}, { previous: [created.result], reference: "ref-book" });
    expect(rerun.result).toMatchObject({ externalId: "1", created: false });
    expect(mock.state.requests.filter((r) => r.method === "POST" && r.path === "/invoices/booked")).toHaveLength(1);
  });

  it("a re-run of the whole flow after booking adopts the booked invoice in both steps", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const created = await run(createInvoice, danishOrder());
    await run(bookInvoice, danishOrder(), {}, { previous: [created.result] });
    const postsBefore = writes(mock).length;

    const again = await run(createInvoice, danishOrder());
    expect(again.result).toMatchObject({
      externalId: "1",
      created: false,
      outputs: { bookedInvoiceNumber: 1, customerNumber: 1, customerCreated: false, reference: REFERENCE, differences: [] },
    });
    const bookedAgain = await run(bookInvoice, danishOrder(), {}, { previous: [again.result] });
    expect(bookedAgain.result).toMatchObject({ externalId: "1", created: false });
    expect(writes(mock)).toHaveLength(postsBefore);
    expect(mock.createdInvoiceCount()).toBe(1);
  });

  it("a booking that succeeded but answered 500 is adopted on retry", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const created = await run(createInvoice, danishOrder());
    mock.failNext({ status: 500, method: "POST", path: /^\/invoices\/booked$/, afterEffect: true });

    const error = await failure(run(bookInvoice, danishOrder(), {}, { previous: [created.result] }));
    expect(error.retryable).toBe(true);

    const retry = await run(bookInvoice, danishOrder(), {}, { previous: [created.result] });
    expect(retry.result).toMatchObject({ externalId: "1", created: false });
    expect(mock.state.booked).toHaveLength(1);
  });

  it("books with the order's number when bookWithNumber is on", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const created = await run(createInvoice, danishOrder());

    const booked = await run(bookInvoice, danishOrder(), { bookWithNumber: true }, { previous: [undefined, created.result] });

    expect(booked.result).toMatchObject({ externalId: "1001", created: true });
    expect(mock.state.booked[0]?.bookedInvoiceNumber).toBe(1001);
  });

  it("refuses to run without an earlier createInvoice step", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);

    const error = await failure(run(bookInvoice, danishOrder()));

    expect(error.errorClass).toBe("validation");
    expect(error.message).toMatch(/createInvoice/);
    expect(mock.state.requests).toEqual([]);
  });
});
