/**
 * "All shops": one row per tenant the person belongs to, each figure one query over all of them
 * (GROUP BY tenant_id), on the same indexes the per-tenant pages use. The tenant ids go in as one
 * JSON parameter (json_each): D1 binds at most 100 parameters, an agency may have 200 shops.
 */
import { and, eq, gt, gte, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { type Db, database } from "../../../../db/client";
import { connections, deadLetters, type Role, tenants, transfers } from "../../../../db/schema";
import type { Membership } from "../ui-env";

/** The most shops one page reads: each figure's IN list stays bounded, and so does the page. */
export const SHOPS_LIMIT = 200;
const HOUR_MS = 3_600_000;
export const KEPT_DAYS = 7;

export interface ShopRow {
  tenantId: string;
  name: string;
  role: Role;
  /** Transfers whose status is failed now: the transfer log's "failed", waiting for a person. */
  failed: number;
  last24h: number;
  /** The newest transfer's creation time; null when the shop has none (kept). */
  lastOrderAt: number | null;
  /** Connections the circuit breaker has paused now (the dashboard's "Paused connections"). */
  paused: number;
  /** Deliveries kept instead of processed in the last KEPT_DAYS days ("Kept, not processed"). */
  kept: number;
}

export interface ShopsOverview {
  rows: ShopRow[];
  /** How many shops the person belongs to; more than `rows` when past SHOPS_LIMIT. */
  total: number;
}

/** `column IN (the ids)`, as one bound JSON array rather than one parameter per id. */
const inIds = (column: SQLiteColumn, ids: string[]) => sql`${column} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`;

/** The figures' queries, exported so a test can check their plans. */
export function shopFigureQueries(db: Db, ids: string[], now: number) {
  return {
    failed: db
      .select({ tenantId: transfers.tenantId, n: sql<number>`count(*)` })
      .from(transfers)
      .where(and(inIds(transfers.tenantId, ids), eq(transfers.status, "failed")))
      .groupBy(transfers.tenantId),
    last24h: db
      .select({ tenantId: transfers.tenantId, n: sql<number>`count(*)` })
      .from(transfers)
      .where(and(inIds(transfers.tenantId, ids), gte(transfers.createdAt, now - 24 * HOUR_MS)))
      .groupBy(transfers.tenantId),
    // Per tenant a max() on its own: SQLite answers each from the end of the tenant's range of
    // transfers_tenant_time (one row), where a GROUP BY max() would read every transfer it has.
    // Spelled out: drizzle drops the table names of columns in a select, and a bare "id" inside
    // the subquery would be the transfer's.
    lastOrder: db
      .select({
        tenantId: tenants.id,
        n: sql<number | null>`(SELECT max(t.created_at) FROM transfers t WHERE t.tenant_id = "tenants"."id")`,
      })
      .from(tenants)
      .where(inIds(tenants.id, ids)),
    paused: db
      .select({ tenantId: connections.tenantId, n: sql<number>`count(*)` })
      .from(connections)
      .where(and(inIds(connections.tenantId, ids), gt(connections.pausedUntil, now)))
      .groupBy(connections.tenantId),
    kept: db
      .select({ tenantId: deadLetters.tenantId, n: sql<number>`count(*)` })
      .from(deadLetters)
      .where(and(inIds(deadLetters.tenantId, ids), gte(deadLetters.createdAt, now - KEPT_DAYS * 24 * HOUR_MS)))
      .groupBy(deadLetters.tenantId),
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
  const [failed, last24h, lastOrder, paused, kept] = await Promise.all([q.failed, q.last24h, q.lastOrder, q.paused, q.kept]);
  const byTenant = (list: Array<{ tenantId: string | null; n: number | null }>) =>
    new Map(list.map((r) => [r.tenantId, r.n === null ? null : Number(r.n)]));
  const [f, d, l, p, k] = [failed, last24h, lastOrder, paused, kept].map(byTenant);
  const rows = shown.map((m) => ({
    tenantId: m.tenantId,
    name: m.tenantName,
    role: m.role,
    failed: f?.get(m.tenantId) ?? 0,
    last24h: d?.get(m.tenantId) ?? 0,
    lastOrderAt: l?.get(m.tenantId) ?? null,
    paused: p?.get(m.tenantId) ?? 0,
    kept: k?.get(m.tenantId) ?? 0,
  }));
  return { rows: sortShops(rows), total: memberships.length };
}
