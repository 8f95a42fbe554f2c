/**
 * The priced parts of a WooCommerce order in canonical form: product lines, shipping and fees.
 *
 * WooCommerce keeps every item amount excluding tax (`subtotal` before coupons, `total` after) with
 * its tax beside it (`subtotal_tax`, `total_tax`), whatever the shop's tax display. The canonical
 * order keeps prices on the basis the shop entered them (`pricesIncludeTax`), so for a tax-inclusive
 * shop each amount is the net plus its tax, added exactly before rounding.
 */
import { divideRounded, divideRoundedBig, rateToBasisPoints } from "../../domain/money";
import type { Fee, Line, Shipping } from "../../domain/order";
import {
  type Amount,
  FINE_DIGITS,
  fineUnitsOf,
  minorOf,
  type WooItemTax,
  type WooLineItem,
  type WooOrder,
  type WooTaxLine,
} from "./woocommerce.payload";
import { compact, displayText, nonEmpty } from "./woocommerce.util";

export interface Basis {
  currency: string;
  pricesIncludeTax: boolean;
  rates: TaxRates;
}

export function lineOf(item: WooLineItem, basis: Basis, path: string): Line {
  const { currency, pricesIncludeTax } = basis;
  // Minimal and older payloads leave out subtotal_tax; the tax after discounts stands in (exact when
  // the line has no discount, which is when such payloads occur).
  const subtotalTax = item.subtotal_tax ?? item.total_tax;
  const before = minorOf(pricesIncludeTax ? [item.subtotal, subtotalTax] : item.subtotal, currency, `${path}.subtotal`);
  const after = minorOf(pricesIncludeTax ? [item.total, item.total_tax] : item.total, currency, `${path}.total`);
  const tax = minorOf(item.total_tax, currency, `${path}.total_tax`);
  // WooCommerce has no unit price in minor units: the line amount over the quantity may not divide
  // (10.00 for 3). The unit price is that division rounded half-up, and the rounding remainder is
  // moved into the discount, so unitPrice × quantity − discount is exactly the line's amount after
  // discounts; the sum of the lines then still makes the order total to the cent.
  const unitPrice = divideRounded(before, item.quantity, "half-up");
  return compact({
    id: item.id,
    sku: nonEmpty(item.sku),
    title: displayText(item.name) ?? nonEmpty(item.sku) ?? `Item ${item.id}`,
    quantity: item.quantity,
    unitPrice,
    discount: unitPrice * item.quantity - after,
    tax,
    taxRateBp: basis.rates.rateOf(item.taxes, tax),
    productId: positiveId(item.product_id),
    variantId: positiveId(item.variation_id),
  });
}

/**
 * Shipping lines carry their price after any discount (a free-shipping coupon makes the method free).
 * A line whose tax was split across VAT rates (see chargeParts) becomes one shipping part per rate.
 */
export function shippingOf(line: NonNullable<WooOrder["shipping_lines"]>[number], basis: Basis, path: string): Shipping[] {
  const title = displayText(line.method_title) ?? nonEmpty(line.method_id) ?? "Shipping";
  const parts = chargeParts(line, basis, path);
  return parts.map((part) =>
    compact({
      title: parts.length > 1 ? `${title} (${part.label})` : title,
      code: nonEmpty(line.method_id),
      price: part.amount,
      discount: 0,
      tax: part.tax,
      taxRateBp: part.taxRateBp,
    }),
  );
}

/**
 * A negative fee is how WooCommerce shops give ad-hoc discounts; it stays a negative fee amount.
 * WooCommerce splits a negative fee's tax over the cart's rates, so it may become one part per rate.
 */
export function feeOf(line: NonNullable<WooOrder["fee_lines"]>[number], basis: Basis, path: string): Fee[] {
  const title = displayText(line.name) ?? "Fee";
  const parts = chargeParts(line, basis, path);
  return parts.map((part) =>
    compact({
      title: parts.length > 1 ? `${title} (${part.label})` : title,
      amount: part.amount,
      tax: part.tax,
      taxRateBp: part.taxRateBp,
    }),
  );
}

/** A shipping or fee line as the payload gives it: net total, its tax, and the tax per rate id. */
interface WooCharge {
  total: Amount;
  total_tax?: Amount;
  taxes?: readonly WooItemTax[] | null;
}

/** One part of a charge: its amount on the order's basis, its tax, and the rate it carries. */
interface ChargePart {
  amount: number;
  tax: number;
  taxRateBp: number | undefined;
  /** Names the part when the charge has several ("19 %", "no VAT"). */
  label: string;
}

/**
 * A charge as one part, or one part per VAT rate when WooCommerce split its tax across rates. A
 * negative fee's tax is split over the cart's tax classes in proportion to their cost (WooCommerce's
 * cart totals, "so it works as a true discount"), and plugins that tax shipping by the cart's
 * mix of rates do the same for a shipping line: one `taxes` entry per rate. No single rate fits such
 * a line (its blended rate, 11.5 % say, is no VAT code), so each entry with tax becomes a part: its
 * tax from the entry and its net worked back from the rate. A share of a cart's untaxed items has no
 * entry; what the entries leave of the net beyond rounding is that share, a part with no VAT.
 */
