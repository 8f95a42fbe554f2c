/**
 * What a Shopify order edited after it was placed holds now (an order edit removed items, reduced
 * quantities or removed a shipping line), so it is invoiced for what the customer now buys.
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
 *   order now), else the totals as placed less what left without money; the duties (a fee, see
 *   shopify.duties.ts) are those of the total used, `current_total_duties_set` or as placed.
 *
 * Shipping: Shopify changes a shipping fee by removing its line and adding another. The REST
 * payload and webhooks keep a removed line in `shipping_lines`, marked `is_removed` (API 2024-04
 * on), and `total_shipping_price_set` still counts it; no refund records the removal, and REST has
 * no current shipping field. A removed line is left out and its price, discount and VAT come off
 * the totals, unless the signs disagree: Shopify's current total still charges it, or refunds that
 * returned money credited more shipping than the lines still on the order hold. It then stays, as
 * before.
 *
 * Only a refund that looks like an edit's removal counts as one: no money back, every line
 * cancelled (restock type `cancel`, which Shopify writes for unfulfilled units taken off an order,
 * as an edit that restocks does), no refund transaction tried, and made before any refund that
 * returned money (money can only go back once the order is paid, and an edit of a paid order owes
 * the customer money, see below). Units that left by any other refund without money (a restock
 * after a return, after a refund or with a cancellation, units taken off without restocking, an
 * exchange, a refund that failed) may well have been paid for, so the order is then mapped as placed.
 *
 * The order is mapped as placed, as before, whenever that cannot be told safely: no
 * `current_quantity` (older API versions), no refunds listed, figures that do not add up, a
 * cancelled order (its `cancel` restock is the cancellation's), a refund owed, and money that went
 * back without lines of about the removed units' value. A paid order edited down gets its
 * difference back as such a refund (Shopify says "refund owed" until it is made), which Orderly
 * credits as an amount: leaving the removed units off the invoice as well would count them twice.
 * Less than that (a goodwill amount) is not their money: the edit stands. Mapped as placed too: an
 * order whose current total, while no money went back, is nearer the order as placed than the order
 * without what left. That is a paid order restocked for 0.00 with nothing outstanding: the customer
 * paid in full what Shopify still charges in full. An order edited before capture and captured for
 * what it then held shows the same status and outstanding, but a current total without the units.
 */
import { accountingSettingsSchema } from "../../domain/accounting/accounting-settings";
import { divideRoundedBig, toMinor } from "../../domain/money";
import type { CanonicalOrder, Line, Shipping } from "../../domain/order";
import { dutiesOf } from "./shopify.duties";
import { PresentmentMissing, type ShopifyMoney } from "./shopify.money";
import { minorOf, type ShopifyOrder, type ShopifyRefund, type ShopifyShippingLine, sumMinor } from "./shopify.payload";
import { moneyBack, pendingRefunds } from "./shopify.refund";
import { epochMs, nonEmpty } from "./shopify.util";

type Totals = CanonicalOrder["totals"];
type RefundLine = NonNullable<ShopifyRefund["refund_line_items"]>[number];

/**
 * How near money refunded without lines must come to the removed units' value to be taken as their
 * money: the accounting step's default cents threshold (a tenant's own setting is not known here).
 */
const CENTS_THRESHOLD = accountingSettingsSchema.shape.centsThreshold.parse(undefined);

/** The order as placed, as shopify.order.ts maps it. */
export interface Placed {
  lines: Line[];
  /** One per entry of the payload's `shipping_lines`, in its order. */
  shipping: Shipping[];
  totals: Totals;
  /** The duties as placed (`original_total_duties_set`), in `totals.total`. */
  duties: number;
}

export interface OrderEdits {
  /** The lines now: reduced lines with their remaining discount and VAT; lines with nothing left are left out. */
  lines: Line[];
  /** The shipping now: lines an edit removed are left out. */
  shipping: Shipping[];
  /** The payload's shipping lines still on the order (the discounts list counts their allocations only). */
  shippingLines: ShopifyShippingLine[];
  /** A line item's discount allocations now (for the discounts list): its remaining discount, spread as they were. */
  allocations(lineId: string, amounts: number[]): number[];
  /** The order's totals now. */
  totals: Totals;
  /** The duties in `totals.total`: Shopify's current ones with its current totals, else as placed. */
  duties: number;
}

/** The units that left a line without money back, and the refund lines that record their removal. */
interface Removal {
  units: number;
  refundLines: Array<{ line: RefundLine; path: string }>;
}

