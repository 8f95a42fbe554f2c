/**
 * POST /hooks/:connectionId: where sources deliver. It verifies the signature over the raw bytes,
 * parses, and hands each event to its order's Durable Object; it answers 2xx only after every
 * event is stored there. Bad input gets a clear 4xx and nothing is stored or queued.
 *
 * Except from a source that never retries (`retries: false`, WooCommerce): there a non-2xx loses
 * the order for good, and five in a row disable the webhook. A signed delivery from such a source
 * that cannot be taken (connection disabled, another site, unreadable, too large) is kept in
 * `dead_letters` with its raw body, alerted to the tenant, and answered 200.
 */
import { type Context, Hono } from "hono";
import type { IncomingDelivery } from "../../connectors/contract";
import { toHex } from "../../connectors/signatures";
import { foreignSite } from "../../connectors/woocommerce";
import { database } from "../../db/client";
import { type LoadedConnection, loadSourceConnection } from "../../db/connections";
import { deadLetters } from "../../db/schema";
import { OrderlyError } from "../../domain/errors";
import { type InboxAccept, type InboxDO, inboxEntry, MAX_EVENT_BYTES, storedBytes } from "../../durable/inbox-do";
import { type IngestRequest, orderObjectName } from "../../durable/order-types";
import { alertRefusedDelivery } from "../../notifications/refused-alerts";
import { runtimeConfig } from "../config";
import { fnv1a } from "../fnv";
import { acceptInShard } from "../inbox-batch";
import { MAX_WEBHOOK_BYTES, readBodyLimited } from "../read-body";

export const hooks = new Hono<{ Bindings: Env }>();

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
  const connection = await loadSourceConnection(c.env, connectionId, (promise) => c.executionCtx.waitUntil(promise));
  if (!connection?.connector.source) {
    throw new OrderlyError(`No source connection ${connectionId} exists. Check the webhook URL.`, {
      errorClass: "not_found",
      code: "connection_not_found",
    });
  }
  const source = connection.connector.source;
  const keeps = source.retries === false;
  const delivery: IncomingDelivery = { body, headers: c.req.raw.headers };
  if (source.isPing?.(delivery)) return c.json({ ok: true, ping: true });
  if (!connection.enabled && !keeps) {
    // 503 keeps the event at the sender, which retries; a disabled connection must not lose orders.
    throw new OrderlyError(`Connection "${connection.name}" is disabled; the sender should retry later.`, {
      errorClass: "unavailable",
      code: "connection_disabled",
    });
  }
  const verified = await source.verify(delivery, connection.webhookSecret ?? "");
  if (!verified.ok)
    throw new OrderlyError(`Signature check failed: ${verified.reason}`, { errorClass: "auth", code: "signature_invalid" });

  // From here the delivery is genuine. A paused connection's orders are kept, not processed.
  if (!connection.enabled) {
    return keep(c, connection, body, {
      code: "connection_disabled",
      reason: `The connection "${connection.name}" is disabled, so the order was not processed. Enable the connection in Orderly, then send the order again from the shop (in WooCommerce: open the order and click Update, which sends order.updated).`,
    });
  }
  // Only WooCommerce names the sending site; a staging copy of the shop signs with the same secret.
  const elsewhere = connection.connector.id === "woocommerce" ? foreignSite(delivery, connection.settings.storeUrl) : null;
  if (elsewhere) return keep(c, connection, body, { code: "wrong_site", reason: elsewhere });

  let parsed: ReturnType<typeof source.parse>;
  try {
    parsed = source.parse(delivery);
  } catch (error) {
    if (!keeps) throw error;
    return keep(c, connection, body, unreadable(error));
  }
  if ("ignored" in parsed) return c.json({ ok: true, ignored: parsed.reason });

  const config = runtimeConfig(c.env);
  const headers = keptHeaders(c.req.raw.headers);
  const receivedAt = Date.now();
  const inline = body.byteLength <= config.inlineBodyLimit;
  const text = inline ? utf8.decode(body) : null;
  const events: InboxAccept[] = [];
  const blobs: string[] = [];
  for (const event of parsed) {
    const blobKey = inline ? null : `raw/${connection.tenantId}/${connection.id}/${await blobName(event.deliveryId)}`;
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
      const tooLarge = `Order ${event.orderId} is too large to store: ${Math.ceil(bytes / 1000)} KB once mapped, ${MAX_EVENT_BYTES / 1000} KB at most.`;
      if (keeps) {
        return keep(c, connection, body, {
          code: "event_too_large",
          reason: `${tooLarge} Orderly cannot process it; enter it by hand in the systems it should have reached.`,
        });
      }
      throw new OrderlyError(`${tooLarge} Nothing was stored.`, { errorClass: "too_large", code: "event_too_large" });
    }
    if (blobKey) blobs.push(blobKey);
    events.push(entry);
  }
  for (const blobKey of blobs)
    await c.env.BLOBS.put(blobKey, body, { httpMetadata: { contentType: c.req.header("content-type") ?? "application/json" } });
  // All events of a delivery belong to one order, so they share a shard.
  const shard = inboxShard(events[0]?.orderName ?? connection.id, config.inboxShards);
  const accept = () =>
    acceptInShard(
      (n) => c.env.INBOXES.get(inboxId(c.env, n)),
      shard,
      events,
      () => inflight,
      (call) => c.executionCtx.waitUntil(call),
    );
  if (events.length === 0) return c.json({ ok: true, accepted: 0, duplicates: 0 });
  if (!keeps) return c.json({ ok: true, ...(await accept()) });
  try {
    return c.json({ ok: true, ...(await accept()) });
  } catch (error) {
    // A source that never sends a delivery again would lose the order on an error answer: it is
    // kept instead (if that fails too, the error goes back, as before).
    console.error("inbox did not store a delivery; kept as a dead letter", { connectionId: connection.id, error: String(error) });
    return keep(c, connection, body, {
      code: "not_stored",
      reason: `Orderly could not store this delivery just now (${error instanceof Error ? error.message : String(error)}). It is kept here, not processed: re-save the order in WooCommerce (open it, Update) to send it again.`,
    });
  }
}

