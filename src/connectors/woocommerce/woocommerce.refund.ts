/**
 * Refunds as WooCommerce reports them on an order: `refunds[]` holds one summary per refund (its id,
 * reason and negative total) and no lines, so the canonical refund carries the money returned only.
 */
import { type CanonicalRefund, refundSchema } from "../../domain/order";
import { minorOf, type WooRefundSummary } from "./woocommerce.payload";
import { compact, nonEmpty } from "./woocommerce.util";

export interface RefundContext {
  orderId: string;
  currency: string;
  /**
   * The summary has no date of its own; the order's last modification is the nearest known time
   * at or after the refund (the first delivery that shows a refund is the one that is kept).
   */
  createdAt: string;
}

export function toCanonicalRefund(refund: WooRefundSummary, context: RefundContext, path: string): CanonicalRefund {
  const canonical: CanonicalRefund = {
    source: { connector: "woocommerce", orderId: context.orderId, refundId: refund.id, createdAt: context.createdAt },
    currency: context.currency,
    lines: [],
    shipping: 0,
    adjustments: 0,
    // WooCommerce writes the total negative ("-10.00"); money returned is positive. `|| 0` keeps -0 out.
    total: Math.abs(minorOf(refund.total, context.currency, `${path}.total`)) || 0,
    note: nonEmpty(refund.reason) ?? nonEmpty(refund.refund),
  };
  return refundSchema.parse(compact(canonical));
}
