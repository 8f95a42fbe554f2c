/** /people: members and roles, invitations by email, and API tokens (shown once). */
import { and, eq, gt, inArray, isNull, ne, or, type SQL, sql } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { z } from "zod";
import { type Db, database } from "../../../db/client";
import { apiTokens, memberships, ROLES, type Role, tenants, users, userTokens } from "../../../db/schema";
import { isLocalDevelopment } from "../../../mail/dev-outbox.provider";
import { sendMail } from "../../../mail/send-mail";
import { PeoplePage, type PeopleProps } from "../../../ui/pages/people";
import { linkOrigin } from "../../config";
import { hashApiToken, newApiToken } from "../api/auth";
import { audit } from "./audit";
import { randomId } from "./auth/tokens";
import { issueUserToken } from "./auth/user-tokens";
import { notFoundPage, page, redirectWith } from "./render";
import { canEdit, mayGrant, type UiEnv } from "./ui-env";

export const peopleRoutes = new Hono<UiEnv>();
type C = Context<UiEnv>;

async function render(c: C, extra: Pick<PeopleProps, "newToken" | "errors"> = {}, status = 200) {
  const s = c.var.session;
  const db = database(c.env);
  const [members, invites, tokens] = await Promise.all([
    db
      .select({ userId: users.id, email: users.email, name: users.name, role: memberships.role, lastLoginAt: users.lastLoginAt })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.tenantId, s.tenantId))
      .orderBy(users.email),
    db
      .select({
        tokenHash: userTokens.tokenHash,
        email: userTokens.email,
        role: userTokens.role,
        expiresAt: userTokens.expiresAt,
      })
      .from(userTokens)
      .where(
        and(
          eq(userTokens.tenantId, s.tenantId),
          eq(userTokens.kind, "invite"),
          isNull(userTokens.usedAt),
          gt(userTokens.expiresAt, Date.now()),
        ),
      ),
    db
      .select({ id: apiTokens.id, name: apiTokens.name, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt })
      .from(apiTokens)
      .where(eq(apiTokens.tenantId, s.tenantId))
      .orderBy(apiTokens.createdAt),
  ]);
  return page(
    c,
    { title: "Users & API tokens", active: "people", status },
    <PeoplePage
      members={members}
      invites={invites}
      tokens={tokens}
      me={{ userId: s.userId, role: s.role }}
      csrf={s.csrfToken}
      canEdit={canEdit(s.role)}
      {...extra}
    />,
  );
}

peopleRoutes.get("/", (c) => render(c));

peopleRoutes.post("/invite", async (c) => {
  const s = c.var.session;
  const form = await c.req.parseBody();
  const email = z.email().safeParse(
    String(form.email ?? "")
      .trim()
      .toLowerCase(),
  );
  const role = String(form.role ?? "viewer");
  if (!email.success) return render(c, { errors: ["Give a valid email address."] }, 400);
  if (!mayGrant(s.role, role)) return render(c, { errors: ["Only an owner can invite an owner."] }, 403);
  const { token, tokenHash } = await issueUserToken(c.env, {
    kind: "invite",
    email: email.data,
    tenantId: s.tenantId,
    role,
    createdBy: s.userId,
  });
  const link = `${linkOrigin(c.env, c.req.url)}/invite/${token}`;
  // The invitation is stored by now: a mail that fails must not read as "nothing was changed".
  // It goes through the operator's system sender, never this tenant's mail connection: whoever
  // reads the link chooses the password of a new address, so the tenant's admins, reading it
  // through a provider account they control, could make the account of someone else's address.
  const sent = await sendMail(c.env, {
    tenantId: s.tenantId,
    idempotencyKey: `invite/${tokenHash}`,
    email: {
      to: [email.data],
      subject: `[Orderly] ${s.name || s.email} invited you to ${s.tenantName}`,
      text: `${s.name || s.email} invited you to work on ${s.tenantName} in Orderly as ${role}.\n\nAccept here (the link works once, for 7 days):\n${link}\n`,
    },
    via: "system",
    // Whoever holds the link joins as `role` (and, for a new address, chooses its password), so
    // no one but the invitee may read it: not the tenant's viewers, nor its API tokens.
    sensitive: { summary: `An invitation link for ${email.data} as ${role}; not shown here, as it works for whoever holds it.` },
  }).then(
    (result) => ({ provider: result.provider, error: undefined }),
    // Short enough for the flash cookie; the outbox row keeps the whole reason.
    (error: unknown) => ({ provider: undefined, error: (error instanceof Error ? error.message : String(error)).slice(0, 300) }),
  );
  const mailError = sent.error;
  await audit(c.env, s, "member.invite", email.data, { role, ...(mailError ? { mailFailed: true, mailError } : {}) });
  // The link is stored hashed and never shown (it lets whoever holds it in), so it cannot be
  // re-sent or handed over: the way on is a new invitation once mail works.
  if (mailError)
    return redirectWith(
      c,
      "/people",
      `Invitation made for ${email.data}, but its email could not be sent (${mailError}). It stays pending below, and no one has its link: once email works, withdraw this invitation and invite again.`,
      "error",
    );
  if (sent.provider === "dev" && !isLocalDevelopment(c.env))
    return redirectWith(
      c,
      "/people",
      `Invitation made for ${email.data}, but no email went out: invitations and password resets go out through the system mail sender, never a tenant's mail provider, and the operator of this Orderly has not set one up. Once they have, withdraw this invitation and invite again.`,
      "error",
    );
  return redirectWith(c, "/people", `Invitation sent to ${email.data}.`);
});

