/**
 * Orders that reached a stage while their source had no enabled flow at all (`unplanned_orders`):
 * the order object records them (OrderDO.plan), the Flows page and /api/v1/unplanned-orders list
 * them, and running their flows (OrderDO.planReached) removes each stage an enabled flow was planned
 * for (the row goes with its last); a person dismisses the orders booked by hand. Each entry of
 * `stages` is a stage, or `<stage>:<occurrence>` for one with an occurrence (a refund's id, a
 * cancellation after a reopening): planReached plans exactly those, not what the order reached
 * while flows were on. Every query here is scoped by tenant except the object's own upsert (its
 * connection is its tenant's).
 */
import { and, desc, eq, lt, or, type SQL, sql } from "drizzle-orm";
import { STAGES } from "../domain/stage";
import { database } from "./client";
import { encodeCursor } from "./cursor";
import { unplannedOrders } from "./schema";

export type UnplannedOrderRow = typeof unplannedOrders.$inferSelect;

/** An order as the API names it: its object's name, `<connectionId>:<orderId>`. */
export function unplannedKey(row: { connectionId: string; orderId: string }): string {
  return `${row.connectionId}:${row.orderId}`;
}

/** A key read back; connection ids hold no `:` (they are generated), order ids may. */
export function readUnplannedKey(key: string): { connectionId: string; orderId: string } | undefined {
  const at = key.indexOf(":");
  return at > 0 && at < key.length - 1 ? { connectionId: key.slice(0, at), orderId: key.slice(at + 1) } : undefined;
}

/** A recorded stage as `stages` holds it: `refunded:<refund id>`, `cancelled:reopened-1`, `paid`. */
export function unplannedEntry(stage: string, occurrence: string): string {
  return occurrence ? `${stage}:${occurrence}` : stage;
}

/**
 * An entry read back. `occurrence` is undefined for a bare stage: a ladder stage, a first
 * cancellation, or a refund recorded before occurrences were (all its refunds, as then).
 */
export function readUnplannedEntry(entry: string): { stage: string; occurrence: string | undefined } {
  const at = entry.indexOf(":");
  return at < 0 ? { stage: entry, occurrence: undefined } : { stage: entry.slice(0, at), occurrence: entry.slice(at + 1) };
}

export interface UnplannedRecord {
  tenantId: string;
  connectionId: string;
  orderId: string;
  orderNumber: string | null;
  stages: string[];
  at: number;
}

/**
 * Records the order, or merges the stages into its row. True when the row is new (this call made
 * it): the alert counts orders, not each stage of one. One statement, so a retried plan job
 * merges again without harm.
 */
export async function recordUnplanned(env: Env, r: UnplannedRecord): Promise<boolean> {
  const row = await env.DB.prepare(
    `INSERT INTO unplanned_orders (tenant_id, connection_id, order_id, order_number, stages, first_seen_at, last_seen_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
     ON CONFLICT (connection_id, order_id) DO UPDATE SET
       order_number = COALESCE(excluded.order_number, unplanned_orders.order_number),
       stages = (SELECT json_group_array(value) FROM (
         SELECT value FROM json_each(unplanned_orders.stages) UNION SELECT value FROM json_each(excluded.stages))),
       last_seen_at = MAX(unplanned_orders.last_seen_at, excluded.last_seen_at)
     RETURNING first_seen_at AS first`,
  )
    .bind(r.tenantId, r.connectionId, r.orderId, r.orderNumber, JSON.stringify(r.stages), r.at)
    .first<{ first: number }>();
  return row?.first === r.at;
}

/** Entries in ladder order, then cancelled, then refunds (the merge keeps them as a set). */
function inOrder(row: UnplannedOrderRow): UnplannedOrderRow {
  const rank = (s: string) => (STAGES as readonly string[]).indexOf(readUnplannedEntry(s).stage);
  return { ...row, stages: [...row.stages].sort((a, b) => rank(a) - rank(b)) };
}

/** `first_seen_at:<key>` (src/db/cursor.ts's shape: readCursor splits at the first `:`). */
export function unplannedCursor(row: UnplannedOrderRow): string {
  return encodeCursor({ createdAt: row.firstSeenAt, id: unplannedKey(row) });
}

/** A page of the tenant's rows, newest first; `after` is a cursor read back (readCursor). */
export async function unplannedPage(
  env: Env,
  tenantId: string,
  after: [number, string] | undefined,
  limit: number,
): Promise<{ rows: UnplannedOrderRow[]; nextCursor: string | null }> {
  const where: SQL[] = [eq(unplannedOrders.tenantId, tenantId)];
  const key = after ? readUnplannedKey(after[1]) : undefined;
  if (after && key) {
    const [at] = after;
    where.push(
      or(
        lt(unplannedOrders.firstSeenAt, at),
        and(
          eq(unplannedOrders.firstSeenAt, at),
          sql`(${unplannedOrders.connectionId}, ${unplannedOrders.orderId}) < (${key.connectionId}, ${key.orderId})`,
        ),
      ) as SQL,
    );
  }
  const rows = await database(env)
    .select()
    .from(unplannedOrders)
    .where(and(...where))
    .orderBy(desc(unplannedOrders.firstSeenAt), desc(unplannedOrders.connectionId), desc(unplannedOrders.orderId))
    .limit(limit + 1);
  const page = rows.slice(0, limit).map(inOrder);
  const last = page.at(-1);
  return { rows: page, nextCursor: rows.length > limit && last ? unplannedCursor(last) : null };
}

