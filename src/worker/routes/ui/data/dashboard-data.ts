/** The dashboard's numbers, each one query on an index of its table. */
import { and, eq, gt, gte, inArray, sql } from "drizzle-orm";
import { type Db, database } from "../../../../db/client";
import { connections, type TransferStatus, transferSteps, transfers } from "../../../../db/schema";
import { transferNotCompleted } from "../../../../db/transfer-filters";
import { UPDATED_AT_REFRESH_MS } from "../../../../durable/order-projection";

export const CHART_DAYS = 14;
const DAY_MS = 86_400_000;

export interface DayBar {
  day: string;
  counts: Partial<Record<TransferStatus, number>>;
}

export interface DashboardData {
  days: DayBar[];
  waiting: Partial<Record<TransferStatus, number>>;
  failing: Array<{ id: string; name: string; failures: number; lastAt: number; lastError: string | null }>;
  paused: Array<{ id: string; name: string; until: number; reason: string | null }>;
  usage: Array<{ id: string; name: string; connector: string; created: number }>;
  monthStart: number;
}

/**
 * The tenant's steps changed since `since` (their `updated_at` at least it), found through their
 * transfers: steps have no index by tenant and time (each would be a D1 row billed on every step
 * written), so the range is one of `transfers_tenant_updated`, and each transfer's steps are read
 * by the steps' primary key. A transfer's `updated_at` lags its steps' by less than
 * UPDATED_AT_REFRESH_MS (it moves only with its status, or once a minute old), hence the margin.
 * The queries CROSS JOIN the steps, which keeps the transfers the outer loop: with statistics from
 * a young database SQLite scanned every step instead (docs/scale.md, "Stale statistics").
 */
function stepsChangedSince(since: number) {
  return and(
    gte(transfers.updatedAt, since - UPDATED_AT_REFRESH_MS),
    eq(transferSteps.transferId, transfers.id),
    gte(transferSteps.updatedAt, since),
  );
}

/** Per target: the steps that failed since `since`, the newest one's time and error. */
export function failingTargetsQuery(db: Db, tenantId: string, since: number) {
  return db
    .select({
      id: transferSteps.targetConnectionId,
      failures: sql<number>`count(*)`,
      lastAt: sql<number>`max(${transferSteps.updatedAt})`,
      // Not max(error_reason), which is the alphabetically last: with one max() in the select,
      // SQLite takes a bare column from the row that has the max, so this is the newest failure's
      // error (https://sqlite.org/lang_select.html#bare_columns_in_an_aggregate_query).
      lastError: transferSteps.errorReason,
    })
    .from(transfers)
    .crossJoin(transferSteps)
    .where(and(eq(transfers.tenantId, tenantId), stepsChangedSince(since), eq(transferSteps.status, "failed")))
    .groupBy(transferSteps.targetConnectionId);
}

/** Per target: the steps last changed since `since` that created a document there. */
export function createdPerTargetQuery(db: Db, tenantId: string, since: number) {
  return db
    .select({ id: transferSteps.targetConnectionId, created: sql<number>`count(*)` })
    .from(transfers)
    .crossJoin(transferSteps)
    .where(and(eq(transfers.tenantId, tenantId), stepsChangedSince(since), eq(transferSteps.created, true)))
    .groupBy(transferSteps.targetConnectionId);
}

export async function dashboardData(env: Env, tenantId: string, now = Date.now()): Promise<DashboardData> {
  const db = database(env);
  const firstDay = Math.floor(now / DAY_MS) - (CHART_DAYS - 1);
  const since7 = now - 7 * DAY_MS;
  const month = new Date(now);
  const monthStart = Date.UTC(month.getUTCFullYear(), month.getUTCMonth(), 1);
  const dayExpr = sql<number>`(${transfers.createdAt} / ${DAY_MS})`;
  const [perDay, waiting, failing, paused, usage, names] = await Promise.all([
    db
      .select({ day: dayExpr, status: transfers.status, n: sql<number>`count(*)` })
      .from(transfers)
      .where(and(eq(transfers.tenantId, tenantId), sql`${transfers.createdAt} >= ${firstDay * DAY_MS}`))
      .groupBy(dayExpr, transfers.status),
    db
      .select({ status: transfers.status, n: sql<number>`count(*)` })
      .from(transfers)
      .where(
        and(
          eq(transfers.tenantId, tenantId),
          inArray(transfers.status, ["pending", "running", "retrying"]),
          transferNotCompleted,
        ),
      )
      .groupBy(transfers.status),
    // Steps changed after since7 (updated_at > since7, in whole milliseconds), and this month.
    failingTargetsQuery(db, tenantId, since7 + 1),
    db
      .select({ id: connections.id, name: connections.name, until: connections.pausedUntil, reason: connections.pauseReason })
      .from(connections)
      .where(and(eq(connections.tenantId, tenantId), gt(connections.pausedUntil, now))),
    createdPerTargetQuery(db, tenantId, monthStart),
    db
      .select({ id: connections.id, name: connections.name, connector: connections.connector })
      .from(connections)
      .where(eq(connections.tenantId, tenantId)),
  ]);
  const byId = new Map(names.map((n) => [n.id, n]));
  const days: DayBar[] = Array.from({ length: CHART_DAYS }, (_, i) => ({
    day: new Date((firstDay + i) * DAY_MS).toISOString().slice(0, 10),
    counts: {},
  }));
  for (const row of perDay) {
    const bar = days[Math.floor(Number(row.day)) - firstDay];
    if (bar) bar.counts[row.status] = (bar.counts[row.status] ?? 0) + Number(row.n);
  }
  return {
    days,
    waiting: Object.fromEntries(waiting.map((w) => [w.status, Number(w.n)])),
    failing: failing.map((f) => ({ ...f, failures: Number(f.failures), name: byId.get(f.id)?.name ?? f.id })),
    paused: paused.map((p) => ({ id: p.id, name: p.name, until: p.until ?? 0, reason: p.reason })),
    usage: usage
      .map((u) => ({
        id: u.id,
        created: Number(u.created),
        name: byId.get(u.id)?.name ?? u.id,
        connector: byId.get(u.id)?.connector ?? "?",
      }))
      .sort((a, b) => b.created - a.created),
    monthStart,
  };
}
