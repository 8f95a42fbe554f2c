/**
 * Retention: each tenant's history (transfers, steps, snapshots with their R2 bodies, attempts,
 * dead letters, orders recorded with no flow on, emails' bodies with their R2 attachments, webhook bodies in R2 no transfer names)
 * is deleted after its retention, and its exported files are emptied (their record stays); dead letters without a tenant after ORPHAN_DEAD_LETTER_DAYS, by
 * its own cron invocation, in bounded batches so one run never holds D1 for long. What is not
 * reached in one run is reached in the next.
 *
 * One invocation may make 1,000 D1 queries (Workers Paid, docs/scale.md): a run starts a tenant
 * only while the most one tenant can take still fits under RETENTION_QUERY_BUDGET, and the next
 * run starts at the first tenant it did not reach (a cursor), so with many tenants each is reached
 * every few runs instead of the same ones last in line never.
 */
import { eq } from "drizzle-orm";
import { expireFiles } from "../connectors/files/files.retention";
import { database } from "../db/client";
import { tenants } from "../db/schema";
import { deleteExpiredUnplanned } from "../db/unplanned-orders";
import { runtimeConfig } from "./config";
import { type BodyCursor, NO_BODY_CURSOR, sweepEventBodies } from "./event-bodies";

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

/**
 * D1 queries a run may make: 100 under the 1,000 an invocation gets, for what the count misses.
 * Each statement of a batch is counted as one query (the limits page does not say how a batch counts).
 */
export const RETENTION_QUERY_BUDGET = 900;

/**
 * The most queries one tenant's pass makes: its expired transfers (1), per 90 of them the R2 keys
 * and the batch (1 + 4), dead letters (2), emails (1 + a batch of 3), the transfers naming a
 * page of expired webhook bodies (1; those two pages' cursors are written with the run's last
 * write, src/worker/event-bodies.ts), and a batch of orders recorded with no flow on (1). The orphaned steps' page and delete are made once a run,
 * after the tenants (ORPHAN_MAX_QUERIES).
 */
const TENANT_MAX_QUERIES = 1 + Math.ceil(RETENTION_BATCH / IDS_PER_STATEMENT) * (2 + HISTORY.length) + 2 + 4 + 1 + 1;

/**
 * Step rows an earlier release left without their transfer (it deleted a transfer's unfinished
 * steps only by their own status). None is made now: the projection writes a transfer and its
 * steps in one batch, retention deletes a transfer's children with it, and every reader joins
 * steps to their transfer. So one page of the whole table a run (not a tenant's, whatever the
 * steps' age), in rowid order from a global cursor: it needs no index of its own (one by tenant
 * and time was a D1 row billed on every step written), and each row is one lookup of its transfer.
 */
export const ORPHAN_STEP_SCAN = 1000;
export const ORPHAN_STEP_PAGE = `SELECT s.rowid AS rowid, NOT EXISTS (SELECT 1 FROM transfers t WHERE t.id = s.transfer_id) AS orphan
  FROM transfer_steps s WHERE s.rowid > ?1 ORDER BY s.rowid LIMIT ${ORPHAN_STEP_SCAN}`;
/** The orphan search's page and delete: kept free by every tenant's check, as the cursors' writes. */
const ORPHAN_MAX_QUERIES = 2;

/**
 * Emails that are deleted whole once expired: alerts and status reports (their keys name a time
 * window or period that never comes again), invitations and password resets (their links expire
 * within 7 days, the shortest retention). Any other email sent keeps a small record past its
 * retention: an e-conomic invoice e-mail's key is its step's reference, which a re-run of that step
 * uses again months later, and only the record stops the customer getting the invoice twice.
 */
const DISPOSABLE_MAIL_KEYS = ["alert/", "report/", "invite/", "password-reset/"] as const;
const DISPOSABLE = `(${DISPOSABLE_MAIL_KEYS.map((prefix) => `idempotency_key LIKE '${prefix}%'`).join(" OR ")})`;

/** What a kept record shows in place of its body (the outbox page and the API show the text). */
export const MAIL_BODY_DELETED =
  "(Deleted after the log retention. The record of this email stays so that it is never sent twice.)";

