/**
 * Cron: the sweeper, the notifications and (in an invocation of its own) retention. Every order's
 * Durable Object re-drives its own steps from its alarm; the sweeper is the backstop that wakes
 * any order whose transfer has been unfinished too long, so none stays pending for ever. The
 * notification pass counts failures the queue consumer did not (and kept deliveries the webhook
 * route did not), sends grouped alerts whose window ended, silence alerts and status reports.
 */
import { notCompleted } from "../db/schema";
import { orderObjectName, orderStub } from "../durable/order-types";
import { sweepInvoiceDifferences } from "../notifications/difference-alerts";
import { sweepUnalertedFailures } from "../notifications/failure-alerts";
import { notificationConfig } from "../notifications/notification-config";
import { flushAlertGroups, resendFailedAlerts } from "../notifications/notify-tenant";
import { sweepUntoldRefusals } from "../notifications/refused-alerts";
import { checkSilentSources } from "../notifications/silence";
import { sendDueStatusReports } from "../notifications/status-report.send";
import { runtimeConfig } from "./config";
import { reconcileSources } from "./reconcile";
import { applyRetention, RETENTION_OVERDUE_MS, retentionOverdue } from "./retention";

/**
 * The two cron triggers of wrangler.toml. Each invocation gets its own D1 query and subrequest
 * budget (docs/scale.md, "The cron"), so retention, which makes a few queries per tenant, runs in
 * its own, offset by two minutes from the sweeper and the notifications.
 */
export const NOTIFY_CRON = "*/5 * * * *";
export const RETENTION_CRON = "2,7,12,17,22,27,32,37,42,47,52,57 * * * *";

/** A part of an invocation; `budget` caps the D1 queries of a part that counts its own (retention). */
type CronPart = (env: Env, scheduledTime: number, budget?: number) => Promise<unknown>;

export const CRON_PARTS = {
  sweeper: (env) => sweepUnfinishedTransfers(env),
  notifications: (env, scheduledTime) => runNotifications(env, scheduledTime),
  // The reconciliation sweep: a part of its own (settled on its own), spending within its own budget (RECONCILE_BUDGET).
  reconcile: (env, scheduledTime) => reconcileSources(env, scheduledTime),
  retention: (env, _scheduledTime, budget) => applyRetention(env, Date.now(), budget),
} satisfies Record<string, CronPart>;

/**
 * Retention's D1 queries when the notification invocation runs it (its own trigger missing): a
 * third of the invocation's 1,000, as retention counts only its own and the sweeper and the
 * notification pass used theirs first; a run then reaches fewer tenants, the next run the rest.
 */
export const FALLBACK_RETENTION_BUDGET = 300;

/** Which parts a trigger runs; any other (`wrangler dev --test-scheduled` without `?cron=`) runs all. */
export function cronParts(cron: string): Array<keyof typeof CRON_PARTS> {
  if (cron === RETENTION_CRON) return ["retention"];
  if (cron === NOTIFY_CRON) return ["sweeper", "notifications", "reconcile"];
  return ["sweeper", "notifications", "reconcile", "retention"];
}

/**
 * One scheduled invocation: its parts side by side, each settled on its own. A part that fails is
 * logged and cancels nothing (with Promise.all the first rejection settled the invocation's
 * waitUntil, and the others' work could be cut off). Returns the parts that failed. Retention run
 * by the notification invocation comes after its parts, on FALLBACK_RETENTION_BUDGET.
 */
export async function runScheduled(
  env: Env,
  cron: string,
  scheduledTime: number,
  parts: Record<string, CronPart> = CRON_PARTS,
): Promise<string[]> {
  // A part map without a part (a caller's own, from before the sweep had one) runs what it has.
  const names = cronParts(cron).filter((name) => parts[name] !== undefined);
  // Retention's own trigger missing (a gradual deployment keeps the old triggers): the notification
  // invocation runs it too rather than keep history past the retention without a word.
  const fallback =
    cron === NOTIFY_CRON && parts.retention !== undefined && (await retentionOverdue(env, scheduledTime).catch(() => false));
  const failed = await settleParts(names.map((name) => [name, () => parts[name]!(env, scheduledTime)]));
  if (fallback) {
    console.warn(
      `cron: retention has not run for ${RETENTION_OVERDUE_MS / 60_000} minutes (is its trigger "${RETENTION_CRON}" deployed? wrangler triggers deploy); it runs after the notifications`,
    );
    // After the others, not beside them: its budget counts only its own queries, and run alongside
    // it could leave the sweeper's cursor write or the notifications past the invocation's 1,000.
    failed.push(...(await settleParts([["retention", () => parts.retention!(env, scheduledTime, FALLBACK_RETENTION_BUDGET)]])));
  }
  return failed;
}

/** Runs the parts side by side; logs and returns the names of those that failed. */
async function settleParts(parts: Array<[string, () => Promise<unknown>]>): Promise<string[]> {
  const settled = await Promise.allSettled(parts.map(([, run]) => run()));
  const failed: string[] = [];
  for (const [i, result] of settled.entries()) {
    if (result.status === "fulfilled") continue;
    const name = parts[i]![0];
    failed.push(name);
    console.error(`cron: ${name} failed; the next run tries again`, String(result.reason));
  }
  return failed;
}

/** Transfers nudged per status and run: three statuses, so at most about 200 object calls a run. */
export const SWEEP_PER_STATUS = 70;
const UNFINISHED = ["running", "retrying", "pending"] as const;

