/**
 * Silence alert: a source that normally sends (it had transfers in the seven days before it went
 * quiet) and has had none for the tenant's `silenceHours` gets one alert. The alert is recorded
 * as `alert_state` topic `silence:<connection>` with `last_sent_at`; an alert sent after the
 * source's last transfer covers the current silence, so the next one waits until the source has
 * sent something and gone quiet again. The email's key is the last transfer's time, so a repeated
 * run within one silence can never send twice. The source's last transfer time is kept in
 * `alert_state` too (`seen:<connection>`), so retention deleting the transfer does not lose it.
 *
 * "Sent" means a transfer was created: Orderly sees an order only when a flow picks it up.
 */

import { and, gt, isNotNull } from "drizzle-orm";
import { database } from "../db/client";
import { tenants } from "../db/schema";
import { utcMinute } from "../domain/clock-text";
import { notifyTenant } from "./notify-tenant";

const HOUR_MS = 3_600_000;
/**
 * The longest silence a tenant can set, in hours (two weeks), one limit for the UI form and the
 * API. Each check reads the source's transfers of the silence plus the week before it, so the
 * limit bounds that read too; what retention has deleted by then is still in its `seen:` row.
 */
export const MAX_SILENCE_HOURS = 24 * 14;
/** How far before the silence a source must have sent to count as one that normally sends. */
export const NORMALLY_SENDS_MS = 7 * 24 * HOUR_MS;

export interface SourceActivity {
  connectionId: string;
  name: string;
  /** Creation time of the source's newest transfer. */
  lastTransferAt: number;
  /** When the last silence alert for this source was sent, if ever. */
  lastAlertAt: number | null;
}

/** Pure: the sources silent for `silenceHours` after sending in the week before, not yet alerted for this silence. */
export function silentSources(sources: SourceActivity[], now: number, silenceHours: number): SourceActivity[] {
  const quietSince = now - silenceHours * HOUR_MS;
  return sources.filter(
    (s) =>
      s.lastTransferAt <= quietSince &&
      s.lastTransferAt > quietSince - NORMALLY_SENDS_MS &&
      (s.lastAlertAt === null || s.lastAlertAt < s.lastTransferAt),
  );
}

export function silenceAlertText(source: SourceActivity, now: number): { subject: string; text: string } {
  const hours = Math.floor((now - source.lastTransferAt) / HOUR_MS);
  const last = utcMinute(source.lastTransferAt);
  return {
    subject: `No orders from "${source.name}" for ${hours} hours`,
    text: [
      `"${source.name}" usually sends orders, but nothing has arrived from it for ${hours} hours (the last one at ${last} UTC).`,
      "If the shop had orders since then, check that its webhooks still point at Orderly and that the connection's webhook secret matches. If it simply had no orders, no action is needed.",
      "You get this alert once; it is armed again when the source next sends something.",
    ].join("\n\n"),
  };
}

/**
 * Each source's newest transfer time, kept as `alert_state` topic `seen:<connection>` (in
 * `last_sent_at`), because retention deletes a finished transfer after the tenant's
 * `retentionDays` (as few as 7) while a silence plus the week before it spans up to three weeks:
 * read from `transfers` alone, a source quiet for longer than the retention would have no
 * evidence left, and its alert would never come. Every check folds the transfers it can still see
 * into these rows (only ever forward), so the last-seen time outlives its transfer.
 */
const RECORD_LAST_SEEN = `INSERT INTO alert_state (tenant_id, topic, last_sent_at)
  SELECT ?1, 'seen:' || source_connection_id, MAX(created_at) FROM transfers
   WHERE tenant_id = ?1 AND created_at > ?2
   GROUP BY source_connection_id
  ON CONFLICT (tenant_id, topic) DO UPDATE SET last_sent_at = excluded.last_sent_at
   WHERE excluded.last_sent_at > alert_state.last_sent_at`;

/** Enabled sources last seen within the look-back, with their last silence alert. */
const READ_LAST_SEEN = `SELECT c.id AS connectionId, c.name AS name, s.last_sent_at AS lastTransferAt, a.last_sent_at AS lastAlertAt
  FROM alert_state s
  JOIN connections c ON c.id = substr(s.topic, 6) AND c.tenant_id = s.tenant_id AND c.enabled = 1
  LEFT JOIN alert_state a ON a.tenant_id = s.tenant_id AND a.topic = 'silence:' || c.id
  WHERE s.tenant_id = ?1 AND s.topic LIKE 'seen:%' AND s.last_sent_at > ?2`;

/** Each enabled source connection of the tenant last seen in the lookback, and its last silence alert. */
export async function sourceActivity(env: Env, tenantId: string, since: number): Promise<SourceActivity[]> {
  // One batch, so one transaction: the read sees what was just recorded.
  const [, seen] = await env.DB.batch<SourceActivity>([
    env.DB.prepare(RECORD_LAST_SEEN).bind(tenantId, since),
    env.DB.prepare(READ_LAST_SEEN).bind(tenantId, since),
  ]);
  return seen!.results;
}

/** The cron's silence check over every tenant that has it switched on; returns alerts sent. */
export async function checkSilentSources(env: Env, now: number): Promise<number> {
  const watched = await database(env)
    .select({ id: tenants.id, silenceHours: tenants.silenceHours })
    .from(tenants)
    .where(and(isNotNull(tenants.silenceHours), gt(tenants.silenceHours, 0)));
  let sent = 0;
  for (const tenant of watched) {
    const hours = tenant.silenceHours!;
    try {
      const sources = await sourceActivity(env, tenant.id, now - hours * HOUR_MS - NORMALLY_SENDS_MS);
      for (const source of silentSources(sources, now, hours)) {
        const topic = `silence:${source.connectionId}`;
        await notifyTenant(env, tenant.id, {
          key: `${tenant.id}/${topic}/${source.lastTransferAt}`,
          ...silenceAlertText(source, now),
        });
        await env.DB.prepare(
          `INSERT INTO alert_state (tenant_id, topic, last_sent_at) VALUES (?1, ?2, ?3)
           ON CONFLICT (tenant_id, topic) DO UPDATE SET last_sent_at = ?3`,
        )
          .bind(tenant.id, topic, now)
          .run();
        sent++;
      }
    } catch (error) {
      console.error("silence check failed; the next cron run tries again", { tenantId: tenant.id, error: String(error) });
    }
  }
  return sent;
}
