/**
 * Shopify order edits (items removed or quantities reduced after the order was placed): the order
 * is invoiced for what it holds now, and every unit that left it is either credited or invoiced,
 * never both. The fixture is order-edited.json: socks reduced from 3 to 1 and the tote removed.
 */
import { describe, expect, it } from "vitest";
import type { SourceEvent } from "../../src/connectors/contract";
import { parse } from "../../src/connectors/shopify/shopify.parse";
import { accountingSettingsSchema } from "../../src/domain/accounting/accounting-settings";
import { buildCreditNoteDocument, buildInvoiceDocument } from "../../src/domain/accounting/build-document";
import type { CanonicalOrder, CanonicalRefund } from "../../src/domain/order";
import { shopifyDelivery, shopifyFixture } from "../fixtures/shopify";

const SECRET = "test-secret";
const settings = accountingSettingsSchema.parse({});

async function parseOne(topic: string, body: object): Promise<SourceEvent> {
  const events = parse(await shopifyDelivery(topic, body, SECRET));
  if (!Array.isArray(events) || events.length !== 1 || !events[0]) throw new Error("expected exactly one event");
  return events[0];
}

async function orderOf(body: object): Promise<CanonicalOrder> {
  const event = await parseOne("orders/updated", body);
  if (event.object.type !== "order") throw new Error("expected an order event");
  return event.object.order;
}

async function refundOf(body: object): Promise<CanonicalRefund> {
  const event = await parseOne("refunds/create", body);
  if (event.object.type !== "refund") throw new Error("expected a refund event");
  return event.object.refund;
}

type Json = Record<string, unknown>;
const items = (body: Json) => body.line_items as Json[];
const refunds = (body: Json) => body.refunds as Json[];
const restockAs = (refund: Json, restockType: string) => {
  for (const line of refund.refund_line_items as Json[]) line.restock_type = restockType;
};
const m = (amount: string) => ({
  shop_money: { amount, currency_code: "DKK" },
  presentment_money: { amount, currency_code: "DKK" },
});

const shirt = {
  id: "31001",
  sku: "SHIRT-LIN-M",
  title: "Linen shirt",
  quantity: 1,
  unitPrice: 45000,
  discount: 4500,
  tax: 8100,
  taxRateBp: 2500,
  productId: "9301",
  variantId: "9401",
};
const socksAsPlaced = {
  id: "31002",
  sku: "SOCK-COT-3",
  title: "Cotton socks",
  quantity: 3,
  unitPrice: 5995,
  discount: 1799,
  tax: 3237,
  taxRateBp: 2500,
  productId: "9302",
  variantId: "9402",
};
const toteAsPlaced = {
  id: "31003",
  sku: "TOTE-CANVAS",
  title: "Canvas tote",
  quantity: 1,
  unitPrice: 12000,
  discount: 1200,
  tax: 2160,
  taxRateBp: 2500,
  productId: "9303",
  variantId: "9403",
};
const totalsAsPlaced = { total: 72386, tax: 14477, discounts: 7499, shipping: 4900 };

/** The tote's refund as refunds/create sends it when it went back with money (a return). */
function toteReturn(): Json {
  return {
    id: 9900000202,
    order_id: 5900000001012,
    created_at: "2026-03-14T11:00:00+01:00",
    processed_at: "2026-03-14T11:00:00+01:00",
    note: "Returned",
    restock: true,
    refund_line_items: [
      {
        id: 9910000202,
        quantity: 1,
        line_item_id: 31003,
        location_id: 487838322,
        restock_type: "return",
        subtotal: 108.0,
        total_tax: 21.6,
        subtotal_set: m("108.00"),
        total_tax_set: m("21.60"),
        line_item: { id: 31003, sku: "TOTE-CANVAS", title: "Canvas tote", quantity: 1, price: "120.00" },
      },
    ],
    refund_shipping_lines: [],
    order_adjustments: [],
    transactions: [
      { id: 9920000202, kind: "refund", gateway: "shopify_payments", status: "success", amount: "108.00", currency: "DKK" },
    ],
  };
}

