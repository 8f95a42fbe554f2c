// A signed Shopify orders/paid webhook: the demo's order, as `npm run demo:order` sends it.
import { demoShopifyOrder, signedShopifyDelivery } from "../../scripts/demo-order.mjs";

export async function sendShopifyOrder(baseUrl, connectionId, secret, { number }) {
  const now = new Date().toISOString();
  const order = demoShopifyOrder({ id: Date.now() + Math.floor(Math.random() * 1000), number, now });
  const { body, headers } = signedShopifyDelivery(order, secret, { now });
  const res = await fetch(`${baseUrl}/hooks/${connectionId}`, { method: "POST", headers, body });
  return { status: res.status, text: await res.text(), order };
}
