/**
 * Maps a WooCommerce REST v3 order to the canonical order. Amounts are the order's decimal strings
 * turned into integer minor units; prices keep the basis the shop entered them in.
 */
import { type Address, type CanonicalOrder, type Customer, type Discount, orderSchema, type Payment } from "../../domain/order";
import type { Stage } from "../../domain/stage";
import { countryCode } from "../payload";
import { feeOf, lineOf, shippingOf, taxRates } from "./woocommerce.lines";
import { minorOf, type WooAddress, type WooOrder } from "./woocommerce.payload";
import { coreStage, type StatusStages, shopStage, withoutPrefix } from "./woocommerce.statuses";
import { compact, nonEmpty } from "./woocommerce.util";

/**
 * Order meta keys where common EU VAT plugins keep the customer's VAT number, tried in this order.
 * Seen in public plugin code: `_billing_vat_number` (WooCommerce's EU VAT Number extension and many
 * checkout-field plugins), `_vat_number` (older versions of that extension), `vat_number` (simple
 * VAT-field plugins such as WooCommerce VATID Free), `_billing_eu_vat_number` (WPFactory's EU/UK
 * VAT plugin). The REST API lists order meta, underscore keys included, in `meta_data`.
 */
export const VAT_NUMBER_META_KEYS = ["_billing_vat_number", "_vat_number", "vat_number", "_billing_eu_vat_number"] as const;

/**
 * The stage an order payload shows. order.deleted means the order was trashed or deleted, whatever
 * its last status. WooCommerce's own statuses mean what coreStage says; the shop's own
 * (`statusStages`, the connection's map) come next. Any other status added by a plugin ("shipped",
 * "awaiting-pickup") is read as paid once WooCommerce recorded a payment date, else created:
 * refusing it would make WooCommerce disable the webhook after a few failed deliveries.
 */
export function orderStage(order: WooOrder, topic: string, statusStages: StatusStages = {}): Stage {
  if (topic === "order.deleted" || refundedUnpaid(order)) return "cancelled";
  const status = statusOf(order);
  // A shop's status mapped to paid is read as an unmapped one: paid only once WooCommerce recorded
  // the payment (isPaid, which also keeps cash on delivery unpaid until collected). Fulfilled and
  // completed climb through paid on the ladder whatever date_paid says, as Shopify's fulfilment
  // does; the payment itself is entered only once isPaid shows it (paymentsOf).
  const mapped = shopStage(statusStages, status);
  const stage =
    coreStage(status) ?? (mapped !== undefined && mapped !== "paid" ? mapped : isPaid(order, statusStages) ? "paid" : "created");
  // Cash on delivery not yet collected is no payment: paid would run the paid flows (an invoice)
  // before any cash, and so would fulfilled, which climbs through paid. Created keeps the order
  // where it is, as the ladder never goes back; a status mapped to completed collects the cash.
  return (stage === "paid" || stage === "fulfilled") && awaitingCash(order, statusStages) ? "created" : stage;
}

/** The order's status without the `wc-` prefix WooCommerce uses internally. */
export function statusOf(order: Pick<WooOrder, "status">): string {
  return withoutPrefix(order.status);
}

/**
 * An order set to Refunded that was never paid (isPaid): a bank transfer left on hold, a
 * cash-on-delivery parcel refused at the door. WooCommerce records a refund of the whole total when
 * the status is set, but no money came in and none went back: the order is cancelled, its status is
 * no payment and its refunds are no credit notes. Read as paid, it had its payment registered (the
 * refunded status reads as money received) and an invoice booked only to be credited.
 */
export function refundedUnpaid(order: WooOrder): boolean {
  return statusOf(order) === "refunded" && !isPaid(order);
}

