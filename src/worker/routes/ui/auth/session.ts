/**
 * UI sessions. The cookie carries a random id; D1 keeps only its SHA-256, so a leaked table opens
 * no session. Sessions last 14 days and slide: a session used after its first hour gets 14 more.
 *
 * Forms carry a token bound to the session and to the tenant the page was drawn for (formToken):
 * the current tenant lives in the session row, shared by every tab, so a form left open on one
 * tenant must not save into the one another tab switched to.
 */
import { and, eq, gt, gte, lt, lte } from "drizzle-orm";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { hmacSha256, toHex } from "../../../../connectors/signatures";
import { database } from "../../../../db/client";
import { mailOutbox, memberships, sessions, tenants, users } from "../../../../db/schema";
import { isLocalDevelopment } from "../../../../mail/dev-outbox.provider";
import { systemMailer } from "../../../../mail/system-mailer";
import { RESEND_AFTER_MS } from "../../../../notifications/notify-tenant";
import type { Membership, UiSession } from "../ui-env";
import { sameToken } from "./csrf";
import { randomToken, sha256Hex } from "./tokens";

export const SESSION_COOKIE = "oly_session";
export const SESSION_DAYS = 14;
const SESSION_MS = SESSION_DAYS * 24 * 3600 * 1000;
const SLIDE_AFTER_MS = 3600 * 1000;
/** How far back a failed alert email still shows its banner. */
const ALERT_FAILED_BANNER_MS = 3 * 24 * 3600 * 1000;

/** What keeps the tenant's alerts from arriving, for the banners on every page (Layout). */
export interface AlertMailState {
  /** Deployed, no mail connection chosen and no working system sender: every alert is stored as failed. */
  alertsCannotLeave: boolean;
  /** An alert email of the last 3 days is still not sent (say, a provider's token expired). */
  alertMailFailed: boolean;
}

const cookieOptions = { httpOnly: true, secure: true, sameSite: "Lax", path: "/" } as const;

/** Starts a session for a user in a tenant (their first one when not given) and sets the cookie. */
export async function startSession(c: Context, userId: string, tenantId?: string): Promise<void> {
  const id = randomToken();
  const now = Date.now();
  const list = await membershipsOf(c.env, userId);
  const tenant = tenantId && list.some((m) => m.tenantId === tenantId) ? tenantId : list[0]?.tenantId;
  await database(c.env)
    .insert(sessions)
    .values({
      idHash: await sha256Hex(id),
      userId,
      tenantId: tenant ?? null,
      csrfToken: randomToken(24),
      createdAt: now,
      expiresAt: now + SESSION_MS,
    });
  await database(c.env).update(users).set({ lastLoginAt: now }).where(eq(users.id, userId));
  setCookie(c, SESSION_COOKIE, id, { ...cookieOptions, maxAge: SESSION_MS / 1000 });
}

export async function membershipsOf(env: Env, userId: string): Promise<Membership[]> {
  return database(env)
    .select({ tenantId: memberships.tenantId, tenantName: tenants.name, role: memberships.role })
    .from(memberships)
    .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
    .where(eq(memberships.userId, userId))
    .orderBy(tenants.name);
}

/** A loaded session: `csrfToken` is the current tenant's form token; `csrfSecret` derives the others'. */
export type LoadedSession = UiSession & AlertMailState & { csrfSecret: string };

/** The form token of pages drawn in `tenantId`: a keyed hash of the tenant id under the session's secret. */
export async function formToken(csrfSecret: string, tenantId: string): Promise<string> {
  return toHex(await hmacSha256(csrfSecret, `form/${tenantId}`));
}

/**
 * The person's tenant whose pages carry `token`, or null when it is none of theirs (a forged form,
 * one from an ended session, or one from a tenant they no longer belong to).
 */
export async function tenantOfFormToken(session: LoadedSession, token: string): Promise<Membership | null> {
  if (sameToken(token, session.csrfToken)) return session.memberships.find((m) => m.tenantId === session.tenantId) ?? null;
  for (const m of session.memberships) {
    if (sameToken(token, await formToken(session.csrfSecret, m.tenantId))) return m;
  }
  return null;
}

