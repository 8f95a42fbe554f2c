/**
 * A refund Orderly received and passed to the refund flows that a newer version of the order no
 * longer lists: it was deleted in the shop (WooCommerce lets a merchant delete a refund). What its
 * flows made (a credit note) stays, so the tenant is told, throttled under `refund-gone:<source>`.
 *
 * The order's object counts the refunds as told only once this says the alert is on record, and
 * raises it again from its alarm until then (OrderDO.tellGoneRefunds).
 */
import { and, eq } from "drizzle-orm";
import { database } from "../db/client";
import { mailOutbox } from "../db/schema";
import { MAX_IDEMPOTENCY_KEY_LENGTH } from "../mail/mail.types";
import { alertSample, refundGoneAlertText } from "./alert-emails";
import { alertMailKey, alertTopic } from "./alert-throttle";
import { notificationConfig } from "./notification-config";
import { connectionNames, raiseAlert } from "./notify-tenant";

export interface GoneRefunds {
  tenantId: string;
  connectionId: string;
  orderId: string;
  refundIds: string[];
}

/**
 * Never throws. True when the alert is on record: counted into its topic's window (the grouped
 * email tells it), or its first email sent or kept in the outbox (the cron sends a failed one
 * again). False when it should be raised again: nothing of it may have been stored.
 */
export async function alertGoneRefunds(env: Env, gone: GoneRefunds, now = Date.now()): Promise<boolean> {
  const topic = alertTopic("refund-gone", gone.connectionId);
  try {
    await raiseAlert(
      env,
      {
        tenantId: gone.tenantId,
        topic,
        at: now,
        sample: alertSample(gone.orderId, `refund ${gone.refundIds.join(", ")} deleted in the shop`),
        first: async () => {
          const names = await connectionNames(env, gone.tenantId, [gone.connectionId]);
          return refundGoneAlertText({ ...gone, sourceName: names.get(gone.connectionId) ?? gone.connectionId });
        },
      },
      notificationConfig(env).alertWindowMs,
    );
    return true;
  } catch (error) {
    // raiseAlert also throws when the event opened a window and its first email failed, after
    // keeping that email as a failed outbox row: raised again, it would be counted a second time
    // and mailed once more in the grouped email. That row is keyed by the window's start, `now`.
    const stored = await firstEmailStored(env, gone.tenantId, topic, now);
    if (!stored)
      console.error("refund-gone alert not raised; the order's object raises it again", {
        connectionId: gone.connectionId,
        orderId: gone.orderId,
        error: String(error),
      });
    return stored;
  }
}

/** Whether the first email of a window opened at `windowStart` is in the outbox (sent or failed). */
async function firstEmailStored(env: Env, tenantId: string, topic: string, windowStart: number): Promise<boolean> {
  const key = `alert/${alertMailKey(tenantId, topic, windowStart, false)}`.slice(0, MAX_IDEMPOTENCY_KEY_LENGTH);
  try {
    const row = await database(env)
      .select({ id: mailOutbox.id })
      .from(mailOutbox)
      .where(and(eq(mailOutbox.tenantId, tenantId), eq(mailOutbox.idempotencyKey, key)))
      .get();
    return row !== undefined;
  } catch (error) {
    console.error("refund-gone alert's outbox row not read", { topic, error: String(error) });
    return false;
  }
}
