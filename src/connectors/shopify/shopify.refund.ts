/**
 * Maps a Shopify refunds/create payload to the canonical refund. Shopify reports shipping refunds
 * and discrepancies as negative order adjustments; the canonical refund counts money returned as
 * positive, so they are negated.
 */
import { OrderlyError } from "../../domain/errors";
import { type CanonicalRefund, refundSchema } from "../../domain/order";
import { currencyCode, minorOf, type ShopifyRefund, sumMinor } from "./shopify.payload";
import { compact, nonEmpty } from "./shopify.util";

export function toCanonicalRefund(refund: ShopifyRefund, createdAt: string): CanonicalRefund {
  const currency = refundCurrency(refund);
  const adjustments = refund.order_adjustments ?? [];
  // `|| 0` keeps a negated zero from showing as -0.
  const negatedSum = (kinds: (kind: string) => boolean, field: string) =>
    -sumMinor(
      adjustments.filter((a) => kinds(a.kind ?? "")).map((a) => a.amount),
      currency,
      field,
    ) || 0;
  const transactions = (refund.transactions ?? []).filter((t) => t.kind === "refund" && t.status === "success");

  const canonical: CanonicalRefund = {
    source: { connector: "shopify", orderId: refund.order_id, refundId: refund.id, createdAt },
    currency,
    lines: (refund.refund_line_items ?? []).map((item, i) =>
      compact({
        lineId: item.line_item_id,
        sku: nonEmpty(item.line_item?.sku),
        quantity: item.quantity,
        // The *_set strings are exact; the plain subtotal and total_tax are JSON numbers in this payload.
        subtotal: minorOf(item.subtotal_set?.shop_money.amount ?? item.subtotal, currency, `refund_line_items.${i}.subtotal`),
        tax: minorOf(item.total_tax_set?.shop_money.amount ?? item.total_tax, currency, `refund_line_items.${i}.total_tax`),
        restock: item.restock_type !== "no_restock",
      }),
    ),
    shipping: negatedSum((kind) => kind === "shipping_refund", "order_adjustments.amount"),
    adjustments: negatedSum((kind) => kind !== "shipping_refund", "order_adjustments.amount"),
    total: sumMinor(
      transactions.map((t) => t.amount),
      currency,
      "transactions.amount",
    ),
    note: nonEmpty(refund.note),
  };
  return refundSchema.parse(compact(canonical));
}

/**
 * The refund payload has no top-level currency in the REST shape: the transactions carry it. The
 * shop-money sets stand in for a refund without transactions (a restock-only refund).
 */
function refundCurrency(refund: ShopifyRefund): string {
  const fromSets = [
    ...(refund.refund_line_items ?? []).map((i) => i.subtotal_set?.shop_money.currency_code),
    ...(refund.order_adjustments ?? []).map((a) => a.amount_set?.shop_money.currency_code),
  ];
  const currency = [refund.transactions?.[0]?.currency, refund.currency, ...fromSets]
    .map((c) => nonEmpty(c))
    .find((c) => c !== undefined);
  if (currency === undefined) {
    throw new OrderlyError(
      "The Shopify refund names no currency: it has no transactions[0].currency, no currency field and no shop-money amounts.",
      { errorClass: "validation", code: "shopify_refund_currency_missing" },
    );
  }
  if (!currencyCode.safeParse(currency).success) {
    throw new OrderlyError(`The Shopify refund's currency "${currency}" is not a three-letter ISO 4217 code.`, {
      errorClass: "validation",
      code: "shopify_payload_invalid",
    });
  }
  return currency.toUpperCase();
}
