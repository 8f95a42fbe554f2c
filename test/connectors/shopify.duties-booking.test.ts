/**
 * How Shopify duties are booked and credited on a sale that charges VAT. The duties fee is not a
 * sale: it is a line of its own kind, without VAT the way a rounding line is (no reduced-rate
 * setting needed), keeps its text "Duties", goes on the targets' duties product (the rounding
 * product when none is set), and takes no share when money refunded without lines is spread over
 * the order's VAT rates. The order is order-duties.json (a sweater, shipping and 8.40 USD of duties) made a
 * domestic Danish sale at 25 %.
 */
import { describe, expect, it } from "vitest";
import {
  createInvoiceSettings as billySettings,
  checkProductSettings,
  productSourceFor,
  taxRateIdFor,
  taxRateIds,
} from "../../src/connectors/billy";
import type { SourceEvent } from "../../src/connectors/contract";
import { economicLines, createInvoiceSettings as economicSettings, planProduct } from "../../src/connectors/economic";
import { ledgerLines } from "../../src/connectors/sandbox-ledger/ledger.books";
import { parse } from "../../src/connectors/shopify/shopify.parse";
import { accountingSettingsSchema } from "../../src/domain/accounting/accounting-settings";
import { buildCreditNoteDocument, buildInvoiceDocument, spreadChecks } from "../../src/domain/accounting/build-document";
import type { AccountingDocument } from "../../src/domain/accounting/document";
import { type CanonicalOrder, type CanonicalRefund, orderSchema } from "../../src/domain/order";
import type { VatDecision } from "../../src/domain/vat/vat-decision";
import { fieldsFor } from "../../src/worker/routes/ui/forms/schema-fields";
import { shopifyDelivery } from "../fixtures/shopify";
import orderDuties from "../fixtures/shopify/order-duties.json?raw";
import { SETTINGS as BILLY_SETTINGS } from "../mocks/billy.mock.fixtures";

const settings = accountingSettingsSchema.parse({});

async function dutiesOrder(): Promise<CanonicalOrder> {
  const events = parse(await shopifyDelivery("orders/updated", JSON.parse(orderDuties) as object, "test-secret"));
  const event: SourceEvent | undefined = Array.isArray(events) && events.length === 1 ? events[0] : undefined;
  if (event?.object.type !== "order") throw new Error("expected exactly one order event");
  return event.object.order;
}

/** The duties order as a Danish domestic sale: 25 % VAT on the sweater and shipping, none on the duties. */
async function domestic(): Promise<CanonicalOrder> {
  const order = await dutiesOrder();
  const dk = { ...order.shippingAddress, country: "DK" };
  const lines = order.lines.map((l) => ({ ...l, tax: (l.unitPrice * l.quantity) / 4, taxRateBp: 2500 }));
  const shipping = order.shipping.map((s) => ({ ...s, tax: s.price / 4, taxRateBp: 2500 }));
  const tax = [...lines, ...shipping].reduce((sum, l) => sum + l.tax, 0);
  const total = order.totals.total + tax;
  return orderSchema.parse({
    ...order,
    shippingAddress: dk,
    billingAddress: dk,
    lines,
    shipping,
    totals: { ...order.totals, total, tax },
    payments: order.payments.map((p) => ({ ...p, amount: total })),
  });
}

function refund(total: number): CanonicalRefund {
  return {
    source: { connector: "shopify", orderId: "5812345678901", refundId: "r1", createdAt: "2026-03-12T10:00:00Z" },
    currency: "USD",
    lines: [],
    shipping: 0,
    adjustments: 0,
    total,
  };
}

