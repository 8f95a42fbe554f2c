/**
 * An order reached a stage while its source had no enabled flow at all: the order object recorded
 * it in `unplanned_orders` (OrderDO.plan), and this tells the tenant, throttled under
 * `unplanned:<source connection>`, that orders arrive which no flow transfers. The record is what
 * makes the order recoverable (Flows page: run its flows, or dismiss it when booked by hand); the
 * alert only says to look.
 */
import { alertSample, unplannedOrdersAlertText } from "./alert-emails";
import { alertTopic } from "./alert-throttle";
import { notificationConfig } from "./notification-config";
import { connectionNames, raiseAlert } from "./notify-tenant";

export interface UnplannedOrder {
  tenantId: string;
  connectionId: string;
  /** The order as the shop names it (`#1001`), or the shop's id of it. */
  order: string;
  stages: string[];
}

export function unplannedTopic(connectionId: string): string {
  return alertTopic("unplanned", connectionId);
}

/**
 * Never throws: the order is recorded already, and the Flows page lists it whether or not this
 * email goes. A failed first email is kept in the outbox for the cron (raiseAlert); a failure to
 * count it is logged.
 */
export async function alertUnplannedOrder(env: Env, unplanned: UnplannedOrder, now = Date.now()): Promise<void> {
  try {
    const windowMs = notificationConfig(env).alertWindowMs;
    await raiseAlert(
      env,
      {
        tenantId: unplanned.tenantId,
        topic: unplannedTopic(unplanned.connectionId),
        at: now,
        sample: alertSample(unplanned.order, `reached ${unplanned.stages.join(", ")} with no flow switched on`),
        first: async () => {
          const names = await connectionNames(env, unplanned.tenantId, [unplanned.connectionId]);
          return unplannedOrdersAlertText({
            sourceName: names.get(unplanned.connectionId) ?? unplanned.connectionId,
            order: unplanned.order,
            windowMs,
          });
        },
      },
      windowMs,
    );
  } catch (error) {
    console.error("unplanned order alert not sent; the order is recorded and listed on the Flows page", {
      connectionId: unplanned.connectionId,
      order: unplanned.order,
      error: String(error),
    });
  }
}
