/**
 * POST /hooks/:connectionId: where sources deliver. It verifies the signature over the raw bytes,
 * parses, and hands each event to its order's Durable Object; it answers 2xx only after every
 * event is stored there. An unsigned or unknown delivery gets a clear 4xx and nothing is stored; a
 * failed signature on a known connection also raises a throttled alert (signature-alerts.ts).
 *
 * A signed delivery that cannot be taken for a reason retrying will not cure (connection disabled,
 * another site, unreadable or unmappable, too large, a refund a person must credit) is kept in
 * `dead_letters` with its raw body, alerted to the tenant, and answered 200, whatever the source:
 * WooCommerce never sends a delivery again, and Shopify drops it after 8 tries over ~4 hours, so a
 * non-2xx would lose the order without a trace. A failure that may pass answers an error to a source
 * that retries: the inbox not storing it, and a connection disabled for less than an hour (see
 * DISABLED_RETRY_WINDOW_MS); one that never retries (`retries: false`) gets those kept too.
 *
 * Such a kept delivery can be replayed once its cause is gone (routes/replay.ts): it runs through
 * takeDelivery below, as a new delivery does after its signature check.
 *
 * An ignored delivery (nothing to book) is answered 200 and logged; an ignored test order also
 * raises a throttled alert, since a shop whose payment provider was left in test mode would
 * otherwise lose real orders without a word.
 */
import { type Context, Hono } from "hono";
import type { IgnoredDelivery, IncomingDelivery } from "../../connectors/contract";
import { foreignSite } from "../../connectors/woocommerce";
import { database } from "../../db/client";
import { type LoadedConnection, loadSourceConnection } from "../../db/connections";
import { deadLetters } from "../../db/schema";
import { OrderlyError } from "../../domain/errors";
import {
  type AcceptResult,
  type InboxAccept,
  type InboxDO,
  inboxEntry,
  MAX_EVENT_BYTES,
  storedBytes,
} from "../../durable/inbox-do";
import { type IngestRequest, orderObjectName } from "../../durable/order-types";
import { alertRefusedDelivery, alertTestOrderIgnored } from "../../notifications/refused-alerts";
import { noteSignatureFailure } from "../../notifications/signature-alerts";
import { runtimeConfig } from "../config";
import { eventBodyKey } from "../event-bodies";
import { fnv1a } from "../fnv";
import { acceptInShard } from "../inbox-batch";
import { MAX_WEBHOOK_BYTES, readBodyLimited } from "../read-body";

export const hooks = new Hono<{ Bindings: Env }>();

/**
 * How long after its event a delivery to a disabled connection is answered 503 (the sender keeps
 * it and tries again) rather than kept as a dead letter, for a source that retries. Shopify retries
 * a failed delivery 8 times over 4 hours with exponential backoff, each time with the original
 * payload and `X-Shopify-Triggered-At` (developer changelog, 10 September 2024). So a connection
 * paused for a few minutes, or re-enabled while an isolate still serves its cached disabled entry
 * (up to 5 minutes, src/db/connections.ts), loses nothing, and Shopify's tries after the first hour
 * still find the delivery kept if the connection stays disabled.
 */
export const DISABLED_RETRY_WINDOW_MS = 60 * 60_000;

/** A trigger time this far ahead of our clock is clock skew; further ahead, it is not believed. */
const TRIGGER_CLOCK_SKEW_MS = 5 * 60_000;

/** The header naming when a source's event happened (ISO time), for sources that send one. */
const TRIGGERED_AT_HEADER: Record<string, string> = { shopify: "x-shopify-triggered-at" };

/**
 * Webhooks this isolate is answering right now, counted once their body is in: tells the inbox
 * when a burst is on (BUSY_INFLIGHT). A client that trickles its body in is not counted, so it
 * cannot make every other delivery look like a burst.
 */
let inflight = 0;

hooks.post("/:connectionId", async (c) => {
  const body = await readBodyLimited(c.req.raw, MAX_WEBHOOK_BYTES);
  inflight++;
  try {
    return await receive(c, body);
  } finally {
    inflight--;
  }
});