describe("Shopify duties on a sale that charges VAT", () => {
  it("marks the fee as duties, and the canonical order keeps the mark through its schema", async () => {
    const order = await dutiesOrder();
    expect(order.fees).toStrictEqual([{ title: "Duties", amount: 840, tax: 0, taxRateBp: 0, duties: true }]);
    expect(orderSchema.parse(JSON.parse(JSON.stringify(order))).fees).toStrictEqual(order.fees);
  });

  it("books the duties as their own kind of line without VAT, needing no 0 % reduced-rate setting", async () => {
    const invoice = buildInvoiceDocument(await domestic(), settings);
    expect(invoice.vat.case).toBe("domestic");
    expect(invoice.mismatch).toBeUndefined();
    expect(invoice.difference).toBe(0);
    expect(invoice.totals).toStrictEqual({ net: 14340, vat: 3375, total: 17715 });
    const duties = invoice.lines.find((l) => l.description === "Duties");
    expect(duties).toMatchObject({ kind: "duties", net: 840, vatRateBp: 0, vat: 0 });
    // e-conomic: the rounding product (no duties product set), not reducedRateProducts["0"] (left empty here).
    const economic = economicSettings.parse({ roundingProductNumber: "99" });
    expect(economic.reducedRateProducts).toStrictEqual({});
    expect(planProduct(duties!, invoice, economic)).toStrictEqual({ productNumber: "99" });
    // Billy: taxRates.noVat, not taxRatesByRate["0"] (none configured).
    const billy = billySettings.parse(BILLY_SETTINGS);
    expect(billy.taxRatesByRate).toStrictEqual({});
    expect(taxRateIdFor(duties!, invoice.vat, billy)).toBe("tr-none");
    // The sandbox ledger keeps the line's kind, so its books show duties apart from rounding.
    expect(ledgerLines(invoice).map((l) => l.kind)).toStrictEqual(["product", "shipping", "duties"]);
  });

  it("credits money refunded without lines at the sale's 25 % alone, not over the duties' 0 %", async () => {
    const note = buildCreditNoteDocument(await domestic(), refund(5000), settings);
    expect(note.mismatch).toBeUndefined();
    expect(note.lines.map((l) => [l.description, l.vatRateBp, l.net, l.vat])).toStrictEqual([["Refund", 2500, 4000, 1000]]);
    expect(note.spreadOverRates).toBeUndefined();
  });

  it("gives the duties back at 0 % when the whole order is refunded without lines", async () => {
    const order = await domestic();
    const note = buildCreditNoteDocument(order, refund(order.totals.total), settings);
    expect(note.mismatch).toBeUndefined();
    expect(note.totals).toStrictEqual({ net: 14340, vat: 3375, total: 17715 });
    // The duties' share is a duties line, so it needs no 0 % product or tax rate either.
    expect(note.lines.map((l) => [l.kind, l.description, l.vatRateBp, l.net + l.vat])).toStrictEqual([
      ["product", "Refund", 2500, 16875],
      ["duties", "Duties", 0, 840],
    ]);
    const economic = economicSettings.parse({ dutiesProductNumber: "duties" });
    expect(note.lines.map((l) => planProduct(l, note, economic))).toStrictEqual([
      { productNumber: "1" },
      { productNumber: "duties" },
    ]);
    const billy = billySettings.parse(BILLY_SETTINGS);
    expect(note.lines.map((l) => taxRateIdFor(l, note.vat, billy))).toStrictEqual(["tr-dk-25", "tr-none"]);
  });
});

/** The domestic duties order paid one cent more than its lines: a rounding line beside the duties. */
async function withRounding(): Promise<AccountingDocument> {
  const order = await domestic();
  const total = order.totals.total + 1;
  const paid = { ...order, totals: { ...order.totals, total }, payments: order.payments.map((p) => ({ ...p, amount: total })) };
  const invoice = buildInvoiceDocument(orderSchema.parse(paid), settings);
  expect(invoice.lines.map((l) => [l.kind, l.description, l.net])).toStrictEqual([
    ["product", "Wool sweater", 12000],
    ["shipping", "UPS Worldwide", 1500],
    ["duties", "Duties", 840],
    ["rounding", "Rounding difference", 1],
  ]);
  return invoice;
}

