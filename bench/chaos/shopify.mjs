// Shopify as the chaos driver plays it: order and refund payloads per version, signed deliveries
// (base64 HMAC-SHA256 of the raw bytes), and a sender that retries a delivery until it gets an
// answer other than 5xx or no answer, as Shopify does (8 times over 4 hours, compressed here).
import { createHmac, randomUUID } from "node:crypto";
import { fetchWithin, sleep } from "./util.mjs";

const T0 = Date.parse("2026-03-02T09:00:00Z");

/** Money as Shopify writes it: "199.00". */
const money = (minor) => (minor / 100).toFixed(2);

/**
 * An order payload at a version. `quantity` of the one T-shirt line moves the totals (T3 uses it
 * to tell versions apart at the target); `paid`/`fulfilled` set the stage the payload shows.
 */
export function orderPayload(
  orderId,
  { version = 1, quantity = 1, paid = false, fulfilled = false, title = "T-shirt", note } = {},
) {
  const line = 19900 * quantity;
  const lineTax = 3980 * quantity;
  const total = line + 5000;
  const tax = lineTax + 1000;
  return {
    id: orderId,
    name: `#${orderId}`,
    order_number: orderId,
    email: `buyer-${orderId}@chaos.example`,
    created_at: new Date(T0).toISOString(),
    updated_at: new Date(T0 + version * 1000).toISOString(),
    currency: "DKK",
    financial_status: paid ? "paid" : "pending",
    fulfillment_status: fulfilled ? "fulfilled" : null,
    taxes_included: true,
    total_price: money(total),
    subtotal_price: money(line),
    total_tax: money(tax),
    total_discounts: "0.00",
    note: note ?? `version ${version}`,
    tax_lines: [{ title: "Moms", rate: 0.25, price: money(tax) }],
    line_items: [
      {
        id: 1,
        sku: "TS-1",
        title,
        quantity,
        price: "199.00",
        total_discount: "0.00",
        tax_lines: [{ title: "Moms", rate: 0.25, price: money(lineTax) }],
        discount_allocations: [],
      },
    ],
    shipping_lines: [
      {
        id: 1,
        title: "GLS",
        code: "gls",
        price: "50.00",
        discounted_price: "50.00",
        tax_lines: [{ title: "Moms", rate: 0.25, price: "10.00" }],
      },
    ],
    discount_applications: [],
    discount_codes: [],
    billing_address: {
      first_name: "Ane",
      last_name: `Lund ${orderId}`,
      address1: "Vej 1",
      zip: "8000",
      city: "Aarhus",
      country_code: "DK",
    },
    shipping_address: { country_code: "DK" },
    payment_gateway_names: ["quickpay"],
    customer: { id: orderId, email: `buyer-${orderId}@chaos.example`, first_name: "Ane", last_name: `Lund ${orderId}` },
  };
}

/** refunds/create for the order's one T-shirt. */
export function refundPayload(orderId, refundId) {
  const at = new Date(T0 + 60_000).toISOString();
  return {
    id: refundId,
    order_id: orderId,
    created_at: at,
    processed_at: at,
    note: "Wrong size",
    refund_line_items: [
      {
        id: refundId + 1,
        quantity: 1,
        line_item_id: 1,
        restock_type: "return",
        subtotal: "199.00",
        total_tax: "39.80",
        line_item: { id: 1, sku: "TS-1", title: "T-shirt", quantity: 1, price: "199.00" },
      },
    ],
    order_adjustments: [],
    transactions: [
      { id: refundId + 2, kind: "refund", status: "success", gateway: "quickpay", amount: "199.00", currency: "DKK" },
    ],
  };
}

export function sign(secret, bytes) {
  return createHmac("sha256", secret).update(bytes).digest("base64");
}

/** One delivery: the exact bytes and headers; a re-delivery sends the same object again. */
export function delivery(topic, payload, secret, { bytes } = {}) {
  const body = bytes ?? Buffer.from(JSON.stringify(payload));
  return {
    topic,
    body,
    headers: {
      "content-type": "application/json",
      "x-shopify-topic": topic,
      "x-shopify-hmac-sha256": sign(secret, body),
      "x-shopify-shop-domain": "chaos.myshopify.com",
      "x-shopify-api-version": "2026-01",
      "x-shopify-webhook-id": randomUUID(),
      "x-shopify-event-id": randomUUID(),
      "x-shopify-triggered-at": new Date().toISOString(),
    },
  };
}

/**
 * Posts a delivery until it is answered with something other than 5xx/no answer, like a sender
 * that retries (Shopify: 8 times over 4 hours; here every `retryMs`, within `giveUpMs`).
 * Returns the final status and how many tries it took.
 */
export async function send(url, d, { retryMs = 500, giveUpMs = 600_000, timeoutMs = 30_000 } = {}) {
  const started = Date.now();
  let tries = 0;
  for (;;) {
    tries++;
    const res = await fetchWithin(url, { method: "POST", headers: d.headers, body: d.body }, timeoutMs);
    const final = res.status >= 200 && res.status < 500;
    if (final || Date.now() - started > giveUpMs) return { status: res.status, text: res.text, tries, ms: Date.now() - started };
    await sleep(Math.min(retryMs * tries, 5000));
  }
}
