/**
 * Maps a Shopify refunds/create payload to the canonical refund. Refunded shipping is read from
 * `refund_shipping_lines` (API 2024-10 on: subtotal and its VAT, positive); payloads without them
 * report it, like discrepancies, as negative order adjustments, which are negated, as the canonical
 * refund counts money returned as positive. The shipping's VAT is kept beside it: in a tax-exclusive
 * shop the amount is net and the credit note adds that VAT.
 *
 * A refund of an order paid in another currency than the shop's is mapped in that currency, like
 * its order: the lines' and adjustments' `*_set.presentment_money`, and the refund transactions,
 * which Shopify keeps in the currency the customer paid in. A refund whose sets lack presentment
 * money is mapped in shop money as before (see shopify.money.ts).
 *
 * Duties given back (`duties[].amount_set`) are read in the same money and carried as the refund's
 * `duties`, which the credit note credits without VAT, as the order's duties were invoiced.
 */
import { OrderlyError } from "../../domain/errors";
import { type CanonicalRefund, refundSchema } from "../../domain/order";
import { currencyCode } from "../payload";
import { PresentmentMissing, presentmentMoney, type ShopifyMoney, shopMoney } from "./shopify.money";
import { type MoneySet, type ShopifyRefund, sumMinor } from "./shopify.payload";
import { compact, nonEmpty } from "./shopify.util";

export function toCanonicalRefund(refund: ShopifyRefund, createdAt: string): CanonicalRefund {
  const sets = setsOf(refund);
  const shop = firstCode(sets.map((s) => s?.shop_money.currency_code));
  const presentment = firstCode(sets.map((s) => s?.presentment_money?.currency_code));
  if (shop !== undefined && presentment !== undefined && shop !== presentment) {
    try {
      return mapRefund(refund, createdAt, presentmentMoney(valid(shop), valid(presentment)));
    } catch (error) {
      if (!(error instanceof PresentmentMissing)) throw error;
    }
  }
  return mapRefund(refund, createdAt, shopMoney(refundCurrency(refund)));
}

function mapRefund(refund: ShopifyRefund, createdAt: string, money: ShopifyMoney): CanonicalRefund {
  const currency = money.currency;
  const adjustments = refund.order_adjustments ?? [];
  // `|| 0` keeps a negated zero from showing as -0.
  const negatedSum = (kinds: (kind: string) => boolean, field: string) =>
    -money.sum(
      adjustments.filter((a) => kinds(a.kind ?? "")).map((a) => [a.amount, a.amount_set] as const),
      field,
    ) || 0;
  const shippingLines = refund.refund_shipping_lines ?? [];
  // A set's amount: in presentment money the set is the field read, in shop money its shop amount.
  const fromSet = (set: MoneySet, field: string) =>
    money.read(set.shop_money.amount, set, money.presentment ? field : `${field}_set.shop_money.amount`);
  // A zero VAT is zero in any currency: only a stated one needs its presentment amount.
  const stated = (set: MoneySet | null | undefined): set is MoneySet => set != null && Number(set.shop_money.amount) !== 0;
  // A payload that still carries the shipping_refund adjustment beside the shipping lines (the two
  // shapes overlap around 2024-10) states the same shipping twice: the lines win.
  const shipping =
    shippingLines.length > 0
      ? shippingLines.reduce((sum, l, i) => sum + fromSet(l.subtotal_amount_set, `refund_shipping_lines.${i}.subtotal_amount`), 0)
      : negatedSum((kind) => kind === "shipping_refund", "order_adjustments.amount");
  const shippingTax =
    shippingLines.length > 0
      ? shippingLines.reduce(
          (sum, l, i) =>
            stated(l.tax_amount_set) ? sum + fromSet(l.tax_amount_set, `refund_shipping_lines.${i}.tax_amount`) : sum,
          0,
        )
      : -money.sum(
          adjustments
            .filter((a) => a.kind === "shipping_refund" && a.tax_amount != null && Number(a.tax_amount) !== 0)
            .map((a) => [a.tax_amount ?? 0, a.tax_amount_set] as const),
          "order_adjustments.tax_amount",
        ) || 0;
  const duties = (refund.duties ?? []).reduce((sum, d, i) => sum + fromSet(d.amount_set, `duties.${i}.amount`), 0);
  const transactions = moneyBack(refund);
  if (money.presentment)
    for (const t of transactions) {
      const code = nonEmpty(t.currency)?.toUpperCase();
      if (code !== undefined && code !== currency)
        throw new OrderlyError(
          `The Shopify refund's transaction is in ${code}, but its lines and adjustments are in the presentment currency ${currency}.`,
          { errorClass: "validation", code: "shopify_refund_currency_mixed" },
        );
    }

  const canonical: CanonicalRefund = {
    source: { connector: "shopify", orderId: refund.order_id, refundId: refund.id, createdAt },
    currency,
    lines: (refund.refund_line_items ?? []).map((item, i) =>
      compact({
        lineId: item.line_item_id,
        sku: nonEmpty(item.line_item?.sku),
        quantity: item.quantity,
        // The *_set strings are exact; the plain subtotal and total_tax are JSON numbers in this payload.
        subtotal: money.read(
          item.subtotal_set?.shop_money.amount ?? item.subtotal,
          item.subtotal_set,
          `refund_line_items.${i}.subtotal`,
        ),
        tax: money.read(
          item.total_tax_set?.shop_money.amount ?? item.total_tax,
          item.total_tax_set,
          `refund_line_items.${i}.total_tax`,
        ),
        restock: item.restock_type !== "no_restock",
      }),
    ),
    shipping,
    shippingTax: shippingTax === 0 ? undefined : shippingTax,
    adjustments: negatedSum((kind) => kind !== "shipping_refund", "order_adjustments.amount"),
    duties: duties === 0 ? undefined : duties,
    // Refund transactions are in the currency the customer paid in (checked above for presentment money).
    total: sumMinor(
      transactions.map((t) => t.amount),
      currency,
      "transactions.amount",
    ),
    payments: perGateway(transactions, currency),
    note: nonEmpty(refund.note),
  };
  return refundSchema.parse(compact(canonical));
}

