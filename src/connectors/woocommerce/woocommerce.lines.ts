/**
 * The priced parts of a WooCommerce order in canonical form: product lines, shipping and fees.
 *
 * WooCommerce keeps every item amount excluding tax (`subtotal` before coupons, `total` after) with
 * its tax beside it (`subtotal_tax`, `total_tax`), whatever the shop's tax display. The canonical
 * order keeps prices on the basis the shop entered them (`pricesIncludeTax`), so for a tax-inclusive
 * shop each amount is the net plus its tax, added exactly before rounding.
 */
import { divideRounded, rateToBasisPoints } from "../../domain/money";
import type { Fee, Line, Shipping } from "../../domain/order";
import { minorOf, type WooItemTax, type WooLineItem, type WooOrder, type WooTaxLine } from "./woocommerce.payload";
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

/** Shipping lines carry their price after any discount (a free-shipping coupon makes the method free). */
export function shippingOf(line: NonNullable<WooOrder["shipping_lines"]>[number], basis: Basis, path: string): Shipping {
  const tax = minorOf(line.total_tax, basis.currency, `${path}.total_tax`);
  return compact({
    title: displayText(line.method_title) ?? nonEmpty(line.method_id) ?? "Shipping",
    code: nonEmpty(line.method_id),
    price: minorOf(basis.pricesIncludeTax ? [line.total, line.total_tax] : line.total, basis.currency, `${path}.total`),
    discount: 0,
    tax,
    taxRateBp: basis.rates.rateOf(line.taxes, tax),
  });
}

/** A negative fee is how WooCommerce shops give ad-hoc discounts; it stays a negative fee amount. */
export function feeOf(line: NonNullable<WooOrder["fee_lines"]>[number], basis: Basis, path: string): Fee {
  const tax = minorOf(line.total_tax, basis.currency, `${path}.total_tax`);
  return compact({
    title: displayText(line.name) ?? "Fee",
    amount: minorOf(basis.pricesIncludeTax ? [line.total, line.total_tax] : line.total, basis.currency, `${path}.total`),
    tax,
    taxRateBp: basis.rates.rateOf(line.taxes, tax),
  });
}

export interface TaxRates {
  /** The rate of an item from its `taxes` (rate ids), or undefined when it has no single known rate. */
  rateOf(taxes: readonly WooItemTax[] | null | undefined, tax: number): number | undefined;
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
