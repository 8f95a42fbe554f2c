// The demo's Shopify orders/paid webhook: what `npm run demo:order` sends, and what the browser
// tests send (one order, so the demo and its tests cannot drift apart).
import { createHmac, randomUUID } from "node:crypto";

/** A paid Danish order: a T-shirt at 199.00 and GLS shipping at 50.00, 25 % VAT included. */
export function demoShopifyOrder({ id, number, now = new Date().toISOString() }) {
  const orderId = id;
  const orderNumber = number;
  return {
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
    shipping_address: {
      first_name: "Ane",
      last_name: "Lund",
      address1: "Vej 1",
      zip: "8000",
      city: "Aarhus",
      country_code: "DK",
    },
    payment_gateway_names: ["quickpay"],
    customer: { id: 1, email: "ane@example.dk", first_name: "Ane", last_name: "Lund" },
  };
}

/** The request Shopify would send for `order`: the body and its signed headers. */
export function signedShopifyDelivery(order, secret, { topic = "orders/paid", now = new Date().toISOString() } = {}) {
  const body = JSON.stringify(order);
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-shopify-topic": topic,
      "x-shopify-hmac-sha256": createHmac("sha256", secret).update(body).digest("base64"),
      "x-shopify-webhook-id": randomUUID(),
      "x-shopify-event-id": randomUUID(),
      "x-shopify-triggered-at": now,
      "x-shopify-shop-domain": "demo.myshopify.com",
    },
  };
}
