/**
 * How Shopify duties are booked and credited on a sale that charges VAT. The duties fee is not a
 * sale: it goes without VAT the way a rounding line does (no reduced-rate setting needed), keeps its
 * text "Duties", and takes no share when money refunded without lines is spread over the order's
 * VAT rates. The order is order-duties.json (a sweater, shipping and 8.40 USD of duties) made a
 * domestic Danish sale at 25 %.
 */
import { describe, expect, it } from "vitest";
import { createInvoiceSettings as billySettings, taxRateIdFor } from "../../src/connectors/billy";
import type { SourceEvent } from "../../src/connectors/contract";
import { createInvoiceSettings as economicSettings, planProduct } from "../../src/connectors/economic";
import { parse } from "../../src/connectors/shopify/shopify.parse";
import { accountingSettingsSchema } from "../../src/domain/accounting/accounting-settings";
import { buildCreditNoteDocument, buildInvoiceDocument } from "../../src/domain/accounting/build-document";
import { type CanonicalOrder, type CanonicalRefund, orderSchema } from "../../src/domain/order";
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

  it("books the duties without VAT like a rounding line, needing no 0 % reduced-rate setting", async () => {
    const invoice = buildInvoiceDocument(await domestic(), settings);
    expect(invoice.vat.case).toBe("domestic");
    expect(invoice.mismatch).toBeUndefined();
    expect(invoice.difference).toBe(0);
    expect(invoice.totals).toStrictEqual({ net: 14340, vat: 3375, total: 17715 });
    const duties = invoice.lines.find((l) => l.description === "Duties");
    expect(duties).toMatchObject({ kind: "rounding", net: 840, vatRateBp: 0, vat: 0 });
    // e-conomic: the rounding product, not reducedRateProducts["0"] (left empty here).
    const economic = economicSettings.parse({ roundingProductNumber: "99" });
    expect(economic.reducedRateProducts).toStrictEqual({});
    expect(planProduct(duties!, invoice, economic)).toStrictEqual({ productNumber: "99" });
    // Billy: taxRates.noVat, not taxRatesByRate["0"] (none configured).
    const billy = billySettings.parse(BILLY_SETTINGS);
    expect(billy.taxRatesByRate).toStrictEqual({});
    expect(taxRateIdFor(duties!, invoice.vat, billy)).toBe("tr-none");
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
    expect(note.lines.map((l) => l.vatRateBp)).toStrictEqual([2500, 0]);
  });
});
