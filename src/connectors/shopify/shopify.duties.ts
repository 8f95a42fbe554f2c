/**
 * Duties of a Shopify order: the import duties of the destination that Shopify collected at
 * checkout. Shopify's totals include them (`total_price`, `current_total_price`) but no line does,
 * so without them the invoice falls short of what the customer paid. They become one fee, without
 * VAT: they are the destination's customs, passed on, not a sale the shop charges VAT on.
 *
 * Read from the order's totals (`original_total_duties_set`, `current_total_duties_set`), in the
 * money the order is mapped in. The duties of each line item (`line_items[].duties`) and their own
 * tax lines are not read: the order's totals carry both the duties as placed and now.
 */
import type { Fee } from "../../domain/order";
import type { ShopifyMoney } from "./shopify.money";
import type { MoneySet, ShopifyOrder } from "./shopify.payload";

/** What the fee is called on the invoice. */
export const DUTIES_TITLE = "Duties";

/**
 * The order's duties in minor units: as placed (`original`, in `total_price`) or now (`current`,
 * in `current_total_price`; the duties as placed stand in when Shopify gives no current ones, as
 * for the other current totals). 0 when the order has none, or when its prices include them
 * (`duties_included`): they are then in the lines already.
 */
export function dutiesOf(order: ShopifyOrder, money: ShopifyMoney, which: "original" | "current"): number {
  if (order.duties_included === true) return 0;
  const original = read(order.original_total_duties_set, money, "original_total_duties");
  if (which === "original") return original;
  return order.current_total_duties_set == null ? original : read(order.current_total_duties_set, money, "current_total_duties");
}

/** The duties as a fee, or none for an order without duties (its canonical order stays as it was). */
export function dutyFees(amount: number): Fee[] | undefined {
  // An explicit 0 % rate: a fee without VAT and without a rate could take the standard rate.
  // Marked as duties: not a sale, so no reduced-rate setting is needed and refund spreads skip it.
  return amount === 0 ? undefined : [{ title: DUTIES_TITLE, amount, tax: 0, taxRateBp: 0, duties: true }];
}

function read(set: MoneySet | null | undefined, money: ShopifyMoney, field: string): number {
  if (set == null) return 0;
  // In presentment money the set is the field read; in shop money its shop amount (no plain field).
  return money.read(set.shop_money.amount, set, money.presentment ? field : `${field}_set.shop_money.amount`);
}