/** The order as it is now; undefined when it is to be mapped as placed (nothing left it, or unsafe to tell). */
export function orderEdits(order: ShopifyOrder, money: ShopifyMoney, placed: Placed): OrderEdits | undefined {
  // A cancelled order's `cancel` restock is the cancellation's, whatever was paid: no edit.
  if (nonEmpty(order.cancelled_at) !== undefined) return undefined;
  const removals = removalsOf(order);
  if (removals === undefined || order.refunds == null) return undefined;
  let removedShipping = new Set((order.shipping_lines ?? []).flatMap((line, i) => (line.is_removed === true ? [i] : [])));
  if (removals.size === 0 && removedShipping.size === 0) return undefined;
  if (refundOwed(order)) return undefined;
  const changed = new Map<string, { before: Line; now: Line }>();
  order.line_items.forEach((item, i) => {
    const removal = removals.get(item.id);
    const before = placed.lines[i];
    if (removal && before) changed.set(before.id, { before, now: shrink(before, removal, money) });
  });
  const gross = (line: Line) => line.unitPrice * line.quantity - line.discount + (order.taxes_included ? 0 : line.tax);
  const shippingGross = (line: Shipping) => line.price - line.discount + (order.taxes_included ? 0 : line.tax);
  const less = (of: (line: Line) => number) =>
    [...changed.values()].reduce((sum, { before, now }) => sum + of(before) - of(now), 0);
  const kept = () => placed.shipping.filter((_, i) => !removedShipping.has(i));
  const lessShipping = (of: (line: Shipping) => number) =>
    placed.shipping.reduce((sum, line, i) => (removedShipping.has(i) ? sum + of(line) : sum), 0);
  // A changed fee (the old line removed, another kept or added) with money back: that money may be
  // the fee's difference, which its credit note takes off, so leaving the old line off as well
  // would take the difference off twice. It stays, as before an edit's shipping was read: the
  // invoice then differs from what was paid, which its totals check shows, rather than booking
  // too little unseen.
  const feeChanged = (order.shipping_lines ?? []).some((line) => line.is_removed !== true);
  if (removedShipping.size > 0 && feeChanged && order.refunds.some(returnsMoney)) removedShipping = new Set();
  // Shipping credited with money beyond what the lines still on the order hold can only have been
  // the removed line's: it stays on the invoice for the credit note to take off.
  if (removedShipping.size > 0) {
    const credited = shippingRefunded(order, money);
    if (credited === undefined || credited > kept().reduce((sum, line) => sum + shippingGross(line), 0))
      removedShipping = new Set();
  }
  // Money back without lines of (about) the removed units' and shipping's value is taken as their
  // money, credited as an amount: they stay on the invoice. Less than that (a goodwill amount) leaves the edit.
  const back = refundedWithoutLines(order, money);
  const removedValue = less(gross) + lessShipping(shippingGross);
  if (back === undefined || (back > 0 && back >= removedValue - toMinor(CENTS_THRESHOLD, money.currency))) return undefined;
  // Shopify's current totals take off refunds with money too, which a credit note takes off again.
  const current = !order.refunds.some(returnsMoney);
  if (current && order.current_total_price != null) {
    // Which order Shopify charges now: as placed (a paid order restocked for 0.00 with nothing
    // outstanding), without the removed units, or without the removed shipping too. A tie keeps
    // the reading closer to the order as placed.
    // Less the duties: the current total holds them, the readings below (lines and shipping) do not.
    const charged =
      money.read(order.current_total_price, order.current_total_price_set, "current_total_price") -
      dutiesOf(order, money, "current");
    // From the lines, not total_price: a shipping line an edit added is in these lines (and in the
    // current total) but not in the total as placed.
    const asPlaced =
      placed.lines.reduce((sum, line) => sum + gross(line), 0) +
      placed.shipping.reduce((sum, line) => sum + shippingGross(line), 0);
    const readings: Array<["placed" | "lines" | "shipping", number]> = [["placed", asPlaced]];
    if (changed.size > 0) readings.push(["lines", asPlaced - less(gross)]);
    if (removedShipping.size > 0) readings.push(["shipping", asPlaced - removedValue]);
    const [reading] = readings.reduce((best, next) => (Math.abs(next[1] - charged) < Math.abs(best[1] - charged) ? next : best));
    if (reading === "placed") return undefined;
    if (reading === "lines") removedShipping = new Set();
  }
  if (changed.size === 0 && removedShipping.size === 0) return undefined;
  const shipping = kept();
  const computed: Totals = {
    total: placed.totals.total - less(gross) - lessShipping(shippingGross),
    tax: placed.totals.tax - less((l) => l.tax) - lessShipping((l) => l.tax),
    discounts: placed.totals.discounts - less((l) => l.discount) - lessShipping((l) => l.discount),
    // Shopify's shipping total still counts a removed line: the lines still on the order say what is left.
    shipping: removedShipping.size > 0 ? shipping.reduce((sum, line) => sum + line.price, 0) : placed.totals.shipping,
  };
  return {
    lines: placed.lines.map((line) => changed.get(line.id)?.now ?? line).filter((line) => line.quantity > 0),
    shipping,
    shippingLines: (order.shipping_lines ?? []).filter((_, i) => !removedShipping.has(i)),
    allocations(lineId, amounts) {
      const line = changed.get(lineId);
      return line ? spread(line.now.discount, amounts) : amounts;
    },
    totals: current ? currentTotals(order, money, computed) : computed,
    // With the total they are in: Shopify's current one, else the one as placed.
    duties: current && order.current_total_price != null ? dutiesOf(order, money, "current") : placed.duties,
  };
}