/** The refund Shopify leaves owed after a paid order is edited down: money back, no lines. */
function owedRefund(): Json {
  return {
    id: 9900000303,
    order_id: 5900000001012,
    created_at: "2026-03-10T15:45:00+01:00",
    processed_at: "2026-03-10T15:45:00+01:00",
    note: null,
    restock: false,
    refund_line_items: [],
    refund_shipping_lines: [],
    order_adjustments: [
      {
        id: 1,
        order_id: 5900000001012,
        refund_id: 9900000303,
        amount: "-215.90",
        tax_amount: "0.00",
        kind: "refund_discrepancy",
      },
    ],
    transactions: [
      { id: 9920000303, kind: "refund", gateway: "shopify_payments", status: "success", amount: "215.90", currency: "DKK" },
    ],
  };
}

/** A refund of money alone (a goodwill amount, or what a paid order edited down is owed): no lines. */
function amountRefund(amount: string): Json {
  return {
    ...owedRefund(),
    id: 9900000404,
    created_at: "2026-03-20T10:00:00+01:00",
    processed_at: "2026-03-20T10:00:00+01:00",
    note: "Goodwill",
    order_adjustments: [
      {
        id: 4,
        order_id: 5900000001012,
        refund_id: 9900000404,
        amount: `-${amount}`,
        tax_amount: "0.00",
        kind: "refund_discrepancy",
      },
    ],
    transactions: [{ id: 9920000404, kind: "refund", gateway: "shopify_payments", status: "success", amount, currency: "DKK" }],
  };
}

/** The order edited before capture, captured for what it held (507.96), then refunded by `later`. */
function capturedThenRefunded(...later: Json[]): Json {
  const body = shopifyFixture("orderEdited");
  Object.assign(body, { financial_status: "partially_refunded", total_outstanding: "0.00" });
  refunds(body).push(...later);
  return body;
}

const socksNow = { ...socksAsPlaced, quantity: 1, discount: 599, tax: 1079 };
/** The totals as placed less the removed socks and tote (as the totals are once money went back). */
const totalsLessRemoved = { total: 50796, tax: 10159, discounts: 5099, shipping: 4900 };

const gls = { title: "GLS Pakkeshop", code: "gls-pakkeshop", price: 4900, discount: 0, tax: 980, taxRateBp: 2500 };
const glsReduced = { title: "GLS Pakkeshop (reduced)", code: "gls-reduced", price: 2900, discount: 0, tax: 580, taxRateBp: 2500 };
const shippingLines = (body: Json) => body.shipping_lines as Json[];

/** Shopify's current totals (the order now), as strings in both monies. */
function currentTotals(body: Json, total: string, tax: string, discounts: string): void {
  Object.assign(body, {
    current_total_price: total,
    current_total_price_set: m(total),
    current_total_tax: tax,
    current_total_tax_set: m(tax),
    current_total_discounts: discounts,
    current_total_discounts_set: m(discounts),
  });
}

/** The GLS shipping line removed by an order edit: REST and webhooks keep it, marked is_removed (API 2024-04 on). */
function removeShipping(body: Json): void {
  const [line] = shippingLines(body);
  (line as Json).is_removed = true;
}

/** A shipping line an order edit added (Shopify changes a shipping fee by removing it and adding another). */
function addReducedShipping(body: Json): void {
  shippingLines(body).push({
    id: 32002,
    title: "GLS Pakkeshop (reduced)",
    code: "gls-reduced",
    source: "shopify",
    price: "29.00",
    price_set: m("29.00"),
    discounted_price: "29.00",
    discounted_price_set: m("29.00"),
    is_removed: false,
    tax_lines: [{ title: "Moms", rate: 0.25, price: "5.80", price_set: m("5.80") }],
    discount_allocations: [],
  });
  // Shopify's shipping total keeps counting the removed line.
  body.total_shipping_price_set = m("78.00");
}

