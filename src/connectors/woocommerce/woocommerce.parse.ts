/**
 * Turns a verified WooCommerce webhook delivery into Orderly events: one for the order, plus one
 * per refund it lists. Everything a person would have to fix (an unsupported topic, a body that is
 * not JSON, a missing field) is an OrderlyError of class "validation" whose message names it.
 */
import type { IgnoredDelivery, IncomingDelivery, RoutedDelivery, SourceEvent } from "../contract";
import { invalidPayload, jsonText, mappedOrRefused, validatedPayload } from "../payload";
import { orderNumber, orderStage, refundedUnpaid, statusOf, toCanonicalOrder } from "./woocommerce.order";
import { type WooOrder, wcId, wooOrderSchema } from "./woocommerce.payload";
import { toCanonicalRefund } from "./woocommerce.refund";
import type { StatusStages } from "./woocommerce.statuses";
import { gmtIso, gmtMs, localIso, nonEmpty } from "./woocommerce.util";

/** The order topics Orderly reads; each is one webhook in WooCommerce. */
export const WOOCOMMERCE_TOPICS = ["order.created", "order.updated", "order.deleted", "order.restored"] as const;
export type WooCommerceTopic = (typeof WOOCOMMERCE_TOPICS)[number];

function isWooCommerceTopic(topic: string): topic is WooCommerceTopic {
  return (WOOCOMMERCE_TOPICS as readonly string[]).includes(topic);
}

/** The connection settings parsing reads (the connector's settings schema gives them). */
export type WooCommerceParseSettings = { readonly statusStages?: StatusStages };

/**
 * Parses a verified WooCommerce delivery; throws OrderlyError(validation) naming what is wrong.
 *
 * There is no event key: WooCommerce fires order.created and order.updated for one checkout, as two
 * deliveries with different ids. Both carry the same order version, so the second changes nothing.
 */
export function parse(delivery: IncomingDelivery, settings: WooCommerceParseSettings = {}): SourceEvent[] | IgnoredDelivery {
  const opened = open(delivery);
  if ("ignored" in opened) return opened;
  const { topic, deliveryId, json } = opened;
  const order = validatedPayload(wooOrderSchema, json, `The WooCommerce ${topic} payload`, "woocommerce_payload_invalid");
  const version = orderVersion(order, topic);
  // In the shop's own time: the invoice is dated by the day this names (a 00:30 order in Denmark is
  // the previous day in UTC, and possibly in the previous VAT period).
  const createdAt =
    localIso(order.date_created, order.date_created_gmt) ??
    gmtIso(order.date_created_gmt) ??
    gmtIso(order.date_created) ??
    new Date(version).toISOString();
  const stage = orderStage(order, topic, settings.statusStages);
  const canonical = {
    ...mappedOrRefused(
      () => toCanonicalOrder(order, { stage, version, createdAt, statusStages: settings.statusStages }),
      "WooCommerce",
      "woocommerce",
    ),
    refundIds: (order.refunds ?? []).map((r) => String(r.id)),
  };
  const events: SourceEvent[] = [
    { deliveryId, topic, orderId: order.id, stage, occurrence: "", version, object: { type: "order", order: canonical } },
  ];
  // Partial refunds happen on processing and completed orders too, so refunds are read whatever the
  // status; but not those of an order refunded without being paid: no money went back (its refund
  // event would climb the order to paid and run the paid flows first).
  const refunds = refundedUnpaid(order) ? [] : (order.refunds ?? []);
  const refundContext = { orderId: order.id, currency: canonical.currency, createdAt: refundTime(order, version) };
  for (const [i, summary] of refunds.entries()) {
    const refund = mappedOrRefused(() => toCanonicalRefund(summary, refundContext, `refunds.${i}`), "WooCommerce", "woocommerce");
    // A refund of 0.00 is how a shop restocks items without returning money: nothing to credit, and
    // a credit note of nothing is refused by the targets, so it is no event.
    if (refund.total === 0) continue;
    events.push({
      deliveryId: `${deliveryId}:refund:${summary.id}`,
      // The same refund shows on every later delivery of the order; the key makes it count once.
      eventKey: `woocommerce-refund:${order.id}:${summary.id}`,
      topic,
      orderId: order.id,
      stage: "refunded",
      occurrence: summary.id,
      version,
      object: { type: "refund", refund },
    });
  }
  return events;
}