describe("Shopify duties on a product of their own", () => {
  it("e-conomic: books the duties on dutiesProductNumber, the rounding line on the rounding product", async () => {
    const invoice = await withRounding();
    const economic = economicSettings.parse({ useSkuAsProductNumber: false, dutiesProductNumber: "customs" });
    const numbers = invoice.lines.map((l) => {
      const plan = planProduct(l, invoice, economic);
      return "productNumber" in plan ? plan.productNumber : plan.sku;
    });
    expect(numbers).toStrictEqual(["1", "shipping", "customs", "rounding"]);
    expect(economicLines(invoice, numbers).map((l) => [l.product.productNumber, l.description, l.unitNetPrice])).toStrictEqual([
      ["1", "Wool sweater", 120],
      ["shipping", "UPS Worldwide", 15],
      ["customs", "Duties", 8.4],
      ["rounding", "Rounding difference", 0.01],
    ]);
  });

  it("e-conomic: without dutiesProductNumber the duties stay on the rounding product, as before", async () => {
    const invoice = await withRounding();
    const economic = economicSettings.parse({ useSkuAsProductNumber: false, roundingProductNumber: "99" });
    expect(economic.dutiesProductNumber).toBeUndefined();
    expect(invoice.lines.map((l) => planProduct(l, invoice, economic))).toStrictEqual([
      { productNumber: "1" },
      { productNumber: "shipping" },
      { productNumber: "99" },
      { productNumber: "99" },
    ]);
  });

  it("Billy: books the duties on products.duties at the no-VAT rate, the rounding line on products.rounding", async () => {
    const invoice = await withRounding();
    const billy = billySettings.parse({ ...BILLY_SETTINGS, products: { ...BILLY_SETTINGS.products, duties: "prod-duties" } });
    expect(invoice.lines.map((l) => productSourceFor(l, billy))).toStrictEqual([
      { kind: "sku", sku: "SWEATER-WOOL-L" },
      { kind: "setting", key: "shipping", productId: "prod-shipping" },
      { kind: "setting", key: "duties", productId: "prod-duties" },
      { kind: "setting", key: "rounding", productId: "prod-rounding" },
    ]);
    expect(invoice.lines.map((l) => taxRateIdFor(l, invoice.vat, billy))).toStrictEqual([
      "tr-dk-25",
      "tr-dk-25",
      "tr-none",
      "tr-none",
    ]);
  });

  it("Billy: without products.duties the duties stay on products.rounding, and name it when that is empty too", async () => {
    const invoice = await withRounding();
    const billy = billySettings.parse(BILLY_SETTINGS);
    const duties = invoice.lines.find((l) => l.kind === "duties")!;
    expect(productSourceFor(duties, billy)).toStrictEqual({ kind: "setting", key: "rounding", productId: "prod-rounding" });
    const without = billySettings.parse({ ...BILLY_SETTINGS, products: { default: "prod-default" } });
    expect(() => checkProductSettings([duties], without)).toThrow(
      '"Duties" (a duties line) needs a Billy product: set products.duties (or products.rounding) in the step\'s settings.',
    );
    // The setting the error names for a person (and the step form) is the duties product, as the message says.
    let details: unknown;
    try {
      checkProductSettings([duties], without);
    } catch (error) {
      details = (error as { details?: unknown }).details;
    }
    expect(details).toStrictEqual({ setting: "products.duties" });
  });

  it("the settings schemas take the new products, and the step forms built from them show them", () => {
    expect(economicSettings.parse({ dutiesProductNumber: "customs" }).dutiesProductNumber).toBe("customs");
    expect(() => economicSettings.parse({ dutiesProductNumber: "x".repeat(26) })).toThrow();
    expect(billySettings.parse({ products: { duties: "prod-duties" } }).products.duties).toBe("prod-duties");
    const economicForm = fieldsFor(economicSettings, "step0.settings");
    expect(economicForm.find((f) => f.key === "dutiesProductNumber")).toMatchObject({
      name: "step0.settings.dutiesProductNumber",
      required: false,
    });
    const billyProducts = fieldsFor(billySettings, "step0.settings").find((f) => f.key === "products");
    expect(billyProducts?.children?.find((f) => f.key === "duties")).toMatchObject({ name: "step0.settings.products.duties" });
  });
});

