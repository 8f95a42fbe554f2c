/**
 * Alert throttling, per tenant and topic (`failures:<target>`, `paused:<connection>`,
 * `differences:<target>`, `held:<source>`, `refused:<source>`, `refund-gone:<source>`,
 * `test-orders:<source>`, `parked:<source>`, `signature:<source>`, `unplanned:<source>`): the first event after a quiet
 * spell opens a window and is mailed at once; events inside the window are counted in
 * `alert_state` (with up to ten samples) and mailed as one grouped email when the window ends,
 * which in turn opens the next window. So a burst of any size makes at most one email per window,
 * and a steady trickle one email per window.
 *
 * An event changes `alert_state` in one SQL upsert, so concurrent queue consumers cannot both
 * open a window. An event may carry a marker row (the failed transfer, the step with differences,
 * the kept delivery):
 * the marker is claimed and the event counted in one D1 batch (one transaction), so an event is
 * counted exactly once whether the consumer or the cron sweeper sees it first, or both.
 */

export type AlertKind =
  | "failures"
  | "paused"
  | "differences"
  | "held"
  | "refused"
  | "refund-gone"
  | "test-orders"
  | "parked"
  | "signature"
  | "unplanned";

/** Samples kept per window for the grouped email. */
export const MAX_SAMPLES = 10;

export function alertTopic(kind: AlertKind, connectionId: string): string {
  return `${kind}:${connectionId}`;
}

export function parseAlertTopic(topic: string): { kind: string; connectionId: string } {
  const at = topic.indexOf(":");
  return at < 0 ? { kind: topic, connectionId: "" } : { kind: topic.slice(0, at), connectionId: topic.slice(at + 1) };
}

/** The D1 row that records "this event was counted"; an event with a claimed marker is not counted again. */
export type AlertMarker =
  | { table: "transfers"; transferId: string }
  | { table: "transfer_steps"; transferId: string; stepIndex: number }
  /** A kept delivery (`transferId` only so readers of `marker.transferId` need no narrowing). */
  | { table: "dead_letters"; deadLetterId: number; transferId?: undefined };

export interface AlertEvent {
  tenantId: string;
  topic: string;
  /** When the event is recorded (the fake clock in tests); also the marker's stamp. */
  at: number;
  /** One line for the grouped email, e.g. `#1001: The ledger rejects …`. */
  sample: string;
  marker?: AlertMarker;
}

export type RecordResult =
  /** This event opened a window: mail it now, keyed by the window start. */
  | { outcome: "opened"; windowStart: number }
  /** Counted into the open window's group. */
  | { outcome: "counted" }
  /** Its marker was already claimed: counted before (a retried message, the sweeper after the consumer). */
  | { outcome: "duplicate" };

/** Idempotency key of a window's email: tenant, topic and window start. */
export function alertMailKey(tenantId: string, topic: string, windowStart: number, grouped: boolean): string {
  return `${tenantId}/${topic}/${windowStart}${grouped ? "/grouped" : ""}`;
}

const OPENS = "(pending = 0 AND (last_sent_at IS NULL OR ?3 >= last_sent_at + ?4))";

// Every right-hand side of the SET sees the row as it was before the update.
const UPSERT = (guard: string) => `
  INSERT INTO alert_state (tenant_id, topic, pending, first_pending_at, last_sent_at, samples)
  SELECT ?1, ?2, 0, NULL, ?3, '[]' WHERE ${guard}
  ON CONFLICT (tenant_id, topic) DO UPDATE SET
    pending = CASE WHEN ${OPENS} THEN 0 ELSE pending + 1 END,
    first_pending_at = CASE WHEN ${OPENS} THEN NULL ELSE COALESCE(first_pending_at, ?3) END,
    samples = CASE WHEN ${OPENS} THEN '[]'
      WHEN json_array_length(samples) < ${MAX_SAMPLES} THEN json_insert(samples, '$[#]', ?5)
      ELSE samples END,
    last_sent_at = CASE WHEN ${OPENS} THEN ?3 ELSE last_sent_at END
  RETURNING pending, last_sent_at AS lastSentAt`;

/** Counts one event for its topic; says whether it opened a window (mail now) or joined one. */
export async function recordAlertEvent(env: Pick<Env, "DB">, event: AlertEvent, windowMs: number): Promise<RecordResult> {
  const base = [event.tenantId, event.topic, event.at, windowMs, event.sample];
  const marker = event.marker ? markerStatements(event.marker) : null;
  const upsert = env.DB.prepare(UPSERT(marker?.guard ?? "1")).bind(...base, ...(marker?.guardParams ?? []));
  const statements = marker
    ? [env.DB.prepare(marker.claim).bind(event.at, event.tenantId, ...marker.claimParams), upsert]
    : [upsert];
  const results = await env.DB.batch<{ pending: number; lastSentAt: number }>(statements);
  const row = results[results.length - 1]?.results[0];
  if (!row) return { outcome: "duplicate" };
  return row.pending === 0 && row.lastSentAt === event.at ? { outcome: "opened", windowStart: event.at } : { outcome: "counted" };
}

/**
 * A marker is claimed when it was never alerted, or alerted before its row last changed (the
 * transfer was retried and failed again). The stamp is never behind the row's own `updated_at`
 * (written by the order's object, whose clock may run a little ahead), or the marker would look
 * unclaimed for ever. The guard lets the count through only if this very claim took the marker.
 */
