#!/usr/bin/env node
// npm run demo:order: sends a signed Shopify-style orders/paid webhook to the running demo and
// waits for its invoice to appear in the sandbox ledger.
import { createHmac, randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";

const demoFile = ".wrangler/demo.json";
if (!existsSync(demoFile)) {
  console.error("No demo found: start Orderly with `npm start` first (it writes .wrangler/demo.json).");
  process.exit(1);
}
const demo = JSON.parse(readFileSync(demoFile, "utf8"));
const orderId = Date.now();
const orderNumber = 1000 + (orderId % 100000);
const now = new Date().toISOString();
const order = {
  id: orderId,
  admin_graphql_api_id: `gid://shopify/Order/${orderId}`,
  name: `#${orderNumber}`,
  order_number: orderNumber,
  email: "ane@example.dk",
  created_at: now,
  updated_at: now,
  currency: "DKK",
  presentment_currency: "DKK",
  financial_status: "paid",
  fulfillment_status: null,
  taxes_included: true,
  total_price: "249.00",
  subtotal_price: "199.00",
  total_tax: "49.80",
  total_discounts: "0.00",
  total_shipping_price_set: {
    shop_money: { amount: "50.00", currency_code: "DKK" },
    presentment_money: { amount: "50.00", currency_code: "DKK" },
  },
  tax_lines: [{ title: "Moms", rate: 0.25, price: "49.80" }],
  line_items: [
    {
      id: 1,
      sku: "TS-1",
      title: "T-shirt",
      name: "T-shirt",
      quantity: 1,
      price: "199.00",
      total_discount: "0.00",
      tax_lines: [{ title: "Moms", rate: 0.25, price: "39.80" }],
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
  billing_address: { first_name: "Ane", last_name: "Lund", address1: "Vej 1", zip: "8000", city: "Aarhus", country_code: "DK" },
  shipping_address: { first_name: "Ane", last_name: "Lund", address1: "Vej 1", zip: "8000", city: "Aarhus", country_code: "DK" },
  payment_gateway_names: ["quickpay"],
  customer: { id: 1, email: "ane@example.dk", first_name: "Ane", last_name: "Lund" },
};
const body = JSON.stringify(order);
const hmac = createHmac("sha256", demo.webhookSecret).update(body).digest("base64");
const res = await fetch(`${demo.baseUrl}/hooks/${demo.shopConnectionId}`, {
  method: "POST",
  headers: {
    "content-type": "application/json",
    "x-shopify-topic": "orders/paid",
    "x-shopify-hmac-sha256": hmac,
    "x-shopify-webhook-id": randomUUID(),
    "x-shopify-event-id": randomUUID(),
    "x-shopify-triggered-at": now,
    "x-shopify-shop-domain": "demo.myshopify.com",
  },
  body,
});
console.log(`POST /hooks/${demo.shopConnectionId} (orders/paid, order ${order.name}) → ${res.status} ${await res.text()}`);
if (!res.ok) process.exit(1);

const started = Date.now();
while (Date.now() - started < 30_000) {
  const list = await fetch(`${demo.baseUrl}/api/v1/ledger/invoices?limit=20`, {
    headers: { authorization: `Bearer ${demo.apiToken}` },
  });
  const { invoices } = await list.json();
  const invoice = invoices.find((i) => i.orderNumber === order.name);
  if (invoice) {
    console.log(`Invoice ${invoice.id} booked in the sandbox ledger after ${Date.now() - started} ms:`);
    console.log(JSON.stringify(invoice, null, 2));
    process.exit(0);
  }
  await new Promise((r) => setTimeout(r, 250));
}
console.error("No invoice within 30 s; look at the transfer log: GET /api/v1/transfers");
process.exit(1);
