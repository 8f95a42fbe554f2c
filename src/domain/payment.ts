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
  if (order.payments.some((p) => p.status !== undefined && RECEIVED.has(p.status))) return true;
  return order.financialStatus !== undefined && RECEIVED.has(order.financialStatus);
}
