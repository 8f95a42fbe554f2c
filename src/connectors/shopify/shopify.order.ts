/**
 * Maps a Shopify order payload to the canonical order, amounts in integer minor units. An order the
 * customer paid in another currency than the shop's is mapped in that currency (presentment money)
 * with the rate to the shop's currency recorded in `exchange`; see shopify.money.ts. An order edited
 * after it was placed is mapped as it is now; see shopify.edits.ts.
 */
import { rateToBasisPoints } from "../../domain/money";
import {
  type Address,
  type CanonicalOrder,
  type Customer,
  type Line,
  orderSchema,
  type Payment,
  type Shipping,
} from "../../domain/order";
import type { Stage } from "../../domain/stage";
import { countryCode } from "../payload";
import { discountsOf } from "./shopify.discounts";
import { dutiesOf, dutyFees } from "./shopify.duties";
import { orderEdits } from "./shopify.edits";
import { bothMonies, PresentmentMissing, presentmentMoney, rateBetween, type ShopifyMoney, shopMoney } from "./shopify.money";
import {
  minorOf,
  type ShopifyAddress,
  type ShopifyLineItem,
  type ShopifyOrder,
  type ShopifyShippingLine,
} from "./shopify.payload";
import { compact, nonEmpty } from "./shopify.util";

/**
 * Financial statuses of an order whose money was captured (a refund does not undo "was paid"), but
 * for the refunded two only when nothing is outstanding: see paidInFull.
 */
const PAID_STATUSES = new Set(["paid", "partially_refunded", "refunded"]);
const REFUNDED_STATUSES = new Set(["partially_refunded", "refunded"]);
const PAYMENT_STATUSES = new Set<Payment["status"]>([
  "pending",
  "authorized",
  "paid",
  "partially_paid",
  "refunded",
  "partially_refunded",
  "voided",
]);

/**
 * The stage an order payload shows, read from the payload's state alone: orders/updated carries
 * every change, and a late orders/create may already describe a paid order. Never from the topic:
 * X-Shopify-Topic is outside the signature (only the body is signed), so a signed body resent under
 * orders/cancelled would otherwise cancel a paid order. Shopify's orders/paid, orders/fulfilled and
 * orders/cancelled payloads carry the state that fired them.
 */
export function orderStage(order: ShopifyOrder): Stage {
  if (nonEmpty(order.cancelled_at)) return "cancelled";
  const paid = paidInFull(order);
  const fulfilled = order.fulfillment_status === "fulfilled";
  if (nonEmpty(order.closed_at) && paid && fulfilled) return "completed";
  if (fulfilled) return "fulfilled";
  if (paid) return "paid";
  return "created";
}

/**
 * The order was paid in full. A (partially) refunded order still owing money (total_outstanding > 0)
 * was only partly paid: a deposit taken and then part of it refunded. Read as paid, it had the whole
 * total registered as received; it is read as partially_paid instead (no stage, no amount).
 */
function paidInFull(order: ShopifyOrder): boolean {
  return PAID_STATUSES.has(order.financial_status ?? "") && !depositRefunded(order);
}

function depositRefunded(order: ShopifyOrder): boolean {
  return (
    REFUNDED_STATUSES.has(order.financial_status ?? "") &&
    order.total_outstanding != null &&
    minorOf(order.total_outstanding, order.currency, "total_outstanding") > 0
  );
}

export interface OrderMeta {
  stage: Stage;
  version: number;
  createdAt: string;
}

export function toCanonicalOrder(order: ShopifyOrder, meta: OrderMeta): CanonicalOrder {
  const shop = order.currency.toUpperCase();
  const presentment = order.presentment_currency?.toUpperCase();
  if (presentment !== undefined && presentment !== shop) {
    const totals = bothMonies(order.total_price_set, shop, presentment, "total_price_set");
    try {
      return mapOrder(order, meta, presentmentMoney(shop, presentment, totals));
    } catch (error) {
      // A presentment amount is missing: the whole order in shop money rather than a mix of two currencies.
      if (!(error instanceof PresentmentMissing)) throw error;
    }
  }
  return mapOrder(order, meta, shopMoney(shop));
}

