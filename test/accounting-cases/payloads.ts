/**
 * Webhook bodies for the cases, shaped as the webshops send them: a Shopify orders/paid and
 * refunds/create (REST JSON), a WooCommerce order.updated (REST API v3, refunds listed on the
 * order). Only the fields the connectors read, plus the ones that make the payload look real.
 *
 * Shopify amounts come twice: a plain field in the shop's currency and a `*_set` with the shop
 * money and the presentment money (the customer's currency). A case's Shopify amounts are in the
 * customer's currency; for a shop keeping its books in another one (`shopCurrency`), the plain
 * fields and shop money are each amount converted at the case's rate and rounded.
 */
import { cents, convertAt, sum } from "./amounts";
import type { ShopifyOrderSpec, ShopifyRefundSpec, WooChargeSpec, WooOrderSpec } from "./case-types";
import { person } from "./people";

export const SHOPIFY_ORDER_ID = 5_550_001;
/** The API version shopifyDelivery's X-Shopify-API-Version names. */
export const SHOPIFY_API_VERSION = "2026-01";
export const WOO_ORDER_ID = 8801;
const DEFAULT_DATE = "2026-03-02";

/** Shopify line item ids: the refund specs point at lines by index. */
export const shopifyLineId = (index: number) => 7_000_001 + index;

/** The shop's money of a Shopify spec: its plain amounts and `*_set`s. */
function shopifyMoney(spec: Pick<ShopifyOrderSpec, "currency" | "shopCurrency">) {
  const shopCurrency = spec.shopCurrency?.currency ?? spec.currency;
  const shop = (amount: string) => (spec.shopCurrency ? convertAt(amount, spec.shopCurrency.rate) : amount);
  const set = (amount: string) => ({
    shop_money: { amount: shop(amount), currency_code: shopCurrency },
    presentment_money: { amount, currency_code: spec.currency },
  });
  return { shopCurrency, shop, set };
}

function taxLines(tax: string, rate: number | undefined, m: ReturnType<typeof shopifyMoney>) {
  return rate === undefined ? [] : [{ title: "VAT", rate: rate / 100, price: m.shop(tax), price_set: m.set(tax) }];
}

