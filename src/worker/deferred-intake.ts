/**
 * The second half of taking a delivery whose source can route it (SourceHandlers.route): its payload
 * validated and mapped after the 2xx, in its inbox shard's hand-off. Before the answer the Worker
 * checked the signature, read the order and ids, ignored test orders and stored the raw delivery
 * (guarantee 1); validating and mapping a payload took a fifth of an acknowledgement's time, and
 * nothing in the answer depends on it (a delivery Orderly cannot take is answered 200 either way).
 * Here the source parses it as it would have before the answer, with the connection's settings of
 * then; a delivery it refuses is kept as a dead letter and alerted, exactly as the webhook route
 * keeps one (docs/performance.md, "Validating and mapping after the acknowledgement").
 */
import type { IgnoredDelivery, IncomingDelivery, SourceEvent } from "../connectors/contract";
import { getConnector } from "../connectors/registry";
import { inboxEntry, MAX_EVENT_BYTES, storedBytes } from "../durable/inbox-entry";
import { type DeferredIngest, type IngestRequest, orderObjectName, type RawDelivery } from "../durable/order-types";
import { alertRefusedDelivery } from "../notifications/refused-alerts";
import { keptBefore, type Refusal, refused, resendHint, storeRefusedDelivery, tooLarge } from "./kept-deliveries";

/**
 * The events a deferred delivery holds, ready for their order's object; none when it is kept as a
 * dead letter or has nothing to book. Throws when it cannot tell yet (its body not readable from R2,
 * D1 not taking the dead letter): the shard keeps the delivery and tries again, as for any hand-off.
 */
export async function takeDeferred(env: Env, request: DeferredIngest): Promise<IngestRequest[]> {
  const { tenantId, connectionId, deferred, raw, receivedAt } = request;
  const connector = getConnector(deferred.connector);
  const source = connector?.source;
  // Only a release that no longer has the connector could meet this: kept and tried, never dropped.
  if (!connector || !source) throw new Error(`Orderly has no source connector "${deferred.connector}" to read this delivery.`);
  const body = await rawBytes(env, raw);
  if (!body) {
    // A try that kept the delivery deletes the event's copy of its body; the shard may have stopped
    // before it let go of the delivery. Kept, then: nothing to take. Else R2 cannot give it yet.
    const kept = await keptBefore(env, { tenantId, id: connectionId }, deferred.deliveryId);
    if (kept !== undefined) {
      console.warn("delivery kept before, by a try the shard did not see end", { connectionId, deadLetterId: kept });
      return [];
    }
    throw new Error(`The delivery's body is not in R2 (${raw.blobKey ?? "no key"}); trying again later.`);
  }
  // The text stored inline is the body decoded already: the source parses it as it is.
  const delivery: IncomingDelivery = {
    body,
    headers: new Headers(raw.headers),
    ...(raw.body !== null ? { text: raw.body } : {}),
  };
  let parsed: SourceEvent[] | IgnoredDelivery;
  try {
    parsed = source.parse(delivery, deferred.settings);
  } catch (error) {
    await keep(env, request, delivery, refused(error, resendHint(connector, delivery.headers)));
    return [];
  }
  if ("ignored" in parsed) {
    console.warn("delivery ignored", { connectionId, code: parsed.code, orderId: deferred.orderId, reason: parsed.reason });
    return [];
  }
  const requests = parsed.map((event): IngestRequest => ({ tenantId, connectionId, event, raw, receivedAt }));
  for (const one of requests) {
    const bytes = storedBytes(inboxEntry(orderObjectName(connectionId, one.event.orderId), one));
    if (bytes > MAX_EVENT_BYTES) {
      await keep(env, request, delivery, tooLarge(one, bytes));
      return [];
    }
  }
  return requests;
}

/** The delivery's bytes as they were signed: inline text, or the object the Worker put in R2 (null when it is not there). */
async function rawBytes(env: Env, raw: RawDelivery): Promise<Uint8Array | null> {
  if (raw.body !== null) return new TextEncoder().encode(raw.body);
  const object = raw.blobKey ? await env.BLOBS.get(raw.blobKey) : null;
  return object ? new Uint8Array(await object.arrayBuffer()) : null;
}

/** Keeps it as the webhook route keeps a delivery it cannot take, and tells the tenant (beside, best effort). */
async function keep(env: Env, request: DeferredIngest, delivery: IncomingDelivery, refusal: Refusal): Promise<void> {
  const { tenantId, connectionId, deferred, raw } = request;
  // Keyed: the shard tries the delivery again whole when it cannot tell whether this stored it (D1's
  // answer lost, or the shard stopped before it let go of the delivery), and the second try must
  // not keep it, or alert it, twice.
  const { id, order, fresh } = await storeRefusedDelivery(env, {
    connection: { tenantId, id: connectionId, connector: { id: deferred.connector } },
    body: delivery.body,
    contentType: raw.headers["content-type"] ?? "application/json",
    headers: raw.headers,
    refusal,
    verified: true,
    deliveryId: deferred.deliveryId,
  });
  console.warn("delivery kept after its acknowledgement, not taken", {
    connectionId,
    deadLetterId: id,
    code: refusal.code,
    fresh,
  });
  // A row kept before was alerted then (or is by the cron's sweep, until its alert is counted).
  if (fresh) void alertRefusedDelivery(env, { tenantId, connectionId, deadLetterId: id, order, reason: refusal.reason });
  // The dead letter keeps its own copy of a large body, as one kept before the answer does; the
  // event's copy would otherwise wait for the retention sweep. Best effort: that sweep is the backstop.
  if (raw.blobKey) {
    await env.BLOBS.delete(raw.blobKey).catch((error: unknown) =>
      console.error("an event body no event uses was not deleted; retention deletes it", {
        key: raw.blobKey,
        error: String(error),
      }),
    );
  }
}
