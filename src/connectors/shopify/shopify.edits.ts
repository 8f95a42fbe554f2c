/**
 * What a Shopify order edited after it was placed holds now (an order edit removed items or
 * reduced quantities), so it is invoiced for what the customer now buys.
 *
 * Shopify keeps each line item's `quantity` as ordered, with its tax lines and discount
 * allocations for that quantity, and the plain totals of the order as placed. `current_quantity`
 * (REST API 2024-01 on) and the `current_*` totals take off every unit that left the order: those
 * an edit removed and those refunded. An edit's removal is itself recorded as a refund that
 * returned no money, which Orderly does not credit; a refund that returned money is credited on a
 * credit note. So each unit is invoiced and credited, or neither:
 *
 * - invoiced quantity = `current_quantity` + the units of the order's refunds that returned money;
 * - a unit's discount and VAT come off with it, as Shopify's refund records them for the removed
 *   units (each line then adds up to what Shopify charges for it), else in proportion;
 * - the totals are Shopify's `current_*` when no refund returned money (they are then exactly the
 *   order now), else the totals as placed less what left without money.
 *
 * Only a refund that looks like an edit's removal counts as one: no money back, every line
 * cancelled (restock type `cancel`, which Shopify writes for unfulfilled units taken off an order,
 * as an edit that restocks does), and no refund transaction tried. Units that left by any other
 * refund without money (a restock after a return, units taken off without restocking, an exchange,
 * a refund that failed) may well have been paid for, so the order is then mapped as placed.
 *
 * The order is mapped as placed, as before, whenever that cannot be told safely: no
 * `current_quantity` (older API versions), no refunds listed, figures that do not add up, a refund
 * owed, and money that went back without lines of about the removed units' value. A paid order
 * edited down gets its difference back as such a refund (Shopify says "refund owed" until it is
 * made), which Orderly credits as an amount: leaving the removed units off the invoice as well
 * would count them twice. Less than that (a goodwill amount) is not their money: the edit stands.
 */
import { accountingSettingsSchema } from "../../domain/accounting/accounting-settings";
import { divideRoundedBig, toMinor } from "../../domain/money";
import type { CanonicalOrder, Line } from "../../domain/order";
import { PresentmentMissing, type ShopifyMoney } from "./shopify.money";
import { minorOf, type ShopifyOrder, type ShopifyRefund, sumMinor } from "./shopify.payload";
import { moneyBack, pendingRefunds } from "./shopify.refund";

type Totals = CanonicalOrder["totals"];
type RefundLine = NonNullable<ShopifyRefund["refund_line_items"]>[number];

/**
 * How near money refunded without lines must come to the removed units' value to be taken as their
 * money: the accounting step's default cents threshold (a tenant's own setting is not known here).
 */
const CENTS_THRESHOLD = accountingSettingsSchema.shape.centsThreshold.parse(undefined);

export interface OrderEdits {
  /** The lines now: reduced lines with their remaining discount and VAT; lines with nothing left are left out. */
  lines: Line[];
  /** A line item's discount allocations now (for the discounts list): its remaining discount, spread as they were. */
  allocations(lineId: string, amounts: number[]): number[];
  /** The order's totals now, from its totals as placed. */
  totals(placed: Totals): Totals;
}

/** The units that left a line without money back, and the refund lines that record their removal. */
interface Removal {
  units: number;
  refundLines: Array<{ line: RefundLine; path: string }>;
}