/**
 * Where each status's scan goes on next run. A nudge does not move `updated_at`, and a transfer
 * may legitimately wait longer than the bound (a retry schedule, a paused target), so a scan that
 * always started at the oldest would nudge the same ones every run and never reach the rest. The
 * cursor is an `alert_state` row with no tenant (`''`, never a tenant id; alert groups need
 * `pending > 0`, so nothing mistakes it for one): `last_sent_at` holds the last `updated_at`
 * scanned and `samples` the last id. No row, or a short page, starts from the oldest again.
 */
const CURSOR_TENANT = "";
const cursorTopic = (status: string) => `sweep:${status}`;

// One range of the (status, updated_at) index per status, read in index order from the cursor;
// only ties on updated_at are sorted by id (test/flow/sweeper.test.ts checks the plan). The index
// holds no completed transfers: the query carries its term.
export const STUCK_PAGE = `SELECT id, source_connection_id AS connectionId, order_id AS orderId, updated_at AS updatedAt
  FROM transfers WHERE status = ?1 AND ${notCompleted()} AND updated_at < ?2 AND updated_at >= ?3 AND (updated_at > ?3 OR id > ?4)
  ORDER BY updated_at, id LIMIT ${SWEEP_PER_STATUS}`;

interface Cursor {
  updatedAt: number;
  id: string;
}

/** Wakes the order of every unfinished transfer not changed for twice the step resend time; returns how many orders. */
export async function sweepUnfinishedTransfers(env: Env, now = Date.now()): Promise<number> {
  const bound = now - runtimeConfig(env).stepResendAfterMs * 2;
  const cursors = await readCursors(env);
  const orders = new Map<string, { connectionId: string; orderId: string }>();
  const moved: Array<[string, Cursor | null]> = [];
  for (const status of UNFINISHED) {
    const from = cursors.get(status) ?? { updatedAt: Number.MIN_SAFE_INTEGER, id: "" };
    const { results } = await env.DB.prepare(STUCK_PAGE)
      .bind(status, bound, from.updatedAt, from.id)
      .all<{ id: string; connectionId: string; orderId: string; updatedAt: number }>();
    for (const t of results) orders.set(orderObjectName(t.connectionId, t.orderId), t);
    const last = results[results.length - 1];
    moved.push([status, results.length < SWEEP_PER_STATUS || !last ? null : { updatedAt: last.updatedAt, id: last.id }]);
  }
  // One failed nudge must not stop the others, nor keep the cursor from moving past it: the
  // object's own alarm and the next cycle of the scan still reach it.
  const nudged = await Promise.allSettled([...orders.keys()].map((name) => orderStub(env, name).nudge()));
  const failed = nudged.filter((r) => r.status === "rejected");
  if (failed.length > 0) console.error(`sweeper: ${failed.length} of ${orders.size} nudges failed`, String(failed[0]!.reason));
  await writeCursors(env, moved);
  return orders.size;
}

async function readCursors(env: Env): Promise<Map<string, Cursor>> {
  const { results } = await env.DB.prepare(
    "SELECT topic, last_sent_at AS updatedAt, samples FROM alert_state WHERE tenant_id = ?1 AND topic LIKE 'sweep:%'",
  )
    .bind(CURSOR_TENANT)
    .all<{ topic: string; updatedAt: number | null; samples: string }>();
  const out = new Map<string, Cursor>();
  for (const r of results) {
    const [id] = JSON.parse(r.samples) as string[];
    if (r.updatedAt !== null && typeof id === "string") out.set(r.topic.slice("sweep:".length), { updatedAt: r.updatedAt, id });
  }
  return out;
}

async function writeCursors(env: Env, cursors: Array<[string, Cursor | null]>): Promise<void> {
  await env.DB.batch(
    cursors.map(([status, c]) =>
      c
        ? env.DB.prepare(
            `INSERT INTO alert_state (tenant_id, topic, pending, last_sent_at, samples) VALUES (?1, ?2, 0, ?3, json_array(?4))
             ON CONFLICT (tenant_id, topic) DO UPDATE SET last_sent_at = ?3, samples = json_array(?4)`,
          ).bind(CURSOR_TENANT, cursorTopic(status), c.updatedAt, c.id)
        : env.DB.prepare("DELETE FROM alert_state WHERE tenant_id = ?1 AND topic = ?2").bind(CURSOR_TENANT, cursorTopic(status)),
    ),
  );
}

/**
 * The notification pass, in order: count what became alertable (so the flush sees it), close
 * ended windows, silence and reports, then retry failed alert emails: with a mail provider down
 * each retry may wait out its timeout, and that must not hold back the checks of every tenant. One
 * part failing does not stop the others; each picks up what it missed on the next run.
 */
export async function runNotifications(env: Env, now = Date.now()): Promise<Record<string, number>> {
  const { alertWindowMs, reportHourUtc } = notificationConfig(env);
  const parts: Array<[string, () => Promise<number>]> = [
    ["failures", () => sweepUnalertedFailures(env, now, alertWindowMs)],
    ["differences", () => sweepInvoiceDifferences(env, now, alertWindowMs)],
    ["refused", () => sweepUntoldRefusals(env, now, alertWindowMs)],
    ["grouped", () => flushAlertGroups(env, now, alertWindowMs)],
    ["silence", () => checkSilentSources(env, now)],
    ["reports", () => sendDueStatusReports(env, now, reportHourUtc)],
    ["resent", () => resendFailedAlerts(env, now)],
  ];
  const done: Record<string, number> = {};
  for (const [name, run] of parts) {
    try {
      done[name] = await run();
    } catch (error) {
      console.error(`notifications: ${name} failed`, String(error));
    }
  }
  return done;
}
