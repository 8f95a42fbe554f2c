/**
 * Turns a verified Shopify webhook delivery into Orderly events. Everything a person would have to
 * fix (a body that is not JSON, a missing field) is an OrderlyError of class "validation" whose
 * message names the problem; a refund a person must credit by hand is one of class "conflict".
 * Shopify's headers are read case-insensitively.
 */
import { OrderlyError } from "../../domain/errors";
import type { IgnoredDelivery, IncomingDelivery, RoutedDelivery, SourceEvent } from "../contract";
import { invalidPayload, jsonText, mappedOrRefused, validatedPayload } from "../payload";
import { orderStage, toCanonicalOrder } from "./shopify.order";
import { shopifyOrderSchema, shopifyRefundSchema } from "./shopify.payload";
import { moneyBack, pendingRefunds, toCanonicalRefund } from "./shopify.refund";
import { compact, epochMs, nonEmpty } from "./shopify.util";

/** The webhook topics Orderly subscribes to; one Shopify webhook per topic. */
export const SHOPIFY_TOPICS = [
  "orders/create",
  "orders/updated",
  "orders/paid",
  "orders/fulfilled",
  "orders/cancelled",
  "refunds/create",
] as const;
export type ShopifyTopic = (typeof SHOPIFY_TOPICS)[number];

function isShopifyTopic(topic: string): topic is ShopifyTopic {
  return (SHOPIFY_TOPICS as readonly string[]).includes(topic);
}

/**
 * The shape of a Shopify topic name (`orders/edited`, `products/update`, `customer.tags_added`):
 * a delivery of another topic than Orderly's is ignored. A topic header of any other shape (two
 * values joined, stray bytes) is not a topic at all, and the delivery is refused as unreadable.
 */
const TOPIC_NAME = /^[a-z0-9_]+(?:[./][a-z0-9_]+)+$/;

/**
 * An ignored delivery, with what the webhook route logs and alerts on: the kind of delivery it
 * was (`test_order` raises a throttled alert) and the Shopify order it belongs to.
 */
export interface ShopifyIgnored extends IgnoredDelivery {
  code: "test_order" | "topic_unsupported" | "refund_no_money";
  orderId?: string;
  /** The order as Shopify admin names it (`#1001`), when the delivery says. */
  orderName?: string;
}

/** The connection settings parsing reads (the connector's settings schema gives them). */
export type ShopifyParseSettings = { readonly processTestOrders?: boolean };

const TEST_ORDERS_HINT =
  'If it is a real sale (a payment provider left in test mode), turn on "Process test orders" (processTestOrders) in this connection\'s settings in Orderly.';

/**
 * Parses a verified Shopify delivery into one event; throws OrderlyError(validation) naming what is
 * wrong. A test order and its refunds are ignored unless the connection processes test orders, and
 * so are a refund that returned no money and a topic Orderly does not read (subscribed by mistake).
 */
