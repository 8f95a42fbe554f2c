/**
 * "All shops": one row per tenant the person belongs to, each figure one query over all of them,
 * on the same indexes the per-tenant pages use, each count stopping at COUNT_CAP per shop. The
 * tenant ids go in as one JSON parameter (json_each): D1 binds at most 100 parameters, an agency
 * may have 200 shops.
 */
import { and, gt, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { type Db, database } from "../../../../db/client";
import { keptWaiting } from "../../../../db/dead-letters";
import { connections, notCompleted, type Role, tenants } from "../../../../db/schema";
import type { Membership } from "../ui-env";

/** The most shops one page reads: each figure's IN list stays bounded, and so does the page. */
export const SHOPS_LIMIT = 200;
const HOUR_MS = 3_600_000;

export interface ShopRow {
  tenantId: string;
  name: string;
  role: Role;
  /** Transfers whose status is failed now: the transfer log's "failed", waiting for a person (at most COUNT_CAP). */
  failed: number;
  /** Transfers created in the last 24 hours (at most COUNT_CAP). */
  last24h: number;
  /**
   * The newest transfer's creation time; null when the shop has none. Not the last order: an order
   * that starts no flow makes no transfer.
   */
  lastTransferAt: number | null;
  /** Connections the circuit breaker has paused now (the dashboard's "Paused connections"). */
  paused: number;
  /** Kept deliveries still waiting for a replay or a person, of any age ("Kept, not processed"; at most COUNT_CAP). */
  kept: number;
}

export interface ShopsOverview {
  rows: ShopRow[];
  /** How many shops the person belongs to; more than `rows` when past SHOPS_LIMIT. */
  total: number;
}

/** `column IN (the ids)`, as one bound JSON array rather than one parameter per id. */
const inIds = (column: SQLiteColumn, ids: string[]) => sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;

/**
 * The most rows a figure counts for one shop: each count reads at most this many matching rows, so
 * a shop with years of failed transfers costs the page no more than one with a thousand. The page
 * shows the cap as "1,000+".
 */
export const COUNT_CAP = 1000;

/** The figures' queries, exported so a test can check their plans. */
export function shopFigureQueries(db: Db, ids: string[], now: number) {
  // Per shop a subquery on its own, from `tenants`: each reads its shop's range of an index and
  // stops at COUNT_CAP rows (the inner LIMIT), where a GROUP BY count(*) would read every row.
  // Spelled out: drizzle drops the table names of columns in a select, and a bare "id" inside a
  // subquery would be the inner table's. Each names its index (INDEXED BY): with statistics
  // left by an ANALYZE while the log was young, SQLite scanned every dead letter for each shop
  // (test/ui/shops-plan.test.ts); a named index that cannot serve fails the statement instead.
  const perShop = <T>(value: SQL<T>) => db.select({ tenantId: tenants.id, n: value }).from(tenants).where(inIds(tenants.id, ids));
  const upToCap = (rows: SQL) => sql<number>`(SELECT count(*) FROM (SELECT 1 FROM ${rows} LIMIT ${COUNT_CAP}))`;
  return {
    failed: perShop(
      upToCap(
        sql`transfers f INDEXED BY transfers_tenant_status_time WHERE f.tenant_id = "tenants"."id" AND f.status = 'failed' AND ${sql.raw(notCompleted("f."))}`,
      ),
    ),
    last24h: perShop(
      upToCap(
        sql`transfers d INDEXED BY transfers_tenant_time WHERE d.tenant_id = "tenants"."id" AND d.created_at >= ${now - 24 * HOUR_MS}`,
      ),
    ),
    // SQLite answers max() from the end of the shop's range of transfers_tenant_time (one row).
    lastTransfer: perShop(
      sql<
        number | null
      >`(SELECT max(t.created_at) FROM transfers t INDEXED BY transfers_tenant_time WHERE t.tenant_id = "tenants"."id")`,
    ),
    // Few connections a shop: counted in one GROUP BY.
    paused: db
      .select({ tenantId: connections.tenantId, n: sql<number>`count(*)` })
      .from(connections)
      .where(and(inIds(connections.tenantId, ids), gt(connections.pausedUntil, now)))
      .groupBy(connections.tenantId),
    // Any age: a waiting delivery is an order missing from the books until someone acts, however
    // old (the Kept page offers it for replay as long as it is kept). Retention bounds its age.
    kept: perShop(
      upToCap(
        sql`dead_letters INDEXED BY dead_letters_tenant_time WHERE dead_letters.tenant_id = "tenants"."id" AND ${keptWaiting()}`,
      ),
    ),
  };
}

/** What puts a shop first: failed transfers, then kept deliveries, then paused connections. */
export function attentionRank(row: ShopRow): number {
  if (row.failed > 0) return 0;
  if (row.kept > 0) return 1;
  if (row.paused > 0) return 2;
  return 3;
}

export const needsAttention = (row: ShopRow) => attentionRank(row) < 3;

export function sortShops(rows: ShopRow[]): ShopRow[] {
  return [...rows].sort(
    (a, b) =>
      attentionRank(a) - attentionRank(b) ||
      a.name.localeCompare(b.name, "en", { sensitivity: "base" }) ||
      a.tenantId.localeCompare(b.tenantId),
  );
}

/** The person's first SHOPS_LIMIT shops (by name, as the switcher lists them) with their figures. */
export async function shopsOverview(env: Env, memberships: Membership[], now = Date.now()): Promise<ShopsOverview> {
  const shown = memberships.slice(0, SHOPS_LIMIT);
  const ids = shown.map((m) => m.tenantId);
  if (ids.length === 0) return { rows: [], total: 0 };
  const q = shopFigureQueries(database(env), ids, now);
  const [failed, last24h, lastTransfer, paused, kept] = await Promise.all([
    q.failed,
    q.last24h,
    q.lastTransfer,
    q.paused,
    q.kept,
  ]);
  const byTenant = (list: Array<{ tenantId: string | null; n: number | null }>) =>
    new Map(list.map((r) => [r.tenantId, r.n === null ? null : Number(r.n)]));
  const [f, d, l, p, k] = [failed, last24h, lastTransfer, paused, kept].map(byTenant);
  const rows = shown.map((m) => ({
    tenantId: m.tenantId,
    name: m.tenantName,
    role: m.role,
    failed: f?.get(m.tenantId) ?? 0,
    last24h: d?.get(m.tenantId) ?? 0,
    lastTransferAt: l?.get(m.tenantId) ?? null,
    paused: p?.get(m.tenantId) ?? 0,
    kept: k?.get(m.tenantId) ?? 0,
  }));
  return { rows: sortShops(rows), total: memberships.length };
}