/**
 * The order a verified WooCommerce delivery belongs to and its id, read before the answer without
 * validating or mapping the payload (SourceHandlers.route): the same headers as `parse`, the body
 * parsed as JSON, trashed orders and checkout drafts ignored as `parse` ignores them, and only the
 * order's id and number checked. `parse` runs after the acknowledgement and reads them again.
 */
export function route(delivery: IncomingDelivery): RoutedDelivery | IgnoredDelivery {
  const opened = open(delivery);
  if ("ignored" in opened) return opened;
  const { topic, deliveryId, json } = opened;
  const order = validatedPayload(orderRoute, json, `The WooCommerce ${topic} payload`, "woocommerce_payload_invalid");
  return { orderId: order.id, deliveryId, orderName: orderNumber(order) };
}

/**
 * What `parse` and `route` both read first: the headers, the delivery id and the JSON, or that the
 * delivery has nothing to book (a trashed order, a checkout draft).
 */
function open(delivery: IncomingDelivery): { topic: WooCommerceTopic; deliveryId: string; json: unknown } | IgnoredDelivery {
  const { topic, deliveryId } = readHeaders(delivery);
  const json = parseJson(delivery);
  return trashed(json, topic) ?? checkoutDraft(json) ?? { topic, deliveryId, json };
}

/** The fields `route` reads, as the payload schema defines them. */
const orderRoute = wooOrderSchema.pick({ id: true, number: true });

/** The headers a WooCommerce delivery must carry, and the delivery id they make with its body. */
function readHeaders(delivery: IncomingDelivery): { topic: WooCommerceTopic; deliveryId: string } {
  const header = (name: string) => nonEmpty(delivery.headers.get(name));
  const topic = header("X-WC-Webhook-Topic");
  if (topic === undefined) {
    throw invalidPayload(
      "The X-WC-Webhook-Topic header is missing, so Orderly cannot tell what the delivery is.",
      "woocommerce_topic_missing",
    );
  }
  if (!isWooCommerceTopic(topic)) {
    throw invalidPayload(
      `The WooCommerce topic "${topic}" is not one Orderly handles; point only webhooks with the topics ${WOOCOMMERCE_TOPICS.join(", ")} at this connection.`,
      "woocommerce_topic_unsupported",
    );
  }
  const webhookId = header("X-WC-Webhook-ID");
  if (webhookId === undefined) {
    throw invalidPayload(
      "The X-WC-Webhook-ID header is missing; Orderly needs it to recognise redeliveries.",
      "woocommerce_webhook_id_missing",
    );
  }
  const deliveryHeader = header("X-WC-Webhook-Delivery-ID");
  if (deliveryHeader === undefined) {
    throw invalidPayload(
      "The X-WC-Webhook-Delivery-ID header is missing; Orderly needs it to recognise redeliveries.",
      "woocommerce_delivery_id_missing",
    );
  }
  // WooCommerce derives its delivery id from the webhook id and the current second, so two real
  // changes within one second share it. The body's fingerprint keeps them apart; a true
  // re-delivery (same body) still dedupes.
  const deliveryId = `${webhookId}:${deliveryHeader}:${fingerprint(delivery.body)}`;
  return { topic, deliveryId };
}

/**
 * A trashed or deleted order: WooCommerce sends only `{"id": …}`, no status, lines or amounts.
 * There is nothing to book, and a trashed order can still be restored (order.restored), so the
 * delivery is acknowledged and nothing is stored. A plugin that sends the whole order instead gets
 * it handled as a cancellation.
 */