/** The duties order as a sale at `rateBp` to `country` (the sweater and shipping carry the VAT, the duties none). */
async function saleTo(country: string, rateBp: number): Promise<CanonicalOrder> {
  const order = await dutiesOrder();
  const address = { ...order.shippingAddress, country };
  const vatOf = (gross: number) => (gross * rateBp) / 10_000;
  const lines = order.lines.map((l) => ({ ...l, tax: vatOf(l.unitPrice * l.quantity), taxRateBp: rateBp }));
  const shipping = order.shipping.map((s) => ({ ...s, tax: vatOf(s.price), taxRateBp: rateBp }));
  const tax = [...lines, ...shipping].reduce((sum, l) => sum + l.tax, 0);
  const total = order.totals.total + tax;
  return orderSchema.parse({
    ...order,
    shippingAddress: address,
    billingAddress: address,
    lines,
    shipping,
    totals: { ...order.totals, total, tax },
    payments: order.payments.map((p) => ({ ...p, amount: total })),
  });
}

/** The whole order refunded without lines, its shipping stated net with its VAT beside it (Shopify's refund_shipping_lines). */
function wholeWithShipping(order: CanonicalOrder, adjustments: "none" | "the rest"): CanonicalRefund {
  const shipping = order.shipping.reduce((sum, s) => sum + s.price, 0);
  const shippingTax = order.shipping.reduce((sum, s) => sum + s.tax, 0);
  const total = order.totals.total;
  return {
    ...refund(total),
    shipping,
    shippingTax,
    adjustments: adjustments === "none" ? 0 : total - shipping - shippingTax,
  };
}

const vatOf = (document: AccountingDocument) => document.lines.reduce((sum, l) => sum + l.vat, 0);

describe("Shopify duties: a whole-order refund without lines that states its shipping", () => {
  for (const adjustments of ["none", "the rest"] as const) {
    it(`domestic 25 %: credits exactly the duties and the VAT invoiced (adjustments: ${adjustments})`, async () => {
      const order = await saleTo("DK", 2500);
      const invoice = buildInvoiceDocument(order, settings);
      const note = buildCreditNoteDocument(order, wholeWithShipping(order, adjustments), settings);
      expect(note.mismatch).toBeUndefined();
      expect(note.totals).toStrictEqual(invoice.totals);
      expect(vatOf(note)).toBe(vatOf(invoice));
      expect(note.totals.vat).toBe(3375);
      const duties = note.lines.filter((l) => l.kind === "duties");
      expect(duties.map((l) => [l.description, l.vatRateBp, l.net, l.vat])).toStrictEqual([["Duties", 0, 840, 0]]);
      // No share of the duties on a 25 % line: what is not shipping or duties is the sweater's 150.00.
      expect(note.lines.filter((l) => l.kind === "product").map((l) => [l.vatRateBp, l.net + l.vat])).toStrictEqual([
        [2500, 15000],
      ]);
      expect(note.lines.filter((l) => l.kind === "rounding")).toStrictEqual([]);
    });
  }

  it("One Stop Shop at Germany's 19 %: the duties line equals the order's, the VAT the VAT invoiced", async () => {
    const oss = accountingSettingsSchema.parse({ ossRegistered: true });
    const order = await saleTo("DE", 1900);
    const invoice = buildInvoiceDocument(order, oss);
    expect(invoice.vat.case).toBe("oss");
    const note = buildCreditNoteDocument(order, wholeWithShipping(order, "none"), oss);
    expect(note.mismatch).toBeUndefined();
    expect(note.totals).toStrictEqual(invoice.totals);
    expect(vatOf(note)).toBe(vatOf(invoice));
    expect(note.lines.filter((l) => l.kind === "duties").map((l) => [l.net, l.vat])).toStrictEqual([[840, 0]]);
  });
});

