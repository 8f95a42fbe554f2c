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
    "In Orderly, set this connection's Store URL to the shop's address as WordPress admin shows it under Settings → General → Site Address (e.g. https://shop.example.com), with its folder if the shop is in one (https://example.com/shop). A copy of the shop (a staging site) keeps the webhooks and their secret; with the Store URL set, its deliveries are kept aside and alerted instead of booked as real orders.",
    "If the shop has order statuses of its own (added by a plugin, such as Shipped or Awaiting shipment), list in this connection's Status stages the ones your flows should act on and the stage each means, e.g. shipped = fulfilled to send dispatched orders on. A status not listed reads as paid once WooCommerce has recorded the payment, else as created.",
    'Warning: WooCommerce never retries a failed delivery, and it disables a webhook by itself (status "Disabled") after more than 5 failed deliveries in a row (its code disables it at the 7th). Orderly therefore answers every correctly signed delivery with success, even one it cannot book (connection disabled, an unreadable order, another site): it keeps that delivery under dead letters and emails the alert addresses. If a webhook ever shows Disabled all the same (Orderly unreachable, a wrong secret), set it back to Active and save; orders changed while it was off reach Orderly only when they change again (re-save such an order in WooCommerce to send it).',
  ];
}
