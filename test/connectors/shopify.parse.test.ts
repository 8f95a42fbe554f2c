import { describe, expect, it } from "vitest";
import type { IgnoredDelivery, IncomingDelivery, SourceEvent } from "../../src/connectors/contract";
import { parse, route, type ShopifyParseSettings } from "../../src/connectors/shopify/shopify.parse";
import { OrderlyError } from "../../src/domain/errors";
import type { CanonicalOrder, CanonicalRefund } from "../../src/domain/order";
import { shopifyDelivery, shopifyFixture, shopifyFixtures } from "../fixtures/shopify";

const SECRET = "test-secret";
const TRIGGERED_AT = "2026-03-01T09:00:00.000Z";

async function parseOne(topic: string, body: string | object, headers: Record<string, string | null> = {}): Promise<SourceEvent> {
  const delivery = await shopifyDelivery(topic, body, SECRET, { "X-Shopify-Triggered-At": TRIGGERED_AT, ...headers });
  const events = parse(delivery);
  if (!Array.isArray(events) || events.length !== 1 || !events[0]) throw new Error("expected exactly one event");
  return events[0];
}

function orderOf(event: SourceEvent): CanonicalOrder {
  if (event.object.type !== "order") throw new Error("expected an order event");
  return event.object.order;
}

function refundOf(event: SourceEvent): CanonicalRefund {
  if (event.object.type !== "refund") throw new Error("expected a refund event");
  return event.object.refund;
}

/** What parse answers for a delivery: events, or an ignored delivery with its reason. */
async function parseAny(topic: string, body: string | object, settings?: ShopifyParseSettings) {
  return parse(await shopifyDelivery(topic, body, SECRET, { "X-Shopify-Triggered-At": TRIGGERED_AT }), settings);
}

function parseError(delivery: IncomingDelivery): OrderlyError {
  try {
    parse(delivery);
  } catch (error) {
    if (error instanceof OrderlyError) return error;
    throw error;
  }
  throw new Error("expected parse to throw");
}

