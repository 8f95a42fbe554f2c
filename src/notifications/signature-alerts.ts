/**
 * A webhook delivery whose signature fails is refused (401) and nothing of it is kept: an unsigned
 * body is not trusted (hooks.ts). But a webhook secret mistyped or changed in the shop fails every
 * delivery that way, and WooCommerce never sends one again, so the tenant is told, throttled under
 * `signature:<source connection>` like any alert (one email per window).
 *
 * Anyone who has the webhook address can cause it too, so its cost is capped: an isolate records
 * at most one failure per connection a minute (one D1 upsert, from waitUntil); the others of that
 * minute are only counted in memory and named in the next record's sample. The route's answer
 * never waits for any of it.
 */
import { signatureAlertText, signatureSample } from "./alert-emails";
import { alertTopic } from "./alert-throttle";
import { notificationConfig } from "./notification-config";
import { raiseAlert } from "./notify-tenant";

export interface SignatureFailure {
  tenantId: string;
  connectionId: string;
  /** The connection's name, as the route loaded it (no second read for the email). */
  sourceName: string;
  /** The connector's id (`woocommerce`, `shopify`): whether the shop sends the delivery again. */
  connector: string;
  connectorName: string;
  /** Why the check failed, as the source's `verify` says it. */
  reason: string;
}

/** An isolate records one failure per connection this often, at most. */
export const SIGNATURE_MEMO_MS = 60_000;
/** Connections remembered per isolate; past this, stale entries are dropped (all, if none is). */
const MEMO_MAX = 1_000;

interface Recorded {
  at: number;
  /** Failures since `at` not recorded one by one. */
  uncounted: number;
}

const recorded = new Map<string, Recorded>();

export function signatureTopic(connectionId: string): string {
  return alertTopic("signature", connectionId);
}

/**
 * The route's call when a delivery's signature fails: hands the record to `waitUntil` unless this
 * isolate recorded one for the connection within the last minute. Synchronous and never throws.
 */
export function noteSignatureFailure(
  env: Env,
  failure: SignatureFailure,
  waitUntil: (promise: Promise<unknown>) => void,
  now = Date.now(),
): void {
  try {
    const last = recorded.get(failure.connectionId);
    // A clock that went back (or a test's fake one) counts as a new minute.
    if (last && now >= last.at && now - last.at < SIGNATURE_MEMO_MS) {
      last.uncounted++;
      return;
    }
    if (recorded.size >= MEMO_MAX) forgetStale(now);
    // Set before the record runs, so concurrent requests of this isolate do not record it too.
    recorded.set(failure.connectionId, { at: now, uncounted: 0 });
    waitUntil(
      alertSignatureFailure(
        env,
        failure,
        now,
        last && last.uncounted > 0 ? { count: last.uncounted, since: last.at } : undefined,
      ),
    );
  } catch (error) {
    console.error("signature failure alert not started", { connectionId: failure.connectionId, error: String(error) });
  }
}

/**
 * Counts one failure for its connection and mails it at once if it opens the window. Never throws:
 * the delivery is already refused; a record that fails is logged, and the next failed delivery
 * (a wrong secret fails them all) raises it again.
 */
export async function alertSignatureFailure(
  env: Env,
  failure: SignatureFailure,
  now = Date.now(),
  uncounted?: { count: number; since: number },
): Promise<void> {
  try {
    const windowMs = notificationConfig(env).alertWindowMs;
    await raiseAlert(
      env,
      {
        tenantId: failure.tenantId,
        topic: signatureTopic(failure.connectionId),
        at: now,
        sample: signatureSample(now, failure.reason, uncounted),
        first: () => signatureAlertText({ ...failure, at: now, windowMs }),
      },
      windowMs,
    );
  } catch (error) {
    console.error("signature failure alert not recorded; the next failed delivery raises it", {
      connectionId: failure.connectionId,
      error: String(error),
    });
  }
}

function forgetStale(now: number): void {
  for (const [id, entry] of recorded) if (now - entry.at >= SIGNATURE_MEMO_MS || now < entry.at) recorded.delete(id);
  if (recorded.size >= MEMO_MAX) recorded.clear();
}
