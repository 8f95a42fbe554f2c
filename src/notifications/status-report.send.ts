/**
 * Status reports by email: the cron sends each tenant with a daily or weekly `reportSchedule`
 * one report per period, at the configured hour. The email's key names the period, and a period
 * whose report was sent is skipped before any counting, so the 5-minute cron costs one lookup
 * per tenant once the report is out.
 */
import { and, eq, ne } from "drizzle-orm";
import { z } from "zod";
import { database } from "../db/client";
import { mailOutbox, notCompleted, tenants } from "../db/schema";
import { filterNotTaken } from "../domain/flow-filter";
import { missedOnDays, SWEEP_SOURCES } from "../worker/reconcile";
import { connectionNames, mailTenant, NO_MAIL_PROVIDER, tenantMailCanLeave } from "./notify-tenant";
import { NORMALLY_SENDS_MS, silentSources, sourceActivity } from "./silence";
import {
  buildStatusReport,
  type ConnectionCounts,
  isReportDue,
  type ReportPeriod,
  reportMailKey,
  reportPeriod,
  type StatusReportFacts,
  type SweepFacts,
} from "./status-report";

const HOUR_MS = 3_600_000;
/** Silent sources are listed in reports of tenants without a silence alert after this many hours. */
const REPORT_SILENCE_HOURS = 24;
const UNFINISHED = "('pending', 'running', 'retrying')";

type Counts = Omit<ConnectionCounts, "name">;

/**
 * A completed transfer sent something unless its flow's filter left the order out on retry (not
 * taken: completed, nothing sent): its D1 row carries that reason, quoted here as an SQL literal
 * (the queries keep their three bound values).
 */
const SENT = (alias: string) =>
  `${alias}status = 'completed' AND ${alias}error_reason IS NOT '${filterNotTaken().message.replaceAll("'", "''")}'`;

/**
 * The transfers a report can count: changed since the period began, or unfinished or failed now.
 * Each part is a range of one index led by the tenant, so a report reads what it counts, not the
 * tenant's whole log (a single WHERE with OR walked every transfer of the tenant;
 * test/ui/transfer-list-plan.test.ts). The indexes are named, and the candidates drive the join
 * (CROSS JOIN keeps them the outer loop): with statistics from a young database SQLite scanned
 * every transfer and looked each up in the candidates instead (docs/scale.md, "Stale statistics").
 */
const CANDIDATES = `
  SELECT id FROM transfers INDEXED BY transfers_tenant_updated WHERE tenant_id = ?1 AND updated_at >= ?2
  UNION
  SELECT id FROM transfers INDEXED BY transfers_tenant_status_time
  WHERE tenant_id = ?1 AND status IN ('pending', 'running', 'retrying', 'failed') AND ${notCompleted()}`;

export const BY_SOURCE = `
  SELECT source_connection_id AS connectionId,
    SUM(created_at >= ?2 AND created_at < ?3) AS received,
    SUM(${SENT("")} AND completed_at >= ?2 AND completed_at < ?3) AS transferred,
    SUM(status = 'failed' AND updated_at >= ?2 AND updated_at < ?3) AS failed,
    SUM(status IN ${UNFINISHED}) AS pending,
    SUM(status = 'failed') AS failedNotRetried
  FROM (${CANDIDATES}) AS c CROSS JOIN transfers ON transfers.id = c.id
  GROUP BY source_connection_id`;

// A transfer counts once per target it has a step on; a failure counts on the target that failed.
export const BY_TARGET = `
  SELECT s.target_connection_id AS connectionId,
    COUNT(DISTINCT CASE WHEN t.created_at >= ?2 AND t.created_at < ?3 THEN t.id END) AS received,
    COUNT(DISTINCT CASE WHEN ${SENT("t.")} AND t.completed_at >= ?2 AND t.completed_at < ?3 THEN t.id END) AS transferred,
    COUNT(DISTINCT CASE WHEN t.status = 'failed' AND s.status = 'failed' AND t.updated_at >= ?2 AND t.updated_at < ?3 THEN t.id END) AS failed,
    COUNT(DISTINCT CASE WHEN t.status IN ${UNFINISHED} THEN t.id END) AS pending,
    COUNT(DISTINCT CASE WHEN t.status = 'failed' AND s.status = 'failed' THEN t.id END) AS failedNotRetried
  FROM (${CANDIDATES}) AS c CROSS JOIN transfers t ON t.id = c.id CROSS JOIN transfer_steps s ON s.transfer_id = t.id
  GROUP BY s.target_connection_id`;

/**
 * The tenant's enabled sources a sweep can read, each with its sweep's state: one range of the
 * connections' tenant index, and the state row by its key.
 */
export const SWEEPS = `
  SELECT c.name, json_extract(c.settings, '$.reconcile') = 1 AS sweepOn, r.connection_id AS ran,
    r.missed_days AS missedDays, r.last_error AS lastError, r.last_error_code AS lastErrorCode,
    r.fail_runs AS failRuns, r.on_since AS onSince, r.checkpoint
  FROM connections c LEFT JOIN reconcile_state r ON r.connection_id = c.id AND r.tenant_id = c.tenant_id
  WHERE c.tenant_id = ?1 AND c.enabled = 1 AND c.connector IN (SELECT value FROM json_each(?2))
  ORDER BY c.name, c.id`;

