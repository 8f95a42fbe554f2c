/**
 * Shopify duties: the import duties Shopify collected at checkout are in the order's totals but on
 * no line. They become one fee ("Duties", no VAT, an explicit 0 % rate), so the invoice adds up to
 * what the customer paid. The fixture is order-duties.json: a DKK shop's order paid in USD by a
 * customer in the US, a sweater, shipping and 8.40 USD of duties (143.40 USD in all).
 */
import { describe, expect, it } from "vitest";
import type { SourceEvent } from "../../src/connectors/contract";
import { parse } from "../../src/connectors/shopify/shopify.parse";
import { accountingSettingsSchema } from "../../src/domain/accounting/accounting-settings";
import { buildInvoiceDocument } from "../../src/domain/accounting/build-document";
import type { CanonicalOrder } from "../../src/domain/order";
import { type ShopifyFixtureName, shopifyDelivery, shopifyFixture } from "../fixtures/shopify";
import orderDuties from "../fixtures/shopify/order-duties.json?raw";

const SECRET = "test-secret";
const settings = accountingSettingsSchema.parse({});

type Json = Record<string, unknown>;
const duties = () => JSON.parse(orderDuties) as Json;
const money = (shop: string, presentment: string, code = "USD") => ({
  shop_money: { amount: shop, currency_code: "DKK" },
  presentment_money: { amount: presentment, currency_code: code },
});

async function orderOf(body: object): Promise<CanonicalOrder> {
  const events = parse(await shopifyDelivery("orders/updated", body, SECRET));
  const event: SourceEvent | undefined = Array.isArray(events) && events.length === 1 ? events[0] : undefined;
  if (event?.object.type !== "order") throw new Error("expected exactly one order event");
  return event.object.order;
}

describe("Shopify duties", () => {
  it("maps the duties as one fee without VAT, in the money the customer paid in", async () => {
    const order = await orderOf(duties());
    expect(order.currency).toBe("USD");
    expect(order.fees).toStrictEqual([{ title: "Duties", amount: 840, tax: 0, taxRateBp: 0, duties: true }]);
    expect(order.totals).toStrictEqual({ total: 14340, tax: 0, discounts: 0, shipping: 1500 });
    expect(order.exchange).toStrictEqual({ shopCurrency: "DKK", rate: "6.8000" });
  });

  it("invoices the duties as a line without VAT, not a sale: the invoice equals what the customer paid", async () => {
    const invoice = buildInvoiceDocument(await orderOf(duties()), settings);
    expect(invoice.mismatch).toBeUndefined();
    expect(invoice.difference).toBe(0);
    expect(invoice.totals).toStrictEqual({ net: 14340, vat: 0, total: 14340 });
    expect(invoice.lines.find((l) => l.description === "Duties")).toMatchObject({
      kind: "duties",
      quantity: 1,
      net: 840,
      vatRateBp: 0,
      vat: 0,
    });
  });

  it("invoices in the shop's currency without a mismatch, the duties converted like the rest", async () => {
    const order = await orderOf(duties());
    const invoice = buildInvoiceDocument(order, accountingSettingsSchema.parse({ invoiceCurrency: "shop" }));
    expect(invoice.currency).toBe("DKK");
    expect(invoice.mismatch).toBeUndefined();
    expect(invoice.totals.total).toBe(97512);
    expect(invoice.lines.find((l) => l.description === "Duties")).toMatchObject({ net: 5712, vatRateBp: 0 });
  });

  it("maps the whole order in shop money when the duties lack a presentment amount, never a mix", async () => {
    const body = duties();
    body.original_total_duties_set = { shop_money: { amount: "57.12", currency_code: "DKK" } };
    const order = await orderOf(body);
    expect(order.currency).toBe("DKK");
    expect(order.fees).toStrictEqual([{ title: "Duties", amount: 5712, tax: 0, taxRateBp: 0, duties: true }]);
    expect(order.totals.total).toBe(97512);
    expect(buildInvoiceDocument(order, settings).mismatch).toBeUndefined();
  });

  it("leaves the duties out when the prices include them (duties_included)", async () => {
    const body = duties();
    body.duties_included = true;
    expect((await orderOf(body)).fees).toBeUndefined();
  });

  it("leaves an order without duties as it was: no fees at all", async () => {
    const body = duties();
    body.original_total_duties_set = null;
    body.current_total_duties_set = null;
    body.total_price = "918.00";
    body.total_price_set = money("918.00", "135.00");
    body.current_total_price = "918.00";
    body.current_total_price_set = money("918.00", "135.00");
    const order = await orderOf(body);
    expect(order).not.toHaveProperty("fees");
    const withDuties = await orderOf(duties());
    const { fees: _fees, ...rest } = withDuties;
    // The same order but for the duties: its total (and so its one payment) 8.40 less.
    expect(order).toStrictEqual({
      ...rest,
      totals: { ...rest.totals, total: 13500 },
      payments: rest.payments.map((p) => ({ ...p, amount: 13500 })),
    });
    expect(buildInvoiceDocument(order, settings).mismatch).toBeUndefined();
    // Nor do the existing fixtures, whose duties are null or absent, gain one.
    const names: ShopifyFixtureName[] = [
      "orderMinimal",
      "orderTaxExclusive",
      "orderCompleted",
      "orderMultiCurrency",
      "orderEdited",
    ];
    for (const name of names) expect(await orderOf(shopifyFixture(name))).not.toHaveProperty("fees");
  });

  it("takes an edited order's current duties, with its current totals", async () => {
    // order-edited.json (723.86 DKK as placed, 507.96 now) with 150.00 of duties as placed and
    // 120.00 now: more than half the removed units' value (215.90), so the edit is only told from
    // the current total once its duties are taken off.
    const body = shopifyFixture("orderEdited");
    const dkk = (amount: string) => money(amount, amount, "DKK");
    Object.assign(body, {
      total_price: "873.86",
      total_price_set: dkk("873.86"),
      current_total_price: "627.96",
      current_total_price_set: dkk("627.96"),
      original_total_duties_set: dkk("150.00"),
      current_total_duties_set: dkk("120.00"),
    });
    const order = await orderOf(body);
    expect(order.lines.map((l) => [l.sku, l.quantity])).toStrictEqual([
      ["SHIRT-LIN-M", 1],
      ["SOCK-COT-3", 1],
    ]);
    expect(order.fees).toStrictEqual([{ title: "Duties", amount: 12000, tax: 0, taxRateBp: 0, duties: true }]);
    expect(order.totals.total).toBe(62796);
    const invoice = buildInvoiceDocument(order, settings);
    expect(invoice.mismatch).toBeUndefined();
    expect(invoice.difference).toBe(0);
  });
});
