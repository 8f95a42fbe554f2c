/**
 * Maps a Shopify order payload to the canonical order. Amounts are the shop-currency strings (the
 * plain fields, not presentment money), turned into integer minor units.
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
import { discountsOf } from "./shopify.discounts";
import {
  minorOf,
  type ShopifyAddress,
  type ShopifyLineItem,
  type ShopifyOrder,
  type ShopifyShippingLine,
  sumMinor,
} from "./shopify.payload";
import { compact, nonEmpty } from "./shopify.util";

/** Financial statuses of an order whose money was captured (a refund does not undo "was paid"). */
const PAID_STATUSES = new Set(["paid", "partially_refunded", "refunded"]);
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
 * The stage an order payload shows. Read from the payload's state rather than the topic alone:
 * orders/updated carries every change, and a late orders/create may already describe a paid order.
 */
export function orderStage(order: ShopifyOrder, topic: string): Stage {
  if (nonEmpty(order.cancelled_at) || topic === "orders/cancelled") return "cancelled";
  const paid = PAID_STATUSES.has(order.financial_status ?? "") || topic === "orders/paid";
  const fulfilled = order.fulfillment_status === "fulfilled" || topic === "orders/fulfilled";
  if (nonEmpty(order.closed_at) && paid && fulfilled) return "completed";
  if (fulfilled) return "fulfilled";
  if (paid) return "paid";
  return "created";
}

export interface OrderMeta {
  stage: Stage;
  version: number;
  createdAt: string;
}

export function toCanonicalOrder(order: ShopifyOrder, meta: OrderMeta): CanonicalOrder {
  const currency = order.currency.toUpperCase();
  const lines = order.line_items.map((item, i) => lineOf(item, currency, `line_items.${i}`));
  const shipping = (order.shipping_lines ?? []).map((line, i) => shippingOf(line, currency, `shipping_lines.${i}`));
  const total = minorOf(order.total_price, currency, "total_price");
  const financialStatus = nonEmpty(order.financial_status);
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

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
    discounts: discountsOf(order, currency),
    payments: paymentsOf(order.payment_gateway_names ?? [], financialStatus, total),
    totals: {
      total,
      // The order-level fields are what Shopify charged; sums of the parts only stand in when absent.
      tax:
        order.total_tax == null
          ? sum([...lines, ...shipping].map((l) => l.tax))
          : minorOf(order.total_tax, currency, "total_tax"),
      discounts:
        order.total_discounts == null
          ? sum([...lines, ...shipping].map((l) => l.discount))
          : minorOf(order.total_discounts, currency, "total_discounts"),
      shipping:
        order.total_shipping_price_set == null
          ? sum(shipping.map((s) => s.price))
          : minorOf(order.total_shipping_price_set.shop_money.amount, currency, "total_shipping_price_set.shop_money.amount"),
    },
    financialStatus,
    fulfillmentStatus: nonEmpty(order.fulfillment_status),
    cancelledAt: nonEmpty(order.cancelled_at),
    note: nonEmpty(order.note),
    tags: (order.tags ?? "")
      .split(",")
      .map((tag) => tag.trim())
      .filter((tag) => tag.length > 0),
  };
  // Validate our own output so a mapping bug shows here, not in a target three steps later.
  return orderSchema.parse(compact(canonical));
}

function lineOf(item: ShopifyLineItem, currency: string, path: string): Line {
  const taxLines = item.tax_lines ?? [];
  // discount_allocations is the current field; total_discount stands in on payloads without it.
  const discount =
    item.discount_allocations != null
      ? sumMinor(
          item.discount_allocations.map((a) => a.amount),
          currency,
          `${path}.discount_allocations`,
        )
      : item.total_discount != null
        ? minorOf(item.total_discount, currency, `${path}.total_discount`)
        : 0;
  return compact({
    id: item.id,
    sku: nonEmpty(item.sku),
    title: nonEmpty(item.title) ?? nonEmpty(item.name) ?? "",
    quantity: item.quantity,
    unitPrice: minorOf(item.price, currency, `${path}.price`),
    discount,
    tax: sumMinor(
      taxLines.map((t) => t.price),
      currency,
      `${path}.tax_lines`,
    ),
    taxRateBp: rateBp(taxLines[0]?.rate),
    productId: item.product_id ?? undefined,
    variantId: item.variant_id ?? undefined,
    giftCard: item.gift_card ? true : undefined,
  });
}

function shippingOf(line: ShopifyShippingLine, currency: string, path: string): Shipping {
  const taxLines = line.tax_lines ?? [];
  const price = minorOf(line.price, currency, `${path}.price`);
  const discount =
    line.discounted_price != null
      ? price - minorOf(line.discounted_price, currency, `${path}.discounted_price`)
      : sumMinor(
          (line.discount_allocations ?? []).map((a) => a.amount),
          currency,
          `${path}.discount_allocations`,
        );
  return compact({
    title: nonEmpty(line.title) ?? nonEmpty(line.code) ?? "Shipping",
    code: nonEmpty(line.code),
    price,
    discount,
    tax: sumMinor(
      taxLines.map((t) => t.price),
      currency,
      `${path}.tax_lines`,
    ),
    taxRateBp: rateBp(taxLines[0]?.rate),
  });
}

/** A tax line's rate is a fraction (0.25); anything outside 0..1 is not a rate we can trust, so it is left out. */
function rateBp(rate: number | null | undefined): number | undefined {
  if (rate == null || rate < 0 || rate > 1) return undefined;
  return rateToBasisPoints(rate, "fraction");
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
  const country = nonEmpty(address.country_code)?.toUpperCase();
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
    // Two ASCII letters: one astral character also has length 2, and is no ISO 3166 code.
    country: country !== undefined && /^[A-Z]{2}$/.test(country) ? country : undefined,
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
