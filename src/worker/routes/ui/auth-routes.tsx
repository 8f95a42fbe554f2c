/** Sign-in, sign-out, password reset by emailed link, and accepting an invitation. */
import { and, eq, type SQL, sql } from "drizzle-orm";
import { Hono } from "hono";
import { database } from "../../../db/client";
import { memberships, ROLES, type Role, tenants, users } from "../../../db/schema";
import { sendMail } from "../../../mail/send-mail";
import { AcceptInvitePage } from "../../../ui/pages/accept-invite";
import { ForgotPasswordPage } from "../../../ui/pages/forgot-password";
import { ResetPasswordPage } from "../../../ui/pages/reset-password";
import { SignInPage } from "../../../ui/pages/sign-in";
import { linkOrigin } from "../../config";
import { audit } from "./audit";
import { attemptAllowed, attemptKeys } from "./auth/attempt-limits";
import { checkPreSessionToken, preSessionToken } from "./auth/csrf";
import { hashPassword, passwordProblem, verifyPassword } from "./auth/password";
import { endAllSessions, endSession, loadSession, startSession, tenantOfFormToken } from "./auth/session";
import { randomId } from "./auth/tokens";
import { consumeResetToken, consumeUserToken, findUserToken, issueUserToken } from "./auth/user-tokens";
import { forbiddenPage, page } from "./render";
import { canEdit, mayGrant } from "./ui-env";

export const authRoutes = new Hono<{ Bindings: Env }>();

const str = (v: unknown) => (typeof v === "string" ? v : "");
const normEmail = (v: unknown) => str(v).trim().toLowerCase();
/** Only same-site paths are followed after sign-in. */
const safeNext = (v: unknown) => (/^\/(?![/\\])[\w\-/?=&.%]*$/.test(str(v)) ? str(v) : "/");

authRoutes.get("/sign-in", async (c) => {
  if (await loadSession(c)) return c.redirect("/", 303);
  const next = c.req.query("next");
  return page(c, { title: "Sign in" }, <SignInPage formToken={preSessionToken(c)} next={next ? safeNext(next) : undefined} />);
});

authRoutes.post("/sign-in", async (c) => {
  const form = await c.req.parseBody();
  if (!checkPreSessionToken(c, form)) return formExpired(c);
  const email = normEmail(form.email);
  // Counted before the password is checked: a refused guess costs no PBKDF2.
  if (!(await attemptAllowed(c.env.SIGN_IN_LIMITER, attemptKeys("sign-in", email, c.req.raw.headers)))) {
    return page(
      c,
      { title: "Sign in", status: 429 },
      <SignInPage
        formToken={preSessionToken(c)}
        email={email}
        error="Too many sign-in attempts for this address just now. Wait a minute, then try again."
      />,
    );
  }
  const user = await database(c.env).select().from(users).where(eq(users.email, email)).get();
  const ok = await verifyPassword(str(form.password), user?.passwordHash ?? null);
  if (!user || !ok) {
    return page(
      c,
      { title: "Sign in", status: 401 },
      <SignInPage formToken={preSessionToken(c)} email={email} error="The email or password is not right." />,
    );
  }
  await startSession(c, user.id);
  return c.redirect(safeNext(form.next), 303);
});

authRoutes.post("/sign-out", async (c) => {
  const session = await loadSession(c);
  const form = await c.req.parseBody();
  if (session) {
    // Any of the person's tenants: the button is on every page, and another tab may have switched.
    if (!(await tenantOfFormToken(session, str(form._csrf))))
      return forbiddenPage(c, "The form was not sent from this site (CSRF check failed).");
    await endSession(c, session.idHash);
  }
  return c.redirect("/sign-in", 303);
});

authRoutes.get("/forgot-password", (c) =>
  page(c, { title: "Reset password" }, <ForgotPasswordPage formToken={preSessionToken(c)} />),
);

authRoutes.post("/forgot-password", async (c) => {
  const form = await c.req.parseBody();
  if (!checkPreSessionToken(c, form)) return formExpired(c);
  // The lookup and the email happen after the answer, so an address with an account answers as
  // fast, and with the same page, as one without: the timing tells nothing either.
  const email = normEmail(form.email);
  const keys = attemptKeys("reset", email, c.req.raw.headers);
  // Past the limit the page is the same and no email goes: the answer must not tell whether the
  // address has an account, nor let anyone flood it with reset emails.
  c.executionCtx.waitUntil(
    attemptAllowed(c.env.RESET_LIMITER, keys)
      .then((allowed) => (allowed ? sendResetLink(c.env, email, linkOrigin(c.env, c.req.url)) : undefined))
      .catch((error: unknown) => console.error("password reset email failed", String(error))),
  );
  return page(c, { title: "Reset password" }, <ForgotPasswordPage formToken={preSessionToken(c)} sent />);
});