describe("Shopify order mapping", () => {
  it("maps the minimal body of the vendor notes, keeping its int64 id exact", async () => {
    const event = await parseOne("orders/create", shopifyFixtures.orderMinimal);
    expect(event).toMatchObject({ topic: "orders/create", orderId: "820982911946154508", stage: "paid", occurrence: "" });
    // No updated_at or created_at in this body: X-Shopify-Triggered-At gives the version.
    expect(event.version).toBe(Date.UTC(2026, 2, 1, 9, 0, 0));
    expect(orderOf(event)).toStrictEqual({
      source: {
        connector: "shopify",
        orderId: "820982911946154508",
        orderNumber: "#1001",
        version: Date.UTC(2026, 2, 1, 9, 0, 0),
        createdAt: TRIGGERED_AT,
      },
      stage: "paid",
      currency: "DKK",
      pricesIncludeTax: true,
      customer: { sourceId: "1", email: "ane@example.dk", firstName: "Ane", lastName: "Lund" },
      billingAddress: { name: "Ane Lund", line1: "Vej 1", postcode: "8000", city: "Aarhus", country: "DK" },
      shippingAddress: { country: "DK" },
      lines: [{ id: "1", sku: "TS-1", title: "T-shirt", quantity: 1, unitPrice: 19900, discount: 0, tax: 3980, taxRateBp: 2500 }],
      shipping: [{ title: "GLS", code: "gls", price: 5000, discount: 0, tax: 1000, taxRateBp: 2500 }],
      discounts: [],
      payments: [{ gateway: "quickpay", status: "paid", amount: 24900 }],
      totals: { total: 24900, tax: 4980, discounts: 0, shipping: 5000 },
      financialStatus: "paid",
      tags: [],
    });
  });

  it("maps a tax-exclusive order with a line discount and discounted shipping to exact minor units", async () => {
    const event = await parseOne("orders/create", shopifyFixtures.orderTaxExclusive);
    const order = orderOf(event);
    expect(event.stage).toBe("created");
    expect(event.version).toBe(Date.parse("2026-03-02T09:15:05+01:00"));
    expect(order.source).toEqual({
      connector: "shopify",
      orderId: "5801234567890",
      orderNumber: "#1042",
      version: Date.parse("2026-03-02T09:15:05+01:00"),
      createdAt: "2026-03-02T09:15:00+01:00",
    });
    expect(order.currency).toBe("EUR");
    expect(order.pricesIncludeTax).toBe(false);
    expect(order.lines).toStrictEqual([
      {
        id: "11001",
        sku: "MUG-BLUE",
        title: "Ceramic mug",
        quantity: 2,
        unitPrice: 1250,
        discount: 500,
        tax: 380,
        taxRateBp: 1900,
        productId: "7001",
        variantId: "8001",
      },
      // sku null: left out rather than an empty string.
      {
        id: "11002",
        title: "Green tea 100 g",
        quantity: 3,
        unitPrice: 399,
        discount: 0,
        tax: 84,
        taxRateBp: 700,
        productId: "7002",
        variantId: "8002",
      },
    ]);
    // 9.90 shipping discounted to 4.95: the discount is price − discounted_price.
    expect(order.shipping).toStrictEqual([
      { title: "DHL Express", code: "dhl-express", price: 990, discount: 495, tax: 94, taxRateBp: 1900 },
    ]);
    expect(order.discounts).toStrictEqual([
      { title: "Loyal customer", amount: 500, kind: "line" },
      { code: "SHIPHALF", amount: 495, kind: "shipping" },
    ]);
    expect(order.totals).toStrictEqual({ total: 4250, tax: 558, discounts: 995, shipping: 990 });
    // Net lines 20.00 + 11.97, net shipping 4.95, tax 5.58: 42.50 to the cent.
    const lines = order.lines.reduce((sum, l) => sum + l.unitPrice * l.quantity - l.discount, 0);
    const shipping = order.shipping.reduce((sum, s) => sum + s.price - s.discount, 0);
    expect(lines + shipping + order.totals.tax).toBe(order.totals.total);

    expect(order.customer).toStrictEqual({
      sourceId: "6001",
      email: "jonas@example.de",
      phone: "+4930123456",
      firstName: "Jonas",
      lastName: "Becker",
      company: "Kaffeehaus Becker GmbH",
    });
    expect(order.billingAddress).toStrictEqual({
      name: "Jonas Becker",
      company: "Kaffeehaus Becker GmbH",
      line1: "Torstraße 5",
      line2: "2. OG",
      postcode: "10119",
      city: "Berlin",
      country: "DE",
      phone: "+49 30 123456",
    });
    expect(order.shippingAddress).toStrictEqual({
      name: "Jonas Becker",
      line1: "Torstraße 5",
      postcode: "10119",
      city: "Berlin",
      country: "DE",
    });
    // Authorized, not captured: the payment's amount is not known yet.
    expect(order.payments).toStrictEqual([{ gateway: "stripe", status: "authorized" }]);
    expect(order.financialStatus).toBe("authorized");
    expect(order.fulfillmentStatus).toBeUndefined();
    expect(order.note).toBe("Bitte beim Nachbarn abgeben");
    expect(order.tags).toEqual(["wholesale", "vip"]);
  });

  it("maps a paid, fulfilled and closed order with an order-wide code as completed", async () => {
    const event = await parseOne("orders/updated", shopifyFixtures.orderCompleted);
    const order = orderOf(event);
    expect(event).toMatchObject({ orderId: "450789469", stage: "completed", version: Date.parse("2026-03-04T16:00:01+01:00") });
    expect(order.pricesIncludeTax).toBe(true);
    expect(order.lines).toStrictEqual([
      {
        id: "21001",
        sku: "SW-M-GREY",
        title: "Wool sweater",
        quantity: 1,
        unitPrice: 39900,
        discount: 3990,
        tax: 7182,
        taxRateBp: 2500,
        productId: "9001",
        variantId: "9101",
      },
      {
        id: "21002",
        title: "Wool socks",
        quantity: 2,
        unitPrice: 5000,
        discount: 1000,
        tax: 1800,
        taxRateBp: 2500,
        productId: "9002",
        variantId: "9102",
      },
    ]);
    expect(order.shipping).toStrictEqual([
      { title: "PostNord", code: "postnord-service-point", price: 3900, discount: 0, tax: 780, taxRateBp: 2500 },
    ]);
    // The amount comes from the allocations pointing at the application: 39.90 + 10.00.
    expect(order.discounts).toStrictEqual([{ code: "WELCOME10", amount: 4990, kind: "order" }]);
    expect(order.totals).toStrictEqual({ total: 48810, tax: 9762, discounts: 4990, shipping: 3900 });
    // Tax-inclusive: gross lines 359.10 + 90.00 and shipping 39.00 make the total.
    const lines = order.lines.reduce((sum, l) => sum + l.unitPrice * l.quantity - l.discount, 0);
    expect(lines + 3900).toBe(order.totals.total);
    // A guest checkout: no Shopify customer, but the order's contact details and billing name.
    expect(order.customer).toStrictEqual({
      email: "guest@example.dk",
      phone: "+4512345678",
      firstName: "Mette",
      lastName: "Holm",
    });
    // Two gateways share the payment; how much each took is not in an order webhook.
    expect(order.payments).toStrictEqual([
      { gateway: "gift_card", status: "paid" },
      { gateway: "shopify_payments", status: "paid" },
    ]);
    expect(order).toMatchObject({ financialStatus: "paid", fulfillmentStatus: "fulfilled", tags: [] });
    expect(order.note).toBeUndefined();
  });

  it("maps a cancelled order with its cancellation time and voided payment", async () => {
    const event = await parseOne("orders/cancelled", shopifyFixtures.orderCancelled);
    const order = orderOf(event);
    expect(event.stage).toBe("cancelled");
    expect(order).toMatchObject({
      cancelledAt: "2026-03-03T12:00:00+01:00",
      financialStatus: "voided",
      note: "Customer changed her mind",
      tags: ["cancelled-by-phone"],
      customer: { sourceId: "6002", email: "sofie@example.dk", firstName: "Sofie", lastName: "Berg" },
      payments: [{ gateway: "quickpay", status: "voided" }],
      totals: { total: 12000, tax: 2400, discounts: 0, shipping: 0 },
    });
    // A custom line has no product or variant.
    expect(order.lines).toStrictEqual([
      {
        id: "31001",
        sku: "CANDLE-L",
        title: "Beeswax candle",
        quantity: 1,
        unitPrice: 12000,
        discount: 0,
        tax: 2400,
        taxRateBp: 2500,
      },
    ]);
    expect(order.billingAddress).toBeUndefined();
    expect(order.shippingAddress).toBeUndefined();
  });

  it("reads discounts from the codes alone when a payload has no discount applications", async () => {
    const body = {
      ...shopifyFixture("orderCompleted"),
      discount_applications: undefined,
      discount_codes: [
        { code: "WELCOME10", amount: "49.90", type: "percentage" },
        { code: "FREESHIP", amount: "39.00", type: "shipping" },
      ],
    };
    const order = orderOf(await parseOne("orders/updated", body));
    expect(order.discounts).toStrictEqual([
      { code: "WELCOME10", amount: 4990, kind: "order" },
      { code: "FREESHIP", amount: 3900, kind: "shipping" },
    ]);
  });

  it("falls back to total_discount, name and the sum of shipping prices when the newer fields are absent", async () => {
    const body = shopifyFixture("orderTaxExclusive");
    const [first] = body.line_items as Record<string, unknown>[];
    Object.assign(first ?? {}, { discount_allocations: undefined, total_discount: "5.00", title: null });
    body.total_shipping_price_set = null;
    const order = orderOf(await parseOne("orders/create", body));
    expect(order.lines[0]).toMatchObject({ title: "Ceramic mug - Blue", discount: 500 });
    expect(order.totals.shipping).toBe(990);
  });

  it("keeps a country code of two ASCII letters, upper-cased, and drops any other, as WooCommerce's", async () => {
    const countryOf = async (code: string) => {
      const body = shopifyFixture("orderTaxExclusive");
      body.shipping_address = { ...(body.shipping_address as object), country_code: code };
      return orderOf(await parseOne("orders/create", body)).shippingAddress?.country;
    };
    expect(await countryOf("dk")).toBe("DK");
    // "ß" upper-cases to "SS", South Sudan's code; one astral character is two UTF-16 units.
    for (const code of ["ß", "\u{10000}", "ＤＫ", "D", "DNK"])
      expect(await countryOf(code), JSON.stringify(code)).toBeUndefined();
  });
});

