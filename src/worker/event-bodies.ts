/**
 * Where a webhook's raw body is kept in R2 when it is too large to keep inline, and how retention
 * deletes the bodies no transfer names (every flow ignored the event, or none existed).
 *
 * Layout: `raw/<tenant>/days/<yyyy-mm-dd>/<connection>/<order>/<delivery>`, each part URI-encoded
 * (a long order or delivery id hashed), the day being the UTC day it was received. The day lets
 * retention list a tenant's expired bodies by prefix, oldest first, instead of all of them; the
 * order lets it find the transfers that could name one through `transfers_tenant_order`, as the
 * snapshots have no index by R2 key.
 *
 * Releases before wrote `raw/<tenant>/<connection>/<delivery>`, and a refused delivery's body is
 * still `raw/<tenant>/<connection>/refused-...` (its dead letter names it). Both are read wherever a
 * row names them and deleted with the transfers or dead letters naming them, as before; this sweep
 * never lists them: nothing says which order an old key belongs to.
 */
import { toHex } from "../connectors/signatures";

const DAY_MS = 86_400_000;
/** The longest readable order or delivery part; a longer one is hashed, so a key stays far under R2's 1,024 bytes. */
const READABLE_MAX = 200;
const HASHED = /^sha256-[0-9a-f]{64}$/;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
/** Keys a listing returns at most (R2's maximum; a delete takes as many). */
const LIST_LIMIT = 1000;

/** A part that is readable when it can be, else its hash (ids are the sender's, of any length). */
async function part(value: string): Promise<string> {
  const readable = value.isWellFormed() ? encodeURIComponent(value) : "";
  if (readable.length > 0 && readable.length <= READABLE_MAX) return readable;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return `sha256-${toHex(new Uint8Array(digest))}`;
}

/** Every event body of the tenant in this layout starts with it. */
export function eventBodyPrefix(tenantId: string): string {
  return `raw/${encodeURIComponent(tenantId)}/days/`;
}

/** The R2 key of an event's raw body (src/worker/routes/hooks.ts writes it once per event). */
export async function eventBodyKey(at: {
  tenantId: string;
  connectionId: string;
  orderId: string;
  deliveryId: string;
  receivedAt: number;
}): Promise<string> {
  const day = new Date(at.receivedAt).toISOString().slice(0, 10);
  return `${eventBodyPrefix(at.tenantId)}${day}/${encodeURIComponent(at.connectionId)}/${await part(at.orderId)}/${await part(at.deliveryId)}`;
}

/**
 * A key of this layout: its day and its order (null when the order was hashed and so is not
 * known). Null for a key that is not of this layout.
 */
export function parseEventBodyKey(tenantId: string, key: string): { day: string; orderId: string | null } | null {
  const prefix = eventBodyPrefix(tenantId);
  if (!key.startsWith(prefix)) return null;
  const parts = key.slice(prefix.length).split("/");
  if (parts.length !== 4) return null;
  const [day, , order] = parts as [string, string, string, string];
  if (!ISO_DAY.test(day)) return null;
  if (HASHED.test(order)) return { day, orderId: null };
  try {
    return { day, orderId: decodeURIComponent(order) };
  } catch {
    return null;
  }
}

/**
 * The bodies of a page that a transfer still names (its received snapshot), any transfer of the
 * same orders: one still kept, or one expired whose turn has not come (transfer retention deletes
 * the body with the last of them). Read through the order's index, then each transfer's snapshots.
 */
export const NAMED_BODIES = `SELECT DISTINCT s.blob_key AS key FROM transfers t JOIN snapshots s ON s.transfer_id = t.id
  WHERE t.tenant_id = ?1 AND t.order_id IN (SELECT value FROM json_each(?2)) AND s.blob_key IN (SELECT value FROM json_each(?3))`;

/** Where a tenant's sweep goes on from (an `alert_state` cursor, src/worker/retention.ts). */
export interface BodyCursor {
  /**
   * The expiry boundary (a UTC midnight) the last listing reached the end of: until the boundary
   * moves on (once a day) there is nothing new to list, so a quiet tenant costs one listing a day.
   */
  through: number;
  /** The last key looked at; the next listing starts after it (R2 lists keys in order, so by day). */
  after: string;
}

export const NO_BODY_CURSOR: BodyCursor = { through: 0, after: "" };

/**
 * One page of the tenant's bodies received on days that ended before `now - keepDays`, deleted
 * unless a transfer names one. Null when there was nothing to list; else the cursor to store and
 * how many were deleted. `spend` counts the one D1 query it may make, before it is made.
 */
export async function sweepEventBodies(
  env: Pick<Env, "DB" | "BLOBS">,
  tenantId: string,
  keepDays: number,
  now: number,
  cursor: BodyCursor,
  spend: () => void,
): Promise<{ cursor: BodyCursor; deleted: number } | null> {
  // Whole days only: a body is kept at least keepDays, and at most one day more.
  const boundary = Math.floor((now - keepDays * DAY_MS) / DAY_MS) * DAY_MS;
  if (cursor.through >= boundary) return null;
  const lastDay = new Date(boundary).toISOString().slice(0, 10);
  const listed = await env.BLOBS.list({
    prefix: eventBodyPrefix(tenantId),
    limit: LIST_LIMIT,
    ...(cursor.after ? { startAfter: cursor.after } : {}),
  });
  const expired: Array<{ key: string; orderId: string | null }> = [];
  let reachedYoung = false;
  for (const object of listed.objects) {
    const parsed = parseEventBodyKey(tenantId, object.key);
    // Not of this layout: passed over, never deleted.
    if (!parsed) {
      expired.push({ key: object.key, orderId: null });
      continue;
    }
    if (parsed.day >= lastDay) {
      reachedYoung = true;
      break;
    }
    expired.push({ key: object.key, orderId: parsed.orderId });
  }
  // A hashed order cannot be looked up: such a body is kept (rare: an order id over 200 characters).
  const candidates = expired.filter((e): e is { key: string; orderId: string } => e.orderId !== null);
  let deleted = 0;
  if (candidates.length > 0) {
    spend();
    const named = await env.DB.prepare(NAMED_BODIES)
      .bind(
        tenantId,
        JSON.stringify([...new Set(candidates.map((c) => c.orderId))]),
        JSON.stringify(candidates.map((c) => c.key)),
      )
      .all<{ key: string }>();
    const kept = new Set(named.results.map((r) => r.key));
    const doomed = candidates.filter((c) => !kept.has(c.key)).map((c) => c.key);
    if (doomed.length > 0) await env.BLOBS.delete(doomed);
    deleted = doomed.length;
  }
  return {
    cursor: {
      // The listing may return fewer keys than asked even when more follow: `truncated` says so.
      // An empty page that says so anyway would be listed again every run: the day is done.
      through: reachedYoung || !listed.truncated || listed.objects.length === 0 ? boundary : cursor.through,
      after: expired.at(-1)?.key ?? cursor.after,
    },
    deleted,
  };
}