function mapOrder(order: ShopifyOrder, meta: OrderMeta, money: ShopifyMoney): CanonicalOrder {
  const currency = money.currency;
  const placed = order.line_items.map((item, i) => lineOf(item, money, `line_items.${i}`));
  const placedShipping = (order.shipping_lines ?? []).map((line, i) => shippingOf(line, money, `shipping_lines.${i}`));
  // A refunded deposit is no payment in full; like WooCommerce's refunded-unpaid order, the status
  // says what the order means to accounting (paidAsAWhole reads it), not Shopify's label.
  const financialStatus = depositRefunded(order) ? "partially_paid" : nonEmpty(order.financial_status);
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const placedTotals: CanonicalOrder["totals"] = {
    total: money.read(order.total_price, order.total_price_set, "total_price"),
    // The order-level fields are what Shopify charged; sums of the parts only stand in when absent.
    tax:
      order.total_tax == null
        ? sum([...placed, ...placedShipping].map((l) => l.tax))
        : money.read(order.total_tax, order.total_tax_set, "total_tax"),
    discounts:
      order.total_discounts == null
        ? sum([...placed, ...placedShipping].map((l) => l.discount))
        : money.read(order.total_discounts, order.total_discounts_set, "total_discounts"),
    shipping:
      order.total_shipping_price_set == null
        ? sum(placedShipping.map((s) => s.price))
        : money.read(
            order.total_shipping_price_set.shop_money.amount,
            order.total_shipping_price_set,
            // In shop money the field named is the amount read; in presentment money, the set.
            money.presentment ? "total_shipping_price" : "total_shipping_price_set.shop_money.amount",
          ),
  };
  // Duties are in total_price but on no line: a fee, so the invoice adds up to what was paid.
  const placedDuties = dutiesOf(order, money, "original");
  // Edited after it was placed: invoiced for what the customer now buys.
  const edits = orderEdits(order, money, {
    lines: placed,
    shipping: placedShipping,
    totals: placedTotals,
    duties: placedDuties,
  });
  const lines = edits?.lines ?? placed;
  const shipping = edits?.shipping ?? placedShipping;
  const totals = edits?.totals ?? placedTotals;

  const canonical: CanonicalOrder = {
    source: {
      connector: "shopify",
      orderId: order.id,
      orderNumber: nonEmpty(order.name) ?? (order.order_number == null ? order.id : `#${order.order_number}`),
      version: meta.version,
      createdAt: meta.createdAt,
    },
    stage: meta.stage,
    currency,
    pricesIncludeTax: order.taxes_included,
    customer: customerOf(order),
    billingAddress: addressOf(order.billing_address),
    shippingAddress: addressOf(order.shipping_address),
    lines,
    shipping,
    fees: dutyFees(edits?.duties ?? placedDuties),
    // A shipping line an edit removed no longer carries its discount.
    discounts: discountsOf(edits ? { ...order, shipping_lines: edits.shippingLines } : order, money, edits),
    payments: paymentsOf(order.payment_gateway_names ?? [], financialStatus, totals.total),
    totals,
    exchange: money.presentment ? exchangeOf(order, money) : undefined,
    financialStatus,
    fulfillmentStatus: nonEmpty(order.fulfillment_status),
    cancelledAt: nonEmpty(order.cancelled_at),
    note: nonEmpty(order.note),
    tags: (order.tags ?? "")
      .split(",")
      .map((tag) => tag.trim())
      .filter((tag) => tag.length > 0),
    channel: nonEmpty(order.source_name),
  };
  // Validate our own output so a mapping bug shows here, not in a target three steps later.
  return orderSchema.parse(compact(canonical));
}

function lineOf(item: ShopifyLineItem, money: ShopifyMoney, path: string): Line {
  const taxLines = item.tax_lines ?? [];
  // discount_allocations is the current field; total_discount stands in on payloads without it.
  const discount =
    item.discount_allocations != null
      ? money.sum(
          item.discount_allocations.map((a) => [a.amount, a.amount_set] as const),
          `${path}.discount_allocations`,
        )
      : item.total_discount != null
        ? money.read(item.total_discount, item.total_discount_set, `${path}.total_discount`)
        : 0;
  return compact({
    id: item.id,
    sku: nonEmpty(item.sku),
    title: nonEmpty(item.title) ?? nonEmpty(item.name) ?? "",
    quantity: item.quantity,
    unitPrice: money.read(item.price, item.price_set, `${path}.price`),
    discount,
    tax: money.sum(
      taxLines.map((t) => [t.price, t.price_set] as const),
      `${path}.tax_lines`,
    ),
    taxRateBp: rateOf(taxLines),
    productId: item.product_id ?? undefined,
    variantId: item.variant_id ?? undefined,
    giftCard: item.gift_card ? true : undefined,
  });
}