/** The order as it is now; undefined when it is to be mapped as placed (nothing left it, or unsafe to tell). */
export function orderEdits(order: ShopifyOrder, money: ShopifyMoney, placed: Line[]): OrderEdits | undefined {
  const removals = removalsOf(order);
  if (removals === undefined) return undefined;
  const changed = new Map<string, { before: Line; now: Line }>();
  order.line_items.forEach((item, i) => {
    const removal = removals.get(item.id);
    const before = placed[i];
    if (removal && before) changed.set(before.id, { before, now: shrink(before, removal, money) });
  });
  const gross = (line: Line) => line.unitPrice * line.quantity - line.discount + (order.taxes_included ? 0 : line.tax);
  const less = (of: (line: Line) => number) =>
    [...changed.values()].reduce((sum, { before, now }) => sum + of(before) - of(now), 0);
  // Money back without lines of (about) the removed units' value is taken as their money, credited
  // as an amount: the units stay on the invoice. Less than that (a goodwill amount) leaves the edit.
  const back = refundedWithoutLines(order, money);
  if (back === undefined || (back > 0 && back >= less(gross) - toMinor(CENTS_THRESHOLD, money.currency))) return undefined;
  // Shopify's current totals take off refunds with money too, which a credit note takes off again.
  const current = !(order.refunds ?? []).some(returnsMoney);
  return {
    lines: placed.map((line) => changed.get(line.id)?.now ?? line).filter((line) => line.quantity > 0),
    allocations(lineId, amounts) {
      const line = changed.get(lineId);
      return line ? spread(line.now.discount, amounts) : amounts;
    },
    totals(placedTotals) {
      const computed = {
        ...placedTotals,
        total: placedTotals.total - less(gross),
        tax: placedTotals.tax - less((l) => l.tax),
        discounts: placedTotals.discounts - less((l) => l.discount),
      };
      if (!current) return computed;
      // What Shopify charges now. Should it differ from the lines (a cent a proportional share
      // could not place, a shipping line an edit removed), the invoice must still equal what the
      // customer pays: the difference is the invoice's cents difference, or fails it with both totals.
      const read = (
        value: string | number | null | undefined,
        set: ShopifyOrder["total_price_set"],
        field: string,
        fallback: number,
      ) => (value == null ? fallback : money.read(value, set, field));
      return {
        ...computed,
        total: read(order.current_total_price, order.current_total_price_set, "current_total_price", computed.total),
        tax: read(order.current_total_tax, order.current_total_tax_set, "current_total_tax", computed.tax),
        discounts: read(
          order.current_total_discounts,
          order.current_total_discounts_set,
          "current_total_discounts",
          computed.discounts,
        ),
      };
    },
  };
}

/**
 * Per line item id, the units that left the order without money back; undefined when none did
 * or when that cannot be told safely (see the module comment).
 */
function removalsOf(order: ShopifyOrder): Map<string, Removal> | undefined {
  const items = order.line_items;
  if (items.some((item) => item.current_quantity == null)) return undefined;
  if (items.every((item) => item.current_quantity === item.quantity)) return undefined;
  const refunds = order.refunds;
  if (refunds == null) return undefined;
  if (refundOwed(order)) return undefined;
  // Units that left without money other than by an edit may have been paid for: as placed, as before.
  if (refunds.some((r) => !returnsMoney(r) && (r.refund_line_items ?? []).length > 0 && !editRemoval(r))) return undefined;
  const credited = new Map<string, number>();
  const recorded = new Map<string, Removal["refundLines"]>();
  refunds.forEach((refund, r) => {
    const withMoney = returnsMoney(refund);
    (refund.refund_line_items ?? []).forEach((line, j) => {
      if (withMoney) credited.set(line.line_item_id, (credited.get(line.line_item_id) ?? 0) + line.quantity);
      else
        recorded.set(line.line_item_id, [
          ...(recorded.get(line.line_item_id) ?? []),
          { line, path: `refunds.${r}.refund_line_items.${j}` },
        ]);
    });
  });
  const removals = new Map<string, Removal>();
  for (const item of items) {
    const current = item.current_quantity ?? item.quantity;
    const units = item.quantity - current - (credited.get(item.id) ?? 0);
    // More left than was ordered, or more credited than left: not figures to invoice from.
    if (current < 0 || units < 0) return undefined;
    if (units > 0) removals.set(item.id, { units, refundLines: recorded.get(item.id) ?? [] });
  }
  return removals.size > 0 ? removals : undefined;
}

/** A refund Orderly credits: money went back, or is on its way (pending refunds are credited by hand). */
function returnsMoney(refund: ShopifyRefund): boolean {
  return moneyBack(refund).length > 0 || pendingRefunds(refund).length > 0;
}

/**
 * A refund that returned no money the way an order edit records a removal: each line cancelled
 * (`cancel`: unfulfilled units taken off and restocked) and no refund transaction tried. `no_restock`
 * (a refund of 0.00, or an edit that did not restock), `return` (a restock after a return or an
 * exchange), `legacy_restock` and a failed refund transaction are no edit Orderly can tell.
 */
function editRemoval(refund: ShopifyRefund): boolean {
  return (
    (refund.refund_line_items ?? []).every((line) => line.restock_type === "cancel") &&
    !(refund.transactions ?? []).some((t) => t.kind === "refund")
  );
}

