import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { createInvoice } from "../../src/connectors/economic";
import type { StepMessage } from "../../src/durable/order-types";
import { runtimeConfig } from "../../src/worker/config";
import { gateExclusive } from "../../src/worker/queue/target-gate-client";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { ANE, calls, danishOrder, failure, REFERENCE, run, sent, TS1, writes } from "../mocks/economic.mock.fixtures";

type Draft = { customer: unknown; recipient: Record<string, unknown>; lines: Array<{ product: unknown }> };

describe("e-conomic createInvoice: finding the customer", () => {
  it("matches a public-sector buyer by EAN and prints the EAN on the invoice", async () => {
    const ean = "5798000123456";
    const mock = createEconomicMock({ customers: [{ ...ANE, customerNumber: 77, name: "Aarhus Kommune", ean }] });
    installEconomicMock(mock);
    const order = danishOrder({ customer: { email: "indkoeb@aarhus.dk", company: "Aarhus Kommune", ean } });

    const { result } = await run(createInvoice, order, { customerMatch: "ean" });

    expect(calls(mock)).toContain(`GET /customers?filter=ean$eq:${ean}`);
    expect(result.outputs).toMatchObject({ customerNumber: 77, customerCreated: false });
    const draft = sent(mock, "POST", "/invoices/drafts") as Draft;
    expect(draft.customer).toEqual({ customerNumber: 77 });
    expect(draft.recipient).toEqual({
      name: "Aarhus Kommune",
      address: "Vestergade 1",
      zip: "8000",
      city: "Aarhus",
      country: "Denmark",
      ean,
      vatZone: { vatZoneNumber: 1 },
    });
  });

  it("a new customer matched by EAN is created with the EAN, so the next order finds it", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = danishOrder({ customer: { email: "indkoeb@aarhus.dk", company: "Aarhus Kommune", ean: "5798000123456" } });

    await run(createInvoice, order, { customerMatch: "ean" });
    await run(createInvoice, order, { customerMatch: "ean" }, { reference: "ref-2" });

    expect(sent(mock, "POST", "/customers")).toMatchObject({ ean: "5798000123456", name: "Aarhus Kommune" });
    expect(mock.state.customers).toHaveLength(1);
  });

  it("two orders of one new buyer at once make one customer: the creating step holds the buyer at the gate", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = danishOrder({ customer: { email: "new.buyer@example.dk", firstName: "Ny", lastName: "Kunde" } });
    const before = mock.state.customers.length;
    const message = { target: `con_exclusive_${crypto.randomUUID()}` } as StepMessage;
    const leaseUntil = Date.now() + 60_000;
    const step = (ticket: string, reference: string) =>
      run(
        createInvoice,
        order,
        {},
        { reference, exclusive: gateExclusive(env, message, ticket, leaseUntil, runtimeConfig(env)) },
      );
    const [a, b] = await Promise.all([step("ticket-a", "ref-a"), step("ticket-b", "ref-b")]);
    expect(mock.state.customers).toHaveLength(before + 1);
    expect(a.result.outputs.customerNumber).toBe(b.result.outputs.customerNumber);
    expect([a.result.outputs.customerCreated, b.result.outputs.customerCreated].sort()).toEqual([false, true]);
  });

  it("matches by name and postcode together", async () => {
    const mock = createEconomicMock({
      customers: [
        { ...ANE, customerNumber: 5, email: "other@example.dk", zip: "2100" },
        { ...ANE, customerNumber: 6, email: "other@example.dk", zip: "8000" },
      ],
    });
    installEconomicMock(mock);

    const { result } = await run(createInvoice, danishOrder(), { customerMatch: "namePostcode" });

    expect(calls(mock)).toContain("GET /customers?filter=name$eq:Ane Lund$and:zip$eq:8000");
    expect(result.outputs).toMatchObject({ customerNumber: 6, customerCreated: false });
  });

  it("puts every order on the shared customer without looking anyone up", async () => {
    const mock = createEconomicMock({ customers: [{ ...ANE, customerNumber: 500, name: "Webshop customers" }] });
    installEconomicMock(mock);

    const { result } = await run(createInvoice, danishOrder(), { customerMatch: "shared", sharedCustomerNumber: 500 });

    expect(result.outputs).toMatchObject({ customerNumber: 500, customerCreated: false });
    expect(mock.state.requests.some((r) => r.path === "/customers")).toBe(false);
    const draft = sent(mock, "POST", "/invoices/drafts") as Draft;
    expect(draft.customer).toEqual({ customerNumber: 500 });
    // The invoice is still addressed to the buyer.
    expect(draft.recipient.name).toBe("Ane Lund");

    const error = await failure(run(createInvoice, danishOrder(), { customerMatch: "shared" }, { reference: "ref-2" }));
    expect(error.details).toEqual({ setting: "sharedCustomerNumber" });
  });
});