function shippingOf(line: ShopifyShippingLine, money: ShopifyMoney, path: string): Shipping {
  const taxLines = line.tax_lines ?? [];
  const price = money.read(line.price, line.price_set, `${path}.price`);
  const discount =
    line.discounted_price != null
      ? price - money.read(line.discounted_price, line.discounted_price_set, `${path}.discounted_price`)
      : money.sum(
          (line.discount_allocations ?? []).map((a) => [a.amount, a.amount_set] as const),
          `${path}.discount_allocations`,
        );
  return compact({
    title: nonEmpty(line.title) ?? nonEmpty(line.code) ?? "Shipping",
    code: nonEmpty(line.code),
    price,
    discount,
    tax: money.sum(
      taxLines.map((t) => [t.price, t.price_set] as const),
      `${path}.tax_lines`,
    ),
    taxRateBp: rateOf(taxLines),
  });
}

/**
 * The rate to the shop's currency that the order's own amounts imply: from its total, or (a free
 * order) its subtotal, line items total or a line's price. None when every pair is zero.
 */
function exchangeOf(order: ShopifyOrder, money: ShopifyMoney): CanonicalOrder["exchange"] {
  const { shopCurrency, currency } = money;
  const sets: Array<[ShopifyOrder["total_price_set"], string]> = [
    [order.total_price_set, "total_price_set"],
    [order.subtotal_price_set, "subtotal_price_set"],
    [order.total_line_items_price_set, "total_line_items_price_set"],
    ...order.line_items.map((item, i): [ShopifyOrder["total_price_set"], string] => [
      item.price_set,
      `line_items.${i}.price_set`,
    ]),
  ];
  for (const [set, field] of sets) {
    const pair = bothMonies(set, shopCurrency, currency, field);
    const rate = pair && rateBetween(pair, shopCurrency, currency);
    if (rate) return { shopCurrency, rate };
  }
  return undefined;
}

/**
 * The VAT rate of a line: the sum of its tax lines' rates, as taxes levied side by side add up (GST
 * 5 % + PST 7 % is 12 %). A rate is a fraction (0.25); a tax line without one, or anything outside
 * 0..1, is not a rate we can trust, so the rate is left out and derived from the amounts instead.
 */
function rateOf(taxLines: ReadonlyArray<{ rate?: number | null }>): number | undefined {
  if (taxLines.length === 0) return undefined;
  let sum = 0;
  for (const { rate } of taxLines) {
    if (rate == null || rate < 0 || rate > 1) return undefined;
    sum += rate;
  }
  return sum > 1 ? undefined : rateToBasisPoints(sum, "fraction");
}

function customerOf(order: ShopifyOrder): Customer | null {
  const c = order.customer;
  const billing = order.billing_address;
  const customer = compact({
    sourceId: c?.id ?? undefined,
    email: nonEmpty(order.email) ?? nonEmpty(c?.email),
    phone: nonEmpty(order.phone) ?? nonEmpty(c?.phone) ?? nonEmpty(billing?.phone),
    firstName: nonEmpty(c?.first_name) ?? nonEmpty(billing?.first_name),
    lastName: nonEmpty(c?.last_name) ?? nonEmpty(billing?.last_name),
    company: nonEmpty(billing?.company),
    // Shopify orders have no standard VAT number field (apps keep it in note attributes or metafields).
  });
  // A guest checkout with no contact details at all (PII redacted) has no customer to speak of.
  return Object.keys(customer).length === 0 ? null : customer;
}

function addressOf(address: ShopifyAddress | null | undefined): Address | undefined {
  if (!address) return undefined;
  const country = countryCode(nonEmpty(address.country_code));
  const result = compact({
    name:
      nonEmpty(
        [address.first_name, address.last_name]
          .map((p) => p?.trim())
          .filter(Boolean)
          .join(" "),
      ) ?? nonEmpty(address.name),
    company: nonEmpty(address.company),
    line1: nonEmpty(address.address1),
    line2: nonEmpty(address.address2),
    postcode: nonEmpty(address.zip),
    city: nonEmpty(address.city),
    region: nonEmpty(address.province),
    country,
    phone: nonEmpty(address.phone),
  });
  return Object.keys(result).length === 0 ? undefined : result;
}

/**
 * Transactions are not part of order webhooks, so payments come from the gateway names. The amount
 * is known only when one gateway took the whole paid order.
 */
function paymentsOf(gateways: string[], financialStatus: string | undefined, total: number): Payment[] {
  const status = PAYMENT_STATUSES.has(financialStatus as Payment["status"]) ? (financialStatus as Payment["status"]) : undefined;
  const whole = gateways.length === 1 && PAID_STATUSES.has(financialStatus ?? "");
  return gateways.map((gateway) => compact({ gateway, status, amount: whole ? total : undefined }));
}