/**
 * Emails a one-hour reset link to `email` if it has an account with a tenant. The email goes
 * through the system sender only, never a tenant's mail connection (whose admins could read the
 * link and sign in as this person). Its outbox row, a note without the link, goes to the
 * person's oldest membership.
 */
async function sendResetLink(env: Env, email: string, origin: string): Promise<void> {
  const db = database(env);
  const user = await db.select({ id: users.id }).from(users).where(eq(users.email, email)).get();
  if (!user) return;
  const home = await db
    .select({ tenantId: memberships.tenantId })
    .from(memberships)
    .where(eq(memberships.userId, user.id))
    .orderBy(memberships.createdAt, memberships.tenantId)
    .get();
  if (!home) return;
  const { token, tokenHash } = await issueUserToken(env, { kind: "reset", email });
  const link = `${origin}/reset-password/${token}`;
  const sent = await sendMail(env, {
    tenantId: home.tenantId,
    idempotencyKey: `password-reset/${tokenHash}`,
    email: {
      to: [email],
      subject: "[Orderly] Choose a new password",
      text: `Someone (hopefully you) asked to reset the password of ${email} on Orderly.\n\nChoose a new password here; the link works once, for one hour:\n${link}\n\nIf it was not you, ignore this email: your password stays as it is.`,
    },
    via: "system",
    // The tenant's other members and API tokens read its outbox: the link would let them in as this person.
    sensitive: { summary: `A password reset link for ${email}; not shown here, as it signs in as that person.` },
  });
  // The person is told it was sent whatever happens (nothing may tell who has an account), so a
  // deployment without a system sender says it here, for the operator: the link reached no one.
  if (sent.provider === "dev" && !env.DEV_SEED_TOKEN)
    console.error("password reset: no system mail sender is configured; the link stays in the dev outbox and reaches no one", {
      tenantId: home.tenantId,
    });
}

authRoutes.get("/reset-password/:token", async (c) => {
  const row = await findUserToken(c.env, c.req.param("token"), "reset");
  return page(
    c,
    { title: "Choose a new password", status: row ? 200 : 410 },
    <ResetPasswordPage formToken={preSessionToken(c)} token={c.req.param("token")} email={row?.email} invalid={!row} />,
  );
});

authRoutes.post("/reset-password/:token", async (c) => {
  const form = await c.req.parseBody();
  if (!checkPreSessionToken(c, form)) return formExpired(c);
  const token = c.req.param("token");
  const row = await findUserToken(c.env, token, "reset");
  const user = row ? await database(c.env).select().from(users).where(eq(users.email, row.email)).get() : undefined;
  if (!row || !user) {
    return page(c, { title: "Choose a new password", status: 410 }, <ResetPasswordPage formToken="" token={token} invalid />);
  }
  const problem = passwordProblem(str(form.password));
  if (problem) {
    return page(
      c,
      { title: "Choose a new password", status: 400 },
      <ResetPasswordPage formToken={preSessionToken(c)} token={token} email={row.email} error={problem} />,
    );
  }
  if (!(await consumeResetToken(c.env, row.tokenHash, row.email))) {
    return page(c, { title: "Choose a new password", status: 410 }, <ResetPasswordPage formToken="" token={token} invalid />);
  }
  await database(c.env)
    .update(users)
    .set({ passwordHash: await hashPassword(str(form.password)) })
    .where(eq(users.id, user.id));
  await endAllSessions(c.env, user.id);
  await startSession(c, user.id);
  return c.redirect("/", 303);
});

/**
 * An invitation still stands while the person who made it may make it: one made by a member who
 * has since been removed, or lost the role to invite (or to invite an owner), counts as withdrawn.
 * Leaving or a role change withdraws such invitations at once; this covers those made before that
 * rule, and any written between the check and the change. One without a maker (older) stands.
 */
async function inviterStillMay(env: Env, invite: { tenantId: string | null; createdBy: string | null; role: string | null }) {
  if (!invite.createdBy || !invite.tenantId) return true;
  const inviter = await database(env)
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.userId, invite.createdBy), eq(memberships.tenantId, invite.tenantId)))
    .get();
  return Boolean(inviter && canEdit(inviter.role) && mayGrant(inviter.role, invite.role ?? "viewer"));
}

