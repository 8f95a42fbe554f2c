/**
 * Zod schemas of the Shopify webhook payloads Orderly reads (the REST JSON shape, which webhooks
 * keep even though the REST Admin API is legacy). Strict about the fields the canonical order needs,
 * lenient about everything else: unknown fields are dropped, and fields Shopify may send as null
 * or leave out (PII without protected-data approval, guest checkouts) are nullish.
 */
import { z } from "zod";
import { OrderlyError } from "../../domain/errors";
import { toMinor } from "../../domain/money";
import { currencyCode } from "../payload";

const DECIMAL = /^[+-]?\d+(?:\.\d+)?$/;

/**
 * A money amount. Shopify sends decimal strings ("249.00") almost everywhere, but a few older
 * fields are JSON numbers (`refund_line_items[].subtotal`: 195.66); both parse exactly via toMinor.
 */
export const decimal = z.custom<string | number>(
  (value) => (typeof value === "string" && DECIMAL.test(value.trim())) || (typeof value === "number" && Number.isFinite(value)),
  { error: 'must be a decimal amount such as "249.00"' },
);

/**
 * A Shopify numeric id. Ids are int64; the parser turns integers beyond 2^53 into their exact
 * digit strings (see parseShopifyJson), so both forms arrive here and leave as a string.
 */
export const shopifyId = z
  .custom<number | string>(
    (value) =>
      (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) ||
      (typeof value === "string" && /^\d+$/.test(value)),
    { error: "must be a numeric Shopify id" },
  )
  .transform((value) => String(value));

const text = z.string().nullish();

/** Three ASCII letters: anything else ("ßAB" upper-cases to four letters) is no ISO 4217 code. */

const money = z.object({ amount: decimal, currency_code: z.string().nullish() });

/**
 * An amount in both currencies of the order: `shop_money` in the shop's currency (the plain fields'
 * currency) and `presentment_money` in the currency the customer saw and paid in. For an order in
 * the shop's own currency the two are the same amount.
 */
export const moneySet = z.object({ shop_money: money, presentment_money: money.nullish() });
export type MoneySet = z.infer<typeof moneySet>;

const taxLine = z.object({
  title: text,
  /** A fraction: 0.25 is 25%. */
  rate: z.number().nullish(),
  price: decimal,
  price_set: moneySet.nullish(),
});

const discountAllocation = z.object({
  amount: decimal,
  amount_set: moneySet.nullish(),
  discount_application_index: z.number().int().nullish(),
});

export const lineItemSchema = z.object({
  id: shopifyId,
  sku: text,
  title: text,
  name: text,
  /** As ordered (and as added by an edit); edits and refunds leave it as it was. */
  quantity: z.number().int(),
  /**
   * What is left of `quantity` after every unit removed by an order edit or refunded (REST API
   * 2024-01 on; absent before). Tax lines and discount allocations stay those of `quantity`.
   */
  current_quantity: z.number().int().nullish(),
  price: decimal,
  price_set: moneySet.nullish(),
  total_discount: decimal.nullish(),
  total_discount_set: moneySet.nullish(),
  tax_lines: z.array(taxLine).nullish(),
  discount_allocations: z.array(discountAllocation).nullish(),
  product_id: shopifyId.nullish(),
  variant_id: shopifyId.nullish(),
  /** True when the line sells a gift card (a voucher: no VAT at sale). */
  gift_card: z.boolean().nullish(),
});

export const shippingLineSchema = z.object({
  title: text,
  code: text,
  price: decimal,
  price_set: moneySet.nullish(),
  discounted_price: decimal.nullish(),
  discounted_price_set: moneySet.nullish(),
  tax_lines: z.array(taxLine).nullish(),
  discount_allocations: z.array(discountAllocation).nullish(),
  /**
   * True for a line an order edit removed (API 2024-04 on): Shopify keeps it in the payload, and in
   * `total_shipping_price_set`. Absent on older versions.
   */
  is_removed: z.boolean().nullish(),
});

