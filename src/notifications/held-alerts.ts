/**
 * An event the inbox stored (and the sender got its 2xx for) that its order's object keeps
 * refusing: the inbox tries it again every minute for good, since it must not be lost and the
 * order's later events must not overtake it, and after HELD_ALERT_TRIES tries the tenant is told,
 * throttled under `held:<source connection>`. Until then nothing shows it: the order's transfers
 * are not in the log, because they were never planned.
 */
import type { SourceEvent } from "../connectors/contract";
import { alertSample, heldEventAlertText, heldEventLabel } from "./alert-emails";
import { alertTopic } from "./alert-throttle";
import { notificationConfig } from "./notification-config";
import { connectionNames, raiseAlert } from "./notify-tenant";

/** Tries before the alert: about five minutes with the inbox's backoff (0.5 s doubling to 60 s). */
export const HELD_ALERT_TRIES = 10;

export interface HeldEvent extends HeldOrder {
  tenantId: string;
  connectionId: string;
  deliveryId: string;
  tries: number;
  reason: string;
}

/** The order a held event belongs to, as its alert names it. */
export interface HeldOrder {
  orderId: string;
  /** `#1001`; null for a refund event, which carries only its order's id. */
  orderNumber: string | null;
  refundId: string | null;
}

/** Longer names are cut: the shop's text goes into a subject line. */
const NAME_LIMIT = 40;

/**
 * The order of an event read back from the inbox's storage. Never throws (the inbox calls it while
 * handling a failure), so a row stored before events carried their object still gets its alert.
 */
export function heldOrder(
  event: Pick<SourceEvent, "orderId"> & { object?: SourceEvent["object"]; orderName?: string },
): HeldOrder {
  const object = event.object;
  // A delivery not parsed yet (src/worker/deferred-intake.ts) names its order as routed.
  const number = (object?.type === "order" ? object.order?.source?.orderNumber : event.orderName)?.trim();
  const refundId = object?.type === "refund" ? object.refund?.source?.refundId : undefined;
  return {
    orderId: event.orderId,
    orderNumber: number ? number.slice(0, NAME_LIMIT) : null,
    refundId: refundId ? refundId.slice(0, NAME_LIMIT) : null,
  };
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
        sample: alertSample(held.orderNumber ?? heldEventLabel(held), held.reason),
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
