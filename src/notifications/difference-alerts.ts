/**
 * "Booked invoice changed": an order updated after its invoice was booked is re-run, the target
 * adopts the booked invoice and reports in `outputs.differences` what it holds other than what
 * Orderly would make now (also a totals mismatch booked anyway, a draft order gone). A step that
 * booked what Orderly decided but wants a person to look (a refund's VAT spread over rates) reports
 * it in `outputs.checks` instead, as the advice differs. The cron finds such completed steps in
 * `transfer_steps.output` (whatever became of the rest of the transfer) and raises a throttled
 * alert under `differences:<target>` for both; `transfer_steps.alerted_at` marks each one counted,
 * as for failures.
 *
 * Found by the cron rather than in the consumer: the projected step row is the durable record of
 * the result, and these need a person's attention today, not this second.
 */
import { z } from "zod";
import { alertSample, differencesAlertText } from "./alert-emails";
import { alertTopic } from "./alert-throttle";
import { SWEEP_LOOKBACK_MS } from "./failure-alerts";
import { connectionNames, raiseAlert } from "./notify-tenant";

const BATCH = 200;

/**
 * The completed steps whose output reports differences or checks, of transfers changed in the
 * window: keyed on the step's own status, whatever the transfer's, as a booked invoice that could
 * not change needs correcting even when a later step of the transfer failed (or has not run yet).
 * The transfer's `updated_at`, which moves with each of its steps, bounds the scan: one range of
 * each tenant's `transfers_tenant_updated`, tenants first (CROSS JOIN keeps SQLite to that order;
 * the status index holds no completed transfers, and most of these are completed). The step's
 * marker counts each result once (test/notifications/sweep-plans.test.ts checks the plan).
 */
export const DIFFERENCES = `
  SELECT s.transfer_id, s.step_index, s.tenant_id, s.target_connection_id, s.output, t.order_number
  FROM tenants n CROSS JOIN transfers t ON t.tenant_id = n.id JOIN transfer_steps s ON s.transfer_id = t.id
  WHERE t.updated_at >= ?1 AND t.updated_at <= ?2 AND s.status = 'completed'
    AND (json_array_length(s.output, '$.differences') > 0 OR json_array_length(s.output, '$.checks') > 0)
    AND (s.alerted_at IS NULL OR s.alerted_at < s.updated_at)
  ORDER BY t.updated_at LIMIT ${BATCH}`;

/**
 * That `updated_at` is the order object's time of the change, not when the row reached D1: a row
 * written late (a D1 outage, a parked projection) comes with its old time. So the scan looks back
 * as far as the failure sweeper's, not just past the last cron run; the marker, claimed with the
 * count in one transaction and behind the step's `updated_at` only when the step itself changed
 * again, keeps the overlap from mailing a result twice.
 */
export async function sweepInvoiceDifferences(env: Env, now: number, windowMs: number): Promise<number> {
  const { results } = await env.DB.prepare(DIFFERENCES)
    .bind(now - SWEEP_LOOKBACK_MS, now)
    .all<{
      transfer_id: string;
      step_index: number;
      tenant_id: string;
      target_connection_id: string;
      output: string;
      order_number: string | null;
    }>();
  let counted = 0;
  for (const row of results) {
    try {
      // Inside the try: one unreadable output is logged, not the end of the sweep.
      const { differences, checks } = reported(row.output);
      const result = await raiseAlert(
        env,
        {
          tenantId: row.tenant_id,
          topic: alertTopic("differences", row.target_connection_id),
          at: now,
          sample: alertSample(row.order_number, [...differences, ...checks].join("; ")),
          marker: { table: "transfer_steps", transferId: row.transfer_id, stepIndex: row.step_index },
          first: async () => {
            const names = await connectionNames(env, row.tenant_id, [row.target_connection_id]);
            return differencesAlertText({
              transferId: row.transfer_id,
              orderNumber: row.order_number,
              targetName: names.get(row.target_connection_id) ?? row.target_connection_id,
              differences,
              checks,
            });
          },
        },
        windowMs,
      );
      if (result.outcome !== "duplicate") counted++;
    } catch (error) {
      console.error("differences alert not recorded; the next cron run tries again", {
        transferId: row.transfer_id,
        error: String(error),
      });
    }
  }
  return counted;
}

/** A step's reported lines; a key that is missing or not a list (an older output) gives none. */
const reportedSchema = z.object({
  differences: z.array(z.coerce.string()).catch([]),
  checks: z.array(z.coerce.string()).catch([]),
});

function reported(output: string): z.infer<typeof reportedSchema> {
  return reportedSchema.parse(JSON.parse(output));
}
