/** The steps a merchant follows in Shopify admin to send Orderly the webhooks it reads. */
import { SHOPIFY_TOPICS, type ShopifyTopic } from "./shopify.parse";

/** The event names Shopify admin shows in its webhook form, by topic. */
const ADMIN_EVENT_NAMES: Record<ShopifyTopic, string> = {
  "orders/create": "Order creation",
  "orders/updated": "Order update",
  "orders/paid": "Order payment",
  "orders/fulfilled": "Order fulfillment",
  "orders/cancelled": "Order cancellation",
  "refunds/create": "Refund create",
};

export function setupSteps(webhookUrl: string): string[] {
  return [
    "In Shopify admin, open Settings → Notifications and choose Webhooks.",
    ...SHOPIFY_TOPICS.map(
      (topic) =>
        `Click "Create webhook": Event "${ADMIN_EVENT_NAMES[topic]}" (${topic}), Format JSON, URL ${webhookUrl}, Webhook API version the newest stable one offered; then Save.`,
    ),
    `Check that the list now shows ${SHOPIFY_TOPICS.length} webhooks, one per event above, all with the same URL.`,
    'Below the list Shopify shows "Your webhooks will be signed with …": copy that signing key and paste it into this Orderly connection as its webhook secret.',
  ];
}
