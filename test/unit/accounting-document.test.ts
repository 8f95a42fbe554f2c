import { describe, expect, it } from "vitest";
import { accountingSettingsSchema } from "../../src/domain/accounting/accounting-settings";
import { buildCreditNoteDocument, buildInvoiceDocument } from "../../src/domain/accounting/build-document";
import { type CanonicalOrder, type CanonicalRefund, orderSchema } from "../../src/domain/order";
import { decideVat } from "../../src/domain/vat/vat-decision";
import { euStandardRateBp } from "../../src/domain/vat/vat-rates";

const settings = (over: Record<string, unknown> = {}) => accountingSettingsSchema.parse(over);

function order(over: Partial<CanonicalOrder> = {}): CanonicalOrder {
  return orderSchema.parse({
    source: { connector: "test", orderId: "1", orderNumber: "#1", version: 1, createdAt: "2026-03-02T10:00:00Z" },
    stage: "paid",
    currency: "DKK",
    pricesIncludeTax: true,
    customer: { email: "a@b.dk", firstName: "Ane", lastName: "Lund" },
    billingAddress: { country: "DK" },
    shippingAddress: { country: "DK" },
    lines: [{ id: "l1", sku: "TS-1", title: "T-shirt", quantity: 1, unitPrice: 19900, discount: 0, tax: 3980, taxRateBp: 2500 }],
    shipping: [{ title: "GLS", price: 5000, discount: 0, tax: 1000, taxRateBp: 2500 }],
    discounts: [],
    payments: [],
    totals: { total: 24900, tax: 4980, discounts: 0, shipping: 5000 },
    ...over,
  });
}

describe("the VAT decision", () => {
  it("is domestic at home, OSS or home VAT inside the EU, reverse charge for EU B2B and export outside", () => {
    const s = { homeCountry: "DK", ossRegistered: true };
    expect(decideVat(order(), s)).toMatchObject({ case: "domestic", zone: "domestic", standardRateBp: 2500 });
    expect(decideVat(order({ shippingAddress: { country: "DE" } }), s)).toMatchObject({
      case: "oss",
      zone: "eu",
      vatCountry: "DE",
      standardRateBp: 1900,
    });
    expect(decideVat(order({ shippingAddress: { country: "DE" } }), { ...s, ossRegistered: false })).toMatchObject({
      case: "eu-home-vat",
      vatCountry: "DK",
      standardRateBp: 2500,
    });
    expect(decideVat(order({ shippingAddress: { country: "DE" }, customer: { vatNumber: "DE123456789" } }), s)).toMatchObject({
      case: "reverse-charge",
      standardRateBp: 0,
      b2b: true,
    });
    expect(decideVat(order({ shippingAddress: { country: "US" } }), s)).toMatchObject({
      case: "export",
      zone: "abroad",
      standardRateBp: 0,
    });
  });

  it("uses the rate in force on the order's date", () => {
    expect(euStandardRateBp("EE", "2025-06-30")).toBe(2200);
    expect(euStandardRateBp("EE", "2025-07-01")).toBe(2400);
    expect(euStandardRateBp("EL", "2026-01-01")).toBe(2400);
    expect(euStandardRateBp("NO", "2026-01-01")).toBeUndefined();
  });
});

