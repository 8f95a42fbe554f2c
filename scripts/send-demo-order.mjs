#!/usr/bin/env node
// npm run demo:order: sends a signed Shopify-style orders/paid webhook to the running demo and
// waits for its invoice to appear in the sandbox ledger.
import { existsSync, readFileSync } from "node:fs";
import { demoShopifyOrder, signedShopifyDelivery } from "./demo-order.mjs";

const demoFile = ".wrangler/demo.json";
if (!existsSync(demoFile)) {
  console.error("No demo found: start Orderly with `npm start` first (it writes .wrangler/demo.json).");
  process.exit(1);
}
const demo = JSON.parse(readFileSync(demoFile, "utf8"));
const orderId = Date.now();
const orderNumber = 1000 + (orderId % 100000);
const now = new Date().toISOString();
const order = demoShopifyOrder({ id: orderId, number: orderNumber, now });
const { body, headers } = signedShopifyDelivery(order, demo.webhookSecret, { now });
const res = await fetch(`${demo.baseUrl}/hooks/${demo.shopConnectionId}`, { method: "POST", headers, body });
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