async function receive(c: Context<{ Bindings: Env }>, body: Uint8Array): Promise<Response> {
  const connectionId = c.req.param("connectionId") ?? "";
  const waitUntil = (promise: Promise<unknown>) => c.executionCtx.waitUntil(promise);
  const connection = await loadSourceConnection(c.env, connectionId, waitUntil);
  if (!connection?.connector.source) {
    throw new OrderlyError(`No source connection ${connectionId} exists. Check the webhook URL.`, {
      errorClass: "not_found",
      code: "connection_not_found",
    });
  }
  const source = connection.connector.source;
  const delivery: IncomingDelivery = { body, headers: c.req.raw.headers };
  if (source.isPing?.(delivery)) return c.json({ ok: true, ping: true });
  if (connection.unreadable?.parts.includes("webhookSecret")) return unverifiable(c, connection, body, source.retries !== false);
  const verified = await source.verify(delivery, connection.webhookSecret ?? "");
  if (!verified.ok) {
    // Refused and kept nowhere (the body is not trusted), but told: a secret mistyped or changed in
    // the shop fails every delivery this way, and WooCommerce never sends one again. Throttled per
    // connection and isolate, and never awaited: anyone with the URL can send these.
    noteSignatureFailure(
      c.env,
      {
        tenantId: connection.tenantId,
        connectionId: connection.id,
        sourceName: connection.name,
        connector: connection.connector.id,
        connectorName: connection.connector.name,
        reason: verified.reason,
      },
      waitUntil,
    );
    throw new OrderlyError(`Signature check failed: ${verified.reason}`, { errorClass: "auth", code: "signature_invalid" });
  }
  const taken = await takeDelivery({ env: c.env, waitUntil, connection, delivery, replay: false });
  if ("refused" in taken) return keep(c, connection, body, taken.refused, true);
  if ("ignored" in taken) return ignore(c, connection, taken.ignored);
  return c.json({ ok: true, ...taken.taken });
}

/** A genuine delivery on its way in: from the shop just now, or a kept one replayed (replay.ts). */
export interface Taking {
  env: Env;
  waitUntil: (promise: Promise<unknown>) => void;
  connection: LoadedConnection;
  /** Its signature verified against the connection's secret. */
  delivery: IncomingDelivery;
  /**
   * A person replays it: a disabled connection refuses it at once (nobody retries), and an inbox
   * failure is thrown for them to try again, never kept as another dead letter.
   */
  replay: boolean;
}

/** What became of it: handed to the inbox, nothing to book, or refused (the caller keeps or reports it). */
export type Taken = { taken: AcceptResult } | { ignored: IgnoredDelivery } | { refused: Refusal };

/**
 * Everything after the signature check, for a new delivery and a replayed one alike: the same
 * refusals, the same parsing, and the hand-over to the inbox under the delivery's own id, so the
 * order's object takes it once however often it comes. Throws what the caller answers as an error
 * (a 503 a retrying sender waits out, an inbox failure).
 */
