/**
 * Retention: each tenant's history (transfers, steps, snapshots with their R2 bodies, attempts,
 * dead letters, emails) is deleted after its retention, by the cron, in bounded batches so one
 * run never holds D1 for long. What is not reached in one run is reached in the next.
 */
import { eq } from "drizzle-orm";
import { database } from "../db/client";
import { tenants } from "../db/schema";

const DAY_MS = 86_400_000;
/** Rows per statement; a run makes a handful of statements per tenant. */
export const RETENTION_BATCH = 500;

/**
 * A tenant's oldest final transfers past its retention, a batch at a time. Their steps, attempts
 * and snapshots go with them, found by transfer id: the history tables have no index by tenant and
 * time, which every row written would pay for. A transfer still running keeps its whole history,
 * whatever its age, until it ends.
 */
const EXPIRED_TRANSFERS = `SELECT id FROM transfers WHERE tenant_id = ?1 AND updated_at < ?2 AND status IN ('completed', 'failed')
  ORDER BY updated_at LIMIT ${RETENTION_BATCH}`;

/** The transfer's children first, the transfers last, in one transaction: no child outlives its transfer. */
const HISTORY = ["snapshots", "attempts", "transfer_steps"] as const;

/** Tables kept by their own time, not through a transfer. */
const BY_TIME = [
  { table: "dead_letters", time: "created_at" },
  { table: "mail_outbox", time: "created_at" },
] as const;

export async function applyRetention(env: Env, now = Date.now()): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  const count = (table: string, result: D1Result) => {
    deleted[table] = (deleted[table] ?? 0) + (result.meta.changes ?? 0);
  };
  const all = await database(env).select({ id: tenants.id, retentionDays: tenants.retentionDays }).from(tenants);
  for (const tenant of all) {
    const cutoff = now - tenant.retentionDays * DAY_MS;
    // R2 bodies of the snapshots about to go, first: a body without its row is garbage nobody finds.
    const blobs = await env.DB.prepare(
      `SELECT blob_key FROM snapshots WHERE transfer_id IN (${EXPIRED_TRANSFERS}) AND blob_key IS NOT NULL`,
    )
      .bind(tenant.id, cutoff)
      .all<{ blob_key: string }>();
    const keys = blobs.results.map((r) => r.blob_key);
    for (let i = 0; i < keys.length; i += 1000) await env.BLOBS.delete(keys.slice(i, i + 1000));
    const results = await env.DB.batch([
      ...HISTORY.map((table) =>
        env.DB.prepare(`DELETE FROM ${table} WHERE transfer_id IN (${EXPIRED_TRANSFERS})`).bind(tenant.id, cutoff),
      ),
      env.DB.prepare(`DELETE FROM transfers WHERE id IN (${EXPIRED_TRANSFERS})`).bind(tenant.id, cutoff),
    ]);
    for (const [i, table] of [...HISTORY, "transfers"].entries()) count(table, results[i]!);
    for (const { table, time } of BY_TIME) {
      const result = await env.DB.prepare(
        `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE tenant_id = ? AND ${time} < ? LIMIT ${RETENTION_BATCH})`,
      )
        .bind(tenant.id, cutoff)
        .run();
      count(table, result);
    }
  }
  return deleted;
}

export async function setRetention(env: Env, tenantId: string, days: number): Promise<void> {
  await database(env).update(tenants).set({ retentionDays: days }).where(eq(tenants.id, tenantId));
}