describe("Shopify order edits", () => {
  it("invoices what an edited order holds now: a removed line is left out, a reduced one takes Shopify's own figures", async () => {
    const order = await orderOf(shopifyFixture("orderEdited"));
    // Socks 3 → 1: the two units removed took 107.90 (12.00 of the discount) and 21.58 VAT, as
    // Shopify's removal records them; the tote is gone.
    expect(order.lines).toStrictEqual([shirt, { ...socksAsPlaced, quantity: 1, discount: 599, tax: 1079 }]);
    // Shopify's current totals: what the customer is charged now.
    expect(order.totals).toStrictEqual({ total: 50796, tax: 10159, discounts: 5099, shipping: 4900 });
    expect(order.discounts).toStrictEqual([{ code: "WELCOME10", amount: 5099, kind: "order" }]);
    // The lines add up to those totals to the cent: the invoice needs no rounding line.
    const invoice = buildInvoiceDocument(order, settings);
    expect(invoice.difference).toBe(0);
    expect(invoice.totals).toMatchObject({ total: 50796, vat: 10159 });
    expect(invoice.lines.map((l) => l.kind)).toStrictEqual(["product", "product", "shipping"]);
  });

  it("maps the order as placed when the payload has no current_quantity (API versions before 2024-01)", async () => {
    const body = shopifyFixture("orderEdited");
    for (const item of items(body)) delete item.current_quantity;
    const order = await orderOf(body);
    expect(order.lines).toStrictEqual([shirt, socksAsPlaced, toteAsPlaced]);
    expect(order.totals).toStrictEqual(totalsAsPlaced);
  });

  it("maps the order as placed when it does not list its refunds, as which units went back with money is unknown", async () => {
    const body = shopifyFixture("orderEdited");
    delete body.refunds;
    const order = await orderOf(body);
    expect(order.lines).toStrictEqual([shirt, socksAsPlaced, toteAsPlaced]);
    expect(order.totals).toStrictEqual(totalsAsPlaced);
  });

  it("keeps units refunded with money on the invoice, so the credit note takes them off once", async () => {
    // Authorized, edited (socks 3 → 1), captured, then the tote returned and refunded: Shopify's
    // current_quantity and current totals (507.96) leave out the tote as well.
    const body = shopifyFixture("orderEdited");
    Object.assign(body, { financial_status: "partially_refunded", total_outstanding: "0.00" });
    const [removal] = refunds(body);
    (removal as Json).refund_line_items = ((removal as Json).refund_line_items as Json[]).slice(0, 1);
    refunds(body).push(toteReturn());
    const order = await orderOf(body);
    expect(order.lines).toStrictEqual([shirt, { ...socksAsPlaced, quantity: 1, discount: 599, tax: 1079 }, toteAsPlaced]);
    // As placed less the two socks that left without money back.
    expect(order.totals).toStrictEqual({ total: 61596, tax: 12319, discounts: 6299, shipping: 4900 });
    const invoice = buildInvoiceDocument(order, settings);
    const credit = buildCreditNoteDocument(order, await refundOf(toteReturn()), settings);
    expect(invoice.difference).toBe(0);
    expect(credit.difference).toBe(0);
    // Invoice less credit note: what the customer pays now, the tote counted once.
    expect(invoice.totals.total - credit.totals.total).toBe(50796);
  });

  it("maps the order as placed when money went back without lines: the owed refund of a paid order edited down", async () => {
    // Paid at checkout, then edited: Shopify returns what is owed as a refund without lines, which
    // Orderly credits as an amount. Leaving the removed units off the invoice as well would count
    // them twice.
    const body = shopifyFixture("orderEdited");
    Object.assign(body, { financial_status: "partially_refunded", total_outstanding: "0.00" });
    refunds(body).push(owedRefund());
    const order = await orderOf(body);
    expect(order.lines).toStrictEqual([shirt, socksAsPlaced, toteAsPlaced]);
    expect(order.totals).toStrictEqual(totalsAsPlaced);
    const invoice = buildInvoiceDocument(order, settings);
    const credit = buildCreditNoteDocument(order, await refundOf(owedRefund()), settings);
    expect(invoice.totals.total - credit.totals.total).toBe(50796);
  });

  it("maps the order as placed while a refund is owed (total_outstanding negative): its money will be credited", async () => {
    const body = shopifyFixture("orderEdited");
    Object.assign(body, { financial_status: "paid", total_outstanding: "-215.90" });
    const order = await orderOf(body);
    expect(order.lines).toStrictEqual([shirt, socksAsPlaced, toteAsPlaced]);
    expect(order.totals).toStrictEqual(totalsAsPlaced);
  });

  it("scales a line in proportion when the refunds do not itemise its removed units, and keeps Shopify's totals", async () => {
    const body = shopifyFixture("orderEdited");
    const [removal] = refunds(body);
    (removal as Json).refund_line_items = ((removal as Json).refund_line_items as Json[]).slice(1);
    const order = await orderOf(body);
    // 17.99 × 1/3 and 32.37 × 1/3 remain (5.9967 → 6.00, 10.79).
    expect(order.lines).toStrictEqual([shirt, { ...socksAsPlaced, quantity: 1, discount: 600, tax: 1079 }]);
    expect(order.totals).toStrictEqual({ total: 50796, tax: 10159, discounts: 5099, shipping: 4900 });
    // The cent the spread could not place is the invoice's cents difference.
    expect(buildInvoiceDocument(order, settings).difference).toBe(1);
  });

  it("leaves an order that only had refunds with money as it was placed: its credit notes take those units off", async () => {
    const body = shopifyFixture("orderEdited");
    Object.assign(body, { financial_status: "partially_refunded", total_outstanding: "0.00" });
    items(body)[1] = { ...items(body)[1], current_quantity: 3 };
    body.refunds = [toteReturn()];
    const order = await orderOf(body);
    expect(order.lines).toStrictEqual([shirt, socksAsPlaced, toteAsPlaced]);
    expect(order.totals).toStrictEqual(totalsAsPlaced);
  });

  it("reads an order paid in another currency in the customer's money, its removal and current totals too", async () => {
    const body = shopifyFixture("orderMultiCurrency");
    const both = (dkk: string, eur: string) => ({
      shop_money: { amount: dkk, currency_code: "DKK" },
      presentment_money: { amount: eur, currency_code: "EUR" },
    });
    const [mugs, tshirt] = items(body);
    Object.assign(mugs ?? {}, { current_quantity: 1 });
    Object.assign(tshirt ?? {}, { current_quantity: 1 });
    Object.assign(body, {
      financial_status: "authorized",
      total_outstanding: "399.49",
      current_total_price: "399.49",
      current_total_price_set: both("399.49", "53.55"),
      current_total_tax: "63.78",
      current_total_tax_set: both("63.78", "8.55"),
      current_total_discounts: "44.39",
      current_total_discounts_set: both("44.39", "5.95"),
      refunds: [
        {
          id: 9900000009,
          order_id: 5809876543210,
          refund_line_items: [
            {
              id: 9910000009,
              line_item_id: 14100000001,
              quantity: 1,
              restock_type: "cancel",
              subtotal: 177.56,
              total_tax: 28.35,
              subtotal_set: both("177.56", "23.80"),
              total_tax_set: both("28.35", "3.80"),
            },
          ],
          transactions: [],
        },
      ],
    });
    const order = await orderOf(body);
    expect(order.currency).toBe("EUR");
    expect(order.lines[0]).toMatchObject({ id: "14100000001", quantity: 1, unitPrice: 2380, discount: 0, tax: 380 });
    expect(order.totals).toStrictEqual({ total: 5355, tax: 855, discounts: 595, shipping: 595 });
    // The rate stays the one the order's total as placed implies.
    expect(order.exchange).toStrictEqual({ shopCurrency: "DKK", rate: "7.4602" });
    expect(buildInvoiceDocument(order, { ...settings, homeCountry: "DE" }).difference).toBe(0);
  });

  it("computes the totals from the lines when the payload has no current totals (tax-exclusive order)", async () => {
    const body = shopifyFixture("orderTaxExclusive");
    const [mugs, tea] = items(body);
    Object.assign(mugs ?? {}, { current_quantity: 2 });
    Object.assign(tea ?? {}, { current_quantity: 1 });
    body.refunds = [
      {
        id: 9800000002,
        order_id: 5801234567890,
        refund_line_items: [
          {
            id: 9810000003,
            quantity: 2,
            line_item_id: 11002,
            restock_type: "cancel",
            subtotal: 7.98,
            total_tax: 0.56,
          },
        ],
        transactions: [],
      },
    ];
    const order = await orderOf(body);
    expect(order.lines[1]).toMatchObject({ id: "11002", quantity: 1, unitPrice: 399, discount: 0, tax: 28 });
    // 42.50 less the two teas, net and VAT: 7.98 + 0.56.
    expect(order.totals).toStrictEqual({ total: 3396, tax: 502, discounts: 995, shipping: 990 });
    expect(buildInvoiceDocument(order, { ...settings, homeCountry: "DE" }).difference).toBe(0);
  });

  it("keeps the edit when money went back without lines below the removed units' value: a goodwill amount is not their money", async () => {
    // Authorised, edited (215.90 of socks and tote removed), captured for 507.96, then 50.00 back as goodwill.
    const goodwill = amountRefund("50.00");
    const order = await orderOf(capturedThenRefunded(goodwill));
    expect(order.lines).toStrictEqual([shirt, socksNow]);
    expect(order.totals).toStrictEqual(totalsLessRemoved);
    const invoice = buildInvoiceDocument(order, settings);
    const credit = buildCreditNoteDocument(order, await refundOf(goodwill), settings);
    expect(invoice.difference).toBe(0);
    // What the customer paid, less the goodwill: the removed goods are neither invoiced nor credited.
    expect(invoice.totals.total - credit.totals.total).toBe(50796 - 5000);
  });

  it("takes money without lines as the removed units' money from within the cents threshold (1.00) of their value", async () => {
    // 215.90 removed: 214.90 is within a krone of it (their money: the order as placed, the amount
    // credited), 214.89 is not (the edit stands).
    expect((await orderOf(capturedThenRefunded(amountRefund("214.90")))).lines).toStrictEqual([
      shirt,
      socksAsPlaced,
      toteAsPlaced,
    ]);
    expect((await orderOf(capturedThenRefunded(amountRefund("214.89")))).lines).toStrictEqual([shirt, socksNow]);
    // Several refunds add up: two halves of what was owed are its money too.
    const halves = capturedThenRefunded(amountRefund("107.95"), { ...amountRefund("107.95"), id: 9900000405 });
    expect((await orderOf(halves)).lines).toStrictEqual([shirt, socksAsPlaced, toteAsPlaced]);
  });

  it("keeps the edit when a refund with lines returned a little more than them (a negative refund discrepancy)", async () => {
    // The last sock returned for 53.96 and 10.00 more: the 10.00 is no money for the removed units.
    const sockBack: Json = {
      ...toteReturn(),
      id: 9900000505,
      note: "Returned, with 10.00 for the trouble",
      refund_line_items: [
        {
          id: 9910000505,
          quantity: 1,
          line_item_id: 31002,
          restock_type: "return",
          subtotal: 53.96,
          total_tax: 10.79,
          subtotal_set: m("53.96"),
          total_tax_set: m("10.79"),
        },
      ],
      order_adjustments: [
        {
          id: 5,
          order_id: 5900000001012,
          refund_id: 9900000505,
          amount: "-10.00",
          tax_amount: "0.00",
          kind: "refund_discrepancy",
        },
      ],
      transactions: [
        { id: 9920000505, kind: "refund", gateway: "shopify_payments", status: "success", amount: "63.96", currency: "DKK" },
      ],
    };
    const body = capturedThenRefunded(sockBack);
    items(body)[1] = { ...items(body)[1], current_quantity: 0 };
    const order = await orderOf(body);
    // The returned sock stays on the invoice for its credit note to take off.
    expect(order.lines).toStrictEqual([shirt, socksNow]);
    expect(order.totals).toStrictEqual(totalsLessRemoved);
    const credit = buildCreditNoteDocument(order, await refundOf(sockBack), settings);
    expect(buildInvoiceDocument(order, settings).totals.total - credit.totals.total).toBe(50796 - 6396);
  });

  it("maps a paid order as placed when units left by a refund without money that is no edit's removal", async () => {
    // Paid at checkout and never edited: two socks and the tote taken back without money (restocked
    // after a return, taken off without restocking, or refunded by a transaction that failed).
    // Shopify's total_outstanding is 0.00, yet these units were paid for.
    const variants: Array<[string, (refund: Json) => void]> = [
      ["return", (r) => restockAs(r, "return")],
      ["no_restock", (r) => restockAs(r, "no_restock")],
      ["legacy_restock", (r) => restockAs(r, "legacy_restock")],
      [
        "a failed refund",
        (r) => {
          r.transactions = [
            { id: 9920000606, kind: "refund", gateway: "shopify_payments", status: "failure", amount: "215.90", currency: "DKK" },
          ];
        },
      ],
    ];
    for (const [why, change] of variants) {
      const body = shopifyFixture("orderEdited");
      Object.assign(body, { financial_status: "paid", total_outstanding: "0.00" });
      const [refund] = refunds(body);
      change(refund as Json);
      const order = await orderOf(body);
      expect(order.lines, why).toStrictEqual([shirt, socksAsPlaced, toteAsPlaced]);
      expect(order.totals, why).toStrictEqual(totalsAsPlaced);
    }
  });

  it("leaves out a shipping line an edit removed, with the lines it removed", async () => {
    const body = shopifyFixture("orderEdited");
    removeShipping(body);
    currentTotals(body, "458.96", "91.79", "50.99");
    const order = await orderOf(body);
    expect(order.lines).toStrictEqual([shirt, socksNow]);
    expect(order.shipping).toStrictEqual([]);
    expect(order.totals).toStrictEqual({ total: 45896, tax: 9179, discounts: 5099, shipping: 0 });
    const invoice = buildInvoiceDocument(order, settings);
    expect(invoice.difference).toBe(0);
    expect(invoice.lines.map((l) => l.kind)).toStrictEqual(["product", "product"]);
  });

  it("leaves out a removed shipping line when the edit changed nothing else", async () => {
    const body = shopifyFixture("orderEdited");
    for (const item of items(body)) item.current_quantity = item.quantity;
    body.refunds = [];
    removeShipping(body);
    currentTotals(body, "674.86", "134.97", "74.99");
    const order = await orderOf(body);
    expect(order.lines).toStrictEqual([shirt, socksAsPlaced, toteAsPlaced]);
    expect(order.shipping).toStrictEqual([]);
    expect(order.totals).toStrictEqual({ total: 67486, tax: 13497, discounts: 7499, shipping: 0 });
    // Three socks at a net unit price in whole cents leave a cent, as on the order as placed.
    const invoice = buildInvoiceDocument(order, settings);
    const placedBody = shopifyFixture("orderEdited");
    for (const item of items(placedBody)) delete item.current_quantity;
    expect(invoice.difference).toBe(buildInvoiceDocument(await orderOf(placedBody), settings).difference);
    expect(invoice.totals).toMatchObject({ total: 67486, vat: 13497 });
  });

  it("invoices lowered shipping: the removed line is left out, the line the edit added stays", async () => {
    const body = shopifyFixture("orderEdited");
    removeShipping(body);
    addReducedShipping(body);
    currentTotals(body, "487.96", "97.59", "50.99");
    const order = await orderOf(body);
    expect(order.shipping).toStrictEqual([glsReduced]);
    expect(order.totals).toStrictEqual({ total: 48796, tax: 9759, discounts: 5099, shipping: 2900 });
    expect(buildInvoiceDocument(order, settings).difference).toBe(0);
  });

  it("takes the removed shipping off totals computed from the order as placed (money went back since)", async () => {
    // Edited before capture (socks, tote and shipping), captured for 458.96, then 50.00 back as goodwill.
    const body = capturedThenRefunded(amountRefund("50.00"));
    removeShipping(body);
    const order = await orderOf(body);
    expect(order.lines).toStrictEqual([shirt, socksNow]);
    expect(order.shipping).toStrictEqual([]);
    expect(order.totals).toStrictEqual({ total: 45896, tax: 9179, discounts: 5099, shipping: 0 });
    expect(buildInvoiceDocument(order, settings).difference).toBe(0);
    // Money back of about the removed units' and shipping's value (264.90) is their money: as placed.
    const owed = capturedThenRefunded(amountRefund("264.90"));
    removeShipping(owed);
    const asPlaced = await orderOf(owed);
    expect(asPlaced.lines).toStrictEqual([shirt, socksAsPlaced, toteAsPlaced]);
    expect(asPlaced.shipping).toStrictEqual([gls]);
  });

  it("keeps a removed shipping line when the signs do not agree", async () => {
    // Shopify's current total still charges the shipping.
    const charged = shopifyFixture("orderEdited");
    removeShipping(charged);
    expect((await orderOf(charged)).shipping).toStrictEqual([gls]);
    // A refund with money credited more shipping than the lines still on the order hold.
    const credited = capturedThenRefunded({
      ...amountRefund("49.00"),
      refund_shipping_lines: [{ subtotal_amount_set: m("49.00"), tax_amount_set: m("9.80") }],
      order_adjustments: [],
    });
    removeShipping(credited);
    expect((await orderOf(credited)).shipping).toStrictEqual([gls]);
    // A paid order edited down owes the customer the difference: as placed, shipping and all.
    const owed = shopifyFixture("orderEdited");
    Object.assign(owed, { financial_status: "paid", total_outstanding: "-264.90" });
    removeShipping(owed);
    const order = await orderOf(owed);
    expect(order.lines).toStrictEqual([shirt, socksAsPlaced, toteAsPlaced]);
    expect(order.shipping).toStrictEqual([gls]);
    expect(order.totals).toStrictEqual(totalsAsPlaced);
  });

  it("keeps the old shipping line of a changed fee once money went back: it may be the fee's difference, which its credit note takes off", async () => {
    // Paid, then the fee lowered (GLS 49.00 removed, 29.00 added) and the 20.00 difference refunded
    // as an amount. Leaving the old line off as well would book 29.00 − 20.00 = 9.00 of shipping.
    const body = shopifyFixture("orderEdited");
    for (const item of items(body)) item.current_quantity = item.quantity;
    Object.assign(body, { financial_status: "partially_refunded", total_outstanding: "0.00" });
    body.refunds = [amountRefund("20.00")];
    removeShipping(body);
    addReducedShipping(body);
    const order = await orderOf(body);
    expect(order.shipping).toStrictEqual([gls, glsReduced]);
  });

  it("keeps the edit of an order edited before capture and captured for what it then held", async () => {
    // Paid, nothing outstanding, and Shopify's current total without the removed units: the
    // customer paid for the order as edited.
    const body = shopifyFixture("orderEdited");
    Object.assign(body, { financial_status: "paid", total_outstanding: "0.00" });
    const order = await orderOf(body);
    expect(order.lines).toStrictEqual([shirt, socksNow]);
    expect(order.totals).toStrictEqual({ total: 50796, tax: 10159, discounts: 5099, shipping: 4900 });
  });

  it("maps a paid order as placed when a 0.00 cancel restock left Shopify's current total as it was", async () => {
    // Paid at checkout, then two socks and the tote restocked for 0.00: nothing is outstanding, so
    // the customer paid what Shopify charges now, which still counts the units.
    const body = shopifyFixture("orderEdited");
    Object.assign(body, { financial_status: "paid", total_outstanding: "0.00" });
    currentTotals(body, "723.86", "144.77", "74.99");
    const order = await orderOf(body);
    expect(order.lines).toStrictEqual([shirt, socksAsPlaced, toteAsPlaced]);
    expect(order.totals).toStrictEqual(totalsAsPlaced);
  });

  it("maps an order as placed when units were restocked for 0.00 after money went back", async () => {
    // Paid at checkout, the shirt returned and refunded, then the socks and tote restocked for 0.00:
    // the order was paid before they left, so this is no edit before invoicing.
    const shirtBack: Json = {
      ...toteReturn(),
      id: 9900000707,
      created_at: "2026-03-09T12:00:00+01:00",
      processed_at: "2026-03-09T12:00:00+01:00",
      refund_line_items: [
        {
          id: 9910000707,
          quantity: 1,
          line_item_id: 31001,
          restock_type: "return",
          subtotal: 405.0,
          total_tax: 81.0,
          subtotal_set: m("405.00"),
          total_tax_set: m("81.00"),
        },
      ],
      transactions: [
        { id: 9920000707, kind: "refund", gateway: "shopify_payments", status: "success", amount: "405.00", currency: "DKK" },
      ],
    };
    const body = shopifyFixture("orderEdited");
    Object.assign(body, { financial_status: "partially_refunded", total_outstanding: "0.00" });
    items(body)[0] = { ...items(body)[0], current_quantity: 0 };
    refunds(body).unshift(shirtBack);
    const order = await orderOf(body);
    expect(order.lines).toStrictEqual([shirt, socksAsPlaced, toteAsPlaced]);
    expect(order.totals).toStrictEqual(totalsAsPlaced);
  });

  it("maps a cancelled order as placed: its 0.00 cancel restock is the cancellation's, not an edit's", async () => {
    // Paid at checkout, cancelled without a refund yet, every unit restocked.
    const body = shopifyFixture("orderEdited");
    Object.assign(body, { financial_status: "paid", total_outstanding: "0.00", cancelled_at: "2026-03-10T15:30:00+01:00" });
    for (const item of items(body)) item.current_quantity = 0;
    const [removal] = refunds(body);
    (removal as Json).refund_line_items = [
      ...((removal as Json).refund_line_items as Json[]),
      {
        id: 9910000103,
        quantity: 1,
        line_item_id: 31001,
        restock_type: "cancel",
        subtotal: 405.0,
        total_tax: 81.0,
        subtotal_set: m("405.00"),
        total_tax_set: m("81.00"),
      },
    ];
    currentTotals(body, "0.00", "0.00", "0.00");
    const order = await orderOf(body);
    expect(order.lines).toStrictEqual([shirt, socksAsPlaced, toteAsPlaced]);
    expect(order.shipping).toStrictEqual([gls]);
    expect(order.totals).toStrictEqual(totalsAsPlaced);
  });
});
