// Signed Shopify order webhooks for the load driver: realistic bodies of 3–6 KB built from a few
// templates (the order id is spliced in, so making one costs a string join and an HMAC), unique
// webhook ids, and a share of re-deliveries and of bad signatures.
import { createHmac, randomUUID } from "node:crypto";

const KEY = "__K__";
const TEMPLATE_COUNT = 16;

function line(i) {
  // Prices include 25 % VAT and are multiples of 5 DKK, so the VAT is exact in øre.
  const price = 125 + 5 * i;
  return {
    id: 90_000 + i,
    variant_id: 70_000 + i,
    product_id: 50_000 + i,
    sku: `BENCH-${i}`,
    title: `Bench product ${i} – organic cotton, regular fit`,
    name: `Bench product ${i} – organic cotton, regular fit / M / Navy`,
    variant_title: "M / Navy",
    vendor: "Orderly Bench",
    quantity: 1,
    price: price.toFixed(2),
    total_discount: "0.00",
    grams: 250,
    requires_shipping: true,
    taxable: true,
    fulfillment_service: "manual",
    tax_lines: [{ title: "Moms", rate: 0.25, price: (price / 5).toFixed(2) }],
    discount_allocations: [],
    properties: [{ name: "Gift wrap", value: "no" }],
  };
}

function order(lines, financialStatus) {
  const items = Array.from({ length: lines }, (_, i) => line(i));
  const linesTotal = items.reduce((sum, item) => sum + Number(item.price), 0);
  const shipping = 50;
  const total = linesTotal + shipping;
  const when = "2026-11-20T10:00:00+01:00";
  const address = {
    first_name: "Bench",
    last_name: `Buyer ${KEY}`,
    address1: "Testvej 1",
    zip: "8000",
    city: "Aarhus",
    country: "Denmark",
    country_code: "DK",
    phone: "+4512345678",
  };
  return {
    id: KEY,
    admin_graphql_api_id: `gid://shopify/Order/${KEY}`,
    name: `#${KEY}`,
    order_number: KEY,
    email: `buyer-${KEY}@bench.example`,
    created_at: when,
    updated_at: when,
    processed_at: when,
    currency: "DKK",
    presentment_currency: "DKK",
    financial_status: financialStatus,
    fulfillment_status: null,
    taxes_included: true,
    total_price: total.toFixed(2),
    subtotal_price: linesTotal.toFixed(2),
    total_line_items_price: linesTotal.toFixed(2),
    total_tax: (total / 5).toFixed(2),
    total_discounts: "0.00",
    total_weight: 250 * lines,
    total_shipping_price_set: {
      shop_money: { amount: shipping.toFixed(2), currency_code: "DKK" },
      presentment_money: { amount: shipping.toFixed(2), currency_code: "DKK" },
    },
    tax_lines: [{ title: "Moms", rate: 0.25, price: (total / 5).toFixed(2) }],
    line_items: items,
    shipping_lines: [
      {
        id: 1,
        title: "GLS pakkeshop",
        code: "gls",
        price: shipping.toFixed(2),
        discounted_price: shipping.toFixed(2),
        tax_lines: [{ title: "Moms", rate: 0.25, price: (shipping / 5).toFixed(2) }],
      },
    ],
    discount_applications: [],
    discount_codes: [],
    note: "Please leave the parcel at the back door.",
    note_attributes: [{ name: "source", value: "orderly-bench" }],
    tags: "bench, load-test",
    billing_address: address,
    shipping_address: address,
    payment_gateway_names: ["quickpay"],
    customer: { id: KEY, email: `buyer-${KEY}@bench.example`, first_name: "Bench", last_name: `Buyer ${KEY}` },
    client_details: {
      browser_ip: "192.0.2.1",
      user_agent: "Mozilla/5.0 (X11; Linux x86_64) orderly-bench",
      accept_language: "da-DK",
    },
  };
}

/** Templates as parts around the order key: joining them with a number gives a valid body. */
function templates(financialStatus) {
  return Array.from({ length: TEMPLATE_COUNT }, (_, i) => {
    const lines = 3 + Math.floor((i * 6) / TEMPLATE_COUNT);
    const text = JSON.stringify(order(lines, financialStatus)).replaceAll(`"${KEY}"`, KEY);
    return text.split(KEY);
  });
}

export const sign = (secret, body) => createHmac("sha256", secret).update(body).digest("base64");

/** A tiny seeded PRNG (mulberry32), so a run's mix is reproducible. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * Makes deliveries for one source connection. `next()` returns a new order's delivery, a
 * re-delivery of an earlier one (same webhook id, body and signature) or one with a wrong
 * signature, in the shares of `mix`. Order keys count up from `firstKey` (unique per run).
 */
export function deliveries({ secret, topic, mix, seed = 1, firstKey }) {
  const parts = templates(topic === "orders/paid" ? "paid" : "pending");
  const random = prng(seed);
  const sent = [];
  let key = firstKey;
  const make = () => {
    const k = key++;
    const body = parts[k % parts.length].join(String(k));
    return { key: k, body, signature: sign(secret, body), webhookId: randomUUID(), eventId: randomUUID() };
  };
  return {
    sizes: parts.map((p) => Buffer.byteLength(p.join(String(firstKey)))),
    next() {
      const u = random();
      if (u < mix.redelivery && sent.length > 0) return { ...sent[Math.floor(random() * sent.length)], kind: "redelivery" };
      const delivery = make();
      if (u < mix.redelivery + mix.badSignature) {
        const flipped = delivery.signature[0] === "A" ? "B" : "A";
        return { ...delivery, signature: flipped + delivery.signature.slice(1), kind: "bad-signature" };
      }
      if (sent.length < 4096) sent.push(delivery);
      else sent[Math.floor(random() * sent.length)] = delivery;
      return { ...delivery, kind: "new" };
    },
    headers(delivery) {
      return {
        "content-type": "application/json",
        "x-shopify-topic": topic,
        "x-shopify-hmac-sha256": delivery.signature,
        "x-shopify-webhook-id": delivery.webhookId,
        "x-shopify-event-id": delivery.eventId,
        "x-shopify-triggered-at": "2026-11-20T09:00:01.000Z",
        "x-shopify-shop-domain": "bench.myshopify.com",
        "x-shopify-api-version": "2026-10",
        "user-agent": "Shopify-Captain-Hook",
      };
    },
  };
}
