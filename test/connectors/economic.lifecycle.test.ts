import { describe, expect, it } from "vitest";
import { cancelOrder, createCreditNote, createInvoice, createOrder } from "../../src/connectors/economic";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { calls, danishOrder, done, failure, REFERENCE, refundOf, run, sent, TS1, writes } from "../mocks/economic.mock.fixtures";

/** The same order after the customer swapped to a 249.00 T-shirt. */
const dearer = () =>
  danishOrder({
    lines: [
      { id: "l1", sku: "TS-1", title: "T-shirt XL", quantity: 1, unitPrice: 24900, discount: 0, tax: 4980, taxRateBp: 2500 },
    ],
    totals: { total: 29800, tax: 5960, discounts: 0, shipping: 4900 },
  });

describe("e-conomic: an updated order", () => {
  it("replaces the draft with the newer order (PUT, the whole document)", async () => {
    const mock = createEconomicMock({ products: [TS1] });
    installEconomicMock(mock);
    await run(createInvoice, danishOrder());

    const { result } = await run(createInvoice, dearer());

    expect(result).toMatchObject({
      externalId: "1",
      created: false,
      outputs: { draftInvoiceNumber: 1, updated: true, total: "298.00" },
    });
    const put = sent(mock, "PUT", "/invoices/drafts/1") as Record<string, unknown>;
    expect(put).toMatchObject({ customer: { customerNumber: 1 }, references: { other: REFERENCE } });
    expect(put.lines).toEqual([
      { lineNumber: 1, product: { productNumber: "TS-1" }, description: "T-shirt XL", quantity: 1, unitNetPrice: 199.2 },
      {
        lineNumber: 2,
        product: { productNumber: "shipping" },
        description: "Standard shipping",
        quantity: 1,
        unitNetPrice: 39.2,
      },
    ]);
    expect(mock.state.drafts).toHaveLength(1);
    expect(mock.state.drafts[0]).toMatchObject({ draftInvoiceNumber: 1, grossAmount: 298 });
    expect(mock.state.customers).toHaveLength(1);
  });

  it("never touches a booked invoice and reports what the update would have changed", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    await run(createInvoice, danishOrder(), { invoiceState: "booked" });
    const writesBefore = writes(mock).length;

    const { result, mapped } = await run(createInvoice, dearer(), { invoiceState: "booked" });

    expect(result).toMatchObject({
      externalId: "1",
      created: false,
      outputs: { bookedInvoiceNumber: 1, differences: ["total: 248.00 → 298.00", "VAT: 49.60 → 59.60"] },
    });
    expect(writes(mock)).toHaveLength(writesBefore);
    expect(mapped).toEqual([]);
    expect(mock.state.booked[0]).toMatchObject({ grossAmount: 248 });
  });
});

describe("e-conomic: an order before its invoice", () => {
  it("createOrder makes a draft order, and createInvoice turns that order into the invoice", async () => {
    const mock = createEconomicMock({ products: [TS1] });
    installEconomicMock(mock);
    const created = danishOrder({ stage: "created", payments: [], financialStatus: "pending" });

    const order = await run(createOrder, created, {}, { reference: "orderly-order-0" });

    expect(order.result).toMatchObject({ externalId: "1", created: true, outputs: { orderNumber: 1, customerNumber: 1 } });
    expect(sent(mock, "POST", "/orders/drafts")).toEqual({
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
      references: { other: "orderly-order-0" },
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
    });
    // A person adds a delivery date to the order in e-conomic; the invoice keeps it.
    mock.state.orders[0]!.delivery = { deliveryDate: "2025-11-05" };

    const invoice = await run(createInvoice, dearer(), {}, { history: [done("createOrder", order.result)] });

    expect(invoice.result).toMatchObject({
      created: true,
      outputs: { draftInvoiceNumber: 1, fromOrderNumber: 1, customerNumber: 1 },
    });
    expect(calls(mock)).toContain("GET /orders/drafts/1/templates/upgrade-instructions/draftInvoice");
    expect(sent(mock, "POST", "/invoices/drafts")).toMatchObject({
      customer: { customerNumber: 1 },
      delivery: { deliveryDate: "2025-11-05" },
      references: { other: REFERENCE },
      lines: [{ description: "T-shirt XL", unitNetPrice: 199.2 }, { description: "Standard shipping" }],
    });
    expect(sent(mock, "DELETE", "/orders/drafts/1")).toBeUndefined();
    expect(mock.state.orders).toEqual([]);
    expect(mock.state.customers).toHaveLength(1);
  });

  it("the invoice keeps the sales person, contacts and attention a person set on the draft order", async () => {
    const mock = createEconomicMock({ products: [TS1] });
    installEconomicMock(mock);
    const order = await run(createOrder, danishOrder({ stage: "created" }), {}, { reference: "orderly-order-0" });
    const draftOrder = mock.state.orders[0]!;
    const salesPerson = { employeeNumber: 3, self: "https://restapi.e-conomic.com/employees/3" };
    const vendorReference = { employeeNumber: 4, self: "https://restapi.e-conomic.com/employees/4" };
    const customerContact = { customerContactNumber: 7, customer: { customerNumber: 1 } };
    const attention = { customerContactNumber: 7 };
    draftOrder.references = { ...(draftOrder.references as object), salesPerson, vendorReference, customerContact };
    draftOrder.recipient = { ...(draftOrder.recipient as object), attention };
    draftOrder.notes = { textLine2: "Thank you for shopping with us" };

    await run(createInvoice, dearer(), {}, { history: [done("createOrder", order.result)] });

    const invoice = sent(mock, "POST", "/invoices/drafts") as Record<string, unknown>;
    expect(invoice.references).toEqual({ other: REFERENCE, salesPerson, vendorReference, customerContact });
    expect(invoice.recipient).toEqual({
      name: "Ane Lund",
      address: "Vestergade 1",
      zip: "8000",
      city: "Aarhus",
      country: "Denmark",
      vatZone: { vatZoneNumber: 1 },
      attention,
    });
    expect(invoice.notes).toEqual({ textLine2: "Thank you for shopping with us" });
  });

  it("a re-run of createOrder replaces the draft order", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    await run(createOrder, danishOrder());

    const again = await run(createOrder, dearer());

    expect(again.result).toMatchObject({ externalId: "1", created: false, outputs: { orderNumber: 1, updated: true } });
    expect(sent(mock, "PUT", "/orders/drafts/1")).toMatchObject({ lines: [{ description: "T-shirt XL" }, {}] });
    expect(mock.state.orders).toHaveLength(1);
  });
});

