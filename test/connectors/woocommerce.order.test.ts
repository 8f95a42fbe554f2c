import { describe, expect, it } from "vitest";
import type { SourceEvent } from "../../src/connectors/contract";
import { parse } from "../../src/connectors/woocommerce/woocommerce.parse";
import type { CanonicalOrder } from "../../src/domain/order";
import { woocommerceDelivery, woocommerceFixture, woocommerceFixtures } from "../fixtures/woocommerce";

const SECRET = "test-secret";

async function orderEvent(topic: string, body: object): Promise<SourceEvent> {
  const events = parse(await woocommerceDelivery(topic, body, SECRET));
  if (!Array.isArray(events) || !events[0]) throw new Error("expected events");
  return events[0];
}

async function orderOf(body: object, topic = "order.updated"): Promise<CanonicalOrder> {
  const event = await orderEvent(topic, body);
  if (event.object.type !== "order") throw new Error("expected an order event");
  return event.object.order;
}

/** What the customer pays for the priced parts, on the order's own basis (gross, or net before tax). */
function partsAfterDiscounts(order: CanonicalOrder): number {
  const lines = order.lines.reduce((sum, l) => sum + l.unitPrice * l.quantity - l.discount, 0);
  const shipping = order.shipping.reduce((sum, s) => sum + s.price - s.discount, 0);
  const fees = (order.fees ?? []).reduce((sum, f) => sum + f.amount, 0);
  return lines + shipping + fees;
}

function taxOfParts(order: CanonicalOrder): number {
  return [...order.lines, ...order.shipping, ...(order.fees ?? [])].reduce((sum, p) => sum + p.tax, 0);
}

