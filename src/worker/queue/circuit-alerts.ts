/** When a target's circuit opens or closes: mark the connection paused or resumed, and tell the tenant. */
import { eq } from "drizzle-orm";
import { database } from "../../db/client";
import type { LoadedConnection } from "../../db/connections";
import { connections } from "../../db/schema";
import type { StepOutcome } from "../../durable/order-types";
import type { ReleaseResult } from "../../durable/target-gate";
import { alertTopic } from "../../notifications/alert-throttle";
import { notificationConfig } from "../../notifications/notification-config";
import { raiseAlert } from "../../notifications/notify-tenant";

export async function onCircuitChange(
  env: Env,
  connection: LoadedConnection,
  change: ReleaseResult,
  outcome: StepOutcome,
): Promise<void> {
  if (change.opened) {
    const reason = outcome.kind === "ok" ? "" : outcome.error.message;
    const until = change.pausedUntil ?? Date.now();
    await database(env)
      .update(connections)
      .set({ pausedUntil: until, pauseReason: reason })
      .where(eq(connections.id, connection.id));
    // Throttled like failures: a circuit that keeps reopening makes one grouped email per window.
    const at = Date.now();
    await raiseAlert(
      env,
      {
        tenantId: connection.tenantId,
        topic: alertTopic("paused", connection.id),
        at,
        sample: `${new Date(at).toISOString().slice(11, 16)} UTC after ${change.consecutiveFailures} failures: ${reason}`,
        first: () => ({
          subject: `${connection.name} is paused after ${change.consecutiveFailures} failures in a row`,
          text: [
            `Orderly paused sending to "${connection.name}" (${connection.connector.name}) after ${change.consecutiveFailures} failed calls in a row.`,
            `Last error: ${reason}`,
            "Nothing is lost: waiting steps resume by themselves as soon as a test call succeeds. No action is needed unless the error says otherwise.",
          ].join("\n\n"),
        }),
      },
      notificationConfig(env).alertWindowMs,
    );
  } else if (change.closed) {
    await database(env)
      .update(connections)
      .set({ pausedUntil: null, pauseReason: null })
      .where(eq(connections.id, connection.id));
  }
}
