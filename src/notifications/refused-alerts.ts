/**
 * A signed delivery Orderly could not take, from any source: its connection is disabled, it came
 * from another site than the shop's (WooCommerce), it could not be read or mapped, it is too large
 * to store, or (from a source that never retries) the inbox did not store it or did not confirm it.
 * The webhook route keeps it in `dead_letters` and answers 200: WooCommerce never sends a delivery
 * again (and counts failures towards disabling the webhook), and Shopify drops one after 8 tries
 * over about 4 hours, so a refusal would lose the order. This tells the tenant, throttled under
 * `refused:<source connection>`.
 *
 * Told exactly once, as failures are (failure-alerts.ts): the route raises the alert beside its
 * answer, and the cron sweeper raises any kept delivery not yet counted (a D1 error in the route's
 * try, a worker cut off before it ran). `dead_letters.alerted_at` is the marker, claimed and
 * counted in one transaction, so whichever path comes first counts it.
 *
 * Also a test order the source connection ignored (Shopify's `processTestOrders` off): answered
 * 200 and not booked, which loses real sales when a payment provider was left in test mode. The
 * tenant is told the same way, throttled under `test-orders:<source connection>`.
 */
import { untoldKeptDeliveries } from "../db/dead-letters";
import { alertSample, refusedDeliveryAlertText, testOrdersIgnoredAlertText } from "./alert-emails";
import { alertTopic, type RecordResult } from "./alert-throttle";
import { notificationConfig } from "./notification-config";
import { connectionNames, raiseAlert } from "./notify-tenant";

export interface RefusedDelivery {
  tenantId: string;
  connectionId: string;
  deadLetterId: number;
  order: string | null;
  reason: string;
}

/** The sweeper looks this far back, as for failures; an older untold delivery predates a long outage of the cron itself. */
const SWEEP_LOOKBACK_MS = 48 * 3_600_000;
const SWEEP_BATCH = 200;

/** Counts one kept delivery (claiming its dead letter) and mails it at once if it opens its source's window. */
export async function raiseRefusedDelivery(
  env: Env,
  refused: RefusedDelivery,
  now: number,
  windowMs: number,
): Promise<RecordResult> {
  return raiseAlert(
    env,
    {
      tenantId: refused.tenantId,
      topic: alertTopic("refused", refused.connectionId),
      at: now,
      sample: alertSample(refused.order, `dead letter ${refused.deadLetterId}: ${refused.reason}`),
      marker: { table: "dead_letters", deadLetterId: refused.deadLetterId },
      first: async () => {
        const names = await connectionNames(env, refused.tenantId, [refused.connectionId]);
        return refusedDeliveryAlertText({
          sourceName: names.get(refused.connectionId) ?? (refused.connectionId || "an unknown source"),
          order: refused.order,
          deadLetterId: refused.deadLetterId,
          reason: refused.reason,
          windowMs,
        });
      },
    },
    windowMs,
  );
}

/** The webhook route's try, beside its answer. Never throws: the delivery is already kept, and what is missed here the cron sweeper counts. */
export async function alertRefusedDelivery(env: Env, refused: RefusedDelivery, now = Date.now()): Promise<void> {
  try {
    await raiseRefusedDelivery(env, refused, now, notificationConfig(env).alertWindowMs);
  } catch (error) {
    // Not counted: the sweeper counts it. Counted but not mailed: its email is a failed outbox row
    // the cron sends again, or its marker was given back to the sweeper (raiseAlert).
    console.error("refused delivery alert not sent now; the cron sends or counts it", {
      connectionId: refused.connectionId,
      deadLetterId: refused.deadLetterId,
      error: String(error),
    });
  }
}

/** The cron's backstop: every kept delivery of the last 48 hours not yet counted is counted now, oldest first. */
export async function sweepUntoldRefusals(env: Env, now: number, windowMs: number): Promise<number> {
  const rows = await untoldKeptDeliveries(env, now - SWEEP_LOOKBACK_MS, now, SWEEP_BATCH);
  let counted = 0;
  for (const row of rows) {
    const refused: RefusedDelivery = {
      tenantId: row.tenantId,
      connectionId: row.connectionId,
      deadLetterId: row.id,
      order: row.order,
      reason: row.reason,
    };
    try {
      if ((await raiseRefusedDelivery(env, refused, now, windowMs)).outcome !== "duplicate") counted++;
    } catch (error) {
      console.error("refused delivery alert not recorded; the next cron run tries again", {
        deadLetterId: row.id,
        error: String(error),
      });
    }
  }
  return counted;
}

export interface IgnoredTestOrder {
  tenantId: string;
  connectionId: string;
  /** The order as the shop names it (`#1001`), when known. */
  order: string | null;
  reason: string;
}

/** The throttle topic of ignored test orders. */
export function testOrdersTopic(connectionId: string): string {
  return alertTopic("test-orders", connectionId);
}

/** Never throws: the delivery is already answered; the alert is best effort beside it. */
export async function alertTestOrderIgnored(env: Env, ignored: IgnoredTestOrder, now = Date.now()): Promise<void> {
  try {
    const windowMs = notificationConfig(env).alertWindowMs;
    await raiseAlert(
      env,
      {
        tenantId: ignored.tenantId,
        topic: testOrdersTopic(ignored.connectionId),
        at: now,
        sample: alertSample(ignored.order, ignored.reason),
        first: async () => {
          const names = await connectionNames(env, ignored.tenantId, [ignored.connectionId]);
          return testOrdersIgnoredAlertText({
            sourceName: names.get(ignored.connectionId) ?? ignored.connectionId,
            order: ignored.order,
            windowMs,
          });
        },
      },
      windowMs,
    );
  } catch (error) {
    console.error("ignored test order alert not sent", { connectionId: ignored.connectionId, error: String(error) });
  }
}
