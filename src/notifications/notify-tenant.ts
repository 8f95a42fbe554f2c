/**
 * Telling a tenant's people that something needs them. Every alert goes through the tenant's
 * mail provider (or the dev outbox) under an idempotency key, so a retried step never sends the
 * same alert twice.
 */
import { eq } from "drizzle-orm";
import { database } from "../db/client";
import { tenants } from "../db/schema";
import { sendMail } from "../mail/send-mail";

export interface TenantAlert {
  /** Stable per alert: the same key is sent once. */
  key: string;
  subject: string;
  text: string;
}

/** Sends the alert to the tenant's alert recipients; false when the tenant has none configured. */
export async function notifyTenant(env: Env, tenantId: string, alert: TenantAlert): Promise<boolean> {
  const tenant = await database(env).select().from(tenants).where(eq(tenants.id, tenantId)).get();
  if (!tenant || tenant.alertEmails.length === 0) {
    console.warn("alert not sent: no alert recipients", { tenantId, subject: alert.subject });
    return false;
  }
  await sendMail(env, {
    tenantId,
    idempotencyKey: `alert/${alert.key}`.slice(0, 256),
    email: { to: tenant.alertEmails, subject: `[Orderly] ${alert.subject}`, text: alert.text },
    ...(tenant.mailConnectionId ? { via: { connectionId: tenant.mailConnectionId } } : {}),
  });
  return true;
}
