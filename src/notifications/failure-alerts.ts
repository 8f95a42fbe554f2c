/**
 * Failed transfers become throttled alerts under `failures:<target connection>`.
 *
 * Why per target: a burst of failures nearly always has one cause at the system the orders go to
 * (it is down, its credentials expired, it rejects a field), and the fix is made there; grouping
 * by source would mix unrelated target problems in one email and split one outage across shops.
 *
 * Two paths, one count: the queue consumer raises the alert the moment the order's object answers
 * "dead-letter" (immediate), and the cron sweeper raises it for any failed transfer not yet
 * counted (a `step_lost` failure from the object's alarm, or a consumer that crashed between the
 * verdict and the alert). `transfers.alerted_at` is the marker: claimed and counted in one
 * transaction, it is behind `updated_at` again only when the transfer was retried and failed anew.
 */
import { and, eq } from "drizzle-orm";
import { database } from "../db/client";
import { notCompleted, transfers } from "../db/schema";
import { alertSample, failureAlertText } from "./alert-emails";
import { alertTopic, type RecordResult } from "./alert-throttle";
import { notificationConfig } from "./notification-config";
import { connectionNames, raiseAlert } from "./notify-tenant";

/**
 * The sweepers look this far back (failures here, booked-invoice differences in
 * difference-alerts.ts); older unalerted ones predate a long outage of the cron itself.
 */
export const SWEEP_LOOKBACK_MS = 48 * 3_600_000;
const SWEEP_BATCH = 200;

export interface TransferFailure {
  tenantId: string;
  transferId: string;
  /** The target connection of the step that failed. */
  target: string;
  orderNumber: string | null;
  reason: string;
}

/** Counts one failure and mails it at once if it opens its target's window. */
export async function raiseTransferFailure(
  env: Env,
  failure: TransferFailure,
  now: number,
  windowMs: number,
): Promise<RecordResult> {
  return raiseAlert(
    env,
    {
      tenantId: failure.tenantId,
      topic: alertTopic("failures", failure.target),
      at: now,
      sample: alertSample(failure.orderNumber, failure.reason),
      marker: { table: "transfers", transferId: failure.transferId },
      first: async () => {
        const names = await connectionNames(env, failure.tenantId, [failure.target]);
        return failureAlertText({
          transferId: failure.transferId,
          orderNumber: failure.orderNumber,
          reason: failure.reason,
          targetId: failure.target,
          targetName: names.get(failure.target) ?? (failure.target || "an unknown target"),
          windowMs,
        });
      },
    },
    windowMs,
  );
}

/**
 * The queue consumer's hook, after the order's object failed a step for good. Never throws: the
 * step's message must still be acked, and whatever is missed here the cron sweeper counts.
 */
export async function alertTransferFailure(
  env: Env,
  step: { tenantId: string; transferId: string; target: string },
  reason: string,
  now = Date.now(),
): Promise<void> {
  try {
    const row = await database(env)
      .select({ orderNumber: transfers.orderNumber })
      .from(transfers)
      .where(and(eq(transfers.id, step.transferId), eq(transfers.tenantId, step.tenantId)))
      .get();
    const failure = { ...step, orderNumber: row?.orderNumber ?? null, reason };
    await raiseTransferFailure(env, failure, now, notificationConfig(env).alertWindowMs);
  } catch (error) {
    // Not counted: the sweeper counts it. Counted but not mailed: its email is a failed outbox row
    // the cron sends again, or its marker was given back to the sweeper (raiseAlert).
    console.error("failure alert not sent now; the cron sends or counts it", {
      transferId: step.transferId,
      error: String(error),
    });
  }
}

/**
 * Failed transfers of the window not yet counted, oldest first: one range of the (status,
 * updated_at) index, which holds no completed transfers, so the query carries its term
 * (test/notifications/sweep-plans.test.ts checks the plan).
 */
export const UNALERTED_FAILURES = `
  SELECT t.id, t.tenant_id, t.order_number, t.error_reason, t.source_connection_id,
    (SELECT s.target_connection_id FROM transfer_steps s
     WHERE s.transfer_id = t.id AND s.status = 'failed' ORDER BY s.step_index LIMIT 1) AS target
  FROM transfers t
  WHERE t.status = 'failed' AND ${notCompleted("t.")} AND t.updated_at >= ?1 AND t.updated_at <= ?2
    AND (t.alerted_at IS NULL OR t.alerted_at < t.updated_at)
  ORDER BY t.updated_at LIMIT ${SWEEP_BATCH}`;

/** The cron's backstop: every failed transfer not yet counted is counted now, oldest first. */
export async function sweepUnalertedFailures(env: Env, now: number, windowMs: number): Promise<number> {
  const { results } = await env.DB.prepare(UNALERTED_FAILURES)
    .bind(now - SWEEP_LOOKBACK_MS, now)
    .all<{
      id: string;
      tenant_id: string;
      order_number: string | null;
      error_reason: string | null;
      source_connection_id: string;
      target: string | null;
    }>();
  let counted = 0;
  for (const row of results) {
    const failure: TransferFailure = {
      tenantId: row.tenant_id,
      transferId: row.id,
      // A failed transfer has a failed step; should the projection lack it, the source names the group.
      target: row.target ?? row.source_connection_id,
      orderNumber: row.order_number,
      reason: row.error_reason ?? "No reason was recorded.",
    };
    try {
      if ((await raiseTransferFailure(env, failure, now, windowMs)).outcome !== "duplicate") counted++;
    } catch (error) {
      console.error("failure alert not recorded; the next cron run tries again", { transferId: row.id, error: String(error) });
    }
  }
  return counted;
}