/**
 * Where a run goes on from. The cursors are `alert_state` rows with no tenant (`''`, as the
 * sweeper's, src/worker/cron.ts): `retention:next` names the first tenant the last run did not
 * reach; `retention:mail:<tenant>` is the last email (`last_sent_at` its time, `samples` its id)
 * whose expiry was applied, since the records kept would otherwise be read again by every run;
 * `retention:bodies:<tenant>` is where the sweep of its webhook bodies goes on (`last_sent_at` the
 * boundary its last listing reached the end of, `samples` the last key looked at);
 * `retention:orphan-steps` is the last step rowid the orphan search looked at (`samples`; one for
 * all tenants, `last_sent_at` when it moved).
 */
const CURSOR_TENANT = "";
const NEXT_TENANT = "retention:next";
/** When retention last ran: the notification cron runs it too when this is old (no trigger of its own). */
const LAST_RUN = "retention:ran";
/** Retention is overdue this long after its last run (it runs every 5 minutes on its own trigger). */
export const RETENTION_OVERDUE_MS = 15 * 60_000;

/**
 * Whether retention has not run for RETENTION_OVERDUE_MS: its trigger was not deployed (a gradual
 * deployment leaves triggers as they were), so history would be kept past the retention unseen.
 */
export async function retentionOverdue(env: Env, now: number): Promise<boolean> {
  const row = await env.DB.prepare("SELECT last_sent_at AS at FROM alert_state WHERE tenant_id = ?1 AND topic = ?2")
    .bind(CURSOR_TENANT, LAST_RUN)
    .first<{ at: number | null }>();
  return row?.at == null || now - row.at > RETENTION_OVERDUE_MS;
}
const mailTopic = (tenantId: string) => `retention:mail:${tenantId}`;
const BODIES = "retention:bodies:";
/**
 * `retention:files:<tenant>`: where the walk of its exported files goes on (`samples` the last key
 * looked at, "" between passes; `last_sent_at` when the last pass reached the end).
 */
const FILES = "retention:files:";

/**
 * Exported files emptied per run, and per tenant: each is an R2 put (a subrequest, far under the
 * 10,000 an invocation may make, with the tenants' listings). A busy tenant is caught up over runs.
 */
export const FILE_EXPIRY_PER_RUN = 300;
export const FILE_EXPIRY_PER_TENANT = 100;
/**
 * A new pass over a tenant's files starts at most this often: a file is emptied at most about a day
 * after its retention, and a tenant with no files costs one R2 listing a day, not one a run.
 */
const FILE_PASS_MS = DAY_MS;
/** Replaces the per-tenant `retention:steps:<tenant>` cursors (deleted by migration 0011). */
const ORPHAN_STEPS = "retention:orphan-steps";

interface MailCursor {
  createdAt: number;
  id: string;
}

/** One run: its counts of rows, the queries it made, and the cursors it read. */
interface Run {
  env: Env;
  deleted: Record<string, number>;
  queries: number;
  /**
   * False when the cursors could not be read: the parts that go on from one (emails, webhook
   * bodies, orphaned steps) then wait for the next run, as starting them from the oldest record
   * would write their cursors back there (a tenant with millions of kept emails would need weeks
   * to walk forward again, keeping expired bodies and PDFs past the retention meanwhile).
   */
  cursorsRead: boolean;
  mailCursors: Map<string, MailCursor>;
  bodyCursors: Map<string, BodyCursor>;
  fileCursors: Map<string, { at: number; after: string }>;
  /** Exported files this run may still empty (FILE_EXPIRY_PER_RUN). */
  fileWrites: number;
  /** The last step rowid the orphan search looked at (0: from the start). */
  stepCursor: number;
  /** Cursors moved this run (by topic), written together with the run's time (one query for them all). */
  cursorsMoved: Map<string, { at: number; id: string }>;
}

