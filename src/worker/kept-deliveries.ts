/**
 * Deliveries Orderly keeps instead of taking: why (a Refusal with a reason a merchant can act on),
 * how the shop sends one again, and the dead letter that holds its raw body. Used by the webhook
 * route before its answer, by the inbox after it (a delivery whose payload was validated and mapped
 * after the acknowledgement, src/worker/deferred-intake.ts) and by the reconciliation sweep.
 */

import { and, eq } from "drizzle-orm";
import { strictText } from "../connectors/payload";
import { database } from "../db/client";
import type { LoadedConnection } from "../db/connections";
import { deadLetters } from "../db/schema";
import { OrderlyError } from "../domain/errors";
import { MAX_EVENT_BYTES } from "../durable/inbox-entry";
import type { StoredIngest } from "../durable/order-types";
import { runtimeConfig } from "./config";

/** What a dead letter names of the connection it came to. */
export type KeptFor = Pick<LoadedConnection, "tenantId" | "id"> & { connector: Pick<LoadedConnection["connector"], "id"> };

/** The advice for a kept delivery that Orderly can take as it is once the cause is gone, as the end of a sentence. */
export const REPLAY = "replay it in Orderly (the Replay button on this kept delivery).";

export interface Refusal {
  code: string;
  reason: string;
  /** The reason the HTTP answer gives, when the caller may not read the stored one (an unchecked delivery). */
  answer?: string;
  /** The order as the merchant knows it, when already known; else read from the body. */
  order?: string | null;
  /**
   * The reason tells the merchant to book or enter it by hand (perhaps as one choice of two): a bulk
   * replay leaves such a row out, so it cannot book again what they entered (replay.ts).
   */
  manual?: boolean;
}

/**
 * Writes a refused delivery's dead letter: the raw body (inline when small and valid UTF-8, else in
 * R2 under raw/) and the headers given, as "Kept, not processed" lists and replays it. The one way
 * a refused delivery is kept, by the webhook route, the inbox's hand-off (deferred-intake.ts) and
 * the reconciliation sweep (`extra`: what that caller adds to the row's body). Returns the row's id and the order as the merchant knows it.
 */
export async function storeRefusedDelivery(
  env: Env,
  kept: {
    connection: KeptFor;
    body: Uint8Array;
    contentType: string;
    headers: Record<string, string>;
    refusal: Refusal;
    verified: boolean;
    reason?: string;
    extra?: Record<string, unknown>;
    /**
     * The sender's id of the delivery, for a caller that may keep the same delivery twice (the
     * sender sends it again, or the inbox tries it again when it cannot tell whether the first try
     * stored it): a second keeping finds the first row instead of adding one, and says so
     * (`fresh: false`). Only for a verified delivery, whose ids a stranger cannot choose.
     */
    deliveryId?: string;
  },
): Promise<{ id: number; order: string | null; fresh: boolean }> {
  const { connection, body, refusal } = kept;
  const receivedAt = Date.now();
  const text = body.byteLength <= runtimeConfig(env).inlineBodyLimit ? strictText(body) : null;
  const blobKey =
    text === null ? `raw/${connection.tenantId}/${connection.id}/refused-${receivedAt}-${crypto.randomUUID()}` : null;
  if (blobKey) await env.BLOBS.put(blobKey, body, { httpMetadata: { contentType: kept.contentType } });
  const order =
    refusal.order ?? orderLabel(connection.connector.id, text ?? (body.byteLength <= MAX_EVENT_BYTES ? strictText(body) : null));
  const row = await database(env)
    .insert(deadLetters)
    .values({
      transferId: null,
      tenantId: connection.tenantId,
      body: {
        kind: "refused_delivery",
        code: refusal.code,
        verified: kept.verified,
        manual: refusal.manual === true,
        connectionId: connection.id,
        connector: connection.connector.id,
        order,
        ...kept.extra,
        receivedAt,
        headers: kept.headers,
        raw: { body: text, blobKey, size: body.byteLength },
      },
      reason: kept.reason ?? refusal.reason,
      createdAt: receivedAt,
      deliveryKey: kept.deliveryId === undefined ? null : deliveryKey(connection.id, kept.deliveryId),
    })
    // The key's index is the table's one uniqueness a new row can meet (its id is new).
    .onConflictDoNothing()
    .returning({ id: deadLetters.id })
    .get();
  if (row) return { id: row.id, order, fresh: true };
  // Kept before, by a try that could not tell it had: the first row stands, with its own copy.
  if (blobKey) await env.BLOBS.delete(blobKey).catch(() => undefined);
  const first = await keptBefore(env, connection, kept.deliveryId!);
  if (first === undefined) throw new Error("A kept delivery's row was neither written nor found; trying again.");
  return { id: first, order, fresh: false };
}

/** The dead letter that keeps a connection's delivery under its id (storeRefusedDelivery's `deliveryId`), if any. */
export async function keptBefore(
  env: Env,
  connection: Pick<KeptFor, "tenantId" | "id">,
  deliveryId: string,
): Promise<number | undefined> {
  const row = await database(env)
    .select({ id: deadLetters.id })
    .from(deadLetters)
    .where(
      and(eq(deadLetters.tenantId, connection.tenantId), eq(deadLetters.deliveryKey, deliveryKey(connection.id, deliveryId))),
    )
    .get();
  return row?.id;
}

