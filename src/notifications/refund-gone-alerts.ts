/**
 * A refund Orderly received and passed to the refund flows that a newer version of the order no
 * longer lists: it was deleted in the shop (WooCommerce lets a merchant delete a refund). What its
 * flows made (a credit note) stays, so the tenant is told, throttled under `refund-gone:<source>`.
 */
import { alertSample, refundGoneAlertText } from "./alert-emails";
import { alertTopic } from "./alert-throttle";
import { notificationConfig } from "./notification-config";
import { connectionNames, raiseAlert } from "./notify-tenant";

export interface GoneRefunds {
  tenantId: string;
  connectionId: string;
  orderId: string;
  refundIds: string[];
}

/** Never throws: the alert is best effort, beside the transfers the refunds made. */
export async function alertGoneRefunds(env: Env, gone: GoneRefunds, now = Date.now()): Promise<void> {
  try {
    await raiseAlert(
      env,
      {
        tenantId: gone.tenantId,
        topic: alertTopic("refund-gone", gone.connectionId),
        at: now,
        sample: alertSample(gone.orderId, `refund ${gone.refundIds.join(", ")} deleted in the shop`),
        first: async () => {
          const names = await connectionNames(env, gone.tenantId, [gone.connectionId]);
          return refundGoneAlertText({ ...gone, sourceName: names.get(gone.connectionId) ?? gone.connectionId });
        },
      },
      notificationConfig(env).alertWindowMs,
    );
  } catch (error) {
    console.error("refund-gone alert not sent", { connectionId: gone.connectionId, orderId: gone.orderId, error: String(error) });
  }
}
