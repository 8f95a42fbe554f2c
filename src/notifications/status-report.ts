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

export interface StatusReportFacts {
  tenantName: string;
  period: ReportPeriod;
  sources: ConnectionCounts[];
  targets: ConnectionCounts[];
  silentSources: Array<{ name: string; lastTransferAt: number }>;
  silenceHours: number;
}

export interface StatusReportEmail {
  subject: string;
  text: string;
  html: string;
}

const COLUMNS = ["received", "transferred", "failed", "still pending"] as const;

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

export function buildStatusReport(f: StatusReportFacts): StatusReportEmail {
  const totals = reportTotals(f.sources);
  const label = f.period.schedule === "daily" ? "Daily" : "Weekly";
  const range = `${utcMinute(f.period.start)} – ${utcMinute(f.period.end)} UTC`;
  const missing = missingLines(f);
  const missingNote = `Orderly can only count orders that sources sent. What may be missing is what it can see: failed transfers nobody retried, and sources that usually send but have been silent for ${f.silenceHours} hours.`;
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
    `<p>Failed transfers: ${pageLinkHtml(failedTransfersPage())}</p>`,
  ].join("\n");

  return {
    subject: `${label} status: ${totals.received} received, ${totals.transferred} transferred, ${totals.failed} failed (${utcMinute(f.period.start).slice(0, 10)})`,
    text,
    html,
  };
}