function trashed(json: unknown, topic: WooCommerceTopic): IgnoredDelivery | undefined {
  if (topic !== "order.deleted" || carriesOrder(json)) return undefined;
  const id = wcId.safeParse(isObject(json) ? json.id : undefined);
  if (!id.success)
    throw invalidPayload("The WooCommerce order.deleted payload is invalid: id is missing.", "woocommerce_payload_invalid");
  return {
    ignored: true,
    reason: `WooCommerce order ${id.data} was trashed or deleted; the delivery carries only its id, so there is nothing to book.`,
  };
}

/**
 * A block-checkout draft: the Checkout block saves the cart as an order with status checkout-draft
 * while the shopper fills in the form, and each save may send order.updated (order.created in older
 * versions). It is no order until placed; placing it changes the status, which sends the order
 * again. Read before the payload is validated, since a half-filled draft may lack what an order has.
 */
function checkoutDraft(json: unknown): IgnoredDelivery | undefined {
  if (!isObject(json) || typeof json.status !== "string" || statusOf({ status: json.status }) !== "checkout-draft")
    return undefined;
  const id = wcId.safeParse(json.id);
  const which = id.success ? `WooCommerce order ${id.data}` : "The WooCommerce order";
  return {
    ignored: true,
    code: "checkout_draft",
    ...(id.success ? { orderId: id.data } : {}),
    reason: `${which} is a checkout draft (status checkout-draft): the shopper has not placed it yet, so there is nothing to book. WooCommerce sends it again once it is placed.`,
  };
}

/**
 * The time a refund is dated by: the order's last modification (the nearest known time at or after
 * it, see RefundContext), in the shop's own time when the payload gives it both ways, so the credit
 * note is dated by the shop's day as the invoice is.
 */
function refundTime(order: WooOrder, version: number): string {
  const local = gmtMs(order.date_modified_gmt) === version ? localIso(order.date_modified, order.date_modified_gmt) : undefined;
  return local ?? new Date(version).toISOString();
}

/**
 * The order's version: its last modification as UTC. The site-time fields stand in only for
 * payloads without the GMT ones (read as UTC too: a version needs to be monotonic, not exact).
 */
function orderVersion(order: WooOrder, topic: WooCommerceTopic): number {
  const candidates = [
    order.date_modified_gmt,
    order.date_modified,
    order.date_created_gmt,
    order.date_created,
    order.date_paid_gmt,
    order.date_paid,
  ];
  for (const value of candidates) {
    const ms = gmtMs(value);
    if (ms !== undefined) return ms;
  }
  throw invalidPayload(
    `The WooCommerce ${topic} payload has no readable date (date_modified_gmt, date_created_gmt or date_paid_gmt), so its version is unknown.`,
    "woocommerce_timestamp_missing",
  );
}

function parseJson(delivery: IncomingDelivery): unknown {
  const text = jsonText(delivery);
  if (text === null) throw invalidPayload("The WooCommerce delivery body is not UTF-8 text.", "woocommerce_body_not_json");
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidPayload(`The WooCommerce delivery body is not valid JSON (${reason}).`, "woocommerce_body_not_json");
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A deletion payload that is a whole order (a plugin may send one), rather than only its id. */
function carriesOrder(json: unknown): boolean {
  return isObject(json) && ("line_items" in json || "status" in json);
}

/**
 * FNV-1a (64-bit) of the raw bytes, hex: a fast synchronous fingerprint, not a security measure.
 * Kept in four 16-bit limbs so every product stays a small integer: BigInt arithmetic per byte took
 * some 75 µs for a 3 KB body, most of reading one before the answer. The prime is 2^40 + 0x1b3.
 */
export function fingerprint(bytes: Uint8Array): string {
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (const byte of bytes) {
    h0 ^= byte;
    const t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3 + (h0 << 8);
    const t3 = h3 * 0x1b3 + (h1 << 8);
    t1 += t0 >>> 16;
    h0 = t0 & 0xffff;
    t2 += t1 >>> 16;
    h1 = t1 & 0xffff;
    h3 = (t3 + (t2 >>> 16)) & 0xffff;
    h2 = t2 & 0xffff;
  }
  return [h3, h2, h1, h0].map((limb) => limb.toString(16).padStart(4, "0")).join("");
}
