/**
 * Orders a customer paid in another currency than the shop keeps its books in: mapped in the
 * customer's (presentment) currency from the `*_set.presentment_money` amounts, with the rate to the
 * shop's currency that the order's own amounts imply; and what Billy receives of that rate.
 */
import { describe, expect, it } from "vitest";
import { createInvoice } from "../../src/connectors/billy";
import type { SourceEvent } from "../../src/connectors/contract";
import { rateBetween } from "../../src/connectors/shopify/shopify.money";
import { parse } from "../../src/connectors/shopify/shopify.parse";
import { OrderlyError } from "../../src/domain/errors";
import type { CanonicalOrder, CanonicalRefund } from "../../src/domain/order";
import { shopifyDelivery, shopifyFixture, shopifyFixtures } from "../fixtures/shopify";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { PRODUCTS, run, SETTINGS } from "../mocks/billy.mock.fixtures";

const SECRET = "test-secret";

async function parseOne(topic: string, body: string | object): Promise<SourceEvent> {
  const events = parse(await shopifyDelivery(topic, body, SECRET));
  if (!Array.isArray(events) || events.length !== 1 || !events[0]) throw new Error("expected exactly one event");
  return events[0];
}

async function orderOf(body: string | object): Promise<CanonicalOrder> {
  const event = await parseOne("orders/paid", body);
  if (event.object.type !== "order") throw new Error("expected an order");
  return event.object.order;
}

async function refundOf(body: string | object): Promise<CanonicalRefund> {
  const event = await parseOne("refunds/create", body);
  if (event.object.type !== "refund") throw new Error("expected a refund");
  return event.object.refund;
}

async function parseError(topic: string, body: object): Promise<OrderlyError> {
  const delivery = await shopifyDelivery(topic, body, SECRET);
  try {
    parse(delivery);
  } catch (error) {
    if (error instanceof OrderlyError) return error;
    throw error;
  }
  throw new Error("expected parse to throw");
}

type Json = Record<string, unknown>;
const multi = () => shopifyFixture("orderMultiCurrency") as Json & { line_items: Json[]; shipping_lines: Json[] };

/** A copy without any `*_set`: what a payload of the plain shop-currency fields alone gives. */
function withoutSets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSets);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value as Json)
      .filter(([key]) => !key.endsWith("_set"))
      .map(([key, v]) => [key, withoutSets(v)]),
  );
}

