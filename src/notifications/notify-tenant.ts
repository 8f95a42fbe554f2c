/**
 * Telling a tenant's people that something needs them. Every email goes through the tenant's
 * mail provider (without one: the operator's system sender when deployed, the dev outbox in local
 * development) under an idempotency key, so a retried step or a repeated cron run never sends the
 * same email twice.
 *
 * `raiseAlert` is the throttled path (see alert-throttle.ts): the first event of a topic is
 * mailed at once, the rest of its window in one grouped email that `flushAlertGroups` sends.
 */
import { and, eq, inArray } from "drizzle-orm";
import { database } from "../db/client";
import { connections, mailOutbox, tenants } from "../db/schema";
import { OrderlyError } from "../domain/errors";
import { isLocalDevelopment } from "../mail/dev-outbox.provider";
import { oneLineSubject } from "../mail/mail.types";
import {
  MAIL_NO_PROVIDER,
  MAIL_TIMEOUT_MS,
  recordUnsentMail,
  type SendMailInput,
  sendMail,
  TENANT_MAIL_RETRIED_FOR_MS,
} from "../mail/send-mail";
import { systemMailer } from "../mail/system-mailer";
import type { AlertText } from "./alert-emails";
import { fallbackAlertText, groupedAlertText } from "./alert-emails";
import {
  type AlertEvent,
  alertMailKey,
  closeAlertGroup,
  dueAlertGroups,
  parseAlertTopic,
  type RecordResult,
  recordAlertEvent,
  releaseAlertMarker,
} from "./alert-throttle";

export interface TenantAlert {
  /** Stable per alert: the same key is sent once. */
  key: string;
  subject: string;
  text: string;
  html?: string;
}

/**
 * A failed alert email is tried again by the cron for this long after its row was created. A
 * Postmark retry whose search cannot tell sends anyway well inside it (sendAnywayAt, which reads
 * the same constant): an hour after its attempt, at the latest two cron runs before this ends.
 */
export const RESEND_FAILED_FOR_MS = TENANT_MAIL_RETRIED_FOR_MS;
/**
 * ... and only once it is this old. A row reads "Not sent yet" (failed) from its first write until
 * the provider answers, up to MAIL_TIMEOUT_MS later; re-sent in between, Postmark (which takes no
 * idempotency key) would deliver the alert twice. Twice the timeout covers loading the mail
 * connection and writing the row around the call.
 */
export const RESEND_AFTER_MS = 2 * MAIL_TIMEOUT_MS;

/**
 * Sends the alert to the tenant's alert recipients; false when its settings let it reach no one (no
 * alert address, or no mail provider when deployed without a system sender): stored as failed.
 */
export async function notifyTenant(env: Env, tenantId: string, alert: TenantAlert): Promise<boolean> {
  return mailTenant(env, tenantId, { ...alert, key: `alert/${alert.key}` });
}

/** Why an email to the alert recipients was not sent, as the outbox row shows it. */
export const NO_RECIPIENTS = "not sent: no alert recipients set (add an alert address under Notifications)";
/** ... and when nothing would deliver it (deployed, no mail connection chosen, no system sender). */
export const NO_MAIL_PROVIDER =
  "not sent: no mail provider is chosen for alerts, and this Orderly has no system mail sender (choose a mail provider under Notifications)";

/**
 * Any email to the tenant's alert recipients (alerts, status reports), under the caller's full key.
 * Whatever stops it, the email stays in the outbox as a failed row with the reason: a tenant
 * without an alert address sees what it missed, and the cron sends a failed alert again.
 */
export async function mailTenant(env: Env, tenantId: string, email: TenantAlert): Promise<boolean> {
  const key = email.key.slice(0, 256);
  const subject = tenantSubject(email.subject);
  const unsent = (to: string[], reason: string) =>
    recordUnsentMail(env, {
      tenantId,
      idempotencyKey: key,
      to,
      subject,
      text: email.text,
      ...(email.html ? { html: email.html } : {}),
      reason,
    });
  let tenant: typeof tenants.$inferSelect | undefined;
  try {
    tenant = await database(env).select().from(tenants).where(eq(tenants.id, tenantId)).get();
  } catch (error) {
    await unsent([], `not sent: the tenant's alert settings could not be read (${String(error)})`);
    throw error;
  }
  if (!tenant || tenant.alertEmails.length === 0) {
    await unsent([], NO_RECIPIENTS);
    return false;
  }
  try {
    await sendMail(env, {
      tenantId,
      idempotencyKey: key,
      email: { to: tenant.alertEmails, subject, text: email.text, ...(email.html ? { html: email.html } : {}) },
      ...tenantSender(env, tenant.mailConnectionId),
      requireDelivery: { reason: NO_MAIL_PROVIDER },
    });
  } catch (error) {
    // A setting to fix, like a missing address; sendMail stored the row as failed with the reason.
    if (error instanceof OrderlyError && error.code === MAIL_NO_PROVIDER) return false;
    // Refused before sendMail stored it (say, a malformed alert address): store it here.
    if (error instanceof OrderlyError && error.code === "mail_invalid")
      await unsent(tenant.alertEmails.slice(0, 50), `not sent: ${error.message}`);
    throw error;
  }
  return true;
}