async function ownerCount(env: Env, tenantId: string): Promise<number> {
  const owners = await database(env)
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.role, "owner")));
  return owners.length;
}

/**
 * "This membership is not the tenant's last owner", inside the statement that demotes or removes
 * it: two owners demoting each other at once both counted two owners before either wrote, and the
 * tenant was left with none. D1 runs a batch as one transaction, so the count is the one written.
 */
function anotherOwnerRemains(tenantId: string) {
  return or(
    ne(memberships.role, "owner"),
    sql`(SELECT COUNT(*) FROM ${memberships} WHERE ${memberships.tenantId} = ${tenantId} AND ${memberships.role} = 'owner') > 1`,
  );
}

const LAST_OWNER = "A tenant keeps at least one owner: make someone else owner first.";

/**
 * For an actor who is not an owner, "this membership is not an owner", inside the statement that
 * demotes or removes it: an owner's promotion of the person landing between the check of their role
 * and the write would otherwise be undone by an admin. Owners may change owners, so none for them.
 */
function notAnOwnerUnlessActorIs(actor: Role) {
  return actor === "owner" ? undefined : ne(memberships.role, "owner");
}

/** Why a demotion or removal changed no row: the person is gone, became an owner meanwhile, or is the last owner. */
async function notChanged(c: C, userId: string, act: "change" | "remove") {
  const now = await memberOf(c, userId);
  if (!now) return notFoundPage(c);
  if (now.role === "owner" && c.var.session.role !== "owner")
    return render(
      c,
      {
        errors: [
          `Only an owner can ${act} an owner, and this person was made an owner while your change was on its way. Nothing was changed.`,
        ],
      },
      403,
    );
  return render(c, { errors: [LAST_OWNER] }, 409);
}

async function memberOf(c: C, userId: string) {
  return database(c.env)
    .select()
    .from(memberships)
    .where(and(eq(memberships.userId, userId), eq(memberships.tenantId, c.var.session.tenantId)))
    .get();
}

/**
 * A token acts for the whole tenant, so it must not outlive its maker's right to make one: when
 * they leave the tenant or become a viewer, the tokens they made are deleted. Tokens from before
 * makers were recorded have none and stay. Returns how many were revoked.
 */
async function revokeTokensOf(env: Env, tenantId: string, userId: string): Promise<number> {
  return (await deleteTokensOf(database(env), tenantId, userId)).length;
}

/** The delete of the tokens `userId` made, as a query, so removal can run it in its batch. */
function deleteTokensOf(db: Db, tenantId: string, userId: string, only?: SQL) {
  return db
    .delete(apiTokens)
    .where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.createdBy, userId), only))
    .returning({ id: apiTokens.id });
}

