/**
 * A signed delivery Orderly could not take, from any source: its connection is disabled, it came
 * from another site than the shop's (WooCommerce), it could not be read or mapped, it is too large
 * to store, or (from a source that never retries) the inbox did not store it or did not confirm it.
 * The webhook route keeps it in `dead_letters` and answers 200: WooCommerce never sends a delivery
 * again (and counts failures towards disabling the webhook), and Shopify drops one after 8 tries
 * over about 4 hours, so a refusal would lose the order. This tells the tenant, throttled under
 * `refused:<source connection>`.
 *
 * Also a test order the source connection ignored (Shopify's `processTestOrders` off): answered
 * 200 and not booked, which loses real sales when a payment provider was left in test mode. The
 * tenant is told the same way, throttled under `test-orders:<source connection>`.
 */
import { alertSample, refusedDeliveryAlertText, testOrdersIgnoredAlertText } from "./alert-emails";
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