/**
 * Who sends the tenant's mail: its mail connection; without one, deployed, the operator's system
 * sender (the dev outbox would deliver nothing, and sendMail refuses it there); locally the dev
 * outbox, where the developer reads it.
 */
function tenantSender(env: Env, connectionId: string | null): Pick<SendMailInput, "via"> {
  if (connectionId) return { via: { connectionId } };
  return isLocalDevelopment(env) ? {} : { via: "system" };
}

/**
 * The subject as the tenant's mail carries it. Subjects quote names people typed (a connection's
 * name may hold a newline): made one line and cut to the limit here, where every tenant mail
 * passes, or sendMail would refuse the email for good and the alert would never arrive.
 */
function tenantSubject(subject: string): string {
  return oneLineSubject(`[Orderly] ${subject}`);
}

export interface ThrottledAlert extends AlertEvent {
  /** The immediate email, built only when this event opens a window. */
  first: () => Promise<AlertText> | AlertText;
}

/**
 * Counts the event for its topic and mails it at once when it opens a window. Whatever stops that
 * email must leave a trace (keepFirstEmail): the count and the marker's claim are committed
 * already, so the sweeper skips the event and a later one only joins the window.
 */
export async function raiseAlert(env: Env, alert: ThrottledAlert, windowMs: number): Promise<RecordResult> {
  const { first, ...event } = alert;
  const result = await recordAlertEvent(env, event, windowMs);
  if (result.outcome === "opened") {
    const key = `alert/${alertMailKey(event.tenantId, event.topic, result.windowStart, false)}`;
    let text: AlertText | undefined;
    try {
      text = await first();
      await mailTenant(env, event.tenantId, { key, ...text });
    } catch (error) {
      await keepFirstEmail(env, event, key, text, error);
      throw error;
    }
  }
  return result;
}

/**
 * After the first email of a window failed: a failed outbox row under its key, for
 * resendFailedAlerts. A row sendMail already wrote stays as it is; otherwise (its words could not
 * be made, or the outbox could not be read) one is written, with the usual words when they were
 * made and a shorter text from the event (what happened, links) when not. If even that write
 * fails, the marker is given back so the sweeper counts the event again; an event without a marker
 * (a pause, a held or refused delivery) then has only the log, as its caller has no row to re-read.
 */
async function keepFirstEmail(
  env: Env,
  event: AlertEvent,
  key: string,
  text: AlertText | undefined,
  error: unknown,
): Promise<void> {
  const { kind, connectionId } = parseAlertTopic(event.topic);
  const transferId = event.marker?.transferId;
  const words = text ?? fallbackAlertText({ kind, connectionId, sample: event.sample, ...(transferId ? { transferId } : {}) });
  try {
    await recordUnsentMail(
      env,
      {
        tenantId: event.tenantId,
        idempotencyKey: key,
        to: [],
        subject: tenantSubject(words.subject),
        text: words.text,
        reason: `not sent: ${error instanceof Error ? error.message : String(error)} (the cron tries again)`,
      },
      { ifAbsent: true },
    );
    return;
  } catch (recording) {
    console.error("first alert of a window not stored", { topic: event.topic, error: String(recording) });
  }
  let released = false;
  try {
    released = await releaseAlertMarker(env, event);
  } catch (releasing) {
    console.error("alert marker not given back", { topic: event.topic, error: String(releasing) });
  }
  if (!released)
    console.error("first alert of a window may be lost: not sent, not stored, not given back to the sweeper", {
      topic: event.topic,
      sample: event.sample,
    });
}

/** The cron's half of throttling: one grouped email per topic whose window has ended. */
export async function flushAlertGroups(env: Env, now: number, windowMs: number): Promise<number> {
  let sent = 0;
  for (const group of await dueAlertGroups(env, now, windowMs)) {
    const key = alertMailKey(group.tenantId, group.topic, group.windowStart, true);
    try {
      const { kind, connectionId } = parseAlertTopic(group.topic);
      const names = await connectionNames(env, group.tenantId, [connectionId]);
      const text = groupedAlertText({
        kind,
        connectionId,
        connectionName: names.get(connectionId) ?? (connectionId || "an unknown connection"),
        count: group.count,
        samples: group.samples,
        windowStart: group.windowStart,
        now,
      });
      // Sent before the window closes: a crash in between re-sends under the same key, which dedupes.
      await notifyTenant(env, group.tenantId, { key, ...text });
      if (await closeAlertGroup(env, group, now)) sent++;
    } catch (error) {
      console.error("grouped alert not sent", { topic: group.topic, error: String(error) });
      // The window still closes once the email is on record as failed (resendFailedAlerts sends it
      // again), or when it has failed for hours anyway: a topic whose group never closed would stay
      // muted for good, every later event of it counted into an email that never goes out.
      try {
        const stored = await database(env)
          .select({ id: mailOutbox.id })
          .from(mailOutbox)
          .where(and(eq(mailOutbox.tenantId, group.tenantId), eq(mailOutbox.idempotencyKey, `alert/${key}`)))
          .get();
        if (stored || now >= group.windowStart + windowMs + RESEND_FAILED_FOR_MS) await closeAlertGroup(env, group, now);
      } catch (closing) {
        console.error("alert group left open; the next cron run tries again", { topic: group.topic, error: String(closing) });
      }
    }
  }
  return sent;
}

