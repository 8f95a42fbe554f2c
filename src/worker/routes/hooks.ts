/**
 * POST /hooks/:connectionId: where sources deliver. It verifies the signature over the raw bytes,
 * parses, and hands each event to its order's Durable Object; it answers 2xx only after every
 * event is stored there. Bad input gets a clear 4xx and nothing is stored or queued.
 */
import { Hono } from "hono";
import type { IncomingDelivery } from "../../connectors/contract";
import { toHex } from "../../connectors/signatures";
import { loadSourceConnection } from "../../db/connections";
import { OrderlyError } from "../../domain/errors";
import { type IngestResult, orderObjectName, orderStub } from "../../durable/order-types";
import { runtimeConfig } from "../config";
import { MAX_WEBHOOK_BYTES, readBodyLimited } from "../read-body";

export const hooks = new Hono<{ Bindings: Env }>();

hooks.post("/:connectionId", async (c) => {
  const connectionId = c.req.param("connectionId");
  const body = await readBodyLimited(c.req.raw, MAX_WEBHOOK_BYTES);
  const connection = await loadSourceConnection(c.env, connectionId);
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
  const results: IngestResult[] = [];
  for (const event of parsed) {
    const inline = body.byteLength <= config.inlineBodyLimit;
    const blobKey = inline ? null : `raw/${connection.tenantId}/${connection.id}/${await blobName(event.deliveryId)}`;
    if (blobKey)
      await c.env.BLOBS.put(blobKey, body, { httpMetadata: { contentType: c.req.header("content-type") ?? "application/json" } });
    const order = orderStub(c.env, orderObjectName(connection.id, event.orderId));
    results.push(
      await order.ingest({
        tenantId: connection.tenantId,
        connectionId: connection.id,
        event,
        raw: { body: inline ? new TextDecoder().decode(body) : null, blobKey, size: body.byteLength, headers },
        receivedAt,
      }),
    );
  }
  const duplicates = results.filter((r) => r.duplicate).length;
  return c.json({ ok: true, accepted: results.length - duplicates, duplicates });
});

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

/** Headers worth keeping with the event (the signature is kept: it proves what was verified). */
function keptHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (name.startsWith("x-") || name === "content-type" || name === "user-agent") kept[name] = value;
  }
  return kept;
}