/** `dead_letters.delivery_key`: the same for a delivery kept before its answer and after it. */
function deliveryKey(connectionId: string, deliveryId: string): string {
  return `${connectionId}:${deliveryId}`;
}

/**
 * A parse failure as a refusal. A source throws class "conflict" for a delivery it read but that a
 * person must book (a Shopify refund still pending at the payment provider): its message already
 * says what to do. Anything else could not be read or mapped.
 */
export function refused(error: unknown, resend: Resend): Refusal {
  if (error instanceof OrderlyError && error.errorClass === "conflict")
    return { code: error.code, reason: error.message, manual: true };
  return unreadable(error, resend);
}

/**
 * A parse or mapping failure as a refusal. A payload the schema refuses names the field (a plugin's
 * odd value, or a field a new API version changed): corrected in the shop, it comes as a new
 * delivery. A mapping failure is Orderly's own bug: once the operator fixes it, the kept delivery
 * passes as it is, replayed.
 */
function unreadable(error: unknown, resend: Resend): Refusal {
  const known = error instanceof OrderlyError;
  const detail = known && error.internal ? ` (${error.internal})` : "";
  const message = error instanceof Error ? error.message : String(error);
  const ours = !known || error.errorClass === "internal";
  const fix = ours
    ? `This is a fault in Orderly, not in the order: tell the Orderly operator, and once it is fixed, ${REPLAY} Or enter it by hand.`
    : !resend.again
      ? resend.how
      : `Correct what is named above in the shop, then ${resend.how} (If the shop sent it as it should, tell the Orderly operator; once Orderly is fixed, ${REPLAY}) Or enter the order by hand.`;
  // Every branch offers entering it by hand (a Shopify refund: only that).
  return {
    code: known ? error.code : "parse_failed",
    reason: `Orderly could not read it: ${message}${detail} ${fix}`,
    manual: true,
  };
}

/** How a kept delivery's order reaches Orderly again, as the end of a sentence. */
export interface Resend {
  /** False when the shop never sends it again (a Shopify refund): `how` then says what to do by hand. */
  again: boolean;
  how: string;
}

/**
 * How the merchant has the shop send a kept delivery's order again, for a cause only the shop can
 * remove (a replay sends the same bytes), as the end of a sentence. Shopify sends the whole order on any edit, and Orderly catches
 * up on every stage the order has passed; it never sends a refund again.
 */
export function resendHint(connector: { id: string; name: string }, headers: Headers): Resend {
  switch (connector.id) {
    case "woocommerce":
      return {
        again: true,
        how: "send the order again from the shop (in WooCommerce: open the order and click Update, which sends order.updated).",
      };
    case "shopify":
      return headers.get("x-shopify-topic")?.trim() === "refunds/create"
        ? {
            again: false,
            how: "book this refund by hand where it should have gone: Shopify does not send a refund again (the kept delivery's body shows its lines and amounts).",
          }
        : {
            again: true,
            how: "send the order again from Shopify: in Shopify admin, open the order and add a tag (or edit its note), which makes Shopify send orders/updated with the whole order.",
          };
    default:
      return { again: true, how: `send the order again from ${connector.name}.` };
  }
}

/** Fields naming the order in a source's body, best first; each as the merchant sees it in the shop. */
const ORDER_FIELDS: Record<string, readonly string[]> = {
  // `name` is "#1001" as Shopify admin shows it; `number` there is an internal count. A refund names its order by id.
  shopify: ["name", "order_number", "order_id", "id"],
};

/** The order a body names (`#1001`, else its id), for the alert; null when the body does not say. */
function orderLabel(connector: string, text: string | null): string | null {
  if (text === null) return null;
  try {
    const json: unknown = JSON.parse(text);
    if (json === null || typeof json !== "object") return null;
    const fields = json as Record<string, unknown>;
    const name = (ORDER_FIELDS[connector] ?? ["number", "id"])
      .map((field) => fields[field])
      .find((v) => (typeof v === "string" && v.trim() !== "") || typeof v === "number");
    return name === undefined ? null : label(String(name));
  } catch {
    return null;
  }
}

/** `#1001`, whether or not the source's own name for the order starts with #. */
export function label(name: string): string {
  return `#${name.trim().replace(/^#/, "").slice(0, 40)}`;
}

/** Headers worth keeping with the event (the signature is kept: it proves what was verified). */
export function keptHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name.startsWith("x-") || name === "content-type" || name === "user-agent") kept[name] = value;
  }
  return kept;
}

/** An event too large for its shard and its order's object to hold, refused before it is stored. */
export function tooLarge(request: StoredIngest, bytes: number): Refusal {
  const deferred = "deferred" in request ? request.deferred : null;
  const event = "event" in request ? request.event : null;
  const kb = `${Math.ceil(bytes / 1000)} KB ${deferred ? "as received" : "once mapped"}`;
  const orderId = deferred?.orderId ?? event?.orderId ?? "";
  // Named from the event or its route: a body this large is not parsed again for the alert.
  const name = event?.object.type === "order" ? event.object.order.source.orderNumber : deferred?.orderName;
  return {
    order: label(name ?? orderId),
    code: "event_too_large",
    manual: true,
    reason: `Order ${orderId} is too large to store: ${kb}, ${MAX_EVENT_BYTES / 1000} KB at most. Orderly cannot process it; enter it by hand in the systems it should have reached.`,
  };
}
