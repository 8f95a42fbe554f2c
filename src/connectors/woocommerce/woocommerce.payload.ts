/**
 * Zod schemas of the WooCommerce webhook payloads Orderly reads: the REST API v3 representation of
 * an order (what a webhook set to "WP REST API Integration v3" delivers). Strict about the fields
 * the canonical order needs, lenient about everything else: unknown fields are dropped, and fields
 * older versions or plugins leave out are nullish.
 */
import { z } from "zod";
import { OrderlyError } from "../../domain/errors";
import { minorUnitExponent, toMinor } from "../../domain/money";
import { currencyCode } from "../payload";

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

/**
 * A money amount. The REST API formats totals as decimal strings ("41.32"); a few item fields are
 * written unformatted ("8.264463", or a JSON number from plugins), so both parse exactly.
 */
export const decimal = z.custom<string | number>(
  (value) => (typeof value === "string" && DECIMAL.test(value.trim())) || (typeof value === "number" && Number.isFinite(value)),
  { error: 'must be a decimal amount such as "41.32"' },
);

/** A tax amount beside a main amount; WooCommerce may write an absent one as "" (read as zero). */
const taxAmount = z.union([decimal, z.literal("")]).nullish();

/** A WooCommerce id: an integer (posts and order items), or its digits as a string from some plugins. */
export const wcId = z
  .custom<number | string>(
    (value) =>
      (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) ||
      (typeof value === "string" && /^\d+$/.test(value)),
    { error: "must be a numeric WooCommerce id" },
  )
  .transform((value) => String(value));

const text = z.string().nullish();

/** An item's share of one tax rate: `id` is the rate id; `total` is unrounded and may be "". */
const itemTax = z.object({
  id: wcId,
  total: z.union([z.string(), z.number()]).nullish(),
});

export const lineItemSchema = z.object({
  id: wcId,
  name: text,
  product_id: z.number().int().nullish(),
  variation_id: z.number().int().nullish(),
  quantity: z.number().int().positive({ error: "must be a whole number of at least 1" }),
  /** Null when the product was deleted after the sale. */
  sku: text,
  /** Before coupon discounts, excluding tax. */
  subtotal: decimal,
  subtotal_tax: taxAmount,
  /** After coupon discounts, excluding tax. */
  total: decimal,
  total_tax: taxAmount,
  taxes: z.array(itemTax).nullish(),
});

export const taxLineSchema = z.object({
  rate_id: wcId.nullish(),
  rate_code: text,
  label: text,
  compound: z.boolean().nullish(),
  /** Percent (21 is 21%); absent from payloads of older WooCommerce versions. */
  rate_percent: z.union([z.number(), z.string().regex(DECIMAL)]).nullish(),
});

export const shippingLineSchema = z.object({
  method_title: text,
  method_id: text,
  /** Excluding tax, after discounts. */
  total: decimal,
  total_tax: taxAmount,
  taxes: z.array(itemTax).nullish(),
});

export const feeLineSchema = z.object({
  name: text,
  /** Excluding tax; negative for a fee used as a discount. */
  total: decimal,
  total_tax: taxAmount,
  taxes: z.array(itemTax).nullish(),
});

export const couponLineSchema = z.object({
  code: text,
  /** Excluding tax. */
  discount: decimal,
  discount_tax: taxAmount,
});

export const refundSummarySchema = z.object({
  id: wcId,
  reason: text,
  /** The key older versions used for the reason. */
  refund: text,
  /** Negative: "-10.00". */
  total: decimal,
});

export const addressSchema = z.object({
  first_name: text,
  last_name: text,
  company: text,
  address_1: text,
  address_2: text,
  city: text,
  state: text,
  postcode: text,
  country: text,
  email: text,
  phone: text,
});

const metaEntry = z.object({ key: z.string(), value: z.unknown() });