describe("Shopify stages", () => {
  const cases: Array<{ topic: string; change: Record<string, unknown>; stage: string; why: string }> = [
    { topic: "orders/create", change: { financial_status: "pending" }, stage: "created", why: "a pending order is created" },
    { topic: "orders/create", change: { financial_status: "paid" }, stage: "paid", why: "an order created paid is paid" },
    // Each topic's payload carries the state that fired it; the stage is read from that, never the topic.
    { topic: "orders/paid", change: { financial_status: "paid" }, stage: "paid", why: "an orders/paid payload is paid" },
    {
      topic: "orders/updated",
      change: { financial_status: "partially_refunded" },
      stage: "paid",
      why: "a partly refunded order was paid",
    },
    { topic: "orders/updated", change: { financial_status: "refunded" }, stage: "paid", why: "a refunded order was paid" },
    {
      topic: "orders/fulfilled",
      change: { fulfillment_status: "fulfilled" },
      stage: "fulfilled",
      why: "an orders/fulfilled payload is fulfilled",
    },
    {
      topic: "orders/updated",
      change: { fulfillment_status: "fulfilled" },
      stage: "fulfilled",
      why: "a fulfilled status is fulfilled",
    },
    {
      topic: "orders/updated",
      change: { fulfillment_status: "partial", financial_status: "paid" },
      stage: "paid",
      why: "partly fulfilled is not fulfilled",
    },
    {
      topic: "orders/updated",
      change: { financial_status: "paid", fulfillment_status: "fulfilled", closed_at: "2026-03-04T16:00:00+01:00" },
      stage: "completed",
      why: "closed, paid and fulfilled is completed",
    },
    {
      topic: "orders/updated",
      change: { financial_status: "paid", closed_at: "2026-03-04T16:00:00+01:00" },
      stage: "paid",
      why: "closed but unfulfilled is not completed",
    },
    {
      topic: "orders/cancelled",
      change: { cancelled_at: "2026-03-03T12:00:00+01:00" },
      stage: "cancelled",
      why: "an orders/cancelled payload is cancelled",
    },
    {
      topic: "orders/updated",
      change: { financial_status: "paid", cancelled_at: "2026-03-03T12:00:00+01:00" },
      stage: "cancelled",
      why: "an update carrying cancelled_at is cancelled",
    },
  ];

  for (const { topic, change, stage, why } of cases) {
    it(`${topic}: ${why}`, async () => {
      const event = await parseOne(topic, { ...shopifyFixture("orderTaxExclusive"), ...change });
      expect(event.stage).toBe(stage);
      expect(orderOf(event).stage).toBe(stage);
    });
  }

  it("refunds/create is the refunded stage, one occurrence per refund", async () => {
    const event = await parseOne("refunds/create", shopifyFixtures.refundTwoLines);
    expect(event).toMatchObject({ stage: "refunded", occurrence: "929361462", orderId: "450789469" });
  });
});