/** The tenant's rows among `keys` (another tenant's key finds nothing). */
export async function unplannedByKeys(env: Env, tenantId: string, keys: string[]): Promise<UnplannedOrderRow[]> {
  if (keys.length === 0) return [];
  const { results } = await env.DB.prepare(
    `SELECT tenant_id AS tenantId, connection_id AS connectionId, order_id AS orderId, order_number AS orderNumber,
            stages, first_seen_at AS firstSeenAt, last_seen_at AS lastSeenAt
       FROM unplanned_orders WHERE tenant_id = ?1 AND connection_id || ':' || order_id IN (SELECT value FROM json_each(?2))`,
  )
    .bind(tenantId, JSON.stringify(keys))
    .all<Omit<UnplannedOrderRow, "stages"> & { stages: string }>();
  return results.map((r) => inOrder({ ...r, stages: JSON.parse(r.stages) as string[] }));
}

/** The oldest `limit` rows of one of the tenant's connections. */
export async function unplannedOfConnection(
  env: Env,
  tenantId: string,
  connectionId: string,
  limit: number,
): Promise<UnplannedOrderRow[]> {
  const rows = await database(env)
    .select()
    .from(unplannedOrders)
    .where(and(eq(unplannedOrders.tenantId, tenantId), eq(unplannedOrders.connectionId, connectionId)))
    .orderBy(unplannedOrders.firstSeenAt, unplannedOrders.orderId)
    .limit(limit);
  return rows.map(inOrder);
}

/** How many rows the tenant has, per source connection (the Flows page's notice). */
export async function unplannedCounts(env: Env, tenantId: string): Promise<Map<string, number>> {
  const rows = await database(env)
    .select({ connectionId: unplannedOrders.connectionId, n: sql<number>`COUNT(*)` })
    .from(unplannedOrders)
    .where(eq(unplannedOrders.tenantId, tenantId))
    .groupBy(unplannedOrders.connectionId);
  return new Map(rows.map((r) => [r.connectionId, r.n]));
}

/**
 * Removes `entries` (the stages flows were planned for) from one of the tenant's rows, and the row
 * once none is left. A stage merged in meanwhile is not among them, so it stays listed.
 */
export async function removeUnplannedEntries(
  env: Env,
  tenantId: string,
  row: { connectionId: string; orderId: string },
  entries: string[],
): Promise<void> {
  if (entries.length === 0) return;
  const where = "tenant_id = ?1 AND connection_id = ?2 AND order_id = ?3";
  await env.DB.batch([
    env.DB.prepare(
      `UPDATE unplanned_orders SET stages = (SELECT json_group_array(value) FROM json_each(unplanned_orders.stages)
         WHERE value NOT IN (SELECT value FROM json_each(?4))) WHERE ${where}`,
    ).bind(tenantId, row.connectionId, row.orderId, JSON.stringify(entries)),
    env.DB.prepare(`DELETE FROM unplanned_orders WHERE ${where} AND stages = '[]'`).bind(tenantId, row.connectionId, row.orderId),
  ]);
}

/**
 * Dismisses the tenant's rows named (orders booked by hand, say), or every row of one of its
 * connections; returns the keys dismissed. Nothing is run for them.
 */
export async function dismissUnplanned(
  env: Env,
  tenantId: string,
  which: { keys: string[] } | { connectionId: string },
): Promise<string[]> {
  const statement =
    "keys" in which
      ? env.DB.prepare(
          `DELETE FROM unplanned_orders WHERE tenant_id = ?1 AND connection_id || ':' || order_id IN (SELECT value FROM json_each(?2))
           RETURNING connection_id AS connectionId, order_id AS orderId`,
        ).bind(tenantId, JSON.stringify(which.keys))
      : env.DB.prepare(
          `DELETE FROM unplanned_orders WHERE tenant_id = ?1 AND connection_id = ?2
           RETURNING connection_id AS connectionId, order_id AS orderId`,
        ).bind(tenantId, which.connectionId);
  const { results } = await statement.all<{ connectionId: string; orderId: string }>();
  return results.map(unplannedKey);
}

/**
 * A batch of the tenant's rows last seen before `cutoff`, for retention. `first_seen_at` is never
 * later than `last_seen_at`, so its bound lets the tenant's time index take the search.
 */
export async function deleteExpiredUnplanned(env: Env, tenantId: string, cutoff: number, limit: number): Promise<D1Result> {
  return env.DB.prepare(
    `DELETE FROM unplanned_orders WHERE rowid IN (
       SELECT rowid FROM unplanned_orders WHERE tenant_id = ?1 AND first_seen_at < ?2 AND last_seen_at < ?2 LIMIT ?3)`,
  )
    .bind(tenantId, cutoff, limit)
    .run();
}
