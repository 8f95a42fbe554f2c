import { describe, expect, it } from "vitest";
import { invoiceLinesFromOrder, sumLines } from "../../src/domain/invoice-lines";
import { type CanonicalOrder, type Line, orderSchema, type Shipping } from "../../src/domain/order";

function order(
  lines: Partial<Line>[],
  shipping: Partial<Shipping>[] = [],
  overrides: Partial<CanonicalOrder> = {},
): CanonicalOrder {
  return orderSchema.parse({
    source: { connector: "shopify", orderId: "1", orderNumber: "#1001", version: 1, createdAt: "2025-11-03T10:00:00Z" },
    stage: "paid",
    currency: "DKK",
    pricesIncludeTax: true,
    customer: null,
    lines: lines.map((l, i) => ({ id: `l${i}`, title: `Line ${i}`, quantity: 1, unitPrice: 0, discount: 0, tax: 0, ...l })),
    shipping: shipping.map((s) => ({ title: "Post", price: 0, discount: 0, tax: 0, ...s })),
    discounts: [],
    payments: [],
    totals: { total: 0, tax: 0, discounts: 0, shipping: 0 },
    ...overrides,
  });
}

describe("invoiceLinesFromOrder with tax-inclusive prices", () => {
  it("takes the line's VAT out of its gross total", () => {
    const [line] = invoiceLinesFromOrder(
      order([{ title: "T-shirt", sku: "TS-1", quantity: 1, unitPrice: 19900, tax: 3980, taxRateBp: 2500 }]),
    );
    expect(line).toEqual({
      kind: "product",
      description: "T-shirt",
      sku: "TS-1",
      quantity: 1,
      net: 15920,
      vat: 3980,
      vatRateBp: 2500,
    });
  });

  it("takes the line discount off the whole line before removing VAT", () => {
    // 2 × 100.00 − 20.00 = 180.00 gross, of which 36.00 VAT.
    const [line] = invoiceLinesFromOrder(order([{ quantity: 2, unitPrice: 10000, discount: 2000, tax: 3600 }]));
    expect(line?.net).toBe(14400);
    expect(line?.vat).toBe(3600);
    expect(line?.quantity).toBe(2);
  });

  it("adds a shipping line net of its discount and VAT", () => {
    const lines = invoiceLinesFromOrder(
      order([{ unitPrice: 10000, tax: 2000 }], [{ title: "GLS", price: 4900, discount: 900, tax: 800, taxRateBp: 2500 }]),
    );
    expect(lines[1]).toEqual({ kind: "shipping", description: "GLS", quantity: 1, net: 3200, vat: 800, vatRateBp: 2500 });
  });

  it("adds up to what the customer paid", () => {
    const lines = invoiceLinesFromOrder(
      order(
        [
          { quantity: 2, unitPrice: 10000, discount: 2000, tax: 3600 },
          { quantity: 1, unitPrice: 19900, tax: 3980 },
        ],
        [{ price: 4900, tax: 980 }],
      ),
    );
    expect(sumLines(lines)).toEqual({ net: 14400 + 15920 + 3920, vat: 3600 + 3980 + 980, total: 18000 + 19900 + 4900 });
  });
});

describe("invoiceLinesFromOrder with tax-exclusive prices", () => {
  it("uses the discounted line total as the net and adds the source's VAT", () => {
    const [line] = invoiceLinesFromOrder(
      order([{ quantity: 3, unitPrice: 1000, discount: 300, tax: 540, taxRateBp: 2000 }], [], { pricesIncludeTax: false }),
    );
    expect(line?.net).toBe(2700);
    expect(line?.vat).toBe(540);
    expect(line?.vatRateBp).toBe(2000);
  });

  it("uses the discounted shipping price as the net", () => {
    const lines = invoiceLinesFromOrder(order([], [{ price: 5000, discount: 1000, tax: 1000 }], { pricesIncludeTax: false }));
    expect(lines).toEqual([{ kind: "shipping", description: "Post", quantity: 1, net: 4000, vat: 1000 }]);
  });

  it("totals net plus VAT", () => {
    const lines = invoiceLinesFromOrder(
      order([{ quantity: 3, unitPrice: 1000, discount: 300, tax: 540 }], [{ price: 5000, discount: 1000, tax: 1000 }], {
        pricesIncludeTax: false,
      }),
    );
    expect(sumLines(lines)).toEqual({ net: 6700, vat: 1540, total: 8240 });
  });
});

describe("invoiceLinesFromOrder skipping", () => {
  it("skips lines with zero quantity", () => {
    const lines = invoiceLinesFromOrder(
      order([
        { title: "Removed", quantity: 0, unitPrice: 10000, tax: 2000 },
        { title: "Kept", unitPrice: 5000, tax: 1000 },
      ]),
    );
    expect(lines.map((l) => l.description)).toEqual(["Kept"]);
  });

  it("skips free shipping with no VAT", () => {
    const lines = invoiceLinesFromOrder(order([{ unitPrice: 5000, tax: 1000 }], [{ title: "Free", price: 0, tax: 0 }]));
    expect(lines.map((l) => l.kind)).toEqual(["product"]);
  });

  it("keeps a shipping line that carries VAT even at price zero", () => {
    const lines = invoiceLinesFromOrder(order([], [{ price: 0, tax: 100 }], { pricesIncludeTax: false }));
    expect(lines).toHaveLength(1);
  });

  it("keeps a product line whose price is zero", () => {
    const lines = invoiceLinesFromOrder(order([{ title: "Gift", unitPrice: 0, tax: 0 }]));
    expect(lines).toEqual([{ kind: "product", description: "Gift", quantity: 1, net: 0, vat: 0 }]);
  });

  it("leaves out the SKU and VAT rate when the source gave none", () => {
    const [line] = invoiceLinesFromOrder(order([{ unitPrice: 100, tax: 20 }]));
    expect(line).not.toHaveProperty("sku");
    expect(line).not.toHaveProperty("vatRateBp");
  });

  it("returns no lines for an empty order", () => {
    expect(invoiceLinesFromOrder(order([]))).toEqual([]);
  });
});

describe("sumLines", () => {
  it("sums to zero for no lines", () => {
    expect(sumLines([])).toEqual({ net: 0, vat: 0, total: 0 });
  });

  it("sums net and VAT and adds them into the total", () => {
    expect(
      sumLines([
        { kind: "product", description: "a", quantity: 1, net: 100, vat: 25 },
        { kind: "shipping", description: "b", quantity: 1, net: 40, vat: 10 },
      ]),
    ).toEqual({ net: 140, vat: 35, total: 175 });
  });
});