describe("Shopify delivery identity and version", () => {
  it("uses the webhook id as delivery id and the event id with the topic as event key", async () => {
    const event = await parseOne("orders/paid", shopifyFixtures.orderTaxExclusive, {
      "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
      "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
    });
    expect(event.deliveryId).toBe("b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
    expect(event.eventKey).toBe("98880550-7158-44d4-b7cd-2c97c8a091b5:orders/paid");
    expect(event.topic).toBe("orders/paid");
  });

  it("leaves the event key out when Shopify sends no event id", async () => {
    const event = await parseOne("orders/paid", shopifyFixtures.orderTaxExclusive, { "X-Shopify-Event-Id": null });
    expect(event.eventKey).toBeUndefined();
    expect("eventKey" in event).toBe(false);
  });

  it("versions an order by updated_at, then X-Shopify-Triggered-At, then created_at", async () => {
    const body = shopifyFixture("orderTaxExclusive");
    expect((await parseOne("orders/updated", body)).version).toBe(Date.parse("2026-03-02T09:15:05+01:00"));
    body.updated_at = null;
    expect((await parseOne("orders/updated", body)).version).toBe(Date.parse(TRIGGERED_AT));
    expect((await parseOne("orders/updated", body, { "X-Shopify-Triggered-At": null })).version).toBe(
      Date.parse("2026-03-02T09:15:00+01:00"),
    );
  });

  it("gives a later update of the same order a higher version", async () => {
    const body = shopifyFixture("orderTaxExclusive");
    const first = await parseOne("orders/updated", body);
    const later = await parseOne("orders/updated", { ...body, updated_at: "2026-03-02T09:16:00+01:00" });
    expect(later.version).toBeGreaterThan(first.version);
  });
});

describe("Shopify refund mapping", () => {
  it("maps lines, a negative shipping refund and discrepancy as positive money, and only successful refund transactions", async () => {
    const event = await parseOne("refunds/create", shopifyFixtures.refundTwoLines);
    expect(event.version).toBe(Date.parse("2026-03-06T14:00:00+01:00"));
    expect(refundOf(event)).toStrictEqual({
      source: { connector: "shopify", orderId: "450789469", refundId: "929361462", createdAt: "2026-03-06T14:00:00+01:00" },
      currency: "DKK",
      lines: [
        { lineId: "21001", sku: "SW-M-GREY", quantity: 1, subtotal: 35910, tax: 7182, restock: true },
        { lineId: "21002", quantity: 1, subtotal: 4500, tax: 900, restock: false },
      ],
      shipping: 3900,
      // The shipping refund's tax_amount; a credit note adds it only when the order's prices exclude tax.
      shippingTax: 780,
      adjustments: 100,
      // The failed attempt of 444.10 is not money returned; the successful one is.
      total: 44410,
      // Every successful refund transaction names its gateway: the money back per gateway.
      payments: [{ gateway: "shopify_payments", amount: 44410 }],
      note: "Wrong size",
    });
  });

  it("reads the plain numeric subtotal when a refund line has no shop-money set", async () => {
    const body = shopifyFixture("refundTwoLines");
    for (const item of body.refund_line_items as Record<string, unknown>[]) {
      item.subtotal_set = undefined;
      item.total_tax_set = undefined;
    }
    const refund = refundOf(await parseOne("refunds/create", body));
    expect(refund.lines.map((l) => [l.subtotal, l.tax])).toEqual([
      [35910, 7182],
      [4500, 900],
    ]);
  });

  it("takes the currency from the shop-money amounts when the refund's transaction names none", async () => {
    const body = { ...shopifyFixture("refundTwoLines"), transactions: [{ kind: "refund", status: "success", amount: "444.10" }] };
    const refund = refundOf(await parseOne("refunds/create", body));
    expect(refund.currency).toBe("DKK");
    expect(refund.total).toBe(44410);
  });

  it("refuses a refund that names no currency anywhere", async () => {
    const body = { id: 1, order_id: 2, created_at: "2026-03-06T14:00:00+01:00", refund_line_items: [], transactions: [] };
    const delivery = await shopifyDelivery("refunds/create", body, SECRET);
    const error = parseError(delivery);
    expect(error).toMatchObject({ errorClass: "validation", code: "shopify_refund_currency_missing" });
    expect(error.message).toMatch(/currency/);
  });
});

describe("Shopify refunds that returned no money", () => {
  it("ignores the refund of an unpaid order cancelled (lines restocked as cancel, the authorization voided)", async () => {
    const answer = await parseAny("refunds/create", shopifyFixtures.refundCancelUnpaid);
    // A void is no money back: without this, the refunded stage would run the paid flows on an unpaid order.
    expect(answer).toStrictEqual({
      ignored: true,
      code: "refund_no_money",
      orderId: "5801234567890",
      reason: expect.stringContaining("returned no money"),
    });
    expect((answer as IgnoredDelivery).reason).toContain("9800000001");
  });

  it("ignores a restock-only refund (no transactions) and one whose refund transaction failed", async () => {
    const restockOnly = { ...shopifyFixture("refundTwoLines"), transactions: [] };
    const failed = {
      ...shopifyFixture("refundTwoLines"),
      transactions: [{ kind: "refund", status: "failure", amount: "444.10", currency: "DKK" }],
    };
    for (const body of [restockOnly, failed]) {
      expect(await parseAny("refunds/create", body)).toMatchObject({
        ignored: true,
        code: "refund_no_money",
        reason: expect.stringContaining("returned no money"),
      });
    }
  });

  it("refuses a refund still pending at the payment provider (to be kept and credited by hand), naming the amount", async () => {
    // Some gateways settle a refund days later; Shopify never sends the refund again once it does.
    const body = {
      ...shopifyFixture("refundTwoLines"),
      transactions: [{ kind: "refund", status: "pending", amount: "444.10", currency: "DKK" }],
    };
    const error = parseError(await shopifyDelivery("refunds/create", body, SECRET));
    expect(error).toMatchObject({ errorClass: "conflict", code: "shopify_refund_pending" });
    expect(error.message).toMatch(/pending at the payment provider: 444\.10 DKK not yet returned/);
    expect(error.message).toMatch(/once the payment provider has settled it, credit the whole refund by hand/);
  });

  it("refuses a refund partly pending as a whole, naming what settled and what did not", async () => {
    const body = {
      ...shopifyFixture("refundTwoLines"),
      transactions: [
        { kind: "refund", status: "success", amount: "100.00", currency: "DKK", gateway: "gift_card" },
        { kind: "refund", status: "pending", amount: "344.10", currency: "DKK" },
      ],
    };
    const error = parseError(await shopifyDelivery("refunds/create", body, SECRET));
    expect(error).toMatchObject({ errorClass: "conflict", code: "shopify_refund_pending" });
    expect(error.message).toMatch(/344\.10 DKK not yet returned to the customer \(100\.00 DKK of it already refunded\)/);
  });

  it("still maps a refund of 0.00 that is malformed as a clear error, not an ignored delivery", async () => {
    const body = { id: 1, order_id: 2, created_at: "2026-03-06T14:00:00+01:00", refund_line_items: [], transactions: [] };
    expect(parseError(await shopifyDelivery("refunds/create", body, SECRET))).toMatchObject({
      code: "shopify_refund_currency_missing",
    });
  });
});

describe("Shopify test orders", () => {
  it("ignores a test order unless the connection processes test orders", async () => {
    const body = { ...shopifyFixture("orderTaxExclusive"), financial_status: "paid", test: true };
    expect(await parseAny("orders/paid", body)).toStrictEqual({
      ignored: true,
      // The route logs and alerts each ignored test order by these.
      code: "test_order",
      orderId: "5801234567890",
      orderName: "#1042",
      reason: expect.stringMatching(/test order.*Process test orders/),
    });
    expect(await parseAny("orders/paid", body, { processTestOrders: false })).toMatchObject({ ignored: true });
    const taken = await parseAny("orders/paid", body, { processTestOrders: true });
    expect(taken).toMatchObject([{ orderId: "5801234567890", stage: "paid" }]);
  });

  it("ignores the refund of a test order (its refund transactions are test transactions) unless test orders are processed", async () => {
    const body = shopifyFixture("refundTwoLines");
    body.transactions = (body.transactions as Record<string, unknown>[]).map((t) => ({ ...t, test: true }));
    expect(await parseAny("refunds/create", body)).toStrictEqual({
      ignored: true,
      code: "test_order",
      orderId: "450789469",
      reason: expect.stringContaining("test order"),
    });
    const taken = await parseAny("refunds/create", body, { processTestOrders: true });
    expect(taken).toMatchObject([{ stage: "refunded", occurrence: "929361462" }]);
  });

  it("processes an order and a refund marked test: false as usual", async () => {
    const order = await parseAny("orders/paid", {
      ...shopifyFixture("orderTaxExclusive"),
      financial_status: "paid",
      test: false,
    });
    expect(order).toMatchObject([{ stage: "paid" }]);
    const body = shopifyFixture("refundTwoLines");
    body.transactions = (body.transactions as Record<string, unknown>[]).map((t) => ({ ...t, test: false }));
    expect(await parseAny("refunds/create", body)).toMatchObject([{ stage: "refunded" }]);
  });
});

describe("Shopify refunded shipping", () => {
  it("maps refund_shipping_lines (API 2024-10 on) to the shipping and its VAT, in presentment money", async () => {
    const refund = refundOf(await parseOne("refunds/create", shopifyFixtures.refundShippingLines));
    expect(refund).toMatchObject({
      currency: "EUR",
      lines: [{ lineId: "14100000001", quantity: 1, subtotal: 2380, tax: 380, restock: false }],
      // subtotal_amount_set 5.95 EUR and tax_amount_set 0.95 EUR, not the DKK amounts beside them.
      shipping: 595,
      shippingTax: 95,
      adjustments: 0,
      total: 2975,
    });
  });

  it("reads refund_shipping_lines in shop money, and counts a shipping order adjustment beside them once", async () => {
    const dkk = (amount: string) => ({
      shop_money: { amount, currency_code: "DKK" },
      presentment_money: { amount, currency_code: "DKK" },
    });
    const shippingLine = { id: 1, shipping_line_id: 2, subtotal_amount_set: dkk("39.00"), tax_amount_set: dkk("7.80") };
    const withBoth = { ...shopifyFixture("refundTwoLines"), refund_shipping_lines: [shippingLine] };
    const linesOnly = shopifyFixture("refundTwoLines");
    linesOnly.refund_shipping_lines = [shippingLine];
    // The 2024-10 shape: no shipping_refund adjustment, and the discrepancy without its kind.
    linesOnly.order_adjustments = [{ amount: "-1.00", tax_amount: "0.00" }];
    for (const body of [withBoth, linesOnly]) {
      expect(refundOf(await parseOne("refunds/create", body))).toMatchObject({
        currency: "DKK",
        shipping: 3900,
        shippingTax: 780,
        adjustments: 100,
        total: 44410,
      });
    }
  });

  it("leaves the shipping VAT out when a refund shipping line states none", async () => {
    const body = shopifyFixture("refundShippingLines");
    const [line] = body.refund_shipping_lines as Record<string, unknown>[];
    delete line?.tax_amount_set;
    const refund = refundOf(await parseOne("refunds/create", body));
    expect(refund.shipping).toBe(595);
    expect(refund.shippingTax).toBeUndefined();
  });
});

describe("Shopify lines with several tax lines", () => {
  const gstPst = [
    { title: "GST", rate: 0.05, price: "1.00" },
    { title: "PST", rate: 0.07, price: "1.40" },
  ];

  it("adds up the rates of all tax lines: GST 5 % + PST 7 % is 12 %, for a product and for shipping", async () => {
    const body = shopifyFixture("orderTaxExclusive");
    const [first] = body.line_items as Record<string, unknown>[];
    Object.assign(first ?? {}, { tax_lines: gstPst });
    const [shipping] = body.shipping_lines as Record<string, unknown>[];
    Object.assign(shipping ?? {}, { tax_lines: gstPst });
    const order = orderOf(await parseOne("orders/create", body));
    expect(order.lines[0]).toMatchObject({ tax: 240, taxRateBp: 1200 });
    expect(order.shipping[0]).toMatchObject({ tax: 240, taxRateBp: 1200 });
  });

  it("leaves the rate out when one of a line's tax lines gives none, so it is derived from the amounts", async () => {
    const body = shopifyFixture("orderTaxExclusive");
    const [first] = body.line_items as Record<string, unknown>[];
    Object.assign(first ?? {}, { tax_lines: [gstPst[0], { ...gstPst[1], rate: null }] });
    const order = orderOf(await parseOne("orders/create", body));
    expect(order.lines[0]?.tax).toBe(240);
    expect(order.lines[0]?.taxRateBp).toBeUndefined();
  });
});

describe("Shopify deliveries that cannot be read", () => {
  it("refuses a delivery without X-Shopify-Webhook-Id, naming the header", async () => {
    const error = parseError(
      await shopifyDelivery("orders/create", shopifyFixtures.orderMinimal, SECRET, { "X-Shopify-Webhook-Id": null }),
    );
    expect(error).toMatchObject({ errorClass: "validation", code: "shopify_webhook_id_missing" });
    expect(error.message).toMatch(/X-Shopify-Webhook-Id/);
  });

  it("refuses a delivery without a topic header", async () => {
    const error = parseError(
      await shopifyDelivery("orders/create", shopifyFixtures.orderMinimal, SECRET, { "X-Shopify-Topic": null }),
    );
    expect(error).toMatchObject({ errorClass: "validation", code: "shopify_topic_missing" });
    expect(error.message).toMatch(/X-Shopify-Topic/);
  });

  it("ignores a topic Orderly does not read (a webhook subscribed by mistake), naming it", async () => {
    for (const topic of ["products/create", "orders/edited", "customer.tags_added"]) {
      const answer = await parseAny(topic, { id: 1 });
      expect(answer, topic).toMatchObject({ ignored: true, code: "topic_unsupported" });
      expect((answer as IgnoredDelivery).reason, topic).toContain(`"${topic}"`);
    }
  });

  it("still refuses a topic header that names no topic (two joined, stray bytes), naming it", async () => {
    for (const topic of ["orders/paid, orders/paid", "orders/paid/", "Orders/Paid"]) {
      const error = parseError(await shopifyDelivery("orders/paid", { id: 1 }, SECRET, { "X-Shopify-Topic": topic }));
      expect(error, topic).toMatchObject({ errorClass: "validation", code: "shopify_topic_unsupported" });
    }
  });

  it("refuses a body that is not JSON", async () => {
    const error = parseError(await shopifyDelivery("orders/create", '{"id": 1, "name": ', SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "shopify_body_not_json" });
    expect(error.message).toMatch(/not valid JSON/);
  });

  it("refuses a body that is not UTF-8", async () => {
    const error = parseError(await shopifyDelivery("orders/create", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "shopify_body_not_json" });
  });

  it("refuses an order payload without id, naming the field", async () => {
    const { id: _id, ...body } = shopifyFixture("orderTaxExclusive");
    const error = parseError(await shopifyDelivery("orders/create", body, SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "shopify_payload_invalid" });
    expect(error.message).toMatch(/orders\/create payload is invalid: id is missing/);
  });

  it("refuses amounts that are not decimals, naming each field", async () => {
    const body = shopifyFixture("orderTaxExclusive");
    body.total_price = "42,50";
    (body.line_items as Record<string, unknown>[])[1] = {
      ...(body.line_items as Record<string, unknown>[])[1],
      price: "3.99 EUR",
    };
    const error = parseError(await shopifyDelivery("orders/create", body, SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "shopify_payload_invalid" });
    expect(error.message).toMatch(/line_items\.1\.price: must be a decimal amount/);
    expect(error.message).toMatch(/total_price: must be a decimal amount/);
  });

  it("refuses a refund whose line amounts are not decimals", async () => {
    const body = shopifyFixture("refundTwoLines");
    const [first] = body.refund_line_items as Record<string, unknown>[];
    Object.assign(first ?? {}, { subtotal: "lots" });
    const error = parseError(await shopifyDelivery("refunds/create", body, SECRET));
    expect(error.message).toMatch(/refund_line_items\.0\.subtotal: must be a decimal amount/);
  });

  it("refuses a payload that is a JSON array instead of an object", async () => {
    const error = parseError(await shopifyDelivery("orders/create", "[]", SECRET));
    expect(error).toMatchObject({ errorClass: "validation", code: "shopify_payload_invalid" });
    expect(error.message).toMatch(/the body/);
  });

  it("refuses an order without any timestamp, since its version would be unknown", async () => {
    const error = parseError(
      await shopifyDelivery("orders/create", shopifyFixtures.orderMinimal, SECRET, { "X-Shopify-Triggered-At": null }),
    );
    expect(error).toMatchObject({ errorClass: "validation", code: "shopify_timestamp_missing" });
  });
});

describe("Shopify route: what the inbox needs before the answer", () => {
  /** Routes a delivery; `parse` must later name the same order and ids. */
  async function routed(topic: string, body: string | object, settings?: ShopifyParseSettings) {
    const delivery = await shopifyDelivery(topic, body, SECRET, { "X-Shopify-Triggered-At": TRIGGERED_AT });
    return { delivery, result: route(delivery, settings) };
  }

  it("names the order and the ids parse gives, an int64 id exact, without validating the rest of the payload", async () => {
    for (const [topic, name] of [
      ["orders/paid", "orderMinimal"],
      ["orders/paid", "orderTaxExclusive"],
      ["refunds/create", "refundTwoLines"],
    ] as const) {
      const { delivery, result } = await routed(topic, shopifyFixtures[name]);
      const [event] = parse(delivery) as SourceEvent[];
      expect(result, name).toMatchObject({ orderId: event!.orderId, deliveryId: event!.deliveryId, eventKey: event!.eventKey });
      // Alerts about it before it is parsed name the order as the shop does (its `name`, #1001).
      const named = topic === "orders/paid" ? (JSON.parse(shopifyFixtures[name]) as { name?: string }).name : undefined;
      expect((result as { orderName?: string }).orderName, name).toBe(named);
    }
    expect((await routed("orders/paid", shopifyFixtures.orderMinimal)).result).toMatchObject({ orderId: "820982911946154508" });
    // A line that no longer maps is parse's to refuse, after the answer.
    const broken = { ...shopifyFixture("orderTaxExclusive"), line_items: [{ price: { amount: "1.00" } }] };
    expect((await routed("orders/paid", broken)).result).toMatchObject({ orderId: "5801234567890" });
  });

  it("ignores a test order and a test order's refund as parse does, unless test orders are processed", async () => {
    const order = { ...shopifyFixture("orderTaxExclusive"), financial_status: "paid", test: true };
    const asParsed = await parseAny("orders/paid", order);
    expect((await routed("orders/paid", order)).result).toStrictEqual(asParsed);
    expect((await routed("orders/paid", order, { processTestOrders: true })).result).toMatchObject({
      orderId: "5801234567890",
    });
    const refund = shopifyFixture("refundTwoLines");
    refund.transactions = (refund.transactions as Record<string, unknown>[]).map((t) => ({ ...t, test: true }));
    expect((await routed("refunds/create", refund)).result).toStrictEqual(await parseAny("refunds/create", refund));
  });

  it("ignores a topic Orderly does not read, and refuses what cannot be routed with parse's codes", async () => {
    expect((await routed("orders/edited", { id: 1 })).result).toMatchObject({ ignored: true, code: "topic_unsupported" });
    const refusal = async (topic: string, body: string | object, headers: Record<string, string | null> = {}) => {
      const delivery = await shopifyDelivery(topic, body, SECRET, headers);
      try {
        route(delivery);
      } catch (error) {
        if (error instanceof OrderlyError) return { code: error.code, message: error.message };
        throw error;
      }
      throw new Error("expected route to throw");
    };
    expect(await refusal("orders/paid", '{"id": 1, "line_items": [')).toMatchObject({ code: "shopify_body_not_json" });
    expect(await refusal("orders/paid", { name: "#1" })).toMatchObject({
      code: "shopify_payload_invalid",
      message: expect.stringContaining("id is missing"),
    });
    expect(await refusal("refunds/create", { id: 5 })).toMatchObject({
      code: "shopify_payload_invalid",
      message: expect.stringContaining("order_id is missing"),
    });
    expect(await refusal("orders/paid", { id: 1 }, { "X-Shopify-Webhook-Id": null })).toMatchObject({
      code: "shopify_webhook_id_missing",
    });
    expect(await refusal("orders/paid", { id: 1 }, { "X-Shopify-Topic": null })).toMatchObject({ code: "shopify_topic_missing" });
  });
});