export async function takeDelivery(t: Taking): Promise<Taken> {
  const { env, connection, delivery } = t;
  const source = connection.connector.source;
  if (!source)
    throw new OrderlyError(`Connection ${connection.id} is not a source.`, { errorClass: "validation", code: "not_a_source" });
  const retries = !t.replay && source.retries !== false;
  const { body } = delivery;
  // A paused connection's orders are kept, not processed: a 503 would only hold them at a sender
  // that retries for hours (Shopify), then lose them. A young delivery from such a sender still
  // gets the 503: the pause may end before its retries do.
  if (!connection.enabled) {
    const age = retries ? eventAge(connection, delivery.headers) : null;
    if (age !== null && age < DISABLED_RETRY_WINDOW_MS) {
      console.warn("delivery to a disabled connection answered 503; the sender retries", { connectionId: connection.id, age });
      throw new OrderlyError(
        `The connection "${connection.name}" is disabled; the sender should try again later (a delivery is kept as a dead letter once its event is over ${DISABLED_RETRY_WINDOW_MS / 60_000} minutes old).`,
        { errorClass: "unavailable", code: "connection_disabled" },
      );
    }
    return {
      refused: {
        code: "connection_disabled",
        reason: `The connection "${connection.name}" is disabled, so Orderly did not process it. Enable the connection first, then ${REPLAY}`,
      },
    };
  }
  // Only WooCommerce names the sending site; a staging copy of the shop signs with the same secret.
  const elsewhere = connection.connector.id === "woocommerce" ? foreignSite(delivery, connection.settings.storeUrl) : null;
  if (elsewhere) return { refused: { code: "wrong_site", reason: elsewhere } };

  let parsed: ReturnType<typeof source.parse>;
  try {
    parsed = source.parse(delivery, connection.settings);
  } catch (error) {
    // The same bytes fail the same way on every retry.
    return { refused: refused(error, resendHint(connection, delivery.headers)) };
  }
  if ("ignored" in parsed) return { ignored: parsed };

  const config = runtimeConfig(env);
  const headers = keptHeaders(delivery.headers);
  const receivedAt = Date.now();
  // Stored as the bytes that were signed: a body that is not strict UTF-8 goes to R2 like a large one.
  const text = body.byteLength <= config.inlineBodyLimit ? strictText(body) : null;
  const inline = text !== null;
  const events: InboxAccept[] = [];
  const blobs: string[] = [];
  for (const event of parsed) {
    const blobKey = inline
      ? null
      : await eventBodyKey({
          tenantId: connection.tenantId,
          connectionId: connection.id,
          orderId: event.orderId,
          deliveryId: event.deliveryId,
          receivedAt,
        });
    const request: IngestRequest = {
      tenantId: connection.tenantId,
      connectionId: connection.id,
      event,
      raw: { body: text, blobKey, size: body.byteLength, headers },
      receivedAt,
    };
    const entry = inboxEntry(orderObjectName(connection.id, event.orderId), request);
    // Refused before anything is stored: the shard and the order's object could not hold it.
    const bytes = storedBytes(entry);
    if (bytes > MAX_EVENT_BYTES) {
      return {
        refused: {
          // Named from the mapped event: a body this large is not parsed again for the alert.
          order: label(event.object.type === "order" ? event.object.order.source.orderNumber : event.orderId),
          code: "event_too_large",
          manual: true,
          reason: `Order ${event.orderId} is too large to store: ${Math.ceil(bytes / 1000)} KB once mapped, ${MAX_EVENT_BYTES / 1000} KB at most. Orderly cannot process it; enter it by hand in the systems it should have reached.`,
        },
      };
    }
    if (blobKey) blobs.push(blobKey);
    events.push(entry);
  }
  const contentType = delivery.headers.get("content-type") ?? "application/json";
  for (const blobKey of blobs) await env.BLOBS.put(blobKey, body, { httpMetadata: { contentType } });
  if (events.length === 0) return { taken: { accepted: 0, duplicates: 0 } };
  // All events of a delivery belong to one order, so they share a shard.
  const shard = inboxShard(events[0]?.orderName ?? connection.id, config.inboxShards);
  const accept = () =>
    acceptInShard(
      (n) => env.INBOXES.get(inboxId(env, n)),
      shard,
      events,
      () => inflight,
      t.waitUntil,
    );
  // A sender that retries (or a person replaying) gets the error: its retry is stored once the shard can take it.
  if (retries || t.replay) return { taken: await accept() };
  try {
    return { taken: await accept() };
  } catch (error) {
    // A source that never sends a delivery again would lose the order on an error answer: it is
    // kept instead (if that fails too, the error goes back, as before).
    console.error("inbox did not store a delivery; kept as a dead letter", { connectionId: connection.id, error: String(error) });
    return { refused: notStored(error) };
  }
}

/**
 * An inbox failure as a refusal. Only the shard's own answer for this delivery (`inbox_not_stored`:
 * its write was rolled back) says it was not stored. A call that timed out or failed as a whole may
 * have been stored and go on to be processed: a merchant told "not processed" would enter the order
 * by hand and have it twice.
 */
function notStored(error: unknown): Refusal {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof OrderlyError && error.code === "inbox_not_stored") {
    return {
      code: "not_stored",
      reason: `Orderly could not store this delivery just now (${message}). It is kept here, not processed: ${REPLAY}`,
    };
  }
  // A replay is safe here: a delivery already stored is not taken twice.
  return {
    code: "store_unconfirmed",
    reason: `Orderly could not confirm that it stored this delivery (${message}). It is kept here, and it may already have been stored and processed: check the order's transfers in Orderly before entering anything by hand. If it has none, ${REPLAY}`,
  };
}