/**
 * Money the order's refunds returned beyond lines and shipping, in the order's money: the whole of
 * a refund without lines, and a refund discrepancy that returned more than the lines (a negative
 * adjustment). Orderly credits it as an amount, and it may be the money for units an edit removed.
 * Undefined when a refund's money is in another currency than the order is mapped in.
 */
function refundedWithoutLines(order: ShopifyOrder, money: ShopifyMoney): number | undefined {
  let total = 0;
  for (const [r, refund] of (order.refunds ?? []).entries()) {
    if (!returnsMoney(refund)) continue;
    const adjustments = refund.order_adjustments ?? [];
    const shipping = (refund.refund_shipping_lines ?? []).length > 0 || adjustments.some((a) => a.kind === "shipping_refund");
    if ((refund.refund_line_items ?? []).length === 0 && !shipping) {
      // Refund transactions are in the currency the customer paid in.
      const sent = [...moneyBack(refund), ...pendingRefunds(refund)];
      if (sent.some((t) => t.currency != null && t.currency.toUpperCase() !== money.currency)) return undefined;
      total += sumMinor(
        sent.map((t) => t.amount),
        money.currency,
        `refunds.${r}.transactions.amount`,
      );
      continue;
    }
    const beyond = adjustments.filter((a) => a.kind !== "shipping_refund" && Number(a.amount) < 0);
    total -= money.sum(
      beyond.map((a) => [a.amount, a.amount_set] as const),
      `refunds.${r}.order_adjustments.amount`,
    );
  }
  return total;
}

/** A paid order edited down owes the customer money until the refund is made. */
function refundOwed(order: ShopifyOrder): boolean {
  return order.total_outstanding != null && minorOf(order.total_outstanding, order.currency, "total_outstanding") < 0;
}

/** The line without its removed units, their discount and VAT taken off with them. */
function shrink(line: Line, removal: Removal, money: ShopifyMoney): Line {
  const quantity = line.quantity - removal.units;
  if (quantity === 0) return { ...line, quantity, discount: 0, tax: 0 };
  const taken = recordedAmounts(line, removal, money) ?? {
    discount: share(line.discount, removal.units, line.quantity),
    tax: share(line.tax, removal.units, line.quantity),
  };
  return { ...line, quantity, discount: line.discount - taken.discount, tax: line.tax - taken.tax };
}

/**
 * The discount and VAT of the removed units as Shopify's refund records them: its subtotal is
 * their price after discount, on the order's tax basis, and its total_tax their VAT. Shopify's
 * current totals are computed from the same figures, so the lines add up to them exactly.
 * Undefined (share in proportion instead) when the refunds do not record exactly these units,
 * lack an amount in the order's money, or give amounts the line cannot have held.
 */
function recordedAmounts(line: Line, removal: Removal, money: ShopifyMoney): { discount: number; tax: number } | undefined {
  const units = removal.refundLines.reduce((sum, { line: r }) => sum + r.quantity, 0);
  if (units !== removal.units) return undefined;
  let subtotal = 0;
  let tax = 0;
  try {
    for (const { line: r, path } of removal.refundLines) {
      // The *_set strings are exact; the plain subtotal and total_tax are JSON numbers in this payload.
      subtotal += money.read(r.subtotal_set?.shop_money.amount ?? r.subtotal, r.subtotal_set, `${path}.subtotal`);
      tax += money.read(r.total_tax_set?.shop_money.amount ?? r.total_tax, r.total_tax_set, `${path}.total_tax`);
    }
  } catch (error) {
    if (error instanceof PresentmentMissing) return undefined;
    throw error;
  }
  const discount = line.unitPrice * removal.units - subtotal;
  if (discount < 0 || discount > line.discount || tax < 0 || tax > line.tax) return undefined;
  return { discount, tax };
}

/** `part` of `whole` units' share of an amount, rounded half-up. */
function share(amount: number, part: number, whole: number): number {
  return Number(divideRoundedBig(BigInt(amount) * BigInt(part), BigInt(whole), "half-up"));
}

/** `amount` split in proportion to `weights`, exactly: the largest weight takes the rounding remainder. */
function spread(amount: number, weights: number[]): number[] {
  const whole = weights.reduce((sum, w) => sum + w, 0);
  if (whole === 0) return weights.map(() => 0);
  const parts = weights.map((w) => share(amount, w, whole));
  const largest = weights.indexOf(Math.max(...weights));
  parts[largest] = (parts[largest] ?? 0) + amount - parts.reduce((sum, p) => sum + p, 0);
  return parts;
}
