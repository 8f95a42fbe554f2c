/**
 * The status report's period and contents: which period is due at a given time, and the
 * plain-text and HTML email for a set of counts, its link made as alert emails make theirs
 * (alert-emails.ts, PUBLIC_URL). Loading the counts and sending is in status-report.send.ts.
 *
 * What the numbers mean (all per connection): received = transfers created in the period;
 * transferred = transfers completed in it; failed = transfers that ended failed in it and are
 * still failed; still pending = transfers pending, running or retrying when the report is made.
 * "Possibly missing" is an honest approximation: Orderly cannot see an order a source never sent,
 * so it lists what it can see: failed transfers nobody retried, and sources gone silent.
 * "Missed by webhooks" is the reconciliation sweep's answer where a source has one: the orders it
 * found that no webhook brought, per UTC day (the per-day counts it keeps, src/worker/reconcile.ts).
 */
import { utcMinute } from "../domain/clock-text";
import { escapeHtml } from "../mail/templates";
import { failedTransfersPage, pageLink, pageLinkHtml } from "./alert-emails";

export type ReportSchedule = "daily" | "weekly";

export interface ReportPeriod {
  schedule: ReportSchedule;
  /** Inclusive, ms since epoch. */
  start: number;
  /** Exclusive; the report goes out at (or soon after) this time. */
  end: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A report not sent within this long after its period (the cron was down) is skipped, not sent late. */
export const REPORT_CATCH_UP_MS = 6 * HOUR_MS;

/** The most recent complete period at `now`: days end at `hourUtc`, weeks on Monday at `hourUtc`. */
export function reportPeriod(schedule: ReportSchedule, now: number, hourUtc: number): ReportPeriod {
  let end = Math.floor(now / DAY_MS) * DAY_MS + hourUtc * HOUR_MS;
  if (end > now) end -= DAY_MS;
  if (schedule === "weekly") end -= ((new Date(end).getUTCDay() + 6) % 7) * DAY_MS;
  return { schedule, start: end - (schedule === "weekly" ? 7 : 1) * DAY_MS, end };
}

export function isReportDue(period: ReportPeriod, now: number): boolean {
  return now >= period.end && now < period.end + REPORT_CATCH_UP_MS;
}

/** One email per tenant and period, whatever the number of cron runs. */
export function reportMailKey(tenantId: string, period: ReportPeriod): string {
  return `report/${tenantId}/${period.schedule}/${new Date(period.end).toISOString()}`;
}

export interface ConnectionCounts {
  connectionId: string;
  name: string;
  received: number;
  transferred: number;
  failed: number;
  pending: number;
  /** Failed and not retried, whenever they failed (within the kept history). */
  failedNotRetried: number;
}

/** Orders (or stages, refunds) the sweep found no webhook had brought, on these UTC days (`YYYY-MM-DD`). */
export interface SweepDays {
  missed: number;
  from: string;
  to: string;
}

/**
 * The reconciliation sweep of one enabled source that has one (Shopify, WooCommerce): off, on and
 * not run yet, failing (its last run's error), or what it found in the period's UTC days (null:
 * none of them kept).
 */
export type SweepFacts = { name: string } & (
  | { state: "off" }
  | { state: "not_run" }
  | { state: "failing"; error: string; runs: number; days: SweepDays | null }
  | { state: "ran"; days: SweepDays | null; onSince: number | null; readUpTo?: number | null }
);

export interface StatusReportFacts {
  tenantName: string;
  period: ReportPeriod;
  sources: ConnectionCounts[];
  targets: ConnectionCounts[];
  silentSources: Array<{ name: string; lastTransferAt: number }>;
  silenceHours: number;
  /** Empty when the tenant has no source a sweep can read: the report then has no such section. */
  sweeps?: SweepFacts[];
}

export interface StatusReportEmail {
  subject: string;
  text: string;
  html: string;
}

const COLUMNS = ["received", "transferred", "failed", "still pending"] as const;
const SWEEP_TITLE = "Missed by webhooks";

function values(c: Pick<ConnectionCounts, "received" | "transferred" | "failed" | "pending">): number[] {
  return [c.received, c.transferred, c.failed, c.pending];
}

export function reportTotals(sources: ConnectionCounts[]) {
  const sum = (pick: (c: ConnectionCounts) => number) => sources.reduce((n, c) => n + pick(c), 0);
  return {
    received: sum((c) => c.received),
    transferred: sum((c) => c.transferred),
    failed: sum((c) => c.failed),
    pending: sum((c) => c.pending),
    failedNotRetried: sum((c) => c.failedNotRetried),
  };
}

/** `Shop: received 3, transferred 2, failed 1, still pending 0` */
export function countsLine(c: ConnectionCounts): string {
  return `${c.name}: ${values(c)
    .map((v, i) => `${COLUMNS[i]} ${v}`)
    .join(", ")}`;
}

function missingLines(f: StatusReportFacts): string[] {
  const lines: string[] = [];
  for (const s of f.sources.filter((c) => c.failedNotRetried > 0))
    lines.push(`${s.name}: ${s.failedNotRetried} failed ${s.failedNotRetried === 1 ? "transfer" : "transfers"} not retried`);
  for (const s of f.silentSources) lines.push(`${s.name}: nothing received since ${utcMinute(s.lastTransferAt)} UTC`);
  return lines;
}

/** How far a sweep may lag the end of a period and still vouch for it (its 15-minute cadence, its hold-back and a missed run). */
const SWEEP_LAG_MS = 60 * 60_000;

/** How much of a sweep's error goes into the report. */
const ERROR_CHARS = 300;

const dayRange = (d: SweepDays) => (d.from === d.to ? `UTC day ${d.from}` : `UTC days ${d.from} – ${d.to}`);

function foundText(d: SweepDays): string {
  return d.missed === 0
    ? `found nothing missing (${dayRange(d)})`
    : `found ${d.missed} ${d.missed === 1 ? "order" : "orders"} (or stages, refunds) no webhook brought, and took them (${dayRange(d)})`;
}

/** One line per sweepable source: the proof that nothing was missed, or why there is none. */
function sweepLine(s: SweepFacts, period: ReportPeriod): string {
  const sweep = `${s.name}: the reconciliation sweep`;
  switch (s.state) {
    case "off":
      return `${sweep} is off, so an order whose webhook is lost is not found: switch it on in the connection's settings`;
    case "not_run":
      return `${sweep} is on but has not run yet`;
    case "failing": {
      const error = s.error.length > ERROR_CHARS ? `${s.error.slice(0, ERROR_CHARS)}…` : s.error;
      const found = s.days && s.days.missed > 0 ? `. Before that it ${foundText(s.days)}` : "";
      return `${sweep} is failing (${s.runs} ${s.runs === 1 ? "run" : "runs"} in a row): ${found ? error.replace(/\.$/, "") : error}${found}`;
    }
    case "ran": {
      const since = s.onSince !== null && s.onSince > period.start ? `, on since ${utcMinute(s.onSince)} UTC` : "";
      // A sweep that fell behind (past its ceiling, or stalled) has not looked at the period's end:
      // "nothing missing" would vouch for orders it never read.
      const behind =
        s.readUpTo !== undefined && (s.readUpTo === null || s.readUpTo < period.end - SWEEP_LAG_MS)
          ? `; but it has read the shop's orders only ${s.readUpTo === null ? "for a first window, not finished yet" : `up to ${utcMinute(s.readUpTo)} UTC`}, so orders after that are not vouched for`
          : "";
      return s.days
        ? `${sweep} ${foundText(s.days)}${since}${behind}`
        : `${sweep} kept no count for this period${since}${behind}`;
    }
  }
}

export function buildStatusReport(f: StatusReportFacts): StatusReportEmail {
  const totals = reportTotals(f.sources);
  const label = f.period.schedule === "daily" ? "Daily" : "Weekly";
  const range = `${utcMinute(f.period.start)} – ${utcMinute(f.period.end)} UTC`;
  const missing = missingLines(f);
  const missingNote = `Orderly can only count orders that sources sent. What may be missing is what it can see: failed transfers nobody retried, and sources that usually send but have been silent for ${f.silenceHours} hours.`;
  const sweeps = (f.sweeps ?? []).map((s) => sweepLine(s, f.period));
  const sweepNote =
    "With the reconciliation sweep on, Orderly asks the shop itself for its recent orders every 15 minutes and takes any that no webhook brought; it counts them per UTC day.";
  const section = (title: string, rows: ConnectionCounts[]) =>
    [title, ...(rows.length > 0 ? rows.map((r) => `- ${countsLine(r)}`) : ["- no activity"])].join("\n");

  const text = [
    `${label} status report for ${f.tenantName}, ${range}`,
    `Total: ${totals.received} received, ${totals.transferred} transferred, ${totals.failed} failed, ${totals.pending} still pending`,
    section("By source", f.sources),
    section("By target", f.targets),
    ["Possibly missing", ...(missing.length > 0 ? missing.map((l) => `- ${l}`) : ["- nothing we can see"]), missingNote].join(
      "\n",
    ),
    ...(sweeps.length > 0 ? [[SWEEP_TITLE, ...sweeps.map((l) => `- ${l}`), sweepNote].join("\n")] : []),
    `Failed transfers: ${pageLink(failedTransfersPage())}`,
  ].join("\n\n");

  const table = (title: string, rows: ConnectionCounts[]) =>
    `<h3>${title}</h3><table cellpadding="4" border="1" style="border-collapse:collapse"><tr><th align="left">connection</th>${COLUMNS.map((c) => `<th>${c}</th>`).join("")}</tr>${rows
      .map(
        (r) =>
          `<tr><td>${escapeHtml(r.name)}</td>${values(r)
            .map((v) => `<td align="right">${v}</td>`)
            .join("")}</tr>`,
      )
      .join("")}</table>`;
  const html = [
    `<h2>${label} status report for ${escapeHtml(f.tenantName)}</h2>`,
    `<p>${range}</p>`,
    `<p><b>${totals.received}</b> received, <b>${totals.transferred}</b> transferred, <b>${totals.failed}</b> failed, <b>${totals.pending}</b> still pending</p>`,
    table("By source", f.sources),
    table("By target", f.targets),
    `<h3>Possibly missing</h3><ul>${(missing.length > 0 ? missing : ["nothing we can see"]).map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ul>`,
    `<p>${escapeHtml(missingNote)}</p>`,
    ...(sweeps.length > 0
      ? [
          `<h3>${SWEEP_TITLE}</h3><ul>${sweeps.map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ul>`,
          `<p>${escapeHtml(sweepNote)}</p>`,
        ]
      : []),
    `<p>Failed transfers: ${pageLinkHtml(failedTransfersPage())}</p>`,
  ].join("\n");

  return {
    subject: `${label} status: ${totals.received} received, ${totals.transferred} transferred, ${totals.failed} failed (${utcMinute(f.period.start).slice(0, 10)})`,
    text,
    html,
  };
}