/** Why a verified delivery was not taken, in words the merchant can act on. */
interface Refusal {
  code: string;
  reason: string;
}

/**
 * Keeps a verified delivery that cannot be taken, from a source that will not send it again: the raw
 * body (inline when small, else in R2 under raw/) and its headers in `dead_letters`, where the API
 * lists them, and a throttled alert to the tenant. Answered 200: a non-2xx would not bring the order
 * back, and would count towards the source disabling its webhook. A failure to keep it throws, and
 * the sender gets an error it can at least show.
 */
async function keep(c: Context<{ Bindings: Env }>, connection: LoadedConnection, body: Uint8Array, refusal: Refusal) {
  const receivedAt = Date.now();
  const text = body.byteLength <= runtimeConfig(c.env).inlineBodyLimit ? strictText(body) : null;
  const blobKey =
    text === null ? `raw/${connection.tenantId}/${connection.id}/refused-${receivedAt}-${crypto.randomUUID()}` : null;
  if (blobKey)
    await c.env.BLOBS.put(blobKey, body, { httpMetadata: { contentType: c.req.header("content-type") ?? "application/json" } });
  const order = orderLabel(text ?? (body.byteLength <= MAX_EVENT_BYTES ? strictText(body) : null));
  const row = await database(c.env)
    .insert(deadLetters)
    .values({
      transferId: null,
      tenantId: connection.tenantId,
      body: {
        kind: "refused_delivery",
        code: refusal.code,
        connectionId: connection.id,
        connector: connection.connector.id,
        order,
        receivedAt,
        headers: keptHeaders(c.req.raw.headers),
        raw: { body: text, blobKey, size: body.byteLength },
      },
      reason: refusal.reason,
      createdAt: receivedAt,
    })
    .returning({ id: deadLetters.id })
    .get();
  console.warn("delivery kept, not taken", { connectionId: connection.id, deadLetterId: row.id, code: refusal.code });
  c.executionCtx.waitUntil(
    alertRefusedDelivery(c.env, {
      tenantId: connection.tenantId,
      connectionId: connection.id,
      deadLetterId: row.id,
      order,
      reason: refusal.reason,
    }),
  );
  return c.json({ ok: true, kept: { deadLetterId: row.id, code: refusal.code, reason: refusal.reason } });
}

/** A parse or mapping failure as a refusal; a mapping failure's detail names the field (our own bug). */
function unreadable(error: unknown): Refusal {
  const known = error instanceof OrderlyError;
  const detail = known && error.internal ? ` (${error.internal})` : "";
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: known ? error.code : "parse_failed",
    reason: `Orderly could not read it: ${message}${detail} Correct the order in the shop (or, when Orderly could not map it, tell the Orderly operator), then send it again (in WooCommerce: open the order and click Update); or enter it by hand.`,
  };
}

/** The order a body names (`#number`, else its id), for the alert; null when the body does not say. */
function orderLabel(text: string | null): string | null {
  if (text === null) return null;
  try {
    const json: unknown = JSON.parse(text);
    if (json === null || typeof json !== "object") return null;
    const { number, id } = json as Record<string, unknown>;
    const name = [number, id].find((v) => (typeof v === "string" && v.trim() !== "") || typeof v === "number");
    return name === undefined ? null : `#${String(name).trim().slice(0, 40)}`;
  } catch {
    return null;
  }
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

/**
 * The delivery id as an R2 object name. The id is whatever text the sender put in a header, and R2
 * names are at most 1,024 bytes: a long (or not well-formed) id is named by its SHA-256 instead.
 */
async function blobName(deliveryId: string): Promise<string> {
  const readable = deliveryId.isWellFormed() ? encodeURIComponent(deliveryId) : "";
  if (readable.length > 0 && readable.length <= 200) return readable;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(deliveryId));
  return `sha256-${toHex(new Uint8Array(digest))}`;
}

const utf8 = new TextDecoder();
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