/**
 * A cash-on-delivery order whose cash has not been collected: no money has been taken. WooCommerce's
 * COD gateway puts the order in processing at checkout and stamps date_paid then, but the courier
 * collects the cash on delivery, and the shop marks the order completed once it has it. Until then
 * the order is created and its payment pending; completed climbs through paid. Whether it was ever
 * completed is read from date_completed, which WooCommerce stamps on completion and never clears:
 * a status alone cannot tell, as a parcel refused at the door is refunded from processing (no cash
 * taken), while a refund after completion gives money back that was collected.
 */
function awaitingCash(order: WooOrder, statusStages: StatusStages): boolean {
  if (nonEmpty(order.payment_method) !== "cod") return false;
  const status = statusOf(order);
  const completed =
    status === "completed" ||
    // The shop's own status for it ("delivered = completed"): WooCommerce stamps date_completed only
    // on its own completed status, so this one says the cash was collected only while it is set.
    shopStage(statusStages, status) === "completed" ||
    nonEmpty(order.date_completed_gmt) !== undefined ||
    nonEmpty(order.date_completed) !== undefined;
  return !completed;
}

export interface OrderMeta {
  stage: Stage;
  version: number;
  createdAt: string;
  /** The connection's map of the shop's own statuses (`statusStages`), as orderStage read it. */
  statusStages?: StatusStages;
}

export function toCanonicalOrder(order: WooOrder, meta: OrderMeta): CanonicalOrder {
  const statusStages = meta.statusStages ?? {};
  // WooCommerce's core is single-currency: the order's currency is the shop's, so no `exchange` is
  // recorded. Multi-currency plugins keep their own rate in order meta, which is not read (yet).
  const currency = order.currency.toUpperCase();
  const inclusive = order.prices_include_tax;
  const basis = { currency, pricesIncludeTax: inclusive, rates: taxRates(order.tax_lines ?? []) };
  const lines = order.line_items.map((item, i) => lineOf(item, basis, `line_items.${i}`));
  const shipping = (order.shipping_lines ?? []).flatMap((line, i) => shippingOf(line, basis, `shipping_lines.${i}`));
  const fees = (order.fee_lines ?? []).flatMap((line, i) => feeOf(line, basis, `fee_lines.${i}`));
  const discounts: Discount[] = (order.coupon_lines ?? []).map((coupon, i) =>
    compact({
      code: nonEmpty(coupon.code),
      amount: minorOf(
        inclusive ? [coupon.discount, coupon.discount_tax] : coupon.discount,
        currency,
        `coupon_lines.${i}.discount`,
      ),
      kind: "order" as const,
    }),
  );
  const total = minorOf(order.total, currency, "total");
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

  const canonical: CanonicalOrder = {
    source: {
      connector: "woocommerce",
      orderId: order.id,
      orderNumber: orderNumber(order),
      version: meta.version,
      createdAt: meta.createdAt,
    },
    stage: meta.stage,
    currency,
    pricesIncludeTax: inclusive,
    customer: customerOf(order),
    billingAddress: addressOf(order.billing),
    shippingAddress: addressOf(order.shipping),
    lines,
    shipping,
    fees,
    discounts,
    payments: paymentsOf(order, total, statusStages),
    totals: {
      total,
      // The order-level fields are what WooCommerce charged; sums of the parts only stand in when absent.
      tax:
        order.total_tax == null
          ? sum([...lines, ...shipping, ...fees].map((l) => l.tax))
          : minorOf(order.total_tax, currency, "total_tax"),
      discounts:
        order.discount_total == null
          ? sum(discounts.map((d) => d.amount))
          : minorOf(inclusive ? [order.discount_total, order.discount_tax] : order.discount_total, currency, "discount_total"),
      shipping:
        order.shipping_total == null
          ? sum(shipping.map((s) => s.price))
          : minorOf(inclusive ? [order.shipping_total, order.shipping_tax] : order.shipping_total, currency, "shipping_total"),
    },
    financialStatus: financialStatusOf(order, statusStages),
    note: nonEmpty(order.customer_note),
    channel: nonEmpty(order.created_via),
  };
  // Validate our own output so a mapping bug shows here, not in a target three steps later.
  return orderSchema.parse(compact(canonical));
}