describe("Shopify orders paid in the customer's currency", () => {
  it("maps every amount from presentment money and records the rate to the shop's currency", async () => {
    const order = await orderOf(shopifyFixtures.orderMultiCurrency);

    expect(order).toStrictEqual({
      source: {
        connector: "shopify",
        orderId: "5809876543210",
        orderNumber: "#1077",
        version: Date.parse("2026-03-04T11:20:04+01:00"),
        createdAt: "2026-03-04T11:20:00+01:00",
      },
      stage: "paid",
      currency: "EUR",
      pricesIncludeTax: true,
      customer: { sourceId: "7300000001", email: "kim@example.de", firstName: "Kim", lastName: "Meyer" },
      billingAddress: { name: "Kim Meyer", line1: "Hauptstraße 5", postcode: "10115", city: "Berlin", country: "DE" },
      shippingAddress: { name: "Kim Meyer", line1: "Hauptstraße 5", postcode: "10115", city: "Berlin", country: "DE" },
      lines: [
        {
          id: "14100000001",
          sku: "MUG-1",
          title: "Mug",
          quantity: 2,
          unitPrice: 2380,
          discount: 0,
          tax: 760,
          taxRateBp: 1900,
          productId: "8100000001",
          variantId: "9100000001",
        },
        {
          id: "14100000002",
          sku: "TS-1",
          title: "T-shirt",
          quantity: 1,
          unitPrice: 2975,
          discount: 595,
          tax: 380,
          taxRateBp: 1900,
          productId: "8100000002",
          variantId: "9100000002",
        },
      ],
      shipping: [{ title: "DHL", code: "dhl", price: 595, discount: 0, tax: 95, taxRateBp: 1900 }],
      discounts: [{ title: "Welcome", amount: 595, kind: "line" }],
      payments: [{ gateway: "shopify_payments", status: "paid", amount: 7735 }],
      totals: { total: 7735, tax: 1235, discounts: 595, shipping: 595 },
      // 577.05 DKK for 77.35 EUR: the shortest rate that converts the one back into the other exactly.
      exchange: { shopCurrency: "DKK", rate: "7.4602" },
      financialStatus: "paid",
      tags: [],
    });
  });

  it("reads an order in the shop's own currency from its plain fields, as before, with no rate", async () => {
    const sameCurrency = { ...multi(), presentment_currency: "DKK" };

    const order = await orderOf(sameCurrency);

    expect(order.currency).toBe("DKK");
    expect(order.lines.map((l) => [l.unitPrice, l.discount, l.tax])).toEqual([
      [17756, 0, 5670],
      [22194, 4439, 2835],
    ]);
    expect(order.totals).toEqual({ total: 57705, tax: 9213, discounts: 4439, shipping: 4439 });
    expect("exchange" in order).toBe(false);
    // Byte for byte what the plain shop-currency fields alone give.
    expect(order).toStrictEqual(await orderOf(withoutSets(sameCurrency) as Json));
  });

  it("falls back to shop money for the whole order when one presentment amount is missing, never a mix", async () => {
    const body = multi();
    const shipping = body.shipping_lines[0] as { tax_lines: Array<{ price_set: Json }> };
    delete shipping.tax_lines[0]?.price_set.presentment_money;

    const order = await orderOf(body);

    expect(order.currency).toBe("DKK");
    expect(order.totals.total).toBe(57705);
    expect(order.shipping[0]).toMatchObject({ price: 4439, tax: 709 });
    expect("exchange" in order).toBe(false);
    expect(order).toStrictEqual(await orderOf({ ...(withoutSets(body) as Json), presentment_currency: "EUR" }));
  });

  it("refuses a presentment amount in another currency than presentment_currency, naming the field", async () => {
    const body = multi();
    const line = body.line_items[0] as { price_set: { presentment_money: Json } };
    line.price_set.presentment_money.currency_code = "USD";

    const error = await parseError("orders/paid", body);

    expect(error).toMatchObject({ errorClass: "validation", code: "shopify_payload_invalid" });
    expect(error.message).toBe(
      "Shopify payload field line_items.0.price_set.presentment_money is in USD, but the order's presentment currency is EUR.",
    );
  });

  it("takes a free order's rate from its lines when its totals are zero", async () => {
    const body = multi();
    const zero = {
      shop_money: { amount: "0.00", currency_code: "DKK" },
      presentment_money: { amount: "0.00", currency_code: "EUR" },
    };
    const order = await orderOf({ ...body, total_price_set: zero, subtotal_price_set: zero, total_line_items_price_set: null });

    // 177.56 DKK for a 23.80 EUR mug.
    expect(order.exchange).toEqual({ shopCurrency: "DKK", rate: "7.4605" });
  });

  it("derives the shortest rate that converts back exactly, for any pair of currencies", () => {
    expect(rateBetween({ shop: 24900, presentment: 3340 }, "DKK", "EUR")).toBe("7.4551");
    expect(rateBetween({ shop: 39950, presentment: 5355 }, "DKK", "EUR")).toBe("7.4603");
    // A zero-decimal presentment currency: 100.00 DKK for 2,200 JPY.
    expect(rateBetween({ shop: 10000, presentment: 2200 }, "DKK", "JPY")).toBe("0.045455");
    expect(rateBetween({ shop: 0, presentment: 2200 }, "DKK", "JPY")).toBeUndefined();
  });
});