/**
 * The money paid back per gateway, from the same transactions as the total, so the two add up. Only
 * when every transaction names its gateway: a share without one could be either gateway's, and the
 * order's one gateway (domain/payment.ts) is then the better guess. A gateway that paid back nothing
 * is left out.
 */
function perGateway(transactions: ReturnType<typeof moneyBack>, currency: string): CanonicalRefund["payments"] {
  const byGateway = new Map<string, Array<(typeof transactions)[number]["amount"]>>();
  for (const t of transactions) {
    const gateway = nonEmpty(t.gateway);
    if (gateway === undefined) return undefined;
    byGateway.set(gateway, [...(byGateway.get(gateway) ?? []), t.amount]);
  }
  const payments = [...byGateway].map(([gateway, amounts]) => ({
    gateway,
    amount: sumMinor(amounts, currency, "transactions.amount"),
  }));
  // A negative amount (never seen on a refund) would make the others more than the total: no split then.
  if (payments.some((p) => p.amount < 0)) return undefined;
  const paid = payments.filter((p) => p.amount > 0);
  return paid.length > 0 ? paid : undefined;
}

/**
 * The transactions that returned money: successful refunds. A void (an authorization released on an
 * unpaid order), a failed or a still pending refund returned nothing.
 */
export function moneyBack(refund: ShopifyRefund): NonNullable<ShopifyRefund["transactions"]> {
  return (refund.transactions ?? []).filter((t) => t.kind === "refund" && t.status === "success");
}

/**
 * Refund transactions the payment provider has not settled yet (some gateways settle a refund days
 * later). Their money is not in the refund's total, and Shopify sends no refunds/create again once
 * they succeed. The order's payload lists its refunds, but Orderly credits none from there: they
 * only tell what an edited order holds (shopify.edits.ts).
 */
export function pendingRefunds(refund: ShopifyRefund): NonNullable<ShopifyRefund["transactions"]> {
  return (refund.transactions ?? []).filter((t) => t.kind === "refund" && t.status === "pending");
}

/** Every money set of the refund: its lines' subtotals and taxes, its shipping lines, its adjustments, its duties. */
function setsOf(refund: ShopifyRefund): Array<MoneySet | null | undefined> {
  return [
    ...(refund.refund_line_items ?? []).flatMap((i) => [i.subtotal_set, i.total_tax_set]),
    ...(refund.refund_shipping_lines ?? []).map((l) => l.subtotal_amount_set),
    ...(refund.order_adjustments ?? []).map((a) => a.amount_set),
    ...(refund.duties ?? []).map((d) => d.amount_set),
  ];
}

function firstCode(codes: ReadonlyArray<string | null | undefined>): string | undefined {
  return codes.map((c) => nonEmpty(c)?.toUpperCase()).find((c) => c !== undefined);
}

function valid(currency: string): string {
  if (!currencyCode.safeParse(currency).success) {
    throw new OrderlyError(`The Shopify refund's currency "${currency}" is not a three-letter ISO 4217 code.`, {
      errorClass: "validation",
      code: "shopify_payload_invalid",
    });
  }
  return currency;
}

/**
 * The refund payload has no top-level currency in the REST shape: the transactions carry it. The
 * shop-money sets stand in for a refund without transactions (a restock-only refund).
 */
function refundCurrency(refund: ShopifyRefund): string {
  const fromSets = [
    ...(refund.refund_line_items ?? []).map((i) => i.subtotal_set?.shop_money.currency_code),
    ...(refund.refund_shipping_lines ?? []).map((l) => l.subtotal_amount_set.shop_money.currency_code),
    ...(refund.order_adjustments ?? []).map((a) => a.amount_set?.shop_money.currency_code),
    ...(refund.duties ?? []).map((d) => d.amount_set.shop_money.currency_code),
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
  return valid(currency).toUpperCase();
}
