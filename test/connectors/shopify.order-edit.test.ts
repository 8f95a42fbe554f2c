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
});