/**
 * The order's financial status. A status such as refunded reads as money received downstream (a
 * payment registered for it as a whole): an order refunded without being paid is cancelled, and
 * cash-on-delivery money never collected is pending, whatever the status says. A status of the
 * shop's own is named by a plugin, not by what was paid (one called "paid" would read as paid without
 * any payment recorded), so it reads as WooCommerce's own would: processing once isPaid, else
 * pending. Neither is money received as a whole; the payment shows in `payments`, as for processing.
 */
function financialStatusOf(order: WooOrder, statusStages: StatusStages): string {
  if (refundedUnpaid(order)) return "cancelled";
  if (awaitingCash(order, statusStages)) return "pending";
  if (coreStage(statusOf(order)) !== undefined) return order.status;
  return isPaid(order, statusStages) ? "processing" : "pending";
}

/**
 * WooCommerce sets date_paid when an order first reaches a paid status (processing, completed); a
 * cash-on-delivery order gets it before the cash is collected (see awaitingCash).
 */
export function isPaid(order: WooOrder, statusStages: StatusStages = {}): boolean {
  if (awaitingCash(order, statusStages)) return false;
  return nonEmpty(order.date_paid_gmt) !== undefined || nonEmpty(order.date_paid) !== undefined;
}

/** One gateway per order; when it has been paid, it took the whole total. */
function paymentsOf(order: WooOrder, total: number, statusStages: StatusStages): Payment[] {
  const gateway = nonEmpty(order.payment_method);
  if (gateway === undefined) return [];
  const paid = isPaid(order, statusStages);
  return [
    compact({
      gateway,
      method: nonEmpty(order.payment_method_title),
      transactionId: nonEmpty(order.transaction_id),
      amount: paid ? total : undefined,
      status: paid ? ("paid" as const) : ("pending" as const),
    }),
  ];
}

function customerOf(order: WooOrder): Customer | null {
  const billing = order.billing;
  const customer = compact({
    sourceId: order.customer_id != null && order.customer_id > 0 ? String(order.customer_id) : undefined,
    email: nonEmpty(billing?.email),
    phone: nonEmpty(billing?.phone),
    firstName: nonEmpty(billing?.first_name),
    lastName: nonEmpty(billing?.last_name),
    company: nonEmpty(billing?.company),
    vatNumber: vatNumberOf(order),
  });
  // An order made in admin without any customer details has no customer to speak of.
  return Object.keys(customer).length === 0 ? null : customer;
}

function vatNumberOf(order: WooOrder): string | undefined {
  const meta = order.meta_data ?? [];
  for (const key of VAT_NUMBER_META_KEYS) {
    const value = meta.find((m) => m.key === key)?.value;
    const vat = typeof value === "string" ? nonEmpty(value.replace(/\s+/g, "")) : undefined;
    if (vat !== undefined) return vat.toUpperCase();
  }
  return undefined;
}

function addressOf(address: WooAddress | null | undefined): Address | undefined {
  if (!address) return undefined;
  const country = countryCode(nonEmpty(address.country));
  const result = compact({
    name: nonEmpty(
      [address.first_name, address.last_name]
        .map((p) => p?.trim())
        .filter(Boolean)
        .join(" "),
    ),
    company: nonEmpty(address.company),
    line1: nonEmpty(address.address_1),
    line2: nonEmpty(address.address_2),
    postcode: nonEmpty(address.postcode),
    city: nonEmpty(address.city),
    region: nonEmpty(address.state),
    country,
    phone: nonEmpty(address.phone),
  });
  return Object.keys(result).length === 0 ? undefined : result;
}

/** The order as the shop shows it (`#1001`): its number, which plugins may make differ from the id. */
export function orderNumber(order: Pick<WooOrder, "id" | "number">): string {
  return `#${nonEmpty(order.number == null ? undefined : String(order.number)) ?? order.id}`;
}