function chargeParts(line: WooCharge, basis: Basis, path: string): ChargePart[] {
  const { currency, pricesIncludeTax } = basis;
  const tax = minorOf(line.total_tax, currency, `${path}.total_tax`);
  const amount = minorOf(pricesIncludeTax ? [line.total, line.total_tax] : line.total, currency, `${path}.total`);
  const taxRateBp = basis.rates.rateOf(line.taxes, tax);
  const whole: ChargePart[] = [{ amount, tax, taxRateBp, label: "" }];
  if (taxRateBp !== undefined) return whole;
  const net = pricesIncludeTax ? amount - tax : amount;
  const parts = splitByRate(line.taxes ?? [], net, tax, basis, path);
  if (parts === undefined) return whole;
  return parts.map((p) => ({ ...p, amount: p.net + (pricesIncludeTax ? p.tax : 0) }));
}

interface RatePart {
  net: number;
  tax: number;
  taxRateBp: number | undefined;
  label: string;
}

/**
 * The charge's net and tax split by the rates of its `taxes` entries, or undefined when they are not
 * a split of it: fewer than two rates with tax, a rate the order does not state, or nets that add up
 * to more than the charge (rates stacked on the whole amount, such as GST plus PST). The parts add
 * up exactly to the charge's net and tax; the rounding remainder is on the last part.
 */
function splitByRate(taxes: readonly WooItemTax[], net: number, tax: number, basis: Basis, path: string): RatePart[] | undefined {
  // Entries of one rate (two rate ids at 19 %) are one part.
  const byRate = new Map<number, bigint>();
  for (const [i, entry] of taxes.entries()) {
    if (isZero(entry.total)) continue;
    const rate = basis.rates.rateOfId(entry.id);
    if (rate === undefined || rate === 0) return undefined;
    const fine = fineUnitsOf(entry.total, basis.currency, `${path}.taxes.${i}.total`);
    byRate.set(rate, (byRate.get(rate) ?? 0n) + fine);
  }
  if (byRate.size < 2) return undefined;
  const scale = 10n ** BigInt(FINE_DIGITS);
  const parts: RatePart[] = [...byRate].map(([rate, fine]) => ({
    // Half-up on the exact tax; the net is the tax over the rate, from the unrounded tax.
    tax: Number(divideRoundedBig(fine, scale, "half-up")),
    net: Number(divideRoundedBig(fine * 10_000n, BigInt(rate) * scale, "half-up")),
    taxRateBp: rate,
    label: `${rate / 100} %`,
  }));
  const sum = (key: "net" | "tax") => parts.reduce((total, p) => total + p[key], 0);
  // Each entry and the total round once: more apart than that, the entries do not describe the tax.
  if (Math.abs(tax - sum("tax")) > parts.length) return undefined;
  const last = parts[parts.length - 1] as RatePart;
  last.tax += tax - sum("tax");
  const left = net - sum("net");
  // An entry's tax may be rounded to the minor unit: up to half a unit of tax, over the rate, of net.
  const slack = parts.reduce((total, p) => total + Math.ceil(5_000 / (p.taxRateBp as number)) + 1, 0);
  if (Math.abs(left) <= slack) {
    last.net += left;
    return parts;
  }
  // The entries' nets exceed the charge: the rates are stacked, not a split of it.
  if (Math.sign(left) !== Math.sign(net)) return undefined;
  return [...parts, { net: left, tax: 0, taxRateBp: undefined, label: "no VAT" }];
}

export interface TaxRates {
  /** The rate of an item from its `taxes` (rate ids), or undefined when it has no single known rate. */
  rateOf(taxes: readonly WooItemTax[] | null | undefined, tax: number): number | undefined;
  /** The rate of one rate id, or undefined when the order does not state it. */
  rateOfId(id: string): number | undefined;
}

/**
 * Rates by rate id from the order's tax_lines. An item names the rates it was taxed at in `taxes`
 * (one entry per rate id, matched to `tax_lines[].rate_id`). An item taxed at several rates (stacked
 * or compound taxes) has no single rate, so none is given; nor is one when the tax line predates
 * `rate_percent`.
 */
export function taxRates(taxLines: readonly WooTaxLine[]): TaxRates {
  const byRateId = new Map<string, number | undefined>();
  for (const line of taxLines) {
    if (line.rate_id != null) byRateId.set(line.rate_id, basisPoints(line.rate_percent));
  }
  // Minimal payloads name no rate ids; an order taxed at one single rate still tells it.
  const onlyRate = taxLines.length === 1 ? basisPoints(taxLines[0]?.rate_percent) : undefined;
  return {
    rateOfId: (id) => byRateId.get(id),
    rateOf(taxes, tax) {
      if (taxes == null) return tax !== 0 ? onlyRate : undefined;
      // Entries with tax decide; a zero-tax item (free shipping) still names the rate it would carry.
      const charged = taxes.filter((t) => !isZero(t.total));
      const ids = new Set((charged.length > 0 ? charged : taxes).map((t) => t.id));
      const rates = new Set([...ids].map((id) => byRateId.get(id)));
      if (rates.size !== 1) return undefined;
      return rates.values().next().value;
    },
  };
}

function basisPoints(percent: number | string | null | undefined): number | undefined {
  if (percent == null) return undefined;
  const value = typeof percent === "number" ? percent : Number(percent);
  if (!Number.isFinite(value) || value < 0 || value > 100) return undefined;
  return rateToBasisPoints(value, "percent");
}

function isZero(total: string | number | null | undefined): boolean {
  if (total == null || total === "") return true;
  const value = typeof total === "number" ? total : Number(total);
  return !Number.isFinite(value) || value === 0;
}

function positiveId(id: number | null | undefined): string | undefined {
  return id != null && id > 0 ? String(id) : undefined;
}