describe("e-conomic createInvoice: products by SKU", () => {
  it("uses the SKU as product number when e-conomic has that product", async () => {
    const mock = createEconomicMock({ products: [TS1] });
    installEconomicMock(mock);

    const { result } = await run(createInvoice, danishOrder());

    expect(calls(mock)).toContain("GET /products/TS-1");
    expect((sent(mock, "POST", "/invoices/drafts") as Draft).lines[0]?.product).toEqual({ productNumber: "TS-1" });
    expect(result.outputs).toMatchObject({ warnings: [] });
  });

  it("books an unknown SKU on the default product and says so", async () => {
    const mock = createEconomicMock({
      products: [{ productNumber: "web", name: "Web sales", productGroup: { productGroupNumber: 1 } }],
    });
    installEconomicMock(mock);

    const { result } = await run(createInvoice, danishOrder(), { unknownSkuProductNumber: "web" });

    expect((sent(mock, "POST", "/invoices/drafts") as Draft).lines[0]?.product).toEqual({ productNumber: "web" });
    expect(result.outputs).toMatchObject({
      warnings: ["SKU TS-1 is not a product in e-conomic; its line uses the default product."],
    });
  });

  it("creates the missing product in the configured group when allowed", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);

    const { result } = await run(createInvoice, danishOrder(), { createMissingProducts: true, productGroupNumber: 1 });

    expect(writes(mock).map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /products",
      "POST /customers",
      "POST /invoices/drafts",
    ]);
    expect(sent(mock, "POST", "/products")).toEqual({
      productNumber: "TS-1",
      name: "T-shirt",
      salesPrice: 159.2,
      productGroup: { productGroupNumber: 1 },
    });
    expect((sent(mock, "POST", "/invoices/drafts") as Draft).lines[0]?.product).toEqual({ productNumber: "TS-1" });
    expect(result.outputs).toMatchObject({ productsCreated: ["TS-1"], reference: REFERENCE });

    const missingGroup = await failure(run(createInvoice, danishOrder(), { createMissingProducts: true }, { reference: "r2" }));
    expect(missingGroup.details).toEqual({ setting: "productGroupNumber" });
  });

  it("a missing product another step made between the lookup and the create is used, not a failure", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const routed = vi.mocked(globalThis.fetch).getMockImplementation()!;
    // Another order's step with the same new SKU creates it just after this step looked it up.
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      const response = await routed(input, init);
      const url = new Request(input, init).url;
      const made = mock.state.products.some((p) => p.productNumber === "TS-1");
      if (url.endsWith("/products/TS-1") && response.status === 404 && !made) mock.state.products.push({ ...TS1, barred: false });
      return response;
    });
    try {
      const { result } = await run(createInvoice, danishOrder(), { createMissingProducts: true, productGroupNumber: 1 });
      expect((sent(mock, "POST", "/invoices/drafts") as Draft).lines[0]?.product).toEqual({ productNumber: "TS-1" });
      expect(result.outputs.productsCreated ?? []).toEqual([]);
      expect(mock.state.products.filter((p) => p.productNumber === "TS-1")).toHaveLength(1);
    } finally {
      spy.mockImplementation(routed);
    }
  });

  it("finds a product whose SKU has characters e-conomic escapes in resource URLs (/ . _ space ...)", async () => {
    const sku = "TS/1.XL_red blue";
    const mock = createEconomicMock({ products: [{ ...TS1, productNumber: sku }] });
    installEconomicMock(mock);
    const order = danishOrder({
      lines: [{ id: "l1", sku, title: "T-shirt", quantity: 1, unitPrice: 19900, discount: 0, tax: 3980, taxRateBp: 2500 }],
    });

    const { result } = await run(createInvoice, order);
    // With createMissingProducts, a product not found would be POSTed, refused as a duplicate, and fail the step.
    const again = await run(createInvoice, order, { createMissingProducts: true, productGroupNumber: 1 }, { reference: "r2" });

    expect(calls(mock)).toContain("GET /products/TS_6_1_11_XL_8_red_9_blue");
    const drafts = mock.state.requests.filter((r) => r.method === "POST" && r.path === "/invoices/drafts");
    expect(drafts.map((d) => (d.body as Draft).lines[0]?.product)).toEqual([{ productNumber: sku }, { productNumber: sku }]);
    expect(result.outputs).toMatchObject({ warnings: [] });
    expect(again.result.outputs.productsCreated ?? []).toEqual([]);
    expect(writes(mock).filter((r) => r.path === "/products")).toEqual([]);
  });

  it("a barred product is not sold: its SKU falls back to the default product", async () => {
    const mock = createEconomicMock({ products: [{ ...TS1, barred: true }] });
    installEconomicMock(mock);

    await run(createInvoice, danishOrder());

    expect((sent(mock, "POST", "/invoices/drafts") as Draft).lines[0]?.product).toEqual({ productNumber: "1" });
  });
});