export function shopifyOrderPayload(spec: ShopifyOrderSpec, orderNumber: number): Record<string, unknown> {
  const p = person(spec.buyer);
  const at = `${spec.date ?? DEFAULT_DATE}T10:15:00+01:00`;
  const address = {
    first_name: p.firstName,
    last_name: p.lastName,
    name: `${p.firstName} ${p.lastName}`,
    company: p.company ?? null,
    address1: p.line1,
    address2: null,
    city: p.city,
    zip: p.postcode,
    province: null,
    country_code: p.country,
    phone: null,
  };
  const m = shopifyMoney(spec);
  const shipping = spec.shipping ?? [];
  const discounts = spec.discounts ?? [];
  const allocated = (index: number) =>
    sum([
      ...spec.lines.filter((l) => l.discount && (l.discountIndex ?? 0) === index).map((l) => l.discount),
      ...shipping.filter((s) => s.discounted && (s.discountIndex ?? 0) === index).map((s) => sum([s.price, `-${s.discounted}`])),
    ]);
  return {
    id: SHOPIFY_ORDER_ID,
    name: `#${orderNumber}`,
    order_number: orderNumber,
    currency: m.shopCurrency,
    presentment_currency: spec.currency,
    created_at: at,
    updated_at: at,
    processed_at: at,
    closed_at: null,
    cancelled_at: null,
    financial_status: "paid",
    fulfillment_status: null,
    taxes_included: spec.pricesIncludeTax,
    email: p.email,
    phone: null,
    payment_gateway_names: ["shopify_payments"],
    total_price: m.shop(spec.total),
    total_price_set: m.set(spec.total),
    total_tax: m.shop(spec.totalTax),
    total_tax_set: m.set(spec.totalTax),
    total_discounts: m.shop(sum(discounts.map((_, i) => allocated(i)))),
    total_discounts_set: m.set(sum(discounts.map((_, i) => allocated(i)))),
    total_shipping_price_set: m.set(sum(shipping.map((s) => s.price))),
    line_items: spec.lines.map((l, i) => ({
      id: shopifyLineId(i),
      product_id: 600 + i,
      variant_id: 900 + i,
      sku: l.sku ?? null,
      title: l.title,
      name: l.title,
      quantity: l.quantity,
      price: m.shop(l.price),
      price_set: m.set(l.price),
      total_discount: m.shop(l.discount ?? "0.00"),
      total_discount_set: m.set(l.discount ?? "0.00"),
      gift_card: l.giftCard ?? false,
      taxable: l.rate !== undefined,
      tax_lines: taxLines(l.tax, l.rate, m),
      discount_allocations: l.discount
        ? [{ amount: m.shop(l.discount), amount_set: m.set(l.discount), discount_application_index: l.discountIndex ?? 0 }]
        : [],
    })),
    shipping_lines: shipping.map((s, i) => {
      const off = s.discounted ? sum([s.price, `-${s.discounted}`]) : undefined;
      return {
        id: 8_000_001 + i,
        title: s.title,
        code: s.title.toLowerCase().replace(/\W+/g, "-"),
        price: m.shop(s.price),
        price_set: m.set(s.price),
        discounted_price: m.shop(s.discounted ?? s.price),
        discounted_price_set: m.set(s.discounted ?? s.price),
        tax_lines: taxLines(s.tax, s.rate, m),
        discount_allocations: off
          ? [{ amount: m.shop(off), amount_set: m.set(off), discount_application_index: s.discountIndex ?? 0 }]
          : [],
      };
    }),
    discount_applications: discounts.map((d) => ({
      type: d.code ? "discount_code" : "manual",
      code: d.code ?? null,
      title: d.title ?? d.code ?? null,
      allocation_method: d.kind === "order" ? "across" : d.kind === "line" ? "one" : "each",
      target_selection: d.kind === "line" ? "explicit" : "all",
      target_type: d.kind === "shipping" ? "shipping_line" : "line_item",
    })),
    discount_codes: discounts.flatMap((d, i) =>
      d.code ? [{ code: d.code, amount: m.shop(allocated(i)), type: d.kind === "shipping" ? "shipping" : "fixed_amount" }] : [],
    ),
    customer: { id: 4401, email: p.email, first_name: p.firstName, last_name: p.lastName },
    billing_address: address,
    shipping_address: address,
    note: null,
    tags: "",
  };
}

export function shopifyRefundPayload(spec: ShopifyRefundSpec, order: ShopifyOrderSpec, index: number): Record<string, unknown> {
  const at = `${spec.date}T14:00:00+01:00`;
  const currency = order.currency;
  const m = shopifyMoney(order);
  const negative = (a: string) => (cents(a) === 0 ? a : `-${a}`);
  // From API version 2024-10 Shopify leaves refunded shipping and the adjustment kind out of the webhook.
  const legacy = (spec.apiVersion ?? SHOPIFY_API_VERSION) < "2024-10";
  const adjustments = [
    ...(spec.shipping && legacy
      ? [{ kind: "shipping_refund", amount: negative(spec.shipping), tax_amount: negative(spec.shippingTax ?? "0.00") }]
      : []),
    ...(spec.discrepancy
      ? [{ ...(legacy ? { kind: "refund_discrepancy" } : {}), amount: negative(spec.discrepancy), tax_amount: "0.00" }]
      : []),
  ];
  return {
    id: 9_100_001 + index,
    order_id: SHOPIFY_ORDER_ID,
    created_at: at,
    processed_at: at,
    note: spec.note ?? null,
    restock: spec.lines.some((l) => l.restock),
    refund_line_items: spec.lines.map((l, i) => ({
      id: 9_200_001 + i,
      quantity: l.quantity,
      line_item_id: shopifyLineId(l.line),
      restock_type: l.restock ? "return" : "no_restock",
      subtotal: Number(m.shop(l.subtotal)),
      total_tax: Number(m.shop(l.tax)),
      subtotal_set: m.set(l.subtotal),
      total_tax_set: m.set(l.tax),
      line_item: { id: shopifyLineId(l.line), sku: order.lines[l.line]?.sku ?? null },
    })),
    order_adjustments: adjustments.map((a, i) => ({
      id: 9_300_001 + i,
      order_id: SHOPIFY_ORDER_ID,
      ...a,
      amount: m.shop(a.amount),
      tax_amount: m.shop(a.tax_amount),
      amount_set: m.set(a.amount),
      tax_amount_set: m.set(a.tax_amount),
    })),
    transactions: [
      {
        id: 9_400_001,
        order_id: SHOPIFY_ORDER_ID,
        kind: "refund",
        gateway: "shopify_payments",
        status: "success",
        // Transactions are in the currency the customer paid in.
        amount: spec.amount,
        currency,
      },
    ],
  };
}

