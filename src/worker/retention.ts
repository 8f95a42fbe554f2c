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

interface Purge {
  table: string;
  time: string;
  /** Only rows that are final may go (a transfer still running is kept whatever its age). */
  extra?: string;
}

const PURGES: Purge[] = [
  { table: "snapshots", time: "created_at" },
  { table: "attempts", time: "created_at" },
  { table: "transfer_steps", time: "updated_at", extra: "AND status IN ('completed', 'failed')" },
  { table: "transfers", time: "updated_at", extra: "AND status IN ('completed', 'failed')" },
  { table: "dead_letters", time: "created_at" },
  { table: "mail_outbox", time: "created_at" },
];

export async function applyRetention(env: Env, now = Date.now()): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  const all = await database(env).select({ id: tenants.id, retentionDays: tenants.retentionDays }).from(tenants);
  for (const tenant of all) {
    const cutoff = now - tenant.retentionDays * DAY_MS;
    // R2 bodies of the snapshots about to go, first: a body without its row is garbage nobody finds.
    const blobs = await env.DB.prepare(
      `SELECT blob_key FROM snapshots WHERE tenant_id = ? AND created_at < ? AND blob_key IS NOT NULL LIMIT ${RETENTION_BATCH}`,
    )
      .bind(tenant.id, cutoff)
      .all<{ blob_key: string }>();
    const keys = blobs.results.map((r) => r.blob_key);
    if (keys.length > 0) await env.BLOBS.delete(keys);
    for (const purge of PURGES) {
      const result = await env.DB.prepare(
        `DELETE FROM ${purge.table} WHERE rowid IN (SELECT rowid FROM ${purge.table} WHERE tenant_id = ? AND ${purge.time} < ? ${purge.extra ?? ""} LIMIT ${RETENTION_BATCH})`,
      )
        .bind(tenant.id, cutoff)
        .run();
      deleted[purge.table] = (deleted[purge.table] ?? 0) + (result.meta.changes ?? 0);
    }
  }
  return deleted;
}

export async function setRetention(env: Env, tenantId: string, days: number): Promise<void> {
  await database(env).update(tenants).set({ retentionDays: days }).where(eq(tenants.id, tenantId));
}