describe("Billy: duties without taxRates.noVat", () => {
  const withoutNoVat = () => {
    const { noVat: _, ...taxRates } = BILLY_SETTINGS.taxRates;
    return billySettings.parse({ ...BILLY_SETTINGS, taxRates });
  };
  const reverseCharge: VatDecision = {
    case: "reverse-charge",
    zone: "eu",
    destination: "DE",
    vatCountry: null,
    standardRateBp: 0,
    b2b: true,
  };
  const missing = '"Duties" carries no VAT, and the step has no Billy tax rate for such lines: set taxRates.noVat.';

  it("fails on an export order, naming taxRates.noVat, instead of booking the duties at the export rate", async () => {
    const invoice = buildInvoiceDocument(await dutiesOrder(), settings);
    expect(invoice.vat.case).toBe("export");
    const billy = withoutNoVat();
    expect(billy.taxRates.noVat).toBeUndefined();
    const duties = invoice.lines.find((l) => l.kind === "duties")!;
    expect(() => taxRateIdFor(duties, invoice.vat, billy)).toThrow(missing);
    expect(() => taxRateIds(invoice.lines, invoice.vat, billy)).toThrow(
      expect.objectContaining({ code: "billy_tax_rate_missing", details: { setting: "taxRates.noVat" } }),
    );
    // The sale itself still takes the export rate.
    const sweater = invoice.lines.find((l) => l.kind === "product")!;
    expect(taxRateIdFor(sweater, invoice.vat, billy)).toBe("tr-export");
  });

  it("fails on a reverse-charge order, naming taxRates.noVat, instead of booking the duties at the reverse-charge rate", async () => {
    const invoice = buildInvoiceDocument(await dutiesOrder(), settings);
    const duties = invoice.lines.find((l) => l.kind === "duties")!;
    expect(() => taxRateIdFor(duties, reverseCharge, withoutNoVat())).toThrow(missing);
  });

  it("keeps rounding and gift-card lines on such orders as before: the case's rate", () => {
    const line = { quantity: 1, unitNet: 1, net: 1, vatRateBp: 0, vat: 0 };
    const billy = withoutNoVat();
    expect(taxRateIdFor({ ...line, kind: "rounding", description: "Rounding difference" }, reverseCharge, billy)).toBe(
      "tr-eu-rc",
    );
    expect(taxRateIdFor({ ...line, kind: "giftcard", description: "Gift card" }, reverseCharge, billy)).toBe("tr-eu-rc");
  });
});

describe("Shopify duties: money refunded without lines, short of the whole order", () => {
  it("asks a person to check the duties: several such refunds may together have given them back", async () => {
    const order = await domestic();
    const note = buildCreditNoteDocument(order, refund(5000), settings);
    expect(note.lines.map((l) => [l.kind, l.vatRateBp, l.net + l.vat])).toStrictEqual([["product", 2500, 5000]]);
    expect(note.lumpBesideDuties).toStrictEqual({ gross: 5000, duties: 840 });
    expect(spreadChecks(note, "credit note 7", "#1001")).toStrictEqual([
      "VAT: credit note 7 credits 50.00 USD refunded without lines at the VAT of what was sold, but order #1001 also charged 8.40 USD of duties without VAT; if this refund, alone or with the order's other refunds, gave the duties back, move that amount to the duties product without VAT and correct the VAT by hand.",
    ]);
  });

  it("stays silent on a whole-order refund (the duties credited exactly) and on a refund with lines", async () => {
    const order = await domestic();
    const whole = buildCreditNoteDocument(order, refund(order.totals.total), settings);
    expect(whole.lumpBesideDuties).toBeUndefined();
    expect(spreadChecks(whole, "credit note 7", "#1001")).toStrictEqual([]);
    const line = order.lines[0]!;
    const withLines: CanonicalRefund = {
      ...refund(line.unitPrice + line.tax),
      lines: [{ lineId: line.id, quantity: 1, subtotal: line.unitPrice, tax: line.tax, restock: true }],
    };
    expect(buildCreditNoteDocument(order, withLines, settings).lumpBesideDuties).toBeUndefined();
  });
});
