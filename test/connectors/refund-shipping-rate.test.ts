/**
 * Refunded shipping is credited at the rate the invoice booked the shipping at (the rate of its
 * invoice line), not at the order's main rate: shipping the shop charged no VAT on goes back at
 * 0 %. Where the refund states the shipping's VAT, it is what the credit note must take back, so a
 * refund stating VAT on shipping invoiced without it is a mismatch, not VAT credited silently.
 * Whole refunds at both rates are the accounting cases C52 and C53.
 */
import { describe, expect, it } from "vitest";
import { accountingSettingsSchema } from "../../src/domain/accounting/accounting-settings";
import { buildCreditNoteDocument } from "../../src/domain/accounting/build-document";
import { danishOrder, refundOf } from "../mocks/economic.mock.fixtures";

const settings = accountingSettingsSchema.parse({ invoiceState: "booked" });
/** The T-shirt at 25 % and 49.00 shipping without VAT: 248.00, VAT 39.80. */
const untaxedShipping = () =>
  danishOrder({
    shipping: [{ title: "Standard shipping", price: 4900, discount: 0, tax: 0 }],
    totals: { total: 24800, tax: 3980, discounts: 0, shipping: 4900 },
  });
const shippingOnly = (overrides = {}) => refundOf({ lines: [], shipping: 4900, total: 4900, ...overrides });
const lines = (doc: ReturnType<typeof buildCreditNoteDocument>) =>
  doc.lines.map((l) => [l.kind, l.description, l.net, l.vatRateBp, l.vat]);

describe("a shipping refund's VAT rate", () => {
  it("credits shipping invoiced without VAT at 0 %", () => {
    const doc = buildCreditNoteDocument(untaxedShipping(), shippingOnly(), settings);

    expect(lines(doc)).toEqual([["shipping", "Shipping refund", 4900, 0, 0]]);
    expect(doc.totals).toEqual({ net: 4900, vat: 0, total: 4900 });
    expect(doc.mismatch).toBeUndefined();
  });

  it("credits a full refund's shipping (the remainder beyond the lines) at 0 %, the VAT equal to the invoice's", () => {
    const doc = buildCreditNoteDocument(untaxedShipping(), refundOf({ total: 24800 }), settings);

    expect(lines(doc)).toEqual([
      ["product", "T-shirt", 15920, 2500, 3980],
      ["shipping", "Shipping refund", 4900, 0, 0],
    ]);
    expect(doc.totals).toEqual({ net: 20820, vat: 3980, total: 24800 });
  });

  it("still credits taxed shipping at its 25 %", () => {
    const doc = buildCreditNoteDocument(danishOrder(), shippingOnly({ shippingTax: 980 }), settings);

    expect(lines(doc)).toEqual([["shipping", "Shipping refund", 3920, 2500, 980]]);
    expect(doc.mismatch).toBeUndefined();
  });

  it("a refund stating VAT on shipping that was invoiced without VAT is a mismatch naming both VAT amounts", () => {
    const doc = buildCreditNoteDocument(untaxedShipping(), shippingOnly({ shippingTax: 980 }), settings);

    expect(lines(doc)).toEqual([["shipping", "Shipping refund", 4900, 0, 0]]);
    expect(doc.mismatch).toBe("The VAT would be 0.00 DKK but the refund's VAT is 9.80 DKK: above the threshold of 1.00 DKK.");
  });

  it("shipping invoiced at two rates is credited at both, each its share", () => {
    const order = danishOrder({
      shipping: [
        { title: "Standard shipping", price: 4900, discount: 0, tax: 980, taxRateBp: 2500 },
        { title: "Insurance", price: 2000, discount: 0, tax: 0 },
      ],
      totals: { total: 26800, tax: 4960, discounts: 0, shipping: 6900 },
    });

    const doc = buildCreditNoteDocument(order, shippingOnly({ shipping: 6900, total: 6900 }), settings);

    expect(lines(doc)).toEqual([
      ["shipping", "Shipping refund (25 %)", 3920, 2500, 980],
      ["shipping", "Shipping refund (0 %)", 2000, 0, 0],
    ]);
    expect(doc.totals.total).toBe(6900);
  });
});