export async function applyRetention(
  env: Env,
  now = Date.now(),
  budget = RETENTION_QUERY_BUDGET,
): Promise<Record<string, number>> {
  const run: Run = {
    env,
    deleted: {},
    queries: 0,
    cursorsRead: false,
    mailCursors: new Map(),
    bodyCursors: new Map(),
    fileCursors: new Map(),
    fileWrites: FILE_EXPIRY_PER_RUN,
    stepCursor: 0,
    cursorsMoved: new Map(),
  };
  let next: string | null = null;
  try {
    next = await readCursors(run);
    run.cursorsRead = true;
  } catch (error) {
    console.error(
      "retention: cursors not read; this run starts at the first tenant and skips emails, webhook bodies and orphaned steps (the next run goes on from their cursors)",
      String(error),
    );
  }
  spend(run);
  const all = await database(env).select({ id: tenants.id, retentionDays: tenants.retentionDays }).from(tenants);
  all.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  try {
    await deleteDeadLetters(run, null, now - ORPHAN_DEAD_LETTER_DAYS * DAY_MS);
  } catch (error) {
    console.error("retention: dead letters without a tenant skipped this run", String(error));
  }
  const start = Math.max(
    0,
    all.findIndex((t) => next !== null && t.id >= next),
  );
  const order = [...all.slice(start), ...all.slice(0, start)];
  for (const [i, tenant] of order.entries()) {
    // One more tenant, the orphan search and the cursors' writes must fit, or this one is the next
    // run's first (a run always takes one, so a budget too small for any still gets through the tenants).
    if (i > 0 && run.queries + TENANT_MAX_QUERIES + ORPHAN_MAX_QUERIES + 2 > budget) {
      try {
        await writeNextTenant(run, tenant.id);
      } catch (error) {
        console.error("retention: where to go on not stored; the next run starts at the first tenant", String(error));
      }
      console.warn(`retention: ${order.length - i} of ${order.length} tenants left for the next run (query budget)`);
      break;
    }
    await retainTenant(run, tenant, now);
  }
  if (run.cursorsRead) {
    try {
      await deleteOrphanedSteps(run, now);
    } catch (error) {
      console.error("retention: orphaned steps skipped this run (the next run reads the same page)", String(error));
    }
  }
  try {
    spend(run);
    const moved = [...run.cursorsMoved].map(([topic, c]) => ({ topic, ...c }));
    await cursorsUpsert(env, [{ topic: LAST_RUN, at: now, id: "" }, ...moved]).run();
  } catch (error) {
    // The bodies' sweep then lists again from where it was (what it deleted is not listed again),
    // and the orphan search reads its page again.
    console.error("retention: its run time and sweep cursors not stored; the notification cron may run it too", String(error));
  }
  return run.deleted;
}

/** Counts queries before they are made: one that throws was still sent. */
function spend(run: Run, n = 1): void {
  run.queries += n;
}

function count(run: Run, table: string, result: D1Result): void {
  run.deleted[table] = (run.deleted[table] ?? 0) + (result.meta.changes ?? 0);
}

/** Reads every retention cursor at once; returns the tenant the run starts at. */
async function readCursors(run: Run): Promise<string | null> {
  spend(run);
  const { results } = await run.env.DB.prepare(
    "SELECT topic, last_sent_at AS at, samples FROM alert_state WHERE tenant_id = ?1 AND topic LIKE 'retention:%'",
  )
    .bind(CURSOR_TENANT)
    .all<{ topic: string; at: number | null; samples: string }>();
  let next: string | null = null;
  for (const r of results) {
    // One damaged row loses its own cursor (that part starts over, and the run's write mends it),
    // not every cursor on every run.
    const id = firstSample(r.samples);
    if (id === undefined) {
      console.error("retention: a cursor row is unreadable; that part starts from the oldest row", { topic: r.topic });
      continue;
    }
    if (r.topic === NEXT_TENANT) next = id;
    else if (r.topic.startsWith("retention:mail:") && r.at !== null)
      run.mailCursors.set(r.topic.slice("retention:mail:".length), { createdAt: r.at, id });
    else if (r.topic.startsWith(BODIES) && r.at !== null)
      run.bodyCursors.set(r.topic.slice(BODIES.length), { through: r.at, after: id });
    else if (r.topic.startsWith(FILES) && r.at !== null)
      run.fileCursors.set(r.topic.slice(FILES.length), { at: r.at, after: id });
    else if (r.topic === ORPHAN_STEPS && /^\d+$/.test(id)) run.stepCursor = Number(id);
  }
  return next;
}

/** The first sample of a cursor row (its id), if the row holds a JSON array starting with a string. */
function firstSample(samples: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(samples);
    return Array.isArray(parsed) && typeof parsed[0] === "string" ? parsed[0] : undefined;
  } catch {
    return undefined;
  }
}