describe("Shopify refunds of an order paid in the customer's currency", () => {
  it("maps the refund in presentment money, like its order", async () => {
    expect(await refundOf(shopifyFixtures.refundMultiCurrency)).toStrictEqual({
      source: {
        connector: "shopify",
        orderId: "5809876543210",
        refundId: "9900000001",
        createdAt: "2026-03-09T15:00:00+01:00",
      },
      currency: "EUR",
      lines: [{ lineId: "14100000001", sku: "MUG-1", quantity: 1, subtotal: 2380, tax: 380, restock: true }],
      shipping: 0,
      adjustments: 0,
      total: 2380,
      payments: [{ gateway: "shopify_payments", amount: 2380 }],
      note: "Broken in transit",
    });
  });

  it("maps shipping and discrepancy adjustments from presentment money too", async () => {
    const refund = shopifyFixture("refundMultiCurrency");
    const adjustment = (kind: string, dkk: string, eur: string) => ({
      kind,
      amount: `-${dkk}`,
      amount_set: {
        shop_money: { amount: `-${dkk}`, currency_code: "DKK" },
        presentment_money: { amount: `-${eur}`, currency_code: "EUR" },
      },
    });
    const transactions = [{ kind: "refund", status: "success", amount: "30.75", currency: "EUR" }];
    const mapped = await refundOf({
      ...refund,
      order_adjustments: [adjustment("shipping_refund", "44.39", "5.95"), adjustment("refund_discrepancy", "7.46", "1.00")],
      transactions,
    });

    expect(mapped).toMatchObject({ currency: "EUR", shipping: 595, adjustments: 100, total: 3075 });
  });

  it("refuses a refund whose transaction is in another currency than its presentment amounts", async () => {
    const refund = shopifyFixture("refundMultiCurrency");
    const error = await parseError("refunds/create", {
      ...refund,
      transactions: [{ kind: "refund", status: "success", amount: "177.56", currency: "DKK" }],
    });

    expect(error).toMatchObject({ errorClass: "validation", code: "shopify_refund_currency_mixed" });
    expect(error.message).toContain("transaction is in DKK");
  });
});

describe("Billy and the webshop's exchange rate", () => {
  const billy = () => {
    const mock = createBillyMock({ products: PRODUCTS });
    installBillyMock(mock);
    return mock;
  };
  // Billy adds VAT up on each line: the step predicts its totals the same way.
  const settings = { ...SETTINGS, roundingBasis: "line" };
  const posted = (mock: ReturnType<typeof createBillyMock>): Json => {
    const body = mock.writes().find((r) => r.path === "/invoices")?.body as { invoice?: Json } | undefined;
    if (!body?.invoice) throw new Error("no invoice was posted to Billy");
    return body.invoice;
  };

  it("sends the rate with an invoice in the customer's currency (Billy's exchangeRate: base units per unit)", async () => {
    const mock = billy();
    const order = await orderOf(shopifyFixtures.orderMultiCurrency);

    await run(createInvoice, order, settings);

    expect(posted(mock)).toMatchObject({ currencyId: "EUR", exchangeRate: 7.4602 });
  });

  it("sends no rate for an invoice converted into the shop's currency, nor when the step leaves the rate to Billy", async () => {
    const order = await orderOf(shopifyFixtures.orderMultiCurrency);

    const converted = billy();
    await run(createInvoice, order, { ...settings, invoiceCurrency: "shop" });
    expect(posted(converted).currencyId).toBe("DKK");
    expect("exchangeRate" in posted(converted)).toBe(false);

    const daily = billy();
    await run(createInvoice, order, { ...settings, exchangeRateFromShop: false });
    expect(posted(daily).currencyId).toBe("EUR");
    expect("exchangeRate" in posted(daily)).toBe(false);
  });

  it("sends no rate for an order in the shop's own currency", async () => {
    const mock = billy();
    const order = await orderOf({ ...multi(), presentment_currency: "DKK" });

    await run(createInvoice, order, settings);

    expect(posted(mock).currencyId).toBe("DKK");
    expect("exchangeRate" in posted(mock)).toBe(false);
  });
});
