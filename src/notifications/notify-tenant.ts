/**
 * Telling a tenant's people that something needs them. Every email goes through the tenant's
 * mail provider (or the dev outbox) under an idempotency key, so a retried step or a repeated
 * cron run never sends the same email twice.
 *
 * `raiseAlert` is the throttled path (see alert-throttle.ts): the first event of a topic is
 * mailed at once, the rest of its window in one grouped email that `flushAlertGroups` sends.
 */
import { and, eq, gte, inArray, like } from "drizzle-orm";
import { database } from "../db/client";
import { connections, mailOutbox, tenants } from "../db/schema";
import { sendMail } from "../mail/send-mail";
import type { AlertText } from "./alert-emails";
import { groupedAlertText } from "./alert-emails";
import {
  type AlertEvent,
  alertMailKey,
  closeAlertGroup,
  dueAlertGroups,
  parseAlertTopic,
  type RecordResult,
  recordAlertEvent,
} from "./alert-throttle";

export interface TenantAlert {
  /** Stable per alert: the same key is sent once. */
  key: string;
  subject: string;
  text: string;
  html?: string;
}

/** A failed alert email is tried again by the cron for this long. */
const RESEND_FAILED_FOR_MS = 6 * 3_600_000;

/** Sends the alert to the tenant's alert recipients; false when the tenant has none configured. */
export async function notifyTenant(env: Env, tenantId: string, alert: TenantAlert): Promise<boolean> {
  return mailTenant(env, tenantId, { ...alert, key: `alert/${alert.key}` });
}

/** Any email to the tenant's alert recipients (alerts, status reports), under the caller's full key. */
export async function mailTenant(env: Env, tenantId: string, email: TenantAlert): Promise<boolean> {
  const tenant = await database(env).select().from(tenants).where(eq(tenants.id, tenantId)).get();
  if (!tenant || tenant.alertEmails.length === 0) {
    console.warn("email not sent: no alert recipients", { tenantId, subject: email.subject });
    return false;
  }
  await sendMail(env, {
    tenantId,
    idempotencyKey: email.key.slice(0, 256),
    email: {
      to: tenant.alertEmails,
      subject: `[Orderly] ${email.subject}`,
      text: email.text,
      ...(email.html ? { html: email.html } : {}),
    },
    ...(tenant.mailConnectionId ? { via: { connectionId: tenant.mailConnectionId } } : {}),
  });
  return true;
}

export interface ThrottledAlert extends AlertEvent {
  /** The immediate email, built only when this event opens a window. */
  first: () => Promise<AlertText> | AlertText;
}

/** Counts the event for its topic and mails it at once when it opens a window. */
export async function raiseAlert(env: Env, alert: ThrottledAlert, windowMs: number): Promise<RecordResult> {
  const { first, ...event } = alert;
  const result = await recordAlertEvent(env, event, windowMs);
  if (result.outcome === "opened") {
    const key = alertMailKey(event.tenantId, event.topic, result.windowStart, false);
    await notifyTenant(env, event.tenantId, { key, ...(await first()) });
  }
  return result;
}

/** The cron's half of throttling: one grouped email per topic whose window has ended. */
export async function flushAlertGroups(env: Env, now: number, windowMs: number): Promise<number> {
  let sent = 0;
  for (const group of await dueAlertGroups(env, now, windowMs)) {
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
      await notifyTenant(env, group.tenantId, {
        key: alertMailKey(group.tenantId, group.topic, group.windowStart, true),
        ...text,
      });
      if (await closeAlertGroup(env, group, now)) sent++;
    } catch (error) {
      console.error("grouped alert not sent; the next cron run tries again", { topic: group.topic, error: String(error) });
    }
  }
  return sent;
}

/**
 * An immediate alert whose provider call failed is kept as a failed outbox row; the cron sends it
 * again (same key, same words) for a few hours, so a mail provider's blip loses no alert.
 */
export async function resendFailedAlerts(env: Env, now: number): Promise<number> {
  const db = database(env);
  const rows = [];
  // Per tenant, so each query stays on the (tenant, time) index of the outbox.
  for (const { id } of await db.select({ id: tenants.id }).from(tenants)) {
    rows.push(
      ...(await db
        .select()
        .from(mailOutbox)
        .where(
          and(
            eq(mailOutbox.tenantId, id),
            gte(mailOutbox.createdAt, now - RESEND_FAILED_FOR_MS),
            eq(mailOutbox.status, "failed"),
            like(mailOutbox.idempotencyKey, "alert/%"),
          ),
        )),
    );
  }
  let sent = 0;
  for (const row of rows) {
    try {
      await mailTenant(env, row.tenantId, {
        key: row.idempotencyKey,
        subject: row.subject.replace(/^\[Orderly\] /, ""),
        text: row.text ?? "",
        ...(row.html ? { html: row.html } : {}),
      });
      sent++;
    } catch (error) {
      console.error("alert still not sent", { key: row.idempotencyKey, error: String(error) });
    }
  }
  return sent;
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