async function writeNextTenant(run: Run, tenantId: string): Promise<void> {
  spend(run);
  await cursorUpsert(run.env, NEXT_TENANT, 0, tenantId).run();
}

function cursorUpsert(env: Env, topic: string, at: number, id: string): D1PreparedStatement {
  return env.DB.prepare(
    `INSERT INTO alert_state (tenant_id, topic, pending, last_sent_at, samples) VALUES (?1, ?2, 0, ?3, json_array(?4))
     ON CONFLICT (tenant_id, topic) DO UPDATE SET last_sent_at = ?3, samples = json_array(?4)`,
  ).bind(CURSOR_TENANT, topic, at, id);
}

/** Several cursors in one statement: one query, however many tenants' cursors moved. */
function cursorsUpsert(env: Env, rows: Array<{ topic: string; at: number; id: string }>): D1PreparedStatement {
  return env.DB.prepare(
    `INSERT INTO alert_state (tenant_id, topic, pending, last_sent_at, samples)
       SELECT ?1, json_extract(value, '$.topic'), 0, json_extract(value, '$.at'), json_array(json_extract(value, '$.id'))
         FROM json_each(?2) WHERE true
     ON CONFLICT (tenant_id, topic) DO UPDATE SET last_sent_at = excluded.last_sent_at, samples = excluded.samples`,
  ).bind(CURSOR_TENANT, JSON.stringify(rows));
}

/**
 * One tenant's expired history, a batch per table. Each part on its own: one that fails (a D1
 * error, an R2 blip, a query too slow) is logged and skipped this run, and keeps neither the
 * tenant's other history nor the other tenants' past the retention.
 */
async function retainTenant(run: Run, tenant: { id: string; retentionDays: number }, now: number): Promise<void> {
  const cutoff = now - tenant.retentionDays * DAY_MS;
  const parts: Array<[string, () => Promise<void>]> = [
    ["transfers", () => deleteExpiredTransfers(run, tenant.id, cutoff)],
    ["dead letters", () => deleteDeadLetters(run, tenant.id, cutoff)],
    ["unplanned orders", () => deleteUnplannedOrders(run, tenant.id, cutoff)],
  ];
  if (run.cursorsRead)
    parts.push(
      ["emails", () => expireMail(run, tenant.id, cutoff)],
      ["webhook bodies", () => sweepBodies(run, tenant, now)],
      ["exported files", () => expireExportedFiles(run, tenant.id, cutoff, now)],
    );
  for (const [part, work] of parts) {
    try {
      await work();
    } catch (error) {
      console.error("retention: part of a tenant skipped this run", { tenantId: tenant.id, part, error: String(error) });
    }
  }
}

/** A batch of the tenant's oldest final transfers past the retention, with their history. */
async function deleteExpiredTransfers(run: Run, tenantId: string, cutoff: number): Promise<void> {
  const { env } = run;
  // The batch is read once: its blobs and its rows are then those of the same transfers.
  spend(run);
  const expired = await env.DB.prepare(EXPIRED_TRANSFERS).bind(tenantId, cutoff).all<{ id: string }>();
  const ids = expired.results.map((r) => r.id);
  for (let i = 0; i < ids.length; i += IDS_PER_STATEMENT) {
    const chunk = ids.slice(i, i + IDS_PER_STATEMENT);
    // Numbered, so a statement can name the list twice with one set of bound values.
    const list = chunk.map((_, k) => `?${k + 1}`).join(", ");
    await deleteBlobs(run, chunk, list);
    spend(run, HISTORY.length + 1);
    const results = await env.DB.batch([
      ...HISTORY.map((table) => env.DB.prepare(`DELETE FROM ${table} WHERE transfer_id IN (${list})`).bind(...chunk)),
      env.DB.prepare(`DELETE FROM transfers WHERE id IN (${list})`).bind(...chunk),
    ]);
    for (const [j, table] of [...HISTORY, "transfers"].entries()) count(run, table, results[j]!);
  }
}

/**
 * A batch of the orders recorded while their source had no flow on (src/db/unplanned-orders.ts),
 * last seen before the cutoff: one never run by now is past what the log itself keeps.
 */
