/**
 * POST /hooks/:connectionId: where sources deliver. It verifies the signature over the raw bytes,
 * parses, and hands each event to its order's Durable Object; it answers 2xx only after every
 * event is stored there. Bad input gets a clear 4xx and nothing is stored or queued.
 */
import { type Context, Hono } from "hono";
import type { IncomingDelivery } from "../../connectors/contract";
import { toHex } from "../../connectors/signatures";
import { loadSourceConnection } from "../../db/connections";
import { OrderlyError } from "../../domain/errors";
import { type InboxAccept, type InboxDO, inboxEntry, MAX_EVENT_BYTES, storedBytes } from "../../durable/inbox-do";
import { type IngestRequest, orderObjectName } from "../../durable/order-types";
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
  const delivery: IncomingDelivery = { body, headers: c.req.raw.headers };
  if (source.isPing?.(delivery)) return c.json({ ok: true, ping: true });
  if (!connection.enabled) {
    // 503 keeps the event at the sender, which retries; a disabled connection must not lose orders.
    throw new OrderlyError(`Connection "${connection.name}" is disabled; the sender should retry later.`, {
      errorClass: "unavailable",
      code: "connection_disabled",
    });
  }
  const verified = await source.verify(delivery, connection.webhookSecret ?? "");
  if (!verified.ok)
    throw new OrderlyError(`Signature check failed: ${verified.reason}`, { errorClass: "auth", code: "signature_invalid" });

  const parsed = source.parse(delivery);
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
      throw new OrderlyError(
        `Order ${event.orderId} is too large to store: ${Math.ceil(bytes / 1000)} KB once mapped, ${MAX_EVENT_BYTES / 1000} KB at most. Nothing was stored.`,
        { errorClass: "too_large", code: "event_too_large" },
      );
    }
    if (blobKey) blobs.push(blobKey);
    events.push(entry);
  }
  for (const blobKey of blobs)
    await c.env.BLOBS.put(blobKey, body, { httpMetadata: { contentType: c.req.header("content-type") ?? "application/json" } });
  // All events of a delivery belong to one order, so they share a shard.
  const shard = inboxShard(events[0]?.orderName ?? connection.id, config.inboxShards);
  const result =
    events.length > 0
      ? await acceptInShard(
          (n) => c.env.INBOXES.get(inboxId(c.env, n)),
          shard,
          events,
          () => inflight,
          (call) => c.executionCtx.waitUntil(call),
        )
      : { accepted: 0, duplicates: 0 };
  return c.json({ ok: true, ...result });
}

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