/**
 * What Shopify charges now. Should it differ from the lines (a cent a proportional share could not
 * place), the invoice must still equal what the customer pays: the difference is the invoice's
 * cents difference, or fails it with both totals.
 */
function currentTotals(order: ShopifyOrder, money: ShopifyMoney, computed: Totals): Totals {
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
}

/**
 * Per line item id, the units that left the order without money back (none: an empty map);
 * undefined when that cannot be told safely (see the module comment).
 */
function removalsOf(order: ShopifyOrder): Map<string, Removal> | undefined {
  const items = order.line_items;
  if (items.some((item) => item.current_quantity == null)) return undefined;
  if (items.every((item) => item.current_quantity === item.quantity)) return new Map();
  const refunds = order.refunds ?? [];
  // Units that left without money other than by an edit may have been paid for: as placed, as before.
  if (refunds.some((r) => !returnsMoney(r) && (r.refund_line_items ?? []).length > 0 && !editRemoval(r, refunds)))
    return undefined;
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
  return removals;
}

/** A refund Orderly credits: money went back, or is on its way (pending refunds are credited by hand). */
function returnsMoney(refund: ShopifyRefund): boolean {
  return moneyBack(refund).length > 0 || pendingRefunds(refund).length > 0;
}

/**
 * A refund that returned no money the way an order edit records a removal: each line cancelled
 * (`cancel`: unfulfilled units taken off and restocked), no refund transaction tried, and made
 * before every refund of the order that returned money. `no_restock` (a refund of 0.00, or an edit
 * that did not restock), `return` (a restock after a return or an exchange), `legacy_restock`, a
 * failed refund transaction and a restock after money went back (the order was paid by then) are
 * no edit Orderly can tell; so is a removal whose time, or a refund's with money, is not given.
 */
function editRemoval(refund: ShopifyRefund, refunds: ShopifyRefund[]): boolean {
  if (
    !(refund.refund_line_items ?? []).every((line) => line.restock_type === "cancel") ||
    (refund.transactions ?? []).some((t) => t.kind === "refund")
  )
    return false;
  const at = timeOf(refund);
  return refunds.filter(returnsMoney).every((paid) => {
    const then = timeOf(paid);
    return at !== undefined && then !== undefined && at < then;
  });
}

/** When a refund was made: its creation, else its processing time. */
function timeOf(refund: ShopifyRefund): number | undefined {
  return epochMs(refund.created_at) ?? epochMs(refund.processed_at);
}

/**
 * Shipping the order's refunds that returned money credited, in the order's money and on its tax
 * basis (as shopify.refund.ts reads it: the shipping lines, else `shipping_refund` adjustments).
 * Undefined when an amount is not in the money the order is mapped in.
 */
function shippingRefunded(order: ShopifyOrder, money: ShopifyMoney): number | undefined {
  let total = 0;
  try {
    for (const [r, refund] of (order.refunds ?? []).entries()) {
      if (!returnsMoney(refund)) continue;
      const lines = refund.refund_shipping_lines ?? [];
      for (const [i, line] of lines.entries()) {
        const path = `refunds.${r}.refund_shipping_lines.${i}`;
        total += money.read(line.subtotal_amount_set.shop_money.amount, line.subtotal_amount_set, `${path}.subtotal_amount`);
        const tax = line.tax_amount_set;
        if (!order.taxes_included && tax) total += money.read(tax.shop_money.amount, tax, `${path}.tax_amount`);
      }
      if (lines.length > 0) continue;
      for (const [j, adjustment] of (refund.order_adjustments ?? []).entries()) {
        if (adjustment.kind !== "shipping_refund") continue;
        const path = `refunds.${r}.order_adjustments.${j}`;
        // Adjustments count money returned as negative.
        total -= money.read(adjustment.amount, adjustment.amount_set, `${path}.amount`);
        if (!order.taxes_included && adjustment.tax_amount != null)
          total -= money.read(adjustment.tax_amount, adjustment.tax_amount_set, `${path}.tax_amount`);
      }
    }
  } catch (error) {
    if (error instanceof PresentmentMissing) return undefined;
    throw error;
  }
  return total;
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