describe("e-conomic cancelOrder", () => {
  it("deletes the draft order and the draft invoice made for the order", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = await run(createOrder, danishOrder(), {}, { reference: "orderly-order-0" });
    mock.state.orders.push({ ...mock.state.orders[0]!, orderNumber: 2 });
    const invoice = await run(createInvoice, danishOrder());

    const { result } = await run(
      cancelOrder,
      danishOrder(),
      {},
      {
        history: [
          done("createOrder", { ...order.result, outputs: { ...order.result.outputs, orderNumber: 2 } }),
          done("createInvoice", invoice.result),
        ],
      },
    );

    expect(result).toMatchObject({ created: false, outputs: { deletedOrders: [2], deletedDraftInvoices: [1] } });
    expect(mock.state.drafts).toEqual([]);
    expect(mock.state.orders.map((o) => o.orderNumber)).toEqual([1]);
  });

  it("refuses to delete a booked invoice and tells the person to credit it, deleting nothing", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = await run(createOrder, danishOrder(), {}, { reference: "orderly-order-0" });
    const invoice = await run(createInvoice, danishOrder(), { invoiceState: "booked" }, { reference: "orderly-invoice-0" });
    const writesBefore = writes(mock).length;

    const error = await failure(
      run(
        cancelOrder,
        danishOrder(),
        {},
        { history: [done("createOrder", order.result), done("createInvoice", invoice.result)] },
      ),
    );

    expect(error).toMatchObject({ errorClass: "validation", code: "economic_invoice_booked" });
    expect(error.message).toMatch(/booked.*credit it instead/);
    expect(writes(mock)).toHaveLength(writesBefore);
  });

  it("finds a draft a person booked since, and refuses it too", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const invoice = await run(createInvoice, danishOrder());
    await mock.handle(
      new Request("https://economic.test/invoices/booked", {
        method: "POST",
        headers: { "x-appsecrettoken": "app-ok", "x-agreementgranttoken": "grant-ok", "content-type": "application/json" },
        body: JSON.stringify({ draftInvoice: { draftInvoiceNumber: 1 } }),
      }),
    );

    const error = await failure(run(cancelOrder, danishOrder(), {}, { history: [done("createInvoice", invoice.result)] }));

    expect(error.code).toBe("economic_invoice_booked");
  });
});