async function deleteUnplannedOrders(run: Run, tenantId: string, cutoff: number): Promise<void> {
  spend(run);
  count(run, "unplanned_orders", await deleteExpiredUnplanned(run.env, tenantId, cutoff, RETENTION_BATCH));
}

/**
 * A page of steps after the cursor (ORPHAN_STEP_PAGE), of every tenant; those whose transfer is
 * gone are deleted. A short page has reached the end: the next run starts from the first row again,
 * so an orphan behind the cursor is found on the next pass.
 */
async function deleteOrphanedSteps(run: Run, now: number): Promise<void> {
  const { env } = run;
  const from = run.stepCursor;
  spend(run);
  const { results } = await env.DB.prepare(ORPHAN_STEP_PAGE).bind(from).all<{ rowid: number; orphan: number }>();
  const orphans = results.filter((r) => r.orphan).map((r) => r.rowid);
  if (orphans.length > 0) {
    spend(run);
    count(
      run,
      "transfer_steps",
      // Checked again: a rowid is reused once its row is gone.
      await env.DB.prepare(
        `DELETE FROM transfer_steps WHERE rowid IN (SELECT value FROM json_each(?1))
           AND NOT EXISTS (SELECT 1 FROM transfers t WHERE t.id = transfer_steps.transfer_id)`,
      )
        .bind(JSON.stringify(orphans))
        .run(),
    );
  }
  const last = results[results.length - 1];
  const to = results.length < ORPHAN_STEP_SCAN || !last ? 0 : last.rowid;
  if (to !== from) run.cursorsMoved.set(ORPHAN_STEPS, { at: now, id: String(to) });
}

/**
 * Webhook bodies in R2 that no transfer names, a page a run (src/worker/event-bodies.ts). Kept
 * for the tenant's retention, and at least for the dedupe retention: until then the order's
 * object keeps the key in its events table, and a plan job may still copy it into a new
 * transfer's received snapshot.
 */
async function sweepBodies(run: Run, tenant: { id: string; retentionDays: number }, now: number): Promise<void> {
  const keepDays = Math.max(tenant.retentionDays, runtimeConfig(run.env).dedupeRetentionDays);
  const swept = await sweepEventBodies(run.env, tenant.id, keepDays, now, run.bodyCursors.get(tenant.id) ?? NO_BODY_CURSOR, () =>
    spend(run),
  );
  if (!swept) return;
  run.cursorsMoved.set(`${BODIES}${tenant.id}`, { at: swept.cursor.through, id: swept.cursor.after });
  run.deleted.event_bodies = (run.deleted.event_bodies ?? 0) + swept.deleted;
}

/**
 * A page of the tenant's exported files (src/connectors/files/files.retention.ts): those written
 * before the cutoff are emptied, their record kept, within what the run may still write. No D1
 * query: the cursor is written with the run's others.
 */
async function expireExportedFiles(run: Run, tenantId: string, cutoff: number, now: number): Promise<void> {
  const cursor = run.fileCursors.get(tenantId) ?? { at: 0, after: "" };
  const maxWrites = Math.min(FILE_EXPIRY_PER_TENANT, run.fileWrites);
  if (maxWrites === 0 || (cursor.after === "" && now - cursor.at < FILE_PASS_MS)) return;
  const result = await expireFiles(run.env, tenantId, { cutoff, now, after: cursor.after, maxWrites });
  run.fileWrites -= result.expired;
  if (result.expired > 0) run.deleted.files = (run.deleted.files ?? 0) + result.expired;
  // A pass that reached the end waits FILE_PASS_MS from now; one under way keeps its start's time.
  const at = result.after === "" ? now : cursor.at;
  if (result.after !== cursor.after || at !== cursor.at) run.cursorsMoved.set(`${FILES}${tenantId}`, { at, id: result.after });
}

/**
 * A batch of expired dead letters (a tenant's, or those with none), the raw bodies that refused
 * deliveries keep in R2 first (`body.raw.blobKey`, src/worker/routes/hooks.ts).
 */