describe("an invoice document", () => {
  it("has net lines whose total equals what the customer paid", () => {
    const doc = buildInvoiceDocument(order(), settings());
    expect(doc.lines.map((l) => [l.kind, l.unitNet, l.net, l.vatRateBp])).toEqual([
      ["product", 15920, 15920, 2500],
      ["shipping", 4000, 4000, 2500],
    ]);
    expect(doc.totals).toEqual({ net: 19920, vat: 4980, total: 24900 });
    expect(doc.difference).toBe(0);
    expect(doc.mismatch).toBeUndefined();
  });

  it("absorbs a cents difference within the threshold in a VAT-free rounding line", () => {
    // 3 × 33.33 gross at 25 %: the source says 99.99 with 20.00 VAT; the target books 26.66 net a unit.
    const doc = buildInvoiceDocument(
      order({
        lines: [{ id: "l1", title: "Pen", quantity: 3, unitPrice: 3333, discount: 0, tax: 2000, taxRateBp: 2500 }],
        shipping: [],
        totals: { total: 9999, tax: 2000, discounts: 0, shipping: 0 },
      }),
      settings(),
    );
    expect(doc.lines[0]).toMatchObject({ unitNet: 2666, net: 7998 });
    expect(doc.difference).toBe(1);
    expect(doc.lines.at(-1)).toMatchObject({ kind: "rounding", net: 1, vat: 0 });
    expect(doc.totals.total).toBe(9999);
  });

  it("refuses to balance a difference above the threshold and says both totals", () => {
    const doc = buildInvoiceDocument(order({ totals: { total: 26000, tax: 4980, discounts: 0, shipping: 5000 } }), settings());
    expect(doc.mismatch).toBe(
      "The invoice would total 249.00 DKK but the customer paid 260.00 DKK: a difference of 11.00 DKK, above the threshold of 1.00 DKK.",
    );
    expect(doc.lines.some((l) => l.kind === "rounding")).toBe(false);
  });

  it("rounds VAT per line or per total as the target does", () => {
    const lines = [1, 2, 3].map((n) => ({
      id: `l${n}`,
      title: `Item ${n}`,
      quantity: 1,
      unitPrice: 1002,
      discount: 0,
      tax: 0,
      taxRateBp: 2500,
    }));
    const o = order({
      pricesIncludeTax: false,
      lines,
      shipping: [],
      totals: { total: 3758, tax: 752, discounts: 0, shipping: 0 },
    });
    // per line: 250.5 → 251 (half-up) three times = 753; per total: 3006 × 25 % = 751.5 → 752
    expect(buildInvoiceDocument(o, settings({ roundingBasis: "line" })).totals.vat).toBe(753);
    expect(buildInvoiceDocument(o, settings({ roundingBasis: "total" })).totals.vat).toBe(752);
    expect(buildInvoiceDocument(o, settings({ roundingBasis: "line", roundingMode: "half-even" })).totals.vat).toBe(750);
  });

  it("converts to the shop currency at the source's rate when asked", () => {
    const o = order({
      currency: "EUR",
      exchange: { shopCurrency: "DKK", rate: "7.46" },
      totals: { total: 24900, tax: 4980, discounts: 0, shipping: 5000 },
    });
    const doc = buildInvoiceDocument(o, settings({ invoiceCurrency: "shop" }));
    expect(doc.currency).toBe("DKK");
    expect(doc.exchange).toEqual({ from: "EUR", to: "DKK", rate: "7.46" });
    expect(doc.expected.total).toBe(185754);
    expect(doc.totals.total).toBe(185754);
  });

  it("warns when VAT was charged on a reverse-charge sale, and books it as charged", () => {
    const doc = buildInvoiceDocument(
      order({ shippingAddress: { country: "SE" }, customer: { vatNumber: "SE556677889901" } }),
      settings(),
    );
    expect(doc.vat.case).toBe("reverse-charge");
    expect(doc.warnings[0]).toMatch(/charged VAT on a reverse-charge sale/);
    expect(doc.totals.total).toBe(24900);
  });
});

describe("a credit note document", () => {
  const refund = (over: Partial<CanonicalRefund> = {}): CanonicalRefund => ({
    source: { connector: "test", orderId: "1", refundId: "r1", createdAt: "2026-03-05T09:00:00Z" },
    currency: "DKK",
    lines: [{ lineId: "l1", quantity: 1, subtotal: 19900, tax: 3980, restock: true }],
    shipping: 5000,
    adjustments: 0,
    total: 24900,
    ...over,
  });

  it("credits the refunded lines and shipping at their rates", () => {
    const doc = buildCreditNoteDocument(order(), refund(), settings());
    expect(doc.type).toBe("credit-note");
    expect(doc.date).toBe("2026-03-05");
    expect(doc.lines.map((l) => [l.kind, l.sku, l.net, l.vatRateBp])).toEqual([
      ["product", "TS-1", 15920, 2500],
      ["shipping", undefined, 4000, 2500],
    ]);
    expect(doc.totals.total).toBe(24900);
  });

  it("turns an amount-only refund into one line at the order's main rate", () => {
    const doc = buildCreditNoteDocument(order(), refund({ lines: [], shipping: 0, total: 5000, note: "damaged" }), settings());
    expect(doc.lines).toEqual([
      expect.objectContaining({ description: "Refund: damaged", net: 4000, vatRateBp: 2500, vat: 1000 }),
    ]);
    expect(doc.totals.total).toBe(5000);
  });
});