export function wooOrderPayload(spec: WooOrderSpec, orderNumber: number): Record<string, unknown> {
  const p = person(spec.buyer);
  const date = `${spec.date ?? DEFAULT_DATE}T09:15:00`;
  const modified = `${spec.modified ?? spec.date ?? DEFAULT_DATE}T16:40:00`;
  const rates = [
    ...new Set([...spec.lines, ...(spec.shipping ?? []), ...(spec.fees ?? [])].flatMap((l) => (l.rate ? [l.rate] : []))),
  ];
  const rateId = (rate: number) => rates.indexOf(rate) + 1;
  const taxes = (item: { rate?: number; totalTax: string; subtotalTax?: string }) =>
    item.rate ? [{ id: rateId(item.rate), total: item.totalTax, subtotal: item.subtotalTax ?? "" }] : [];
  const address = {
    first_name: p.firstName,
    last_name: p.lastName,
    company: p.company ?? "",
    address_1: p.line1,
    address_2: "",
    city: p.city,
    state: "",
    postcode: p.postcode,
    country: p.country,
  };
  const charge = (c: WooChargeSpec, i: number, base: number) => ({
    id: base + i,
    total: c.total,
    total_tax: c.totalTax,
    taxes: taxes(c),
  });
  const shipping = spec.shipping ?? [];
  const fees = spec.fees ?? [];
  const coupons = spec.coupons ?? [];
  return {
    id: WOO_ORDER_ID,
    number: String(orderNumber),
    status: "processing",
    currency: spec.currency,
    prices_include_tax: spec.pricesIncludeTax,
    date_created: date,
    date_created_gmt: date,
    date_modified: modified,
    date_modified_gmt: modified,
    date_paid: date,
    date_paid_gmt: date,
    discount_total: sum(coupons.map((c) => c.discount)),
    discount_tax: sum(coupons.map((c) => c.discountTax)),
    shipping_total: sum(shipping.map((s) => s.total)),
    shipping_tax: sum(shipping.map((s) => s.totalTax)),
    total: spec.total,
    total_tax: spec.totalTax,
    customer_id: 0,
    customer_note: "",
    billing: { ...address, email: p.email, phone: "" },
    shipping: address,
    payment_method: "stripe",
    payment_method_title: "Card",
    transaction_id: "pi_case",
    meta_data: p.vatNumber ? [{ id: 1, key: "_billing_vat_number", value: p.vatNumber }] : [],
    line_items: spec.lines.map((l, i) => ({
      id: 101 + i,
      name: l.name,
      product_id: 70 + i,
      variation_id: 0,
      quantity: l.quantity,
      sku: l.sku ?? "",
      subtotal: l.subtotal,
      subtotal_tax: l.subtotalTax,
      total: l.total,
      total_tax: l.totalTax,
      taxes: taxes(l),
    })),
    tax_lines: rates.map((rate) => ({
      id: 200 + rateId(rate),
      rate_id: rateId(rate),
      label: "VAT",
      compound: false,
      rate_percent: rate,
    })),
    shipping_lines: shipping.map((s, i) => ({ ...charge(s, i, 301), method_title: s.name, method_id: "flat_rate" })),
    fee_lines: fees.map((f, i) => ({ ...charge(f, i, 401), name: f.name })),
    coupon_lines: coupons.map((c, i) => ({ id: 501 + i, code: c.code, discount: c.discount, discount_tax: c.discountTax })),
    refunds: (spec.refunds ?? []).map((r, i) => ({ id: 601 + i, reason: r.reason ?? "", total: `-${r.amount}` })),
  };
}