function markerStatements(marker: AlertMarker) {
  const unclaimed = "(alerted_at IS NULL OR alerted_at < updated_at)";
  if (marker.table === "dead_letters") {
    // A dead letter never changes once kept (no updated_at): claimed once, stamped with the event's time.
    return {
      claim: "UPDATE dead_letters SET alerted_at = ?1 WHERE tenant_id = ?2 AND id = ?3 AND alerted_at IS NULL",
      claimParams: [marker.deadLetterId],
      guard: "EXISTS (SELECT 1 FROM dead_letters WHERE id = ?6 AND alerted_at = ?3)",
      guardParams: [marker.deadLetterId],
    };
  }
  if (marker.table === "transfers") {
    return {
      claim: `UPDATE transfers SET alerted_at = MAX(?1, updated_at) WHERE tenant_id = ?2 AND id = ?3 AND ${unclaimed}`,
      claimParams: [marker.transferId],
      guard: "EXISTS (SELECT 1 FROM transfers WHERE id = ?6 AND alerted_at = MAX(?3, updated_at))",
      guardParams: [marker.transferId],
    };
  }
  return {
    claim: `UPDATE transfer_steps SET alerted_at = MAX(?1, updated_at)
      WHERE tenant_id = ?2 AND transfer_id = ?3 AND step_index = ?4 AND ${unclaimed}`,
    claimParams: [marker.transferId, marker.stepIndex],
    guard:
      "EXISTS (SELECT 1 FROM transfer_steps WHERE transfer_id = ?6 AND step_index = ?7 AND alerted_at = MAX(?3, updated_at))",
    guardParams: [marker.transferId, marker.stepIndex],
  };
}

/**
 * Gives back a marker this event claimed (only if the claim is still the one it made), so the
 * cron sweeper counts the event again: for a first email that left no trace at all, being counted
 * again (into the open window's group, or a new window) is the only way it is still told.
 */
export async function releaseAlertMarker(env: Pick<Env, "DB">, event: AlertEvent): Promise<boolean> {
  const marker = event.marker;
  if (!marker) return false;
  const statement =
    marker.table === "dead_letters"
      ? env.DB.prepare("UPDATE dead_letters SET alerted_at = NULL WHERE tenant_id = ?2 AND id = ?3 AND alerted_at = ?1").bind(
          event.at,
          event.tenantId,
          marker.deadLetterId,
        )
      : marker.table === "transfers"
        ? env.DB.prepare(
            "UPDATE transfers SET alerted_at = NULL WHERE tenant_id = ?2 AND id = ?3 AND alerted_at = MAX(?1, updated_at)",
          ).bind(event.at, event.tenantId, marker.transferId)
        : env.DB.prepare(
            `UPDATE transfer_steps SET alerted_at = NULL
           WHERE tenant_id = ?2 AND transfer_id = ?3 AND step_index = ?4 AND alerted_at = MAX(?1, updated_at)`,
          ).bind(event.at, event.tenantId, marker.transferId, marker.stepIndex);
  return ((await statement.run()).meta.changes ?? 0) > 0;
}

/** A topic's counted events awaiting their grouped email. */
export interface AlertGroup {
  tenantId: string;
  topic: string;
  count: number;
  samples: string[];
  /** Start of the window the group closes: when the previous email for the topic went out. */
  windowStart: number;
}

/** Pure: a group is due once its window has ended and something was counted in it. */
export function isGroupDue(state: { pending: number; lastSentAt: number | null }, now: number, windowMs: number): boolean {
  return state.pending > 0 && state.lastSentAt !== null && now >= state.lastSentAt + windowMs;
}

/** Groups whose window has ended, over all tenants (`alert_state` has one row per tenant and topic). */
export async function dueAlertGroups(env: Pick<Env, "DB">, now: number, windowMs: number): Promise<AlertGroup[]> {
  const { results } = await env.DB.prepare(
    "SELECT tenant_id, topic, pending, last_sent_at, samples FROM alert_state WHERE pending > 0 AND last_sent_at <= ?",
  )
    .bind(now - windowMs)
    .all<{ tenant_id: string; topic: string; pending: number; last_sent_at: number | null; samples: string }>();
  return results
    .filter((r) => isGroupDue({ pending: r.pending, lastSentAt: r.last_sent_at }, now, windowMs))
    .map((r) => ({
      tenantId: r.tenant_id,
      topic: r.topic,
      count: r.pending,
      samples: JSON.parse(r.samples) as string[],
      windowStart: r.last_sent_at!,
    }));
}

/**
 * After the grouped email went out: opens the next window at `now`. Events counted since the
 * group was read stay pending (with their samples) for the next window. False when another run
 * closed the window first.
 */
export async function closeAlertGroup(env: Pick<Env, "DB">, group: AlertGroup, now: number): Promise<boolean> {
  const result = await env.DB.prepare(
    `UPDATE alert_state SET
       pending = pending - ?3,
       first_pending_at = CASE WHEN pending > ?3 THEN ?5 ELSE NULL END,
       samples = CASE WHEN pending > ?3
         THEN (SELECT json_group_array(value) FROM json_each(alert_state.samples) WHERE key >= ?4)
         ELSE '[]' END,
       last_sent_at = ?5
     WHERE tenant_id = ?1 AND topic = ?2 AND last_sent_at = ?6 AND pending >= ?3`,
  )
    .bind(group.tenantId, group.topic, group.count, group.samples.length, now, group.windowStart)
    .run();
  return (result.meta.changes ?? 0) > 0;
}