/** Body of order.created, order.updated, order.restored (and order.deleted when it carries the order). */
export const wooOrderSchema = z.object({
  id: wcId,
  /** What the shop shows; plugins may make it differ from the id. */
  number: z.union([z.string(), z.number()]).nullish(),
  status: z.string().min(1),
  /** Three ASCII letters, as Shopify's: "ßAB" upper-cases to four, "𐀀AB" is three code points of no currency. */
  currency: currencyCode,
  prices_include_tax: z.boolean(),
  date_created: text,
  date_created_gmt: text,
  date_modified: text,
  date_modified_gmt: text,
  date_paid: text,
  date_paid_gmt: text,
  /** Stamped when the order is marked completed; kept when its status moves on (a refund does not clear it). */
  date_completed: text,
  date_completed_gmt: text,
  discount_total: decimal.nullish(),
  discount_tax: taxAmount,
  shipping_total: decimal.nullish(),
  shipping_tax: taxAmount,
  total: decimal,
  total_tax: decimal.nullish(),
  customer_id: z.number().int().nullish(),
  customer_note: text,
  /** Where the order was made: "checkout", "admin", "rest-api", a plugin's name. */
  created_via: text,
  billing: addressSchema.nullish(),
  shipping: addressSchema.nullish(),
  payment_method: text,
  payment_method_title: text,
  transaction_id: text,
  line_items: z.array(lineItemSchema),
  tax_lines: z.array(taxLineSchema).nullish(),
  shipping_lines: z.array(shippingLineSchema).nullish(),
  fee_lines: z.array(feeLineSchema).nullish(),
  coupon_lines: z.array(couponLineSchema).nullish(),
  refunds: z.array(refundSummarySchema).nullish(),
  meta_data: z.array(metaEntry).nullish(),
});
export type WooOrder = z.infer<typeof wooOrderSchema>;
export type WooLineItem = z.infer<typeof lineItemSchema>;
export type WooTaxLine = z.infer<typeof taxLineSchema>;
export type WooItemTax = z.infer<typeof itemTax>;
export type WooAddress = z.infer<typeof addressSchema>;
export type WooRefundSummary = z.infer<typeof refundSummarySchema>;

/** An amount as the payload gives it; "" and absent are zero. */
export type Amount = string | number | null | undefined;

/**
 * Minor units of the exact sum of amounts, rounded half-up once at the end: a net amount and its
 * tax written with more decimals than the currency has are added before rounding, not after.
 */
export function minorOf(values: Amount | readonly Amount[], currency: string, field: string): number {
  const list = Array.isArray(values) ? values : [values];
  try {
    return toMinor(exactSum(list as readonly Amount[]), currency);
  } catch (error) {
    throw new OrderlyError(`WooCommerce payload field ${field} is not a usable amount: ${JSON.stringify(values)}.`, {
      errorClass: "validation",
      code: "woocommerce_payload_invalid",
      cause: error,
    });
  }
}

/** Digits kept below the minor unit by `fineUnitsOf`: WooCommerce keeps item taxes unrounded to 6 decimals. */
export const FINE_DIGITS = 6;

/**
 * An amount in units of 10^-FINE_DIGITS of the currency's minor unit (digits beyond rounded
 * half-up): for arithmetic on an unrounded tax ("0.285") that must not round to the minor unit first.
 */
export function fineUnitsOf(value: Amount, currency: string, field: string): bigint {
  try {
    const match = DECIMAL.exec(exactSum([value]));
    if (!match) throw new RangeError(`not a decimal amount: ${JSON.stringify(value)}`);
    const [, sign, whole = "0", fraction = ""] = match;
    const digits = minorUnitExponent(currency) + FINE_DIGITS;
    let units = BigInt(whole + fraction.slice(0, digits).padEnd(digits, "0"));
    if ((fraction[digits] ?? "0") >= "5") units += 1n;
    return sign === "-" ? -units : units;
  } catch (error) {
    throw new OrderlyError(`WooCommerce payload field ${field} is not a usable amount: ${JSON.stringify(value)}.`, {
      errorClass: "validation",
      code: "woocommerce_payload_invalid",
      cause: error,
    });
  }
}

/** Exact decimal sum as a plain decimal string (integers scaled by the longest fraction). */
function exactSum(values: readonly Amount[]): string {
  const parts = values.map((value) => {
    if (value === null || value === undefined || value === "") return { negative: false, whole: "0", fraction: "" };
    const match = DECIMAL.exec(typeof value === "number" ? plainNumber(value) : value.trim());
    if (!match) throw new RangeError(`not a decimal amount: ${JSON.stringify(value)}`);
    return { negative: match[1] === "-", whole: match[2] ?? "0", fraction: match[3] ?? "" };
  });
  const scale = Math.max(0, ...parts.map((p) => p.fraction.length));
  let sum = 0n;
  for (const p of parts) {
    const units = BigInt(p.whole + p.fraction.padEnd(scale, "0"));
    sum += p.negative ? -units : units;
  }
  const negative = sum < 0n;
  const digits = (negative ? -sum : sum).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  return `${negative ? "-" : ""}${whole}${scale > 0 ? `.${digits.slice(digits.length - scale)}` : ""}`;
}

function plainNumber(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite amount: ${value}`);
  // toFixed(9) avoids exponent notation; a float price carries noise beyond that, never money.
  return value.toFixed(9).replace(/\.?0+$/, "");
}
