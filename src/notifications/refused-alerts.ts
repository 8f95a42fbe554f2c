/**
 * A signed delivery from a source that never retries (WooCommerce), which Orderly could not take:
 * its connection is disabled, it came from another site than the shop's, it could not be read or
 * mapped, or it is too large to store. The webhook route keeps it in `dead_letters` and answers
 * 200 (a refusal would lose the order and count towards WooCommerce disabling the webhook); this
 * tells the tenant, throttled under `refused:<source connection>`.
 */
import { alertSample, refusedDeliveryAlertText } from "./alert-emails";
import { alertTopic } from "./alert-throttle";
import { notificationConfig } from "./notification-config";
import { connectionNames, raiseAlert } from "./notify-tenant";

export interface RefusedDelivery {
  tenantId: string;
  connectionId: string;
  deadLetterId: number;
  order: string | null;
  reason: string;
}

/** Never throws: the delivery is already kept; the alert is best effort beside it. */
export async function alertRefusedDelivery(env: Env, refused: RefusedDelivery, now = Date.now()): Promise<void> {
  try {
    const windowMs = notificationConfig(env).alertWindowMs;
    await raiseAlert(
      env,
      {
        tenantId: refused.tenantId,
        topic: alertTopic("refused", refused.connectionId),
        at: now,
        sample: alertSample(refused.order, `dead letter ${refused.deadLetterId}: ${refused.reason}`),
        first: async () => {
          const names = await connectionNames(env, refused.tenantId, [refused.connectionId]);
          return refusedDeliveryAlertText({
            sourceName: names.get(refused.connectionId) ?? refused.connectionId,
            order: refused.order,
            deadLetterId: refused.deadLetterId,
            reason: refused.reason,
            windowMs,
          });
        },
      },
      windowMs,
    );
  } catch (error) {
    console.error("refused delivery alert not sent", {
      connectionId: refused.connectionId,
      deadLetterId: refused.deadLetterId,
      error: String(error),
    });
  }
}
