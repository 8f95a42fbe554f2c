/**
 * Transfer log rows with their times set apart: a transfer's `updated_at` may lag its steps' by up
 * to a minute in D1 (UPDATED_AT_REFRESH_MS), which the step readers must allow for.
 */
import { env } from "cloudflare:test";

export interface StepRow {
  target: string;
  status: string;
  updatedAt: number;
  created?: boolean;
  errorReason?: string;
}

/** One transfer (updated at `updatedAt`) and its steps, in one batch as the projection writes them. */
export async function transferWithSteps(
  tenantId: string,
  transfer: { id?: string; updatedAt: number; status?: string },
  steps: StepRow[],
): Promise<string> {
  const id = transfer.id ?? crypto.randomUUID().replaceAll("-", "");
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO transfers (id, tenant_id, flow_id, source_connection_id, order_id, stage, status, step_count, created_at, updated_at)
       VALUES (?1, ?2, 'flw_1', 'con_shop', ?1, 'paid', ?3, ?4, ?5, ?5)`,
    ).bind(id, tenantId, transfer.status ?? "failed", steps.length, transfer.updatedAt),
    ...steps.map((s, index) =>
      env.DB.prepare(
        `INSERT INTO transfer_steps (transfer_id, step_index, tenant_id, target_connection_id, action, status, created, error_reason, updated_at)
         VALUES (?, ?, ?, ?, 'createInvoice', ?, ?, ?, ?)`,
      ).bind(
        id,
        index,
        tenantId,
        s.target,
        s.status,
        s.created == null ? null : s.created ? 1 : 0,
        s.errorReason ?? null,
        s.updatedAt,
      ),
    ),
  ]);
  return id;
}

/** A query's plan, one line a step. */
export async function queryPlan(sql: string, params: unknown[]): Promise<string> {
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return results.map((r) => r.detail).join("\n");
}

/**
 * Planner statistics as an ANALYZE run while the tables were young would have left them (D1 keeps
 * statistics until the next one): every count capped at 10, so each table looks like a handful of
 * rows, all one tenant's. Plans must hold with these too.
 */
export async function staleStatistics(): Promise<void> {
  await env.DB.prepare("ANALYZE").run();
  const { results } = await env.DB.prepare("SELECT tbl, idx, stat FROM sqlite_stat1").all<{
    tbl: string;
    idx: string | null;
    stat: string;
  }>();
  const young = (stat: string) =>
    stat
      .split(" ")
      .map((part) => (/^\d+$/.test(part) ? String(Math.min(Number(part), 10)) : part))
      .join(" ");
  await env.DB.batch([
    ...results.map((row) =>
      env.DB.prepare("UPDATE sqlite_stat1 SET stat = ? WHERE tbl = ? AND idx IS ?").bind(young(row.stat), row.tbl, row.idx),
    ),
    env.DB.prepare("ANALYZE sqlite_schema"),
  ]);
}

/**
 * Drops the planner's statistics, and the copy this connection loaded: dropping sqlite_stat1
 * alone leaves the loaded statistics in use until the schema is read again.
 */
export async function clearStatistics(): Promise<void> {
  const kept = await env.DB.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").first();
  if (!kept) return;
  await env.DB.batch([
    env.DB.prepare("DELETE FROM sqlite_stat1"),
    env.DB.prepare("ANALYZE sqlite_schema"),
    env.DB.prepare("DROP TABLE sqlite_stat1"),
  ]);
}