async function deleteDeadLetters(run: Run, tenantId: string | null, cutoff: number): Promise<void> {
  const { env } = run;
  spend(run);
  const { results } = await env.DB.prepare(
    `SELECT id, json_extract(body, '$.raw.blobKey') AS blob_key FROM dead_letters
      WHERE tenant_id IS ? AND created_at < ? ORDER BY created_at LIMIT ${RETENTION_BATCH}`,
  )
    .bind(tenantId, cutoff)
    .all<{ id: number; blob_key: string | null }>();
  if (results.length === 0) return;
  const keys = results.flatMap((r) => (r.blob_key ? [r.blob_key] : []));
  for (let i = 0; i < keys.length; i += 1000) await env.BLOBS.delete(keys.slice(i, i + 1000));
  spend(run);
  count(
    run,
    "dead_letters",
    await env.DB.prepare("DELETE FROM dead_letters WHERE id IN (SELECT value FROM json_each(?))")
      .bind(JSON.stringify(results.map((r) => r.id)))
      .run(),
  );
}

/**
 * A batch of the tenant's expired emails, after its cursor, their attachments in R2 first (keys
 * listed on the row): a file whose row is gone is one nobody finds again. A failed email and a
 * disposable one (DISPOSABLE_MAIL_KEYS) are deleted; any other sent email keeps its row, without
 * its text, HTML, attachments and recipients, so `sendMail` still finds its key sent. Which is which is decided
 * in the statements, so an email sent again between the read and the write is never deleted.
 */
async function expireMail(run: Run, tenantId: string, cutoff: number): Promise<void> {
  const { env } = run;
  const from = run.mailCursors.get(tenantId) ?? { createdAt: Number.MIN_SAFE_INTEGER, id: "" };
  spend(run);
  const { results } = await env.DB.prepare(
    `SELECT id, attachments, created_at AS createdAt FROM mail_outbox
      WHERE tenant_id = ?1 AND created_at < ?2 AND created_at >= ?3 AND (created_at > ?3 OR id > ?4)
      ORDER BY created_at, id LIMIT ${RETENTION_BATCH}`,
  )
    .bind(tenantId, cutoff, from.createdAt, from.id)
    .all<{ id: string; attachments: string | null; createdAt: number }>();
  const last = results[results.length - 1];
  if (!last) return;
  const keys = results.flatMap((r) =>
    (r.attachments ? (JSON.parse(r.attachments) as Array<{ blobKey: string }>) : []).map((a) => a.blobKey),
  );
  for (let i = 0; i < keys.length; i += 1000) await env.BLOBS.delete(keys.slice(i, i + 1000));
  // The ids as one JSON value: D1 binds at most 100 parameters. The cursor moves in the same
  // transaction, so it never passes an email whose expiry was not applied.
  const ids = JSON.stringify(results.map((r) => r.id));
  const batch = "tenant_id = ?1 AND id IN (SELECT value FROM json_each(?2))";
  spend(run, 3);
  const [deleted, trimmed] = await env.DB.batch([
    env.DB.prepare(`DELETE FROM mail_outbox WHERE ${batch} AND (status != 'sent' OR ${DISPOSABLE})`).bind(tenantId, ids),
    env.DB.prepare(
      // The recipients go too: a customer's address is not kept past the tenant's retention.
      `UPDATE mail_outbox SET text = ?3, html = NULL, attachments = NULL, to_addresses = '[]'
        WHERE ${batch} AND status = 'sent' AND NOT ${DISPOSABLE}
          AND (text IS NOT ?3 OR html IS NOT NULL OR attachments IS NOT NULL OR to_addresses IS NOT '[]')`,
    ).bind(tenantId, ids, MAIL_BODY_DELETED),
    cursorUpsert(env, mailTopic(tenantId), last.createdAt, last.id),
  ]);
  count(run, "mail_outbox", deleted!);
  count(run, "mail_outbox_bodies", trimmed!);
}

/**
 * R2 bodies of the snapshots about to go, first: a body without its row is garbage nobody finds.
 * A webhook's raw body is shared by every transfer made from that event (one per flow and
 * stage), so it stays while a transfer of the same order outside this batch still shows it.
 */
async function deleteBlobs(run: Run, chunk: string[], list: string): Promise<void> {
  spend(run);
  const blobs = await run.env.DB.prepare(
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
  for (let i = 0; i < keys.length; i += 1000) await run.env.BLOBS.delete(keys.slice(i, i + 1000));
}

export async function setRetention(env: Env, tenantId: string, days: number): Promise<void> {
  await database(env).update(tenants).set({ retentionDays: days }).where(eq(tenants.id, tenantId));
}
