/**
 * Cron: the sweeper and the notifications. Every order's Durable Object re-drives its own steps
 * from its alarm; the sweeper is the backstop that wakes any order whose transfer has been
 * unfinished too long, so none stays pending for ever. The notification pass counts failures
 * the queue consumer did not, sends grouped alerts whose window ended, silence alerts and
 * status reports.
 */
import { and, inArray, lt } from "drizzle-orm";
import { database } from "../db/client";
import { transfers } from "../db/schema";
import { orderObjectName, orderStub } from "../durable/order-types";
import { sweepInvoiceDifferences } from "../notifications/difference-alerts";
import { sweepUnalertedFailures } from "../notifications/failure-alerts";
import { notificationConfig } from "../notifications/notification-config";
import { flushAlertGroups, resendFailedAlerts } from "../notifications/notify-tenant";
import { checkSilentSources } from "../notifications/silence";
import { sendDueStatusReports } from "../notifications/status-report.send";
import { runtimeConfig } from "./config";

const SWEEP_BATCH = 200;

export async function sweepUnfinishedTransfers(env: Env, now = Date.now()): Promise<number> {
  const config = runtimeConfig(env);
  const bound = now - config.stepResendAfterMs * 2;
  const stuck = await database(env)
    .selectDistinct({ connectionId: transfers.sourceConnectionId, orderId: transfers.orderId })
    .from(transfers)
    .where(and(inArray(transfers.status, ["pending", "running", "retrying"]), lt(transfers.updatedAt, bound)))
    .limit(SWEEP_BATCH);
  await Promise.all(stuck.map((t) => orderStub(env, orderObjectName(t.connectionId, t.orderId)).nudge()));
  return stuck.length;
}

/**
 * The notification pass, in order: count what became alertable (so the flush sees it), close
 * ended windows, retry failed alert emails, then silence and reports. One part failing does not
 * stop the others; each picks up what it missed on the next run.
 */
export async function runNotifications(env: Env, now = Date.now()): Promise<Record<string, number>> {
  const { alertWindowMs, reportHourUtc } = notificationConfig(env);
  const parts: Array<[string, () => Promise<number>]> = [
    ["failures", () => sweepUnalertedFailures(env, now, alertWindowMs)],
    ["differences", () => sweepInvoiceDifferences(env, now, alertWindowMs)],
    ["grouped", () => flushAlertGroups(env, now, alertWindowMs)],
    ["resent", () => resendFailedAlerts(env, now)],
    ["silence", () => checkSilentSources(env, now)],
    ["reports", () => sendDueStatusReports(env, now, reportHourUtc)],
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