describe("e-conomic createCreditNote", () => {
  it("credits the refund with negative quantities against the booked invoice, naming it, and books it", async () => {
    const mock = createEconomicMock({ products: [TS1] });
    installEconomicMock(mock);
    const invoice = await run(createInvoice, danishOrder(), { invoiceState: "booked" }, { reference: "orderly-invoice-0" });

    const { result } = await run(
      createCreditNote,
      danishOrder({ stage: "refunded" }),
      { invoiceState: "booked" },
      { refund: refundOf(), history: [done("createInvoice", invoice.result)], reference: "orderly-refund-0" },
    );

    const drafts = mock.state.requests.filter((r) => r.method === "POST" && r.path === "/invoices/drafts");
    expect(drafts[1]?.body).toEqual({
      date: "2025-11-10",
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
      references: { other: "orderly-refund-0" },
      notes: { heading: "Credit note for invoice 1", textLine1: "Returned to stock: T-shirt × 1" },
      lines: [{ lineNumber: 1, product: { productNumber: "TS-1" }, description: "T-shirt", quantity: -1, unitNetPrice: 159.2 }],
    });
    expect(result).toMatchObject({
      externalId: "2",
      created: true,
      outputs: { draftInvoiceNumber: 2, bookedInvoiceNumber: 2, creditedInvoiceNumber: 1, customerNumber: 1, total: "199.00" },
    });
    expect(mock.state.booked[1]).toMatchObject({ grossAmount: -199, vatAmount: -39.8 });
  });

  it("a refund restocking many lines is credited: the restock list is shortened to e-conomic's 1,000 characters, saying so", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const count = 20;
    const lines = Array.from({ length: count }, (_, i) => ({
      id: `l${i}`,
      title: `Organic cotton T-shirt, relaxed fit, forest green, size ${i + 1}`,
      quantity: 1,
      unitPrice: 10000,
      discount: 0,
      tax: 2000,
      taxRateBp: 2500,
    }));
    const order = danishOrder({
      lines,
      shipping: [],
      payments: [{ gateway: "shopify_payments", amount: count * 10000, status: "paid" }],
      totals: { total: count * 10000, tax: count * 2000, discounts: 0, shipping: 0 },
    });
    const invoice = await run(createInvoice, order, { invoiceState: "booked" }, { reference: "orderly-invoice-0" });
    const refund = refundOf({
      lines: lines.map((l) => ({ lineId: l.id, quantity: 1, subtotal: 10000, tax: 2000, restock: true })),
      total: count * 10000,
    });

    const { result } = await run(
      createCreditNote,
      { ...order, stage: "refunded" },
      { invoiceState: "booked" },
      { refund, history: [done("createInvoice", invoice.result)], reference: "orderly-refund-0" },
    );

    expect(result).toMatchObject({ created: true, outputs: { bookedInvoiceNumber: 2, creditedInvoiceNumber: 1 } });
    const note = mock.state.requests.filter((r) => r.method === "POST" && r.path === "/invoices/drafts")[1]?.body as {
      notes: { textLine1: string };
    };
    const printed = note.notes.textLine1.split("\n");
    expect(note.notes.textLine1.length).toBeLessThanOrEqual(1000);
    expect(printed[0]).toBe("Returned to stock: Organic cotton T-shirt, relaxed fit, forest green, size 1 × 1");
    expect(printed.at(-1)).toBe(
      `… ${count - (printed.length - 1)} more lines not shown: e-conomic prints at most 1,000 characters here.`,
    );
  });

  it("a credit note whose total e-conomic computes differently stays a draft and fails with both totals", async () => {
    const mock = createEconomicMock({ products: [TS1] });
    installEconomicMock(mock);
    const invoice = await run(createInvoice, danishOrder(), { invoiceState: "booked" }, { reference: "orderly-invoice-0" });
    // Since the invoice, someone moved the T-shirt to a product group without VAT.
    mock.state.products = mock.state.products.map((p) =>
      p.productNumber === "TS-1" ? { ...p, productGroup: { productGroupNumber: 2 } } : p,
    );

    const error = await failure(
      run(
        createCreditNote,
        danishOrder({ stage: "refunded" }),
        { invoiceState: "booked" },
        { refund: refundOf(), history: [done("createInvoice", invoice.result)], reference: "orderly-refund-0" },
      ),
    );

    expect(error.code).toBe("credit_note_totals_mismatch");
    expect(error.message).toBe(
      "e-conomic computed the credit note at 159.20 DKK but the refund was 199.00 DKK; check the VAT zones, the products' VAT settings and the step's roundingBasis (e-conomic must round VAT as it says). The credit note was left as e-conomic draft 2.",
    );
    expect(mock.state.booked).toHaveLength(1);
    expect(mock.state.drafts).toHaveLength(1);
  });

  it("a re-run adopts the booked credit note; a refund without a booked invoice is refused", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const invoice = await run(createInvoice, danishOrder(), { invoiceState: "booked" }, { reference: "orderly-invoice-0" });
    const options = { refund: refundOf(), history: [done("createInvoice", invoice.result)], reference: "orderly-refund-0" };
    await run(createCreditNote, danishOrder(), { invoiceState: "booked" }, options);
    const writesBefore = writes(mock).length;

    const again = await run(createCreditNote, danishOrder(), { invoiceState: "booked" }, options);
    expect(again.result).toMatchObject({ externalId: "2", created: false, outputs: { bookedInvoiceNumber: 2, differences: [] } });
    expect(writes(mock)).toHaveLength(writesBefore);

    const draftOnly = await run(createInvoice, danishOrder(), {}, { reference: "orderly-invoice-9" });
    const refused = await failure(
      run(
        createCreditNote,
        danishOrder(),
        {},
        { refund: refundOf(), history: [done("createInvoice", draftOnly.result)], reference: "r9" },
      ),
    );
    expect(refused.message).toMatch(/still a draft/);
  });
});