/** Failed alerts a run sends again per tenant, oldest first: one tenant's pile does not fill a run. */
export const RESEND_PER_TENANT = 10;
/**
 * ... and in all: with a mail provider down, each may wait out a Postmark retry's search
 * (MAIL_SEARCH_TIMEOUT_MS, 5 s) and its send (MAIL_TIMEOUT_MS, 15 s), 12 × 20 s = 4 minutes, inside
 * the cron's 5-minute interval; each costs about five D1 queries, from the notification
 * invocation's 1,000. The rest wait for later runs.
 */
export const RESEND_PER_RUN = 12;

/**
 * The failed alerts to send again: per tenant (the JSON list, in the order given) its oldest
 * RESEND_PER_TENANT, then the first RESEND_PER_RUN of them in that order. One statement for every
 * tenant, each tenant's rows a range of `mail_outbox_tenant_time`.
 */
export const FAILED_ALERTS = `SELECT id, tenant_id AS tenantId, idempotency_key AS idempotencyKey, subject, text, html FROM (
    SELECT m.*, j.key AS position, row_number() OVER (PARTITION BY m.tenant_id ORDER BY m.created_at, m.id) AS nth
      FROM json_each(?1) j JOIN mail_outbox m ON m.tenant_id = j.value
     WHERE m.created_at >= ?2 AND m.created_at <= ?3 AND m.status = 'failed' AND m.idempotency_key LIKE 'alert/%')
  WHERE nth <= ${RESEND_PER_TENANT} ORDER BY position, nth LIMIT ${RESEND_PER_RUN}`;

/**
 * An alert whose email failed (the provider, the mail connection, no alert address, no mail
 * provider) is kept as a failed outbox row; the cron sends it again (same key, same words) for a
 * few hours, so a mail provider's blip, or an address added soon after, loses no alert. A run
 * sends a bounded number (RESEND_PER_TENANT, RESEND_PER_RUN), the tenants taken from a different
 * one each run (`start`, a fraction of the list), so no tenant's alerts wait behind the same others.
 */
export async function resendFailedAlerts(env: Env, now: number, start = Math.random()): Promise<number> {
  const everyTenant = await database(env)
    .select({ id: tenants.id, alertEmails: tenants.alertEmails, mailConnectionId: tenants.mailConnectionId })
    .from(tenants);
  // A tenant whose alerts cannot leave (no address, no provider) would only store its failed rows
  // again, four queries each, every cron run for six hours, from the cron's shared query budget.
  const eligible = everyTenant
    .filter((t) => t.alertEmails.length > 0 && tenantMailCanLeave(env, t.mailConnectionId))
    .map((t) => t.id)
    .sort();
  if (eligible.length === 0) return 0;
  const first = Math.floor(Math.min(Math.max(start, 0), 0.999_999) * eligible.length);
  const order = [...eligible.slice(first), ...eligible.slice(0, first)];
  const { results: rows } = await env.DB.prepare(FAILED_ALERTS)
    .bind(JSON.stringify(order), now - RESEND_FAILED_FOR_MS, now - RESEND_AFTER_MS)
    .all<{ id: string; tenantId: string; idempotencyKey: string; subject: string; text: string | null; html: string | null }>();
  // More may be waiting: the operator should know when the cap, not the backlog, ended the run.
  if (rows.length === RESEND_PER_RUN)
    console.warn(`cron: ${RESEND_PER_RUN} failed alerts re-sent this run, the most a run takes; more may wait for the next runs`);
  let sent = 0;
  for (const row of rows) {
    try {
      const delivered = await mailTenant(env, row.tenantId, {
        key: row.idempotencyKey,
        subject: row.subject.replace(/^\[Orderly\] /, ""),
        text: row.text ?? "",
        ...(row.html ? { html: row.html } : {}),
      });
      if (delivered) sent++;
    } catch (error) {
      console.error("alert still not sent", { key: row.idempotencyKey, error: String(error) });
    }
  }
  return sent;
}

/**
 * Whether a tenant's mail could leave now: its mail connection, the operator's system sender (a
 * half-configured one too: the attempt records its error, which says what to fix), or local
 * development's outbox.
 */
export function tenantMailCanLeave(env: Env, mailConnectionId: string | null): boolean {
  if (mailConnectionId || isLocalDevelopment(env)) return true;
  try {
    return systemMailer(env) !== null;
  } catch {
    return true;
  }
}

/** Display names of a tenant's connections, for email wording. */
export async function connectionNames(env: Env, tenantId: string, ids: string[]): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter(Boolean))];
  if (wanted.length === 0) return new Map();
  const rows = await database(env)
    .select({ id: connections.id, name: connections.name })
    .from(connections)
    .where(and(eq(connections.tenantId, tenantId), inArray(connections.id, wanted)));
  return new Map(rows.map((r) => [r.id, r.name]));
}