describe("WooCommerce order mapping", () => {
  it("maps the minimal body of the vendor notes, gross prices made from net plus tax", async () => {
    const event = await orderEvent("order.created", woocommerceFixtures.orderMinimal);
    // No modification or creation date in this body: the payment date gives the version.
    expect(event).toMatchObject({ topic: "order.created", orderId: "3001", stage: "paid", occurrence: "" });
    expect(event.version).toBe(Date.UTC(2025, 10, 3, 10, 15, 0));
    if (event.object.type !== "order") throw new Error("expected an order event");
    expect(event.object.order).toStrictEqual({
      source: {
        connector: "woocommerce",
        orderId: "3001",
        orderNumber: "#3001",
        version: Date.UTC(2025, 10, 3, 10, 15, 0),
        createdAt: "2025-11-03T10:15:00.000Z",
      },
      stage: "paid",
      currency: "EUR",
      pricesIncludeTax: true,
      customer: { email: "jan@example.nl", firstName: "Jan", lastName: "Smit" },
      billingAddress: { name: "Jan Smit", country: "NL" },
      shippingAddress: { country: "NL" },
      // (41.32 + 8.68) / 2 = 25.00 gross each; the order's single 21% rate names the rate.
      lines: [{ id: "1", sku: "MUG-1", title: "MUG-1", quantity: 2, unitPrice: 2500, discount: 0, tax: 868, taxRateBp: 2100 }],
      shipping: [{ title: "PostNL", price: 400, discount: 0, tax: 69, taxRateBp: 2100 }],
      fees: [{ title: "Handling", amount: 400, tax: 69, taxRateBp: 2100 }],
      discounts: [],
      payments: [{ gateway: "stripe", method: "Card", amount: 5800, status: "paid" }],
      totals: { total: 5800, tax: 1006, discounts: 0, shipping: 400 },
      financialStatus: "processing",
      refundIds: [],
    });
  });

  it("maps a tax-exclusive order with a coupon, two VAT rates, fees and shipping to exact minor units", async () => {
    const order = await orderOf(woocommerceFixtures.orderTaxExclusive, "order.created");
    expect(order.source).toEqual({
      connector: "woocommerce",
      orderId: "4102",
      orderNumber: "#4102",
      version: Date.UTC(2026, 2, 2, 8, 15, 4),
      // In the shop's time (date_created), with its offset from date_created_gmt.
      createdAt: "2026-03-02T09:15:00+01:00",
    });
    expect(order).toMatchObject({ stage: "created", currency: "EUR", pricesIncludeTax: false, financialStatus: "on-hold" });
    expect(order.lines).toStrictEqual([
      // 36.00 before the coupon, 32.40 after: 3 × 12.00 − 3.60. The entity in the name is decoded.
      {
        id: "101",
        sku: "MUG-BLUE",
        title: "Ceramic mug – Blue",
        quantity: 3,
        unitPrice: 1200,
        discount: 360,
        tax: 616,
        taxRateBp: 1900,
        productId: "70",
        variantId: "71",
      },
      // An empty sku is left out; variation_id 0 means no variation.
      {
        id: "102",
        title: "Green tea 100 g",
        quantity: 2,
        unitPrice: 500,
        discount: 100,
        tax: 63,
        taxRateBp: 700,
        productId: "80",
      },
      // 10.00 for 3 does not divide: 3.33 each, and the missing cent comes off the discount (1.00 → 0.99),
      // so 3 × 3.33 − 0.99 is still the 9.00 WooCommerce charged.
      {
        id: "103",
        sku: "TEA-SAMPLER",
        title: "Tea sampler, 3 pack",
        quantity: 3,
        unitPrice: 333,
        discount: 99,
        tax: 63,
        taxRateBp: 700,
        productId: "81",
      },
    ]);
    expect(order.shipping).toStrictEqual([
      { title: "DHL Paket", code: "flat_rate", price: 490, discount: 0, tax: 93, taxRateBp: 1900 },
    ]);
    // A negative fee is a discount given as a fee: it stays a negative amount with negative tax.
    expect(order.fees).toStrictEqual([
      { title: "Payment surcharge", amount: 150, tax: 29, taxRateBp: 1900 },
      { title: "Loyalty discount", amount: -200, tax: -38, taxRateBp: 1900 },
    ]);
    // Tax-exclusive: the coupon's amount is its net discount.
    expect(order.discounts).toStrictEqual([{ code: "welcome10", amount: 560, kind: "order" }]);
    expect(order.totals).toStrictEqual({ total: 6306, tax: 826, discounts: 560, shipping: 490 });
    // Net 50.40 + 4.90 − 0.50 = 54.80, plus 8.26 VAT: 63.06 to the cent.
    expect(partsAfterDiscounts(order)).toBe(5480);
    expect(taxOfParts(order)).toBe(order.totals.tax);
    expect(partsAfterDiscounts(order) + taxOfParts(order)).toBe(order.totals.total);
  });

  it("maps the customer, a VAT number from order meta, both addresses and the customer's note", async () => {
    const order = await orderOf(woocommerceFixtures.orderTaxExclusive);
    expect(order.customer).toStrictEqual({
      sourceId: "42",
      email: "jonas@example.de",
      phone: "+49 30 123456",
      firstName: "Jonas",
      lastName: "Becker",
      company: "Kaffeehaus Becker GmbH",
      // "de 123 456 789" as the customer typed it, without spaces and upper-cased.
      vatNumber: "DE123456789",
    });
    expect(order.billingAddress).toStrictEqual({
      name: "Jonas Becker",
      company: "Kaffeehaus Becker GmbH",
      line1: "Torstraße 5",
      line2: "2. OG",
      postcode: "10119",
      city: "Berlin",
      region: "BE",
      country: "DE",
      phone: "+49 30 123456",
    });
    // Empty strings are not given: no company, second line or phone on the shipping address.
    expect(order.shippingAddress).toStrictEqual({
      name: "Jonas Becker",
      line1: "Torstraße 5",
      postcode: "10119",
      city: "Berlin",
      region: "BE",
      country: "DE",
    });
    expect(order.note).toBe("Bitte beim Nachbarn abgeben");
    // On hold for a bank transfer: not paid yet, so the amount is not known to be paid.
    expect(order.payments).toStrictEqual([{ gateway: "bacs", method: "Direct bank transfer", status: "pending" }]);
  });

  it("maps a completed tax-inclusive order with a coupon to gross amounts that make the total", async () => {
    const event = await orderEvent("order.updated", woocommerceFixtures.orderCompleted);
    if (event.object.type !== "order") throw new Error("expected an order event");
    const order = event.object.order;
    expect(event).toMatchObject({ orderId: "5210", stage: "completed", version: Date.UTC(2026, 2, 5, 15, 0, 1) });
    expect(order.source.orderNumber).toBe("#DK-5210");
    expect(order.lines).toStrictEqual([
      // 319.20 + 79.80 = 399.00 before the coupon; 287.28 + 71.82 = 359.10 after.
      {
        id: "501",
        sku: "SW-M-GREY",
        title: "Wool sweater",
        quantity: 1,
        unitPrice: 39900,
        discount: 3990,
        tax: 7182,
        taxRateBp: 2500,
        productId: "90",
        variantId: "91",
      },
      // A null sku (the product was deleted since) is left out.
      {
        id: "502",
        title: "Wool socks",
        quantity: 2,
        unitPrice: 5000,
        discount: 1000,
        tax: 1800,
        taxRateBp: 2500,
        productId: "92",
      },
    ]);
    expect(order.shipping).toStrictEqual([
      { title: "PostNord Pakkeshop", code: "flat_rate", price: 3900, discount: 0, tax: 780, taxRateBp: 2500 },
    ]);
    expect(order.fees).toStrictEqual([]);
    // Tax-inclusive: the coupon took 39.92 net plus 9.98 VAT off what the customer paid.
    expect(order.discounts).toStrictEqual([{ code: "welcome10", amount: 4990, kind: "order" }]);
    expect(order.totals).toStrictEqual({ total: 48810, tax: 9762, discounts: 4990, shipping: 3900 });
    // 359.10 + 90.00 + 39.00 = 488.10, gross, to the cent.
    expect(partsAfterDiscounts(order)).toBe(order.totals.total);
    expect(taxOfParts(order)).toBe(order.totals.tax);
    // A guest: no customer id, but the billing contact.
    expect(order.customer).toStrictEqual({
      email: "mette@example.dk",
      phone: "+4512345678",
      firstName: "Mette",
      lastName: "Holm",
    });
    expect(order.payments).toStrictEqual([
      { gateway: "quickpay", method: "MobilePay", transactionId: "287654321", amount: 48810, status: "paid" },
    ]);
    expect(order.note).toBeUndefined();
  });

  it("moves the rounding remainder of a tax-inclusive line into its discount, so the line still makes its gross", async () => {
    const body = woocommerceFixture("orderCompleted");
    // 3 pairs of socks for 100.00 gross (80.00 + 20.00): 33.333… each.
    (body.line_items as Record<string, unknown>[])[1] = {
      ...(body.line_items as Record<string, unknown>[])[1],
      quantity: 3,
      subtotal: "80.00",
      subtotal_tax: "20.00",
      total: "80.00",
      total_tax: "20.00",
    };
    const line = (await orderOf(body)).lines[1];
    expect(line).toMatchObject({ quantity: 3, unitPrice: 3333, discount: -1, tax: 2000 });
    expect((line?.unitPrice ?? 0) * 3 - (line?.discount ?? 0)).toBe(10000);
  });

  it("adds a net amount and its tax before rounding when WooCommerce writes more decimals than the currency has", async () => {
    const body = woocommerceFixture("orderCompleted");
    // 8.264 + 1.736 = 10.00 exactly; rounding each first would give 8.26 + 1.74.
    body.coupon_lines = [{ code: "tenoff", discount: "8.264", discount_tax: "1.736" }];
    const order = await orderOf(body);
    expect(order.discounts).toStrictEqual([{ code: "tenoff", amount: 1000, kind: "order" }]);
  });

  it("keeps a cancelled order's amounts, leaves out an address with nothing in it, and shows the payment as pending", async () => {
    const order = await orderOf(woocommerceFixtures.orderCancelled);
    expect(order).toMatchObject({
      stage: "cancelled",
      financialStatus: "cancelled",
      note: "Customer changed her mind",
      customer: { sourceId: "77", email: "sanne@example.nl", firstName: "Sanne", lastName: "de Vries" },
      billingAddress: { name: "Sanne de Vries" },
      payments: [{ gateway: "mollie_wc_gateway_ideal", method: "iDEAL", status: "pending" }],
      totals: { total: 2420, tax: 420, discounts: 0, shipping: 0 },
    });
    expect(order.shippingAddress).toBeUndefined();
    expect(order.lines).toStrictEqual([
      {
        id: "611",
        sku: "CANDLE-L",
        title: "Beeswax candle",
        quantity: 1,
        unitPrice: 2420,
        discount: 0,
        tax: 420,
        taxRateBp: 2100,
        productId: "95",
      },
    ]);
  });

  it("gives no rate to a line taxed at two rates, or at a rate whose percent the order does not state", async () => {
    const body = woocommerceFixture("orderTaxExclusive");
    const items = body.line_items as Record<string, unknown>[];
    items[0] = {
      ...items[0],
      taxes: [
        { id: 1, total: "6.156" },
        { id: 2, total: "0.5" },
      ],
    };
    items[1] = { ...items[1], taxes: [{ id: 9, total: "0.63" }] };
    const order = await orderOf(body);
    expect(order.lines[0]?.taxRateBp).toBeUndefined();
    expect(order.lines[1]?.taxRateBp).toBeUndefined();
    expect(order.lines[2]?.taxRateBp).toBe(700);
  });

  it("names no payment for an order without a payment method, and no customer for one without any details", async () => {
    const body = {
      ...woocommerceFixture("orderCancelled"),
      payment_method: "",
      payment_method_title: "",
      customer_id: 0,
      billing: null,
    };
    const order = await orderOf(body);
    expect(order.payments).toStrictEqual([]);
    expect(order.customer).toBeNull();
  });

  it("keeps a country of two ASCII letters, upper-cased, and drops any other, storing the order as Shopify's is", async () => {
    const countryOf = async (country: string) => {
      const base = woocommerceFixture("orderMinimal");
      const order = await orderOf({ ...base, billing: { ...(base.billing as object), country }, shipping: { country } });
      return [order.billingAddress?.country, order.shippingAddress?.country];
    };
    expect(await countryOf(" de ")).toStrictEqual(["DE", "DE"]);
    // One astral character is two UTF-16 units but one code point; "ß" upper-cases to "SS" (South
    // Sudan's code); a full-width "ＤＥ" is two letters, not ASCII ones.
    for (const country of ["\u{10000}", "ß", "ＤＥ", "D", "DEU", "D1"]) {
      expect(await countryOf(country), JSON.stringify(country)).toStrictEqual([undefined, undefined]);
    }
    // The billing address keeps what else it has; the shipping address had only the country.
    const body = { ...woocommerceFixture("orderMinimal"), shipping: { country: "\u{10000}" } };
    const order = await orderOf(body);
    expect(order.shippingAddress).toBeUndefined();
    expect(order.billingAddress).toStrictEqual({ name: "Jan Smit", country: "NL" });
  });

  it("reads the VAT number from whichever of the common plugin meta keys holds it", async () => {
    for (const key of ["_billing_vat_number", "_vat_number", "vat_number", "_billing_eu_vat_number"]) {
      const body = { ...woocommerceFixture("orderCompleted"), meta_data: [{ id: 1, key, value: "DK12345678" }] };
      expect((await orderOf(body)).customer?.vatNumber, key).toBe("DK12345678");
    }
    const other = { ...woocommerceFixture("orderCompleted"), meta_data: [{ id: 1, key: "_billing_company_id", value: "X1" }] };
    expect((await orderOf(other)).customer?.vatNumber).toBeUndefined();
  });

  it("counts a cash-on-delivery order refunded before it was completed as cancelled: the parcel was refused, no cash taken", async () => {
    // Processing (WooCommerce stamped date_paid at checkout), then refunded when the parcel came back.
    const refused = {
      ...woocommerceFixture("orderRefunded"),
      payment_method: "cod",
      payment_method_title: "Cash on delivery",
      transaction_id: "",
      date_completed: null,
      date_completed_gmt: null,
    };
    const events = parse(await woocommerceDelivery("order.updated", refused, SECRET));
    if (!Array.isArray(events) || events[0]?.object.type !== "order") throw new Error("expected an order event");
    expect(events[0].stage).toBe("cancelled");
    // No payment to register for cash never collected.
    expect(events[0].object.order.payments).toStrictEqual([{ gateway: "cod", method: "Cash on delivery", status: "pending" }]);
    // Nor does its status read as money received, and its refunds are no events: no cash went back
    // (a refund would climb the order to paid and run the paid flows first).
    expect(events[0].object.order.financialStatus).toBe("cancelled");
    expect(events).toHaveLength(1);

    // Refunded after it was completed: the cash was collected, and WooCommerce keeps date_completed.
    const returned = { ...refused, date_completed: "2025-11-05T16:00:01", date_completed_gmt: "2025-11-05T15:00:01" };
    const event = await orderEvent("order.updated", returned);
    expect(event.stage).toBe("paid");
    expect(event.object.type === "order" && event.object.order.payments).toStrictEqual([
      { gateway: "cod", method: "Cash on delivery", amount: 5800, status: "paid" },
    ]);
  });
});
