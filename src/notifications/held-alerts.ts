/**
 * An event the inbox stored (and the sender got its 2xx for) that its order's object keeps
 * refusing: the inbox tries it again every minute for good, since it must not be lost and the
 * order's later events must not overtake it, and after HELD_ALERT_TRIES tries the tenant is told,
 * throttled under `held:<source connection>`. Until then nothing shows it: the order's transfers
 * are not in the log, because they were never planned.
 */
import { alertSample, heldEventAlertText } from "./alert-emails";
import { alertTopic } from "./alert-throttle";
import { notificationConfig } from "./notification-config";
import { connectionNames, raiseAlert } from "./notify-tenant";

/** Tries before the alert: about five minutes with the inbox's backoff (0.5 s doubling to 60 s). */
export const HELD_ALERT_TRIES = 10;

export interface HeldEvent {
  tenantId: string;
  connectionId: string;
  orderId: string;
  deliveryId: string;
  tries: number;
  reason: string;
}

/** Never throws: the alert is best effort beside an event that stays stored and tried. */
export async function alertHeldEvent(env: Env, held: HeldEvent, now = Date.now()): Promise<void> {
  try {
    const windowMs = notificationConfig(env).alertWindowMs;
    await raiseAlert(
      env,
      {
        tenantId: held.tenantId,
        topic: alertTopic("held", held.connectionId),
        at: now,
        sample: alertSample(held.orderId, held.reason),
        first: async () => {
          const names = await connectionNames(env, held.tenantId, [held.connectionId]);
          return heldEventAlertText({ ...held, sourceName: names.get(held.connectionId) ?? held.connectionId });
        },
      },
      windowMs,
    );
  } catch (error) {
    console.error("held event alert not sent", { connectionId: held.connectionId, orderId: held.orderId, error: String(error) });
  }
}
