// A signed Shopify orders/paid webhook, as `npm run demo:order` sends it.
import { createHmac, randomUUID } from "node:crypto";

export async function sendShopifyOrder(baseUrl, connectionId, secret, { number, total = "249.00" }) {
  const now = new Date().toISOString();
  const id = Date.now() + Math.floor(Math.random() * 1000);
  const order = {
    id,
    name: `#${number}`,
    order_number: number,
    email: "ane@example.dk",
    created_at: now,
    updated_at: now,
    currency: "DKK",
    financial_status: "paid",
    fulfillment_status: null,
    taxes_included: true,
    total_price: total,
    subtotal_price: "199.00",
    total_tax: "49.80",
    total_discounts: "0.00",
    tax_lines: [{ title: "Moms", rate: 0.25, price: "49.80" }],
    line_items: [
      {
        id: 1,
        sku: "TS-1",
        title: "T-shirt",
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
    shipping_address: { country_code: "DK" },
    payment_gateway_names: ["quickpay"],
    customer: { id: 1, email: "ane@example.dk", first_name: "Ane", last_name: "Lund" },
  };
  const body = JSON.stringify(order);
  const res = await fetch(`${baseUrl}/hooks/${connectionId}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-shopify-topic": "orders/paid",
      "x-shopify-hmac-sha256": createHmac("sha256", secret).update(body).digest("base64"),
      "x-shopify-webhook-id": randomUUID(),
      "x-shopify-event-id": randomUUID(),
      "x-shopify-triggered-at": now,
      "x-shopify-shop-domain": "demo.myshopify.com",
    },
    body,
  });
  return { status: res.status, text: await res.text(), order };
}
