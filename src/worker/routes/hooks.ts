/**
 * POST /hooks/:connectionId: where sources deliver. It verifies the signature over the raw bytes,
 * parses (for a source that can route a delivery, only as far as its order and ids: the payload is
 * validated and mapped after the answer, src/worker/deferred-intake.ts), and hands each event to
 * its order's inbox shard; it answers 2xx only after every event is stored there. An unsigned or unknown delivery gets a clear 4xx and nothing is stored; a
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
import type { IgnoredDelivery, IncomingDelivery, RoutedDelivery, SourceEvent } from "../../connectors/contract";
import { strictText } from "../../connectors/payload";
import { foreignSite } from "../../connectors/woocommerce";
import { type LoadedConnection, loadSourceConnection } from "../../db/connections";
import { OrderlyError } from "../../domain/errors";
import type { AcceptResult, InboxDO } from "../../durable/inbox-do";
import { type InboxAccept, inboxEntry, MAX_EVENT_BYTES, storedBytes } from "../../durable/inbox-entry";
import { orderObjectName, type StoredIngest } from "../../durable/order-types";
import { alertRefusedDelivery, alertTestOrderIgnored } from "../../notifications/refused-alerts";
import { noteSignatureFailure } from "../../notifications/signature-alerts";
import { runtimeConfig } from "../config";
import { eventBodyKey } from "../event-bodies";
import { fnv1a } from "../fnv";
import { acceptInShard } from "../inbox-batch";
import {
  keptHeaders,
  label,
  REPLAY,
  type Refusal,
  refused,
  resendHint,
  storeRefusedDelivery,
  tooLarge,
} from "../kept-deliveries";
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
   * A person replays it: a disabled connection refuses it at once (nobody retries), its payload is
   * parsed before the answer (they see the outcome), and an inbox failure is thrown for them to try
   * again, never kept as another dead letter.
   */
  replay: boolean;
}

/** What became of it: handed to the inbox, nothing to book, or refused (the caller keeps or reports it). */
export type Taken = { taken: AcceptResult } | { ignored: IgnoredDelivery } | { refused: Refusal };

/**
 * Everything after the signature check, for a new delivery and a replayed one alike: the same
 * refusals, the same parsing (a new one's payload, when its source can route it, after the answer),
 * and the hand-over to the inbox under the delivery's own id, so the
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

  // A source that can route a delivery has its payload validated and mapped after the answer, in
  // the inbox's hand-off (src/worker/deferred-intake.ts); a person replaying one gets it at once.
  const route = t.replay ? undefined : source.route;
  // Decoded once: the source parses this text, and a small body is stored as it.
  const text = delivery.text !== undefined ? delivery.text : strictText(body);
  const decoded: IncomingDelivery = { ...delivery, text };
  let units: Array<SourceEvent | RoutedDelivery>;
  try {
    const read = route ? route(decoded, connection.settings) : source.parse(decoded, connection.settings);
    if ("ignored" in read) return { ignored: read };
    units = Array.isArray(read) ? read : [read];
  } catch (error) {
    // The same bytes fail the same way on every retry.
    return { refused: refused(error, resendHint(connection.connector, delivery.headers)) };
  }

  const config = runtimeConfig(env);
  const headers = keptHeaders(delivery.headers);
  const receivedAt = Date.now();
  // Stored as the bytes that were signed: a body that is not strict UTF-8 goes to R2 like a large one.
  const inlineText = body.byteLength <= config.inlineBodyLimit ? text : null;
  const inline = inlineText !== null;
  const events: InboxAccept[] = [];
  const blobs: string[] = [];
  for (const unit of units) {
    const blobKey = inline
      ? null
      : await eventBodyKey({
          tenantId: connection.tenantId,
          connectionId: connection.id,
          orderId: unit.orderId,
          deliveryId: unit.deliveryId,
          receivedAt,
        });
    const base = {
      tenantId: connection.tenantId,
      connectionId: connection.id,
      raw: { body: inlineText, blobKey, size: body.byteLength, headers },
      receivedAt,
    };
    const request: StoredIngest =
      "object" in unit
        ? { ...base, event: unit }
        : { ...base, deferred: { ...unit, connector: connection.connector.id, settings: connection.settings } };
    const entry = inboxEntry(orderObjectName(connection.id, unit.orderId), request);
    // Refused before anything is stored: the shard and the order's object could not hold it.
    const bytes = storedBytes(entry);
    if (bytes > MAX_EVENT_BYTES) return { refused: tooLarge(request, bytes) };
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
  // A verified delivery the sender sends again (our answer lost or late) finds the row kept the
  // first time, and is answered with it, not kept and alerted twice.
  const retry = verified ? connection.connector.source?.retryKey?.(c.req.raw.headers) : undefined;
  const { id, order, fresh } = await storeRefusedDelivery(c.env, {
    connection,
    body,
    contentType: c.req.header("content-type") ?? "application/json",
    headers: keptHeaders(c.req.raw.headers),
    refusal,
    verified,
    ...(retry === undefined ? {} : { deliveryId: retry }),
  });
  console.warn("delivery kept, not taken", { connectionId: connection.id, deadLetterId: id, code: refusal.code, fresh });
  if (fresh)
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
