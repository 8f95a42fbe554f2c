/**
 * Which of a Shopify payload's two monies the canonical objects are built from.
 *
 * Every amount of an order or refund webhook has a plain field in the shop's currency (`currency`)
 * and, beside most of them, a `*_set` holding the same amount as `shop_money` and as
 * `presentment_money`: the amount in the currency the customer saw and paid in
 * (`presentment_currency`). The customer's invoice is in the presentment currency, so that is the
 * canonical currency; the rate to the shop's currency is derived from a pair of matching amounts and
 * recorded on the order, so a step can invoice in the shop's currency instead.
 *
 * - Shop money: the order is in the shop's currency (presentment = shop), or the payload lacks a
 *   presentment amount the mapping needs. Amounts are read exactly as before (the plain fields),
 *   and no rate is recorded: there is nothing to convert.
 * - Presentment money: every amount comes from its `*_set.presentment_money`. One amount missing
 *   makes the whole order fall back to shop money (`PresentmentMissing`), so an order is never
 *   mixed from two currencies.
 */
import { convertMinor } from "../../domain/accounting/exchange";
import { OrderlyError } from "../../domain/errors";
import { divideRoundedBig, minorUnitExponent } from "../../domain/money";
import { type MoneySet, minorOf } from "./shopify.payload";

type Decimal = string | number;

/** A presentment amount the mapping needs is not in the payload: map the order in shop money instead. */
export class PresentmentMissing extends Error {
  constructor(readonly field: string) {
    super(`${field} has no presentment_money`);
  }
}

export interface ShopifyMoney {
  /** The canonical currency: what every amount read is in. */
  readonly currency: string;
  /** The shop's currency (the plain fields' currency). */
  readonly shopCurrency: string;
  /** True when amounts are presentment money of an order whose shop keeps books in another currency. */
  readonly presentment: boolean;
  /**
   * One amount in minor units of `currency`: in shop money the given shop value (read as before),
   * in presentment money the set's `presentment_money` (the shop value is then ignored).
   */
  read(shop: Decimal, set: MoneySet | null | undefined, field: string): number;
  /** Several amounts added up (exact: integers). */
  sum(items: ReadonlyArray<readonly [Decimal, MoneySet | null | undefined]>, field: string): number;
  /**
   * An amount Shopify gives in shop money only (a discount code's amount), in `currency`: converted
   * at the order's own ratio of presentment to shop total when the order is in presentment money.
   */
  fromShopOnly(shop: Decimal, field: string): number;
}

/** Amounts read as the shop's plain fields give them. */
export function shopMoney(currency: string): ShopifyMoney {
  return {
    currency,
    shopCurrency: currency,
    presentment: false,
    read: (shop, _set, field) => minorOf(shop, currency, field),
    sum: (items, field) => items.reduce<number>((total, [shop]) => total + minorOf(shop, currency, field), 0),
    fromShopOnly: (shop, field) => minorOf(shop, currency, field),
  };
}

/**
 * Amounts read from the sets' presentment money. `totals` is the order's total_price_set (both
 * monies), used to convert the few amounts that exist in shop money only.
 */
export function presentmentMoney(
  shopCurrency: string,
  currency: string,
  totals?: { shop: number; presentment: number },
): ShopifyMoney {
  const read = (_shop: Decimal, set: MoneySet | null | undefined, field: string): number => {
    const setField = `${field}_set`;
    const money = set?.presentment_money;
    if (!money) throw new PresentmentMissing(setField);
    const code = money.currency_code?.trim().toUpperCase();
    if (code && code !== currency)
      throw new OrderlyError(
        `Shopify payload field ${setField}.presentment_money is in ${code}, but the order's presentment currency is ${currency}.`,
        { errorClass: "validation", code: "shopify_payload_invalid" },
      );
    return minorOf(money.amount, currency, `${setField}.presentment_money.amount`);
  };
  return {
    currency,
    shopCurrency,
    presentment: true,
    read,
    sum: (items, field) => items.reduce<number>((total, [shop, set], i) => total + read(shop, set, `${field}.${i}`), 0),
    fromShopOnly(shop, field) {
      if (!totals || totals.shop === 0) throw new PresentmentMissing(field);
      const amount = BigInt(minorOf(shop, shopCurrency, field));
      return Number(divideRoundedBig(amount * BigInt(totals.presentment), BigInt(totals.shop), "half-up"));
    },
  };
}

/** Both monies of a set in minor units, when it has both. */
export function bothMonies(
  set: MoneySet | null | undefined,
  shopCurrency: string,
  currency: string,
  field: string,
): { shop: number; presentment: number } | undefined {
  if (!set?.presentment_money) return undefined;
  return {
    shop: minorOf(set.shop_money.amount, shopCurrency, `${field}.shop_money.amount`),
    presentment: minorOf(set.presentment_money.amount, currency, `${field}.presentment_money.amount`),
  };
}

/** Fewest and most decimals of a derived rate. */
const MIN_DECIMALS = 4;
const MAX_DECIMALS = 12;

/**
 * The rate from the presentment currency to the shop's, as a decimal string (shop units per one
 * presentment unit), from one pair of matching amounts. Shopify's order webhook carries no rate of
 * its own, only each amount in both monies, so the rate is what the pair implies: the shortest
 * decimal (4 to 12 places) that converts the presentment amount back into exactly the shop amount.
 * Undefined when either amount is zero (a free order has no rate to show).
 */
export function rateBetween(
  pair: { shop: number; presentment: number },
  shopCurrency: string,
  currency: string,
): string | undefined {
  const shop = BigInt(Math.abs(pair.shop));
  const presentment = BigInt(Math.abs(pair.presentment));
  if (shop === 0n || presentment === 0n) return undefined;
  // rate = (shop / 10^es) / (presentment / 10^ep), in major units of each currency.
  const numerator = shop * 10n ** BigInt(minorUnitExponent(currency));
  const denominator = presentment * 10n ** BigInt(minorUnitExponent(shopCurrency));
  let rate = "";
  for (let decimals = MIN_DECIMALS; decimals <= MAX_DECIMALS; decimals++) {
    const scaled = divideRoundedBig(numerator * 10n ** BigInt(decimals), denominator, "half-up");
    const digits = scaled.toString().padStart(decimals + 1, "0");
    rate = `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
    if (convertMinor(Number(presentment), currency, shopCurrency, rate, "half-up") === Number(shop)) return rate;
  }
  return rate;
}