/**
 * The delete of the unused invitations `userId` made in the tenant (only those for one of `roles`,
 * when given), as a query for a batch. An invitation must not outlive its maker's right to make
 * it: whoever holds its link joins in its role, so it goes when they leave, become a viewer (who
 * invites no one), or stop being an owner (only owners invite owners).
 */
function deleteInvitesOf(db: Db, tenantId: string, userId: string, roles?: readonly Role[], only?: SQL) {
  return db
    .delete(userTokens)
    .where(
      and(
        eq(userTokens.tenantId, tenantId),
        eq(userTokens.kind, "invite"),
        eq(userTokens.createdBy, userId),
        isNull(userTokens.usedAt),
        roles ? inArray(userTokens.role, [...roles]) : undefined,
        only,
      ),
    )
    .returning({ email: userTokens.email });
}

function withdrawnNote(count: number): string {
  if (count === 0) return "";
  return count === 1 ? " The invitation they sent was withdrawn." : ` The ${count} invitations they sent were withdrawn.`;
}

/** The roles a member in `role` may not invite people as (every one, for a viewer). */
function rolesNotGrantable(role: Role): Role[] {
  return ROLES.filter((r) => !canEdit(role) || !mayGrant(role, r));
}

peopleRoutes.post("/members/:userId/role", async (c) => {
  const s = c.var.session;
  const member = await memberOf(c, c.req.param("userId"));
  if (!member) return notFoundPage(c);
  const role = String((await c.req.parseBody()).role ?? "");
  if (!mayGrant(s.role, role) || (member.role === "owner" && s.role !== "owner"))
    return render(c, { errors: ["Only an owner can make or change an owner."] }, 403);
  if (member.role === "owner" && role !== "owner" && (await ownerCount(c.env, s.tenantId)) <= 1) {
    return render(c, { errors: [LAST_OWNER] }, 409);
  }
  const db = database(c.env);
  // The role and the invitations it no longer allows change together (one batch, one transaction);
  // the invitations go only if the role did change (it is refused for the last owner).
  const changed = sql`EXISTS (SELECT 1 FROM ${memberships} WHERE ${memberships.userId} = ${member.userId} AND ${memberships.tenantId} = ${s.tenantId} AND ${memberships.role} = ${role})`;
  const [updated, withdrawn] = await db.batch([
    db
      .update(memberships)
      .set({ role })
      .where(
        and(
          eq(memberships.userId, member.userId),
          eq(memberships.tenantId, s.tenantId),
          role === "owner" ? undefined : anotherOwnerRemains(s.tenantId),
          notAnOwnerUnlessActorIs(s.role),
        ),
      )
      .returning({ userId: memberships.userId }),
    deleteInvitesOf(db, s.tenantId, member.userId, rolesNotGrantable(role), changed),
  ]);
  if (updated.length === 0) return notChanged(c, member.userId, "change");
  const tokensRevoked = canEdit(role) ? 0 : await revokeTokensOf(c.env, s.tenantId, member.userId);
  await audit(c.env, s, "member.role", member.userId, {
    from: member.role,
    to: role,
    tokensRevoked,
    ...(withdrawn.length ? { invitesWithdrawn: withdrawn.map((i) => i.email) } : {}),
  });
  return redirectWith(c, "/people", `Role changed.${withdrawnNote(withdrawn.length)}`);
});