/** The advice for a kept delivery that Orderly can take as it is once the cause is gone, as the end of a sentence. */
const REPLAY = "replay it in Orderly (the Replay button on this kept delivery).";

/**
 * A delivery to a source whose webhook secret cannot be read (CREDENTIALS_KEY deployed without its
 * old key, a damaged row): its signature cannot be checked, so it is never processed. A sender that
 * retries (Shopify) gets a 503 and sends it again once the key is back or the secret entered again.
 * One that never retries (WooCommerce) would lose it, and after a few failures switch the webhook
 * off: it is kept as a dead letter, marked unchecked, and answered 200.
 *
 * Nothing proves the caller is the shop, so the answer names nothing about the connection beyond the
 * id in the URL it called: not its name, nor its kind. The kept row, the alert and
 * the log carry the whole reason.
 */
function unverifiable(c: Context<{ Bindings: Env }>, connection: LoadedConnection, body: Uint8Array, retries: boolean) {
  console.error("delivery to a source whose webhook secret cannot be read", {
    connectionId: connection.id,
    connectionName: connection.name,
    reason: connection.unreadable?.reason,
  });
  const cannotRead = "Orderly cannot read the webhook secret it keeps for this connection, so";
  const repairHere = "An owner or admin must enter the webhook secret again on this connection in Orderly.";
  if (retries) {
    throw new OrderlyError(
      `${cannotRead} it cannot check this delivery's signature; the sender should try again later. ${repairHere}`,
      {
        errorClass: "unavailable",
        code: "connection_secret_unreadable",
        internal: connection.unreadable?.reason,
      },
    );
  }
  const repair = `An owner or admin must enter the webhook secret again on the connection "${connection.name}" in Orderly (or the operator put back the CREDENTIALS_KEY it was sealed with)`;
  return keep(
    c,
    connection,
    body,
    {
      code: "connection_secret_unreadable",
      reason: `${cannotRead} this delivery's signature was not checked and it was not processed: it may not even come from the shop. ${repair}; then ${REPLAY} Its signature is checked then, and only one the shop made is taken.`,
      answer: `${cannotRead} this delivery's signature was not checked and it was not processed; it is kept for the tenant to look at. ${repairHere}`,
    },
    false,
  );
}

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
 * Keeps a verified delivery (or one that cannot be checked, `unverifiable`) that cannot be taken: the raw body (inline when small, else in R2 under
 * raw/) and its headers in `dead_letters`, where the API lists them, and a throttled alert to the
 * tenant, raised beside the answer (not awaited before it); should that fail, the cron raises it, as
 * the row's `alerted_at` stays null until the alert is stored. Answered 200: a non-2xx would not bring the order back (the sender gives up or never
 * retries), and counts towards the source disabling its webhook. A kept delivery can be replayed
 * (replay.ts: `verified` says whether its signature must be checked first), so a reason whose cause
 * Orderly's side can remove says to replay it; one only the shop can fix says how to have it sent
 * again. A failure to keep it throws, and the sender gets an error (a retrying one sends it again).
 * The headers kept include the signature (keptHeaders), so an unchecked one can be checked later.
 */
async function keep(
  c: Context<{ Bindings: Env }>,
  connection: LoadedConnection,
  body: Uint8Array,
  refusal: Refusal,
  verified: boolean,
) {
  const { id, order } = await storeRefusedDelivery(c.env, {
    connection,
    body,
    contentType: c.req.header("content-type") ?? "application/json",
    headers: keptHeaders(c.req.raw.headers),
    refusal,
    verified,
  });
  console.warn("delivery kept, not taken", { connectionId: connection.id, deadLetterId: id, code: refusal.code });
  c.executionCtx.waitUntil(
    alertRefusedDelivery(c.env, {
      tenantId: connection.tenantId,
      connectionId: connection.id,
      deadLetterId: id,
      order,
      reason: refusal.reason,
    }),
  );
  return c.json({ ok: true, kept: { deadLetterId: id, code: refusal.code, reason: refusal.answer ?? refusal.reason } });
}

/**
 * Writes a refused delivery's dead letter: the raw body (inline when small and valid UTF-8, else in
 * R2 under raw/) and the headers given, as "Kept, not processed" lists and replays it. The one way
 * a refused delivery is kept, by the webhook route and by the reconciliation sweep (`extra`: what
 * that caller adds to the row's body). Returns the row's id and the order as the merchant knows it.
 */