export function parse(delivery: IncomingDelivery, settings: ShopifyParseSettings = {}): SourceEvent[] | ShopifyIgnored {
  const read = readHeaders(delivery);
  if ("ignored" in read) return read;
  const { topic, deliveryId, eventKey, triggeredAt } = read;
  const json = deliveryJson(delivery);
  const base = { deliveryId, eventKey, topic };

  if (topic === "refunds/create") {
    const refund = validatedPayload(shopifyRefundSchema, json, `The Shopify ${topic} payload`, "shopify_payload_invalid");
    const test = testRefund(refund, settings);
    if (test) return test;
    // A refund never changes after it is made, so its own time is its version.
    const version = epochMs(refund.created_at) ?? epochMs(refund.processed_at) ?? requireTime(epochMs(triggeredAt), topic);
    const createdAt = nonEmpty(refund.created_at) ?? nonEmpty(refund.processed_at) ?? new Date(version).toISOString();
    const canonical = mappedOrRefused(() => toCanonicalRefund(refund, createdAt), "Shopify", "shopify");
    // Money still on its way back: crediting only what settled would be short, and nothing ever
    // brings the rest (no second refunds/create, and the order mapping reads no refunds).
    const pending = pendingRefunds(refund);
    if (pending.length > 0) {
      const amount = (t: { amount: string | number; currency?: string | null }) =>
        `${String(t.amount)} ${nonEmpty(t.currency) ?? canonical.currency}`;
      const settled = moneyBack(refund);
      const already = settled.length > 0 ? ` (${settled.map(amount).join(" + ")} of it already refunded)` : "";
      throw new OrderlyError(
        `Refund ${refund.id} of Shopify order ${refund.order_id} is pending at the payment provider: ${pending.map(amount).join(" + ")} not yet returned to the customer${already}. Shopify does not send the refund again once it settles, so Orderly made no credit note for any of it: once the payment provider has settled it, credit the whole refund by hand where it should have gone; if the refund fails instead, nothing needs doing.`,
        { errorClass: "conflict", code: "shopify_refund_pending" },
      );
    }
    // Nothing to credit: the refunded stage would also run the paid flows (stage.ts) on an unpaid
    // order, and a credit note of 0.00 against refunded lines fails. Same as WooCommerce's 0.00 refunds.
    if (canonical.total === 0) {
      return {
        ignored: true,
        code: "refund_no_money",
        orderId: refund.order_id,
        reason: `Refund ${refund.id} of Shopify order ${refund.order_id} returned no money (it has no refund transaction that succeeded or is pending: a restock, items removed by an order edit, or an unpaid order cancelled), so there is nothing to credit.`,
      };
    }
    return [
      compact({
        ...base,
        orderId: refund.order_id,
        stage: "refunded",
        occurrence: refund.id,
        version,
        object: { type: "refund", refund: canonical },
      } satisfies SourceEvent),
    ];
  }

  const order = validatedPayload(shopifyOrderSchema, json, `The Shopify ${topic} payload`, "shopify_payload_invalid");
  const test = testOrder(order, settings);
  if (test) return test;
  // updated_at moves with every change to the order; Triggered-At and created_at stand in without it.
  const version = epochMs(order.updated_at) ?? epochMs(triggeredAt) ?? requireTime(epochMs(order.created_at), topic);
  const createdAt = nonEmpty(order.created_at) ?? nonEmpty(triggeredAt) ?? new Date(version).toISOString();
  const stage = orderStage(order);
  const canonical = mappedOrRefused(() => toCanonicalOrder(order, { stage, version, createdAt }), "Shopify", "shopify");
  return [
    compact({
      ...base,
      orderId: order.id,
      stage,
      occurrence: "",
      version,
      object: { type: "order", order: canonical },
    } satisfies SourceEvent),
  ];
}

/**
 * The order a verified Shopify delivery belongs to and its ids, read before the answer without
 * validating or mapping the payload (SourceHandlers.route): the same headers as `parse`, the body
 * parsed as JSON, and only the fields that route it or make it ignored (a test order or refund),
 * each checked as `parse` checks it. `parse` runs after the acknowledgement and reads them again.
 */
export function route(delivery: IncomingDelivery, settings: ShopifyParseSettings = {}): RoutedDelivery | ShopifyIgnored {
  const read = readHeaders(delivery);
  if ("ignored" in read) return read;
  const { topic, deliveryId, eventKey } = read;
  const json = deliveryJson(delivery);
  const what = `The Shopify ${topic} payload`;
  if (topic === "refunds/create") {
    const refund = validatedPayload(refundRoute, json, what, "shopify_payload_invalid");
    return testRefund(refund, settings) ?? compact({ orderId: refund.order_id, deliveryId, eventKey });
  }
  const order = validatedPayload(orderRoute, json, what, "shopify_payload_invalid");
  return testOrder(order, settings) ?? compact({ orderId: order.id, deliveryId, eventKey, orderName: nonEmpty(order.name) });
}

/** The fields `route` reads, as the payload schemas define them. */
const orderRoute = shopifyOrderSchema.pick({ id: true, name: true, test: true });
const refundRoute = shopifyRefundSchema.pick({ id: true, order_id: true, transactions: true });

/** Shopify sends a delivery again under the same webhook id (SourceHandlers.retryKey). */
export function retryKey(headers: Headers): string | undefined {
  return nonEmpty(headers.get("X-Shopify-Webhook-Id"));
}

