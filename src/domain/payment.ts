/**
 * Whether an order version shows that money was received. The paid stage's flows are made
 * because the order is paid; when the ladder reaches paid from another event (a refund, or a
 * fulfilment of a pay-later order, before orders/paid), the version they are made from may not
 * show the payment yet, and the order's object runs them again once a version does.
 */
import type { CanonicalOrder, Payment } from "./order";

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
