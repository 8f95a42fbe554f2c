/**
 * Turns a metered run into per-order counts and prices them per million orders at Cloudflare's
 * published Workers Paid rates (marginal: above the monthly included usage). Pages read 2026-11-25:
 *   Workers   https://developers.cloudflare.com/workers/platform/pricing/        $0.30/M requests, $0.02/M CPU-ms
 *   DOs       https://developers.cloudflare.com/durable-objects/platform/pricing/ $0.15/M requests, $12.50/M GB-s,
 *             SQLite $0.001/M rows read, $1.00/M rows written, each setAlarm() one row written
 *   Queues    https://developers.cloudflare.com/queues/pricing/                  $0.40/M operations (per 64 KB)
 *   D1        https://developers.cloudflare.com/d1/platform/pricing/             $0.001/M rows read, $1.00/M written
 *   R2        https://developers.cloudflare.com/r2/pricing/                      $4.50/M Class A, $0.36/M Class B
 */
import { R2_CLASS, type Usage } from "./meter";

/** Dollars per million units. */
export const PRICE = {
  workerRequest: 0.3,
  workerCpuMs: 0.02,
  doRequest: 0.15,
  doGbSecond: 12.5,
  queueOperation: 0.4,
  rowRead: 0.001,
  rowWritten: 1.0,
  r2ClassA: 4.5,
  r2ClassB: 0.36,
} as const;

/** Memory every Durable Object is billed for, whatever it uses. */
const DO_GB = 0.128;
/** CPU per Worker invocation is not measurable in workerd; a stated assumption, priced separately. */
export const ASSUMED_CPU_MS_PER_INVOCATION = 5;

const HISTORY = new Set(["transfers", "transfer_steps", "snapshots", "attempts", "dead_letters"]);
const TARGET = new Set(["ledger_customers", "ledger_invoices", "ledger_payments", "mail_outbox"]);

export interface PerOrder {
  workerRequests: number;
  webhooks: number;
  consumerInvocations: number;
  doRequests: number;
  doCalls: Record<string, number>;
  doInstances: number;
  doActiveMs: number;
  doGbSeconds: number;
  doRowsRead: number;
  doRowsWritten: number;
  doRowsWrittenByClass: Record<string, number>;
  alarmsSet: number;
  queueOps: number;
  queueMessages: number;
  d1Calls: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  d1WrittenHistory: number;
  d1WrittenTarget: number;
  d1WrittenOther: number;
  d1WrittenByTable: Record<string, number>;
  d1Statements: number;
  r2ClassA: number;
  r2ClassB: number;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export function perOrder(usage: Usage, orders: number): PerOrder {
  const per = (n: number) => n / orders;
  const d1 = Object.entries(usage.d1);
  const written = (filter: (table: string) => boolean) => per(sum(d1.filter(([t]) => filter(t)).map(([, r]) => r.written)));
  const sql = Object.values(usage.doSql);
  const activeMs = per(sum(Object.values(usage.doActiveMs)));
  const consumerInvocations = per(usage.worker.queueBatches + usage.worker.dlqBatches);
  const webhooks = per(usage.worker.webhook);
  return {
    workerRequests: webhooks + consumerInvocations + per(usage.worker.api + usage.worker.otherFetch),
    webhooks,
    consumerInvocations,
    doRequests: per(sum(Object.values(usage.doCalls))),
    doCalls: Object.fromEntries(Object.entries(usage.doCalls).map(([k, v]) => [k, per(v)])),
    doInstances: per(sum(Object.values(usage.doInstances))),
    doActiveMs: activeMs,
    doGbSeconds: (activeMs / 1000) * DO_GB,
    doRowsRead: per(sum(sql.map((s) => s.read))),
    doRowsWritten: per(sum(sql.map((s) => s.written + s.alarms))),
    doRowsWrittenByClass: Object.fromEntries(Object.entries(usage.doSql).map(([k, s]) => [k, per(s.written + s.alarms)])),
    alarmsSet: per(sum(sql.map((s) => s.alarms))),
    // Write + read (each delivery, retries included) + delete (each ack), per 64 KB.
    queueOps: per(usage.queue.stepSendOps + usage.queue.delivered + usage.queue.acked + usage.queue.dlqSends * 3),
    queueMessages: per(usage.queue.stepSends),
    d1Calls: per(usage.d1Calls),
    d1RowsRead: per(sum(d1.map(([, r]) => r.read))),
    d1RowsWritten: per(sum(d1.map(([, r]) => r.written))),
    d1WrittenHistory: written((t) => HISTORY.has(t)),
    d1WrittenTarget: written((t) => TARGET.has(t)),
    d1WrittenOther: written((t) => !HISTORY.has(t) && !TARGET.has(t)),
    d1WrittenByTable: Object.fromEntries(d1.map(([t, r]) => [t, per(r.written)])),
    d1Statements: per(sum(d1.map(([, r]) => r.statements))),
    r2ClassA: per(
      sum(
        Object.entries(usage.r2)
          .filter(([m]) => R2_CLASS[m] === "A")
          .map(([, n]) => n),
      ),
    ),
    r2ClassB: per(
      sum(
        Object.entries(usage.r2)
          .filter(([m]) => R2_CLASS[m] === "B")
          .map(([, n]) => n),
      ),
    ),
  };
}

/** Dollars per million orders, line by line. */
export function priced(o: PerOrder): Record<string, number> {
  const lines = {
    "Workers requests": o.workerRequests * PRICE.workerRequest,
    [`Workers CPU (assumed ${ASSUMED_CPU_MS_PER_INVOCATION} ms/invocation)`]:
      o.workerRequests * ASSUMED_CPU_MS_PER_INVOCATION * PRICE.workerCpuMs,
    "DO requests": o.doRequests * PRICE.doRequest,
    "DO duration": o.doGbSeconds * PRICE.doGbSecond,
    "DO SQLite rows read": o.doRowsRead * PRICE.rowRead,
    "DO SQLite rows written": o.doRowsWritten * PRICE.rowWritten,
    "Queue operations": o.queueOps * PRICE.queueOperation,
    "D1 rows read": o.d1RowsRead * PRICE.rowRead,
    "D1 rows written": o.d1RowsWritten * PRICE.rowWritten,
    "R2 Class A": o.r2ClassA * PRICE.r2ClassA,
    "R2 Class B": o.r2ClassB * PRICE.r2ClassB,
  };
  return { ...lines, total: sum(Object.values(lines)) };
}

/** A markdown table with one column per scenario. */
export function table(rows: Array<[string, ...Array<string | number>]>, header: string[]): string {
  const fmt = (v: string | number) =>
    typeof v === "number" ? (Number.isNaN(v) ? "–" : Number.isInteger(v) ? String(v) : v.toFixed(2)) : v;
  const lines = [`| ${header.join(" | ")} |`, `| ${header.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`];
  for (const row of rows) lines.push(`| ${row.map(fmt).join(" | ")} |`);
  return lines.join("\n");
}