/** The headers a Shopify delivery must carry; a topic Orderly does not read is ignored. */
function readHeaders(
  delivery: IncomingDelivery,
): { topic: ShopifyTopic; deliveryId: string; eventKey: string | undefined; triggeredAt: string | undefined } | ShopifyIgnored {
  const header = (name: string) => nonEmpty(delivery.headers.get(name));
  const topic = header("X-Shopify-Topic");
  if (topic === undefined) {
    throw invalidPayload(
      "The X-Shopify-Topic header is missing, so Orderly cannot tell what the delivery is.",
      "shopify_topic_missing",
    );
  }
  if (!isShopifyTopic(topic) && TOPIC_NAME.test(topic)) {
    return {
      ignored: true,
      code: "topic_unsupported",
      reason: `The Shopify topic "${topic}" is not one Orderly reads, so the delivery was ignored. Delete that webhook in Shopify: Orderly needs only ${SHOPIFY_TOPICS.join(", ")}.`,
    };
  }
  if (!isShopifyTopic(topic)) {
    throw invalidPayload(
      `The Shopify topic "${topic}" is not one Orderly handles; subscribe only to ${SHOPIFY_TOPICS.join(", ")}.`,
      "shopify_topic_unsupported",
    );
  }
  const deliveryId = retryKey(delivery.headers);
  if (deliveryId === undefined) {
    throw invalidPayload(
      "The X-Shopify-Webhook-Id header is missing; Orderly needs it to recognise redeliveries.",
      "shopify_webhook_id_missing",
    );
  }
  const eventId = header("X-Shopify-Event-Id");
  return {
    topic,
    deliveryId,
    eventKey: eventId === undefined ? undefined : `${eventId}:${topic}`,
    triggeredAt: header("X-Shopify-Triggered-At"),
  };
}

/** A test order, ignored unless the connection processes test orders. */
function testOrder(
  order: { id: string; name?: string | null; test?: boolean | null },
  settings: ShopifyParseSettings,
): ShopifyIgnored | null {
  if (order.test !== true || settings.processTestOrders) return null;
  return {
    ignored: true,
    code: "test_order",
    orderId: order.id,
    ...(nonEmpty(order.name) ? { orderName: nonEmpty(order.name) } : {}),
    reason: `Shopify order ${nonEmpty(order.name) ?? order.id} is a test order, so it is not booked. ${TEST_ORDERS_HINT}`,
  };
}

/** A refund of a test order (a refund names no test flag of its own; its transactions do). */
function testRefund(
  refund: { id: string; order_id: string; transactions?: Array<{ test?: boolean | null }> | null },
  settings: ShopifyParseSettings,
): ShopifyIgnored | null {
  if (settings.processTestOrders || !(refund.transactions ?? []).some((t) => t.test === true)) return null;
  return {
    ignored: true,
    code: "test_order",
    orderId: refund.order_id,
    reason: `Refund ${refund.id} is of Shopify test order ${refund.order_id} (its transactions are test transactions), so it is not credited. ${TEST_ORDERS_HINT}`,
  };
}

/** The delivery's JSON, or an error naming what is wrong with its body. */
function deliveryJson(delivery: IncomingDelivery): unknown {
  const text = jsonText(delivery);
  if (text === null) throw invalidPayload("The Shopify delivery body is not UTF-8 text.", "shopify_body_not_json");
  return parseShopifyJson(text);
}

/**
 * JSON.parse that keeps Shopify's int64 ids exact: an integer beyond 2^53 is returned as its digit
 * string, read from the source text the reviver is given (JSON.parse source text access).
 */
export function parseShopifyJson(text: string): unknown {
  try {
    // The reviver (which sees each value's source text) makes parsing several times slower; it is
    // needed only when an integer may be too large for a double, and such an integer has 16+ digits.
    return MAYBE_UNSAFE_INTEGER.test(text) ? JSON.parse(text, keepLargeIntegers) : JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidPayload(`The Shopify delivery body is not valid JSON (${reason}).`, "shopify_body_not_json");
  }
}

const MAYBE_UNSAFE_INTEGER = /\d{16}/;

function keepLargeIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value === "number" && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) {
    return context.source;
  }
  return value;
}

function requireTime(ms: number | undefined, topic: ShopifyTopic): number {
  if (ms !== undefined) return ms;
  throw invalidPayload(
    `The Shopify ${topic} delivery has no readable timestamp (updated_at, created_at or X-Shopify-Triggered-At), so its version is unknown.`,
    "shopify_timestamp_missing",
  );
}