authRoutes.get("/invite/:token", async (c) => {
  const token = c.req.param("token");
  const invite = await findUserToken(c.env, token, "invite");
  if (!invite?.tenantId || !(await inviterStillMay(c.env, invite))) {
    return page(c, { title: "Invitation", status: 410 }, <AcceptInvitePage formToken="" token={token} invalid />);
  }
  const db = database(c.env);
  const tenant = await db.select({ name: tenants.name }).from(tenants).where(eq(tenants.id, invite.tenantId)).get();
  const existing = await db.select({ id: users.id }).from(users).where(eq(users.email, invite.email)).get();
  return page(
    c,
    { title: "Invitation" },
    <AcceptInvitePage
      formToken={preSessionToken(c)}
      token={token}
      email={invite.email}
      tenantName={tenant?.name ?? invite.tenantId}
      role={invite.role ?? "viewer"}
      existingUser={Boolean(existing)}
    />,
  );
});

authRoutes.post("/invite/:token", async (c) => {
  const form = await c.req.parseBody();
  if (!checkPreSessionToken(c, form)) return formExpired(c);
  const token = c.req.param("token");
  const invite = await findUserToken(c.env, token, "invite");
  if (!invite?.tenantId || !(await inviterStillMay(c.env, invite)))
    return page(c, { title: "Invitation", status: 410 }, <AcceptInvitePage formToken="" token={token} invalid />);
  const db = database(c.env);
  const existing = await db.select().from(users).where(eq(users.email, invite.email)).get();
  const tenant = await db.select({ name: tenants.name }).from(tenants).where(eq(tenants.id, invite.tenantId)).get();
  const again = (error: string) =>
    page(
      c,
      { title: "Invitation", status: 400 },
      <AcceptInvitePage
        formToken={preSessionToken(c)}
        token={token}
        email={invite.email}
        tenantName={tenant?.name ?? invite.tenantId ?? ""}
        role={invite.role ?? "viewer"}
        existingUser={Boolean(existing)}
        error={error}
      />,
    );
  let userId: string;
  if (existing) {
    if (!(await verifyPassword(str(form.password), existing.passwordHash))) return again("The password is not right.");
    userId = existing.id;
  } else {
    const name = str(form.name).trim();
    if (!name || name.length > 120) return again("Tell us your name (up to 120 characters).");
    const problem = passwordProblem(str(form.password));
    if (problem) return again(problem);
    userId = randomId("usr");
  }
  if (!(await consumeUserToken(c.env, invite.tokenHash))) {
    return page(c, { title: "Invitation", status: 410 }, <AcceptInvitePage formToken="" token={token} invalid />);
  }
  if (!existing) {
    await db.insert(users).values({
      id: userId,
      email: invite.email,
      name: str(form.name).trim(),
      passwordHash: await hashPassword(str(form.password)),
    });
  }
  const offered = isRole(invite.role) ? invite.role : "viewer";
  const before = await db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.userId, userId), eq(memberships.tenantId, invite.tenantId)))
    .get();
  // An invitation only ever raises a member: an admin inviting the owner's address as a viewer must
  // not demote the owner (nor the tenant's last owner). The write keeps the higher role itself, so a
  // role changed on /people meanwhile is not undone. Raising needs none of /people's checks: no
  // owner is lost and no one becomes a viewer, so no token is revoked.
  await db
    .insert(memberships)
    .values({ userId, tenantId: invite.tenantId, role: offered })
    .onConflictDoUpdate({
      target: [memberships.userId, memberships.tenantId],
      set: { role: offered },
      setWhere: sql`${roleRank(sql`${memberships.role}`)} > ${ROLES.indexOf(offered)}`,
    });
  const role = before && ROLES.indexOf(before.role) <= ROLES.indexOf(offered) ? before.role : offered;
  await audit(c.env, { tenantId: invite.tenantId, userId }, "member.join", invite.email, {
    role,
    invitedAs: offered,
    ...(before ? { from: before.role } : {}),
    invitedBy: invite.createdBy,
  });
  await startSession(c, userId, invite.tenantId);
  return c.redirect("/", 303);
});

const isRole = (v: unknown): v is Role => (ROLES as readonly unknown[]).includes(v);

/** A role's place in ROLES (owner first): lower is more. Unknown text ranks below every role. */
function roleRank(role: SQL): SQL {
  return sql`(CASE ${role} ${sql.join(
    ROLES.map((r, i) => sql`WHEN ${r} THEN ${i}`),
    sql` `,
  )} ELSE ${ROLES.length} END)`;
}

function formExpired(c: Parameters<typeof page>[0]) {
  return forbiddenPage(c, "This form expired or was not sent from this site. Reload the page and try again.");
}