export async function storeRefusedDelivery(
  env: Env,
  kept: {
    connection: LoadedConnection;
    body: Uint8Array;
    contentType: string;
    headers: Record<string, string>;
    refusal: Refusal;
    verified: boolean;
    reason?: string;
    extra?: Record<string, unknown>;
  },
): Promise<{ id: number; order: string | null }> {
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
    })
    .returning({ id: deadLetters.id })
    .get();
  return { id: row.id, order };
}

/**
 * How old a delivery's event is (negative within clock skew), from the source's trigger-time
 * header; null when the source sends none, or it is unreadable or far in the future.
 */
function eventAge(connection: LoadedConnection, headers: Headers): number | null {
  const name = TRIGGERED_AT_HEADER[connection.connector.id];
  const value = name ? headers.get(name)?.trim() : undefined;
  if (!value) return null;
  const at = Date.parse(value);
  const age = Date.now() - at;
  return Number.isFinite(at) && age > -TRIGGER_CLOCK_SKEW_MS ? age : null;
}

/**
 * Answers a delivery with nothing to book 200 `ignored`, and logs it. A test order is also alerted
 * (throttled per connection): a payment provider left in test mode marks real orders as tests.
 */
function ignore(c: Context<{ Bindings: Env }>, connection: LoadedConnection, ignored: IgnoredDelivery): Response {
  const { code, orderId, orderName } = ignored;
  console.warn("delivery ignored", { connectionId: connection.id, code, orderId, reason: ignored.reason });
  if (code === "test_order") {
    const name = orderName ?? orderId;
    c.executionCtx.waitUntil(
      alertTestOrderIgnored(c.env, {
        tenantId: connection.tenantId,
        connectionId: connection.id,
        order: name === undefined ? null : label(name),
        reason: ignored.reason,
      }),
    );
  }
  return c.json({ ok: true, ignored: ignored.reason });
}

/**
 * A parse failure as a refusal. A source throws class "conflict" for a delivery it read but that a
 * person must book (a Shopify refund still pending at the payment provider): its message already
 * says what to do. Anything else could not be read or mapped.
 */
function refused(error: unknown, resend: Resend): Refusal {
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
interface Resend {
  /** False when the shop never sends it again (a Shopify refund): `how` then says what to do by hand. */
  again: boolean;
  how: string;
}

/**
 * How the merchant has the shop send a kept delivery's order again, for a cause only the shop can
 * remove (a replay sends the same bytes), as the end of a sentence. Shopify sends the whole order on any edit, and Orderly catches
 * up on every stage the order has passed; it never sends a refund again.
 */
function resendHint(connection: LoadedConnection, headers: Headers): Resend {
  switch (connection.connector.id) {
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
      return { again: true, how: `send the order again from ${connection.connector.name}.` };
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
function label(name: string): string {
  return `#${name.trim().replace(/^#/, "").slice(0, 40)}`;
}

/** The body as text when it is UTF-8, else null (kept as bytes in R2 instead). */
function strictText(body: Uint8Array): string | null {
  try {
    return strictUtf8.decode(body);
  } catch {
    return null;
  }
}

// The BOM is kept (ignoreBOM: true), so the text is the body byte for byte.
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const inboxIds = new Map<number, DurableObjectId>();

/** A shard's object id, derived once per isolate (idFromName hashes the name each time). */
function inboxId(env: Env, shard: number): DurableObjectId {
  let id = inboxIds.get(shard);
  if (!id) {
    id = env.INBOXES.idFromName(`inbox-${shard}`);
    inboxIds.set(shard, id);
  }
  return id;
}

/** The inbox shard the Worker writes an order's deliveries to. */
export function inboxFor(env: Env, orderName: string): DurableObjectStub<InboxDO> {
  return env.INBOXES.get(inboxId(env, inboxShard(orderName, runtimeConfig(env).inboxShards)));
}

/** A stable shard for an order: FNV-1a of its object name. */
export function inboxShard(orderName: string, shards: number): number {
  return fnv1a(orderName) % shards;
}

/** Headers worth keeping with the event (the signature is kept: it proves what was verified). */
function keptHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name.startsWith("x-") || name === "content-type" || name === "user-agent") kept[name] = value;
  }
  return kept;
}