export const discountApplicationSchema = z.object({
  /** discount_code | manual | script | automatic */
  type: text,
  code: text,
  title: text,
  description: text,
  /** across | each | one */
  allocation_method: text,
  /** all | entitled | explicit */
  target_selection: text,
  /** line_item | shipping_line */
  target_type: text,
});

const discountCode = z.object({
  code: z.string(),
  amount: decimal.nullish(),
  /** percentage | fixed_amount | shipping */
  type: text,
});

export const addressSchema = z.object({
  name: text,
  first_name: text,
  last_name: text,
  company: text,
  address1: text,
  address2: text,
  city: text,
  zip: text,
  province: text,
  country_code: text,
  phone: text,
});

const customer = z.object({
  id: shopifyId.nullish(),
  email: text,
  phone: text,
  first_name: text,
  last_name: text,
});

const refundLineItem = z.object({
  line_item_id: shopifyId,
  quantity: z.number().int(),
  /** no_restock | cancel | return | legacy_restock */
  restock_type: text,
  subtotal: decimal,
  subtotal_set: moneySet.nullish(),
  total_tax: decimal,
  total_tax_set: moneySet.nullish(),
  line_item: z.object({ sku: text }).nullish(),
});

const refundTransaction = z.object({
  kind: z.string(),
  status: text,
  /** The gateway the money went back through (gift_card, shopify_payments ...): the refund's split per gateway. */
  gateway: text,
  amount: decimal,
  currency: currencyCode.nullish(),
  /** True for a transaction of a test order: the only sign a refund carries of its order being a test. */
  test: z.boolean().nullish(),
});

/**
 * Refunded shipping as API 2024-10 on reports it (no longer a shipping_refund order adjustment).
 * The subtotal is on the order's tax basis, like a refund line's, with its VAT beside it.
 */
const refundShippingLine = z.object({
  subtotal_amount_set: moneySet,
  tax_amount_set: moneySet.nullish(),
});

const orderAdjustment = z.object({
  /** shipping_refund | refund_discrepancy */
  kind: text,
  amount: decimal,
  amount_set: moneySet.nullish(),
  /** VAT of the adjustment; a tax-exclusive shop's shipping refund states its VAT here, beside the net amount. */
  tax_amount: decimal.nullish(),
  tax_amount_set: moneySet.nullish(),
});

/**
 * A duty the refund gave back (REST `duties[]`, GraphQL `Refund.duties`: RefundDuty's `amountSet`):
 * the amount in both monies. Extra fields (such as `duty_id`) are not needed and dropped.
 */
const refundDuty = z.object({ amount_set: moneySet });

/** Body of refunds/create. */
export const shopifyRefundSchema = z.object({
  id: shopifyId,
  order_id: shopifyId,
  created_at: text,
  processed_at: text,
  note: text,
  currency: currencyCode.nullish(),
  refund_line_items: z.array(refundLineItem).nullish(),
  refund_shipping_lines: z.array(refundShippingLine).nullish(),
  transactions: z.array(refundTransaction).nullish(),
  order_adjustments: z.array(orderAdjustment).nullish(),
  /**
   * The duties the refund gave back, without VAT. A list Orderly cannot read is taken as absent
   * (no duties), as before duties were read: the credit note's totals check then shows the
   * difference rather than the whole refund being refused for it.
   */
  duties: z.array(refundDuty).nullish().catch(undefined),
});
export type ShopifyRefund = z.infer<typeof shopifyRefundSchema>;