peopleRoutes.post("/members/:userId/remove", async (c) => {
  const s = c.var.session;
  const member = await memberOf(c, c.req.param("userId"));
  if (!member) return notFoundPage(c);
  if (member.role === "owner" && s.role !== "owner") return render(c, { errors: ["Only an owner can remove an owner."] }, 403);
  if (member.role === "owner" && (await ownerCount(c.env, s.tenantId)) <= 1) {
    return render(c, { errors: [LAST_OWNER] }, 409);
  }
  const db = database(c.env);
  // The person's address (any spelling: addresses are ASCII, so SQLite's lower() compares them).
  const theirs = sql`lower(value) = (SELECT lower(${users.email}) FROM ${users} WHERE ${users.id} = ${member.userId})`;
  // One batch, one transaction: the membership, the tokens and unused invitations they made and
  // their alert address go together, and the addresses read are the ones dropped. A former member
  // must stop receiving alerts and status reports (order numbers, error text) the moment they
  // lose access, and no one may still join through a link they sent.
  // The rest only once the membership is gone (it is kept for the last owner).
  const gone = sql`NOT EXISTS (SELECT 1 FROM ${memberships} WHERE ${memberships.userId} = ${member.userId} AND ${memberships.tenantId} = ${s.tenantId})`;
  const [dropped, removed, revoked, withdrawn] = await db.batch([
    // A builder, not db.all(sql): drizzle 0.45 cannot batch a raw query with bound values.
    db
      .select({ address: sql<string>`value` })
      .from(sql`${tenants}, json_each(${tenants.alertEmails})`)
      .where(and(eq(tenants.id, s.tenantId), theirs)),
    db
      .delete(memberships)
      .where(
        and(
          eq(memberships.userId, member.userId),
          eq(memberships.tenantId, s.tenantId),
          anotherOwnerRemains(s.tenantId),
          notAnOwnerUnlessActorIs(s.role),
        ),
      )
      .returning({ userId: memberships.userId }),
    deleteTokensOf(db, s.tenantId, member.userId, gone),
    deleteInvitesOf(db, s.tenantId, member.userId, undefined, gone),
    db
      .update(tenants)
      .set({ alertEmails: sql`(SELECT json_group_array(value) FROM json_each(${tenants.alertEmails}) WHERE NOT (${theirs}))` })
      .where(and(eq(tenants.id, s.tenantId), gone)),
  ]);
  if (removed.length === 0) return notChanged(c, member.userId, "remove");
  const alertEmailsRemoved = dropped.map((r) => r.address);
  await audit(c.env, s, "member.remove", member.userId, {
    role: member.role,
    tokensRevoked: revoked.length,
    alertEmailsRemoved,
    ...(withdrawn.length ? { invitesWithdrawn: withdrawn.map((i) => i.email) } : {}),
  });
  const stopped = alertEmailsRemoved.length
    ? ` ${alertEmailsRemoved.join(", ")} no longer gets alerts or status reports (removed from the recipients under Notifications).`
    : "";
  return redirectWith(
    c,
    member.userId === s.userId ? "/" : "/people",
    `Removed from this tenant.${withdrawnNote(withdrawn.length)}${stopped}`,
  );
});

peopleRoutes.post("/invites/:hash/withdraw", async (c) => {
  const s = c.var.session;
  const removed = await database(c.env)
    .delete(userTokens)
    .where(and(eq(userTokens.tokenHash, c.req.param("hash")), eq(userTokens.tenantId, s.tenantId), eq(userTokens.kind, "invite")))
    .returning({ email: userTokens.email });
  if (removed.length === 0) return notFoundPage(c);
  await audit(c.env, s, "member.invite_withdraw", removed[0]?.email ?? null);
  return redirectWith(c, "/people", "Invitation withdrawn.");
});

peopleRoutes.post("/tokens", async (c) => {
  const s = c.var.session;
  const name = String((await c.req.parseBody()).name ?? "").trim();
  if (!name || name.length > 120) return render(c, { errors: ["Give the token a name (up to 120 characters)."] }, 400);
  const token = newApiToken();
  const id = randomId("tok");
  await database(c.env)
    .insert(apiTokens)
    .values({ id, tenantId: s.tenantId, name, tokenHash: await hashApiToken(token), createdBy: s.userId });
  await audit(c.env, s, "token.create", id, { name });
  return render(c, { newToken: { name, token } }, 201);
});

peopleRoutes.post("/tokens/:id/revoke", async (c) => {
  const s = c.var.session;
  const removed = await database(c.env)
    .delete(apiTokens)
    .where(and(eq(apiTokens.id, c.req.param("id")), eq(apiTokens.tenantId, s.tenantId)))
    .returning({ name: apiTokens.name });
  if (removed.length === 0) return notFoundPage(c);
  await audit(c.env, s, "token.revoke", c.req.param("id"), { name: removed[0]?.name });
  return redirectWith(c, "/people", "Token revoked: calls with it now answer 401.");
});