/** The session of the request's cookie, renewed when due; null when absent, unknown, expired or without a tenant. */
export async function loadSession(c: Context): Promise<LoadedSession | null> {
  const id = getCookie(c, SESSION_COOKIE);
  if (!id) return null;
  const db = database(c.env);
  const idHash = await sha256Hex(id);
  const now = Date.now();
  const row = await db
    .select({ session: sessions, email: users.email, name: users.name })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.idHash, idHash), gt(sessions.expiresAt, now)))
    .get();
  if (!row) return null;
  const list = await membershipsOf(c.env, row.session.userId);
  const current = list.find((m) => m.tenantId === row.session.tenantId) ?? list[0];
  if (!current) return null;
  if (current.tenantId !== row.session.tenantId) {
    await db.update(sessions).set({ tenantId: current.tenantId }).where(eq(sessions.idHash, idHash));
  }
  if (row.session.expiresAt - now < SESSION_MS - SLIDE_AFTER_MS) {
    await db
      .update(sessions)
      .set({ expiresAt: now + SESSION_MS })
      .where(eq(sessions.idHash, idHash));
    setCookie(c, SESSION_COOKIE, id, { ...cookieOptions, maxAge: SESSION_MS / 1000 });
  }
  const [tenant, failedAlert, csrfToken] = await Promise.all([
    db
      .select({ mail: tenants.mailConnectionId, alertEmails: tenants.alertEmails })
      .from(tenants)
      .where(eq(tenants.id, current.tenantId))
      .get(),
    db
      .select({ id: mailOutbox.id })
      .from(mailOutbox)
      .where(
        and(
          eq(mailOutbox.tenantId, current.tenantId),
          // The alert/ keys as a range, which the (tenant, key) index serves (LIKE would not).
          gte(mailOutbox.idempotencyKey, "alert/"),
          lt(mailOutbox.idempotencyKey, "alert0"),
          eq(mailOutbox.status, "failed"),
          gte(mailOutbox.createdAt, now - ALERT_FAILED_BANNER_MS),
          // Younger, it may be a send still waiting for the provider (it reads failed until then).
          lte(mailOutbox.createdAt, now - RESEND_AFTER_MS),
        ),
      )
      .get(),
    formToken(row.session.csrfToken, current.tenantId),
  ]);
  return {
    idHash,
    userId: row.session.userId,
    email: row.email,
    name: row.name,
    csrfToken,
    csrfSecret: row.session.csrfToken,
    tenantId: current.tenantId,
    tenantName: current.tenantName,
    role: current.role,
    memberships: list,
    devOutbox: Boolean(c.env.DEV_SEED_TOKEN) || !tenant?.mail,
    noAlertRecipients: (tenant?.alertEmails.length ?? 0) === 0,
    alertsCannotLeave: !tenant?.mail && !isLocalDevelopment(c.env) && !systemSenderWorks(c.env),
    alertMailFailed: Boolean(failedAlert),
  };
}

/** A system sender configured right; a half-configured one fails every email it is given. */
function systemSenderWorks(env: Env): boolean {
  try {
    return systemMailer(env) !== null;
  } catch {
    return false;
  }
}

export async function endSession(c: Context, idHash: string): Promise<void> {
  await database(c.env).delete(sessions).where(eq(sessions.idHash, idHash));
  deleteCookie(c, SESSION_COOKIE, cookieOptions);
}

/** Ends every session of a user (after a password reset). */
export async function endAllSessions(env: Env, userId: string): Promise<void> {
  await database(env).delete(sessions).where(eq(sessions.userId, userId));
}

export async function switchTenant(env: Env, session: UiSession, tenantId: string): Promise<boolean> {
  if (!session.memberships.some((m) => m.tenantId === tenantId)) return false;
  await database(env).update(sessions).set({ tenantId }).where(eq(sessions.idHash, session.idHash));
  return true;
}