const sweepRow = z.object({
  name: z.string(),
  sweepOn: z.coerce.boolean(),
  ran: z.string().nullable(),
  missedDays: z.string().nullable(),
  lastError: z.string().nullable(),
  lastErrorCode: z.string().nullable(),
  failRuns: z.number().nullable(),
  onSince: z.number().nullable(),
  checkpoint: z.number().nullable(),
});
const missedDays = z.record(z.string(), z.number());

function readMissedDays(text: string | null): Record<string, number> | null {
  try {
    return missedDays.safeParse(JSON.parse(text ?? "{}")).data ?? null;
  } catch {
    return null;
  }
}

/** What each sweep found in the period's UTC days (src/worker/reconcile.ts keeps the last 8 per day). */
export async function loadSweeps(env: Env, tenantId: string, period: ReportPeriod, now: number): Promise<SweepFacts[]> {
  const { results } = await env.DB.prepare(SWEEPS)
    .bind(tenantId, JSON.stringify(Object.keys(SWEEP_SOURCES)))
    .all();
  return results.map((raw): SweepFacts => {
    const row = sweepRow.parse(raw);
    if (!row.sweepOn) return { name: row.name, state: "off" };
    if (row.ran === null) return { name: row.name, state: "not_run" };
    const days = readMissedDays(row.missedDays);
    // Unreadable counts read as none kept for these days, not as "nothing missing".
    const found = days ? missedOnDays(days, period.start, period.end, now) : null;
    if (row.lastErrorCode !== null)
      return {
        name: row.name,
        state: "failing",
        error: row.lastError ?? row.lastErrorCode,
        runs: Math.max(1, row.failRuns ?? 1),
        days: found,
      };
    return { name: row.name, state: "ran", days: found, onSince: row.onSince, readUpTo: row.checkpoint };
  });
}

/** The counts of one tenant's report; `now` decides what is still pending and which sources are silent. */
export async function loadStatusReport(
  env: Env,
  tenant: { id: string; name: string; silenceHours: number | null },
  period: ReportPeriod,
  now: number,
): Promise<StatusReportFacts> {
  const [sources, targets] = await Promise.all(
    [BY_SOURCE, BY_TARGET].map(async (query) => {
      const { results } = await env.DB.prepare(query).bind(tenant.id, period.start, period.end).all<Counts>();
      return results.filter((r) => r.received + r.transferred + r.failed + r.pending + r.failedNotRetried > 0);
    }),
  );
  const all = [...(sources ?? []), ...(targets ?? [])];
  const names = await connectionNames(
    env,
    tenant.id,
    all.map((c) => c.connectionId),
  );
  const named = (rows: Counts[] = []) =>
    rows
      .map((r) => ({ ...r, name: names.get(r.connectionId) ?? r.connectionId }))
      .sort((a, b) => a.name.localeCompare(b.name) || a.connectionId.localeCompare(b.connectionId));
  const silenceHours = tenant.silenceHours ?? REPORT_SILENCE_HOURS;
  const activity = await sourceActivity(env, tenant.id, now - silenceHours * HOUR_MS - NORMALLY_SENDS_MS);
  // Every silent source is listed, whether or not a silence alert was sent for it.
  const silent = silentSources(
    activity.map((a) => ({ ...a, lastAlertAt: null })),
    now,
    silenceHours,
  );
  return {
    tenantName: tenant.name,
    period,
    sources: named(sources),
    targets: named(targets),
    silentSources: silent.map((s) => ({ name: s.name, lastTransferAt: s.lastTransferAt })),
    silenceHours,
    sweeps: await loadSweeps(env, tenant.id, period, now),
  };
}

/** The cron's report pass: each tenant whose period just ended and whose report is not out yet. */
export async function sendDueStatusReports(env: Env, now: number, hourUtc: number): Promise<number> {
  const db = database(env);
  const scheduled = await db.select().from(tenants).where(ne(tenants.reportSchedule, "off"));
  let sent = 0;
  for (const tenant of scheduled) {
    if (tenant.reportSchedule === "off") continue;
    const period = reportPeriod(tenant.reportSchedule, now, hourUtc);
    if (!isReportDue(period, now)) continue;
    const key = reportMailKey(tenant.id, period);
    try {
      const row = await db
        .select({ status: mailOutbox.status, error: mailOutbox.error })
        .from(mailOutbox)
        .where(and(eq(mailOutbox.tenantId, tenant.id), eq(mailOutbox.idempotencyKey, key)))
        .get();
      if (row?.status === "sent") continue;
      // Without an alert address the report is kept once as a failed row ("no alert recipients
      // set") that the outbox shows; no point counting it again every run of the cron.
      if (row && tenant.alertEmails.length === 0) continue;
      // Likewise without a mail provider ("no mail provider is chosen"), until one is chosen.
      if (row?.error === NO_MAIL_PROVIDER && !tenantMailCanLeave(env, tenant.mailConnectionId)) continue;
      const facts = await loadStatusReport(env, tenant, period, now);
      if (await mailTenant(env, tenant.id, { key, ...buildStatusReport(facts) })) sent++;
    } catch (error) {
      console.error("status report not sent; the next cron run tries again", { tenantId: tenant.id, error: String(error) });
    }
  }
  return sent;
}
