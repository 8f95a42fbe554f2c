/**
 * Whether an order version shows that money was received. The paid stage's flows are made
 * because the order is paid; when the ladder reaches paid from another event (a refund, or a
 * fulfilment of a pay-later order, before orders/paid), the version they are made from may not
 * show the payment yet, and the order's object runs them again once a version does.
 */
import { OrderlyError } from "./errors";
import type { CanonicalOrder, CanonicalRefund, Payment } from "./order";

/** Payment and financial states that mean the customer paid (a refund came after a payment). */
const RECEIVED = new Set<string>(["paid", "partially_paid", "partially_refunded", "refunded"] satisfies Payment["status"][]);

export function showsPayment(order: Pick<CanonicalOrder, "payments" | "financialStatus">): boolean {
  return order.payments.some((p) => isReceived(p.status)) || isReceived(order.financialStatus);
}

/** A payment or status that means money came in; a refunded payment was received first. */
export function isReceived(status: string | undefined): boolean {
  return status !== undefined && RECEIVED.has(status);
}

/**
 * The payments that brought money in and whose amount is known, for registering them against an
 * invoice. A refund later is a credit note's business, not a reason to leave the payment out.
 */
export function receivedPayments(order: Pick<CanonicalOrder, "payments">): Array<Payment & { amount: number }> {
  return order.payments.filter((p): p is Payment & { amount: number } => isReceived(p.status) && p.amount !== undefined);
}

/** The order's own status says it was paid (or paid and refunded), with no amount per payment. */
export function paidAsAWhole(order: Pick<CanonicalOrder, "financialStatus">): boolean {
  return isReceived(order.financialStatus) && order.financialStatus !== "partially_paid";
}

/**
 * Whether a version shows a payment a step could enter: an amount per payment, or the order paid as
 * a whole. A partly paid order (a deposit) shows money received but nothing to enter: the version
 * that shows it paid in full must still run the paid transfers again (the order's object), or the
 * rest of the payment is never entered.
 */
export function showsPaymentToEnter(order: Pick<CanonicalOrder, "payments" | "financialStatus">): boolean {
  return receivedPayments(order).length > 0 || paidAsAWhole(order);
}

/** The order's gateways, each once, in the order the webshop lists them. */
export function gatewaysOf(order: Pick<CanonicalOrder, "payments">): string[] {
  return [...new Set(order.payments.map((p) => p.gateway))];
}

/**
 * An order paid as a whole (no amount per payment) through several gateways. Shopify's order
 * webhook gives amounts only when one gateway took it all, so with a gift card and a card the split
 * is unknown: booking the total on one of them would misstate both accounts, so nothing is guessed.
 */
export function splitUnknown(order: Pick<CanonicalOrder, "source">, gateways: readonly string[], target: string): OrderlyError {
  return new OrderlyError(
    `Order ${order.source.orderNumber} was paid through ${gateways.join(" and ")}, but the webshop does not say how much each took, so the payment was not registered: enter it by hand in ${target}, split as the order's transactions in the webshop show.`,
    { errorClass: "validation", code: "payment_split_unknown", details: { gateways } },
  );
}

/** Money a refund paid back through one gateway (minor units of the refund's currency, positive). */
export interface RefundPayment {
  gateway: string;
  amount: number;
}

/**
 * What a refund paid back through each gateway: the split the refund states when it names two or
 * more gateways (a gateway the order never showed included, as the refund is the later word), else
 * its whole total through the order's one gateway (`refundGateway`). A refund naming one gateway
 * goes that old way too, so a single-gateway refund books exactly as it did before refunds were
 * split (its transaction's gateway name may differ from the order's, or the order may name none);
 * only where that way fails, an order paid through several gateways, does the one it names decide,
 * when it is one of the order's.
 */
export function refundPayments(
  order: Pick<CanonicalOrder, "payments" | "financialStatus" | "source">,
  refund: Pick<CanonicalRefund, "source" | "total" | "payments">,
  target: { name: string; unnamed: string },
): RefundPayment[] {
  const named = [...new Set((refund.payments ?? []).map((p) => p.gateway))];
  if (refund.payments !== undefined && named.length > 1) return refund.payments.map((p) => ({ ...p }));
  // Paid through several gateways, the order cannot say which paid the refund back; a refund
  // naming one of them can (a gift card refunded to a new gift card).
  const gateways = orderGateways(order);
  const [only] = named;
  if (named.length === 1 && only !== undefined && gateways.length > 1 && gateways.includes(only))
    return [{ gateway: only, amount: refund.total }];
  return [{ gateway: refundGateway(order, refund, target), amount: refund.total }];
}

/** The gateways that took the order's money, as registerPayment counts them. */
function orderGateways(order: Pick<CanonicalOrder, "payments" | "financialStatus">): string[] {
  const paid = receivedPayments(order).filter((p) => p.amount > 0);
  return paid.length > 0 ? [...new Set(paid.map((p) => p.gateway))] : paidAsAWhole(order) ? gatewaysOf(order) : [];
}

/**
 * The gateway a refund went back through when the refund states no split: the order's gateway
 * when exactly one took money (as registerPayment counts them); with several the share of
 * each is unknown, and booking it all on one would misstate both accounts. An order paid as a whole
 * with no gateway named is `unnamed`: the name the target's registerPayment books such a payment under.
 */
export function refundGateway(
  order: Pick<CanonicalOrder, "payments" | "financialStatus" | "source">,
  refund: Pick<CanonicalRefund, "source">,
  target: { name: string; unnamed: string },
): string {
  const gateways = orderGateways(order);
  if (gateways.length === 1 && gateways[0] !== undefined) return gateways[0];
  if (gateways.length === 0 && paidAsAWhole(order)) return target.unnamed;
  const why =
    gateways.length === 0
      ? "the order shows no payment, so there is no gateway the money went back through"
      : `the order was paid through ${gateways.join(" and ")}, and the webshop does not say which of them paid the refund back`;
  throw new OrderlyError(
    `Refund ${refund.source.refundId} of order ${order.source.orderNumber} was not registered: ${why}. Enter the refund payment by hand in ${target.name}.`,
    { errorClass: "validation", code: "refund_gateway_unknown", details: { gateways }, madeNothing: true },
  );
}

/**
 * Caps lines of money paid back at what a credit note has open, taking the excess off the largest
 * line first (ties by `key`), so which account is short does not depend on the order the shop
 * listed its refund's gateways in. Returns the lines kept and the parts cut, each with its amount.
 */
export function capLargestFirst<T>(
  lines: readonly T[],
  open: number,
  line: { amount: (t: T) => number; key: (t: T) => string; withAmount: (t: T, amount: number) => T },
): { kept: T[]; cut: T[] } {
  let excess = lines.reduce((sum, t) => sum + line.amount(t), 0) - Math.max(0, open);
  if (excess <= 0) return { kept: [...lines], cut: [] };
  const cutBy = lines.map(() => 0);
  const largestFirst = lines
    .map((t, i) => ({ amount: line.amount(t), key: line.key(t), i }))
    .sort((a, b) => b.amount - a.amount || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const { amount, i } of largestFirst) {
    const cut = Math.min(amount, excess);
    cutBy[i] = cut;
    excess -= cut;
  }
  const part = (t: T, amount: number) => (amount > 0 ? [line.withAmount(t, amount)] : []);
  return {
    kept: lines.flatMap((t, i) => part(t, line.amount(t) - (cutBy[i] ?? 0))),
    cut: lines.flatMap((t, i) => part(t, cutBy[i] ?? 0)),
  };
}