/** Body of orders/create, orders/updated, orders/paid, orders/fulfilled and orders/cancelled. */
export const shopifyOrderSchema = z.object({
  id: shopifyId,
  /** Display name, "#1001". */
  name: text,
  order_number: z.number().int().nullish(),
  /** Shop currency: the plain amount strings are in it. */
  currency: currencyCode,
  /** The currency the customer saw and paid in; the `*_set.presentment_money` amounts are in it. */
  presentment_currency: currencyCode.nullish(),
  taxes_included: z.boolean(),
  /** True for an order placed in test mode (Shopify's bogus gateway or a payment provider's test mode). */
  test: z.boolean().nullish(),
  created_at: text,
  updated_at: text,
  closed_at: text,
  cancelled_at: text,
  financial_status: text,
  fulfillment_status: text,
  total_price: decimal,
  total_price_set: moneySet.nullish(),
  subtotal_price_set: moneySet.nullish(),
  total_line_items_price_set: moneySet.nullish(),
  total_tax: decimal.nullish(),
  total_tax_set: moneySet.nullish(),
  total_discounts: decimal.nullish(),
  total_discounts_set: moneySet.nullish(),
  total_shipping_price_set: moneySet.nullish(),
  /**
   * Duties (the destination's import duties Shopify collected at checkout), in both monies; only
   * sets, no plain field. Null when the order has none. Part of `total_price`, not of any line.
   */
  original_total_duties_set: moneySet.nullish(),
  /** The duties now, after edits and refunds; part of `current_total_price`. */
  current_total_duties_set: moneySet.nullish(),
  /** True when the prices include the duties (a market priced duties-inclusive): no duties on top. */
  duties_included: z.boolean().nullish(),
  /** The order now: edits, returns and refunds taken off (the fields above are the order as placed). */
  current_total_price: decimal.nullish(),
  current_total_price_set: moneySet.nullish(),
  current_total_tax: decimal.nullish(),
  current_total_tax_set: moneySet.nullish(),
  current_total_discounts: decimal.nullish(),
  current_total_discounts_set: moneySet.nullish(),
  /**
   * What the customer still owes, in the shop's currency. Negative: money is owed back to the
   * customer (a paid order edited down; GraphQL's totalOutstandingSet documents the sign).
   */
  total_outstanding: decimal.nullish(),
  line_items: z.array(lineItemSchema),
  shipping_lines: z.array(shippingLineSchema).nullish(),
  discount_applications: z.array(discountApplicationSchema).nullish(),
  discount_codes: z.array(discountCode).nullish(),
  payment_gateway_names: z.array(z.string()).nullish(),
  customer: customer.nullish(),
  email: text,
  phone: text,
  billing_address: addressSchema.nullish(),
  shipping_address: addressSchema.nullish(),
  note: text,
  /** Comma-separated: "vip, wholesale". */
  tags: text,
  /** Where the order was placed: "web", "pos", "shopify_draft_order", an app's id. */
  source_name: text,
  /**
   * The order's refunds, each as refunds/create sends it: an edit's removals are refunds too (with
   * no money back). Read only to tell which units left an edited order with money back; a list
   * Orderly cannot read is taken as absent, which maps the order as placed, as before, rather
   * than refusing the order for a field it does not otherwise need.
   */
  refunds: z.array(shopifyRefundSchema).nullish().catch(undefined),
});
export type ShopifyOrder = z.infer<typeof shopifyOrderSchema>;
export type ShopifyLineItem = z.infer<typeof lineItemSchema>;
export type ShopifyShippingLine = z.infer<typeof shippingLineSchema>;
export type ShopifyAddress = z.infer<typeof addressSchema>;

/**
 * Minor units of a validated amount. The schema already refused non-decimals, so the only failure
 * left is an amount beyond the safe integer range, reported naming the field.
 */
export function minorOf(value: string | number, currency: string, field: string): number {
  try {
    return toMinor(value, currency);
  } catch (error) {
    throw new OrderlyError(`Shopify payload field ${field} is not a usable amount: ${JSON.stringify(value)}.`, {
      errorClass: "validation",
      code: "shopify_payload_invalid",
      cause: error,
    });
  }
}

/** Sum of amounts in minor units (integers, so the sum is exact). */
export function sumMinor(values: ReadonlyArray<string | number>, currency: string, field: string): number {
  return values.reduce<number>((sum, value) => sum + minorOf(value, currency, field), 0);
}
