/**
 * Retention: each tenant's history (transfers, steps, snapshots with their R2 bodies, attempts,
 * dead letters, emails with their R2 attachments) is deleted after its retention; dead letters
 * without a tenant after ORPHAN_DEAD_LETTER_DAYS, by the cron, in bounded batches so one
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
const EXPIRED_TRANSFERS = `SELECT id FROM transfers WHERE tenant_id = ? AND updated_at < ? AND status IN ('completed', 'failed')
  ORDER BY updated_at LIMIT ${RETENTION_BATCH}`;

/** Transfer ids per statement (D1 binds at most 100 values). */
const IDS_PER_STATEMENT = 90;

/** The transfer's children first, the transfers last, in one transaction: no child outlives its transfer. */
const HISTORY = ["snapshots", "attempts", "transfer_steps"] as const;

/**
 * Dead letters stored without a tenant (a message too broken to name one) belong to no retention:
 * they are kept this long, enough to look into what produced them, then deleted.
 */
export const ORPHAN_DEAD_LETTER_DAYS = 90;

export async function applyRetention(env: Env, now = Date.now()): Promise<Record<string, number>> {
  const deleted: Record<string, number> = {};
  const count: Count = (table, result) => {
    deleted[table] = (deleted[table] ?? 0) + (result.meta.changes ?? 0);
  };
  const all = await database(env).select({ id: tenants.id, retentionDays: tenants.retentionDays }).from(tenants);
  for (const tenant of all) {
    // One tenant's failure (a D1 error, an R2 blip) must not keep the others' history forever.
    try {
      await retainTenant(env, tenant, now, count);
    } catch (error) {
      console.error("retention: tenant skipped this run", { tenantId: tenant.id, error: String(error) });
    }
  }
  await deleteDeadLetters(env, null, now - ORPHAN_DEAD_LETTER_DAYS * DAY_MS, count);
  return deleted;
}

type Count = (table: string, result: D1Result) => void;

/** One tenant's expired history, a batch per table. */
async function retainTenant(env: Env, tenant: { id: string; retentionDays: number }, now: number, count: Count): Promise<void> {
  const cutoff = now - tenant.retentionDays * DAY_MS;
  // The batch is read once: its blobs and its rows are then those of the same transfers.
  const expired = await env.DB.prepare(EXPIRED_TRANSFERS).bind(tenant.id, cutoff).all<{ id: string }>();
  const ids = expired.results.map((r) => r.id);
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
    const chunk = ids.slice(i, i + IDS_PER_STATEMENT);
    // Numbered, so a statement can name the list twice with one set of bound values.
    const list = chunk.map((_, k) => `?${k + 1}`).join(", ");
    await deleteBlobs(env, chunk, list);
    const results = await env.DB.batch([
      ...HISTORY.map((table) => env.DB.prepare(`DELETE FROM ${table} WHERE transfer_id IN (${list})`).bind(...chunk)),
      env.DB.prepare(`DELETE FROM transfers WHERE id IN (${list})`).bind(...chunk),
    ]);
    for (const [j, table] of [...HISTORY, "transfers"].entries()) count(table, results[j]!);
  }
  // Step rows an earlier release left without their transfer (it deleted a transfer's unfinished
  // steps only by their own status): found by their own age.
  count(
    "transfer_steps",
    await env.DB.prepare(
      `DELETE FROM transfer_steps WHERE rowid IN (SELECT s.rowid FROM transfer_steps s WHERE s.tenant_id = ? AND s.updated_at < ?
         AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.id = s.transfer_id) LIMIT ${RETENTION_BATCH})`,
    )
      .bind(tenant.id, cutoff)
      .run(),
  );
  await deleteDeadLetters(env, tenant.id, cutoff, count);
  await deleteMail(env, tenant.id, cutoff, count);
}

/**
 * A batch of expired dead letters (a tenant's, or those with none), the raw bodies that refused
 * deliveries keep in R2 first (`body.raw.blobKey`, src/worker/routes/hooks.ts).
 */
async function deleteDeadLetters(env: Env, tenantId: string | null, cutoff: number, count: Count): Promise<void> {
  const { results } = await env.DB.prepare(
    `SELECT id, json_extract(body, '$.raw.blobKey') AS blob_key FROM dead_letters
      WHERE tenant_id IS ? AND created_at < ? ORDER BY created_at LIMIT ${RETENTION_BATCH}`,
  )
    .bind(tenantId, cutoff)
    .all<{ id: number; blob_key: string | null }>();
  if (results.length === 0) return;
  const keys = results.flatMap((r) => (r.blob_key ? [r.blob_key] : []));
  for (let i = 0; i < keys.length; i += 1000) await env.BLOBS.delete(keys.slice(i, i + 1000));
  count(
    "dead_letters",
    await env.DB.prepare("DELETE FROM dead_letters WHERE id IN (SELECT value FROM json_each(?))")
      .bind(JSON.stringify(results.map((r) => r.id)))
      .run(),
  );
}

/**
 * A batch of the tenant's expired emails, their attachments in R2 first (keys listed on the row):
 * a file whose row is gone is one nobody finds again.
 */
async function deleteMail(env: Env, tenantId: string, cutoff: number, count: Count): Promise<void> {
  const { results } = await env.DB.prepare(
    `SELECT id, attachments FROM mail_outbox WHERE tenant_id = ? AND created_at < ? ORDER BY created_at LIMIT ${RETENTION_BATCH}`,
  )
    .bind(tenantId, cutoff)
    .all<{ id: string; attachments: string | null }>();
  if (results.length === 0) return;
  const keys = results.flatMap((r) =>
    (r.attachments ? (JSON.parse(r.attachments) as Array<{ blobKey: string }>) : []).map((a) => a.blobKey),
  );
  for (let i = 0; i < keys.length; i += 1000) await env.BLOBS.delete(keys.slice(i, i + 1000));
  // The ids as one JSON value: D1 binds at most 100 parameters.
  count(
    "mail_outbox",
    await env.DB.prepare("DELETE FROM mail_outbox WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?))")
      .bind(tenantId, JSON.stringify(results.map((r) => r.id)))
      .run(),
  );
}

/**
 * R2 bodies of the snapshots about to go, first: a body without its row is garbage nobody finds.
 * A webhook's raw body is shared by every transfer made from that event (one per flow and
 * stage), so it stays while a transfer of the same order outside this batch still shows it.
 */
async function deleteBlobs(env: Env, chunk: string[], list: string): Promise<void> {
  const blobs = await env.DB.prepare(
    `SELECT DISTINCT s.blob_key FROM snapshots s JOIN transfers t ON t.id = s.transfer_id
      WHERE s.transfer_id IN (${list}) AND s.blob_key IS NOT NULL
        AND NOT EXISTS (
          SELECT 1 FROM transfers o JOIN snapshots os ON os.transfer_id = o.id
           WHERE o.tenant_id = t.tenant_id AND o.order_id = t.order_id AND o.source_connection_id = t.source_connection_id
             AND o.id NOT IN (${list}) AND os.blob_key = s.blob_key)`,
  )
    .bind(...chunk)
    .all<{ blob_key: string }>();
  const keys = blobs.results.map((r) => r.blob_key);
  for (let i = 0; i < keys.length; i += 1000) await env.BLOBS.delete(keys.slice(i, i + 1000));
}

export async function setRetention(env: Env, tenantId: string, days: number): Promise<void> {
  await database(env).update(tenants).set({ retentionDays: days }).where(eq(tenants.id, tenantId));
}
