/**
 * One accepted event as it travels from the Worker to its inbox shard and is stored there: the
 * request as JSON text with its raw body beside it, how large that may be, and how it is read back.
 */
import type { StoredIngest } from "./order-types";

/**
 * One event of a delivery as the Worker hands it to its shard. The request travels as JSON text
 * (without the raw body, which travels beside it): the shard stores both as they come, and an
 * object graph would cost a structured clone on each side of the call on the ack path. The keys are
 * what the shard dedupes on.
 */
export interface InboxAccept {
  orderName: string;
  /**
   * `d:<connection>:<delivery id>`, and `e:<connection>:<event key>` when the sender gives one.
   * This release's shards keep no keys (the order's object dedupes); shards of the releases
   * before, met during a gradual deployment, read them.
   */
  deliveryKey: string;
  eventKey: string | null;
  /** The StoredIngest as JSON, its raw body null. */
  request: string;
  rawBody: string | null;
}

/**
 * The most one event may hold, its request and inline body together, in UTF-8 bytes. A Durable
 * Object's row holds at most 2 MB, and the event is stored whole in its shard and again in its
 * order's object: one larger would fail there on every retry.
 */
export const MAX_EVENT_BYTES = 1_800_000;

/** The event's stored size in bytes when it could pass MAX_EVENT_BYTES; a bound below it otherwise. */
export function storedBytes(entry: InboxAccept): number {
  const units = entry.request.length + (entry.rawBody?.length ?? 0);
  // A UTF-16 unit takes at most 3 bytes in UTF-8: most events need no encoding to be known small.
  if (units * 3 <= MAX_EVENT_BYTES) return units * 3;
  return utf8.encode(entry.request).byteLength + (entry.rawBody === null ? 0 : utf8.encode(entry.rawBody).byteLength);
}

const utf8 = new TextEncoder();

/** One event as the Worker hands it to its shard (see InboxAccept). */
export function inboxEntry(orderName: string, request: StoredIngest): InboxAccept {
  const { connectionId, raw } = request;
  const { deliveryId, eventKey } = "deferred" in request ? request.deferred : request.event;
  return {
    orderName,
    deliveryKey: `d:${connectionId}:${deliveryId}`,
    eventKey: eventKey ? `e:${connectionId}:${eventKey}` : null,
    request: JSON.stringify({ ...request, raw: { ...raw, body: null } }),
    rawBody: raw.body,
  };
}

/** An accepted event, parsed on its way to its order. */
export function storedIngest(request: string, rawBody: string | null): StoredIngest {
  const parsed = JSON.parse(request) as StoredIngest;
  // v1 rows carry the body inside `request`; later rows and calls keep it beside it.
  if (rawBody !== null) parsed.raw.body = rawBody;
  return parsed;
}
