/** The steps a merchant follows in WordPress admin to send Orderly the WooCommerce webhooks it reads. */
import type { WooCommerceTopic } from "./woocommerce.parse";

/** The webhooks to create, by the topic name WooCommerce's webhook form shows. */
const SETUP_TOPICS: ReadonlyArray<{ topic: WooCommerceTopic; label: string }> = [
  { topic: "order.created", label: "Order created" },
  { topic: "order.updated", label: "Order updated" },
  { topic: "order.deleted", label: "Order deleted" },
];

export function setupSteps(webhookUrl: string): string[] {
  return [
    "In WordPress admin, open WooCommerce → Settings → Advanced → Webhooks.",
    ...SETUP_TOPICS.map(
      ({ topic, label }) =>
        `Click "Add webhook" and fill in: Name "Orderly – ${label}", Status Active, Topic "${label}" (${topic}), Delivery URL ${webhookUrl}, Secret the webhook secret Orderly shows for this connection, API Version "WP REST API Integration v3"; then click "Save webhook".`,
    ),
    `Check that the list shows ${SETUP_TOPICS.length} webhooks, one per topic above, all Active and with the same delivery URL. On saving, WooCommerce sends a ping to the URL; Orderly answers it and stores nothing.`,
    'Warning: WooCommerce never retries a failed delivery, and it disables a webhook by itself (status "Disabled") after 5 consecutive failed deliveries. If one ever shows Disabled, set it back to Active and save; orders changed while it was off reach Orderly only when they change again.',
  ];
}
