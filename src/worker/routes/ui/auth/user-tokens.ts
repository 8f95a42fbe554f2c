/** One-time links: password resets (1 hour) and invitations (7 days). Stored hashed, used once. */
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { database } from "../../../../db/client";
import { type Role, userTokens } from "../../../../db/schema";
import { randomToken, sha256Hex } from "./tokens";

export const RESET_TTL_MS = 3600 * 1000;
export const INVITE_TTL_MS = 7 * 24 * 3600 * 1000;

type Row = typeof userTokens.$inferSelect;

export async function issueUserToken(
  env: Env,
  input: { kind: Row["kind"]; email: string; tenantId?: string; role?: Role; createdBy?: string },
): Promise<{ token: string; tokenHash: string }> {
  const token = randomToken();
  const tokenHash = await sha256Hex(token);
  const now = Date.now();
  await database(env)
    .insert(userTokens)
    .values({
      tokenHash,
      kind: input.kind,
      email: input.email,
      tenantId: input.tenantId ?? null,
      role: input.role ?? null,
      createdBy: input.createdBy ?? null,
      createdAt: now,
      expiresAt: now + (input.kind === "reset" ? RESET_TTL_MS : INVITE_TTL_MS),
    });
  return { token, tokenHash };
}

/** The token's row while it is unused and unexpired; null otherwise. */
export async function findUserToken(env: Env, token: string, kind: Row["kind"]): Promise<Row | null> {
  if (!token || token.length > 100) return null;
  const row = await database(env)
    .select()
    .from(userTokens)
    .where(
      and(
        eq(userTokens.tokenHash, await sha256Hex(token)),
        eq(userTokens.kind, kind),
        isNull(userTokens.usedAt),
        gt(userTokens.expiresAt, Date.now()),
      ),
    )
    .get();
  return row ?? null;
}

/** Marks the token used; false when another request used it first (one statement, so only one wins). */
export async function consumeUserToken(env: Env, tokenHash: string): Promise<boolean> {
  const now = Date.now();
  const used = await database(env)
    .update(userTokens)
    .set({ usedAt: now })
    .where(and(eq(userTokens.tokenHash, tokenHash), isNull(userTokens.usedAt), gt(userTokens.expiresAt, now)))
    .returning({ tokenHash: userTokens.tokenHash });
  return used.length === 1;
}

/**
 * Uses a reset link: marks it used and, in the same batch (one transaction), deletes every other
 * unused reset link of its address, so a new password leaves no older link able to change it
 * again. The delete runs only once the link is used (by this request or one that won first), so a
 * request that lost the race never deletes links on its own. False when the link was not used here.
 */
export async function consumeResetToken(env: Env, tokenHash: string, email: string): Promise<boolean> {
  const db = database(env);
  const now = Date.now();
  const [used] = await db.batch([
    db
      .update(userTokens)
      .set({ usedAt: now })
      .where(
        and(
          eq(userTokens.tokenHash, tokenHash),
          eq(userTokens.kind, "reset"),
          isNull(userTokens.usedAt),
          gt(userTokens.expiresAt, now),
        ),
      )
      .returning({ tokenHash: userTokens.tokenHash }),
    db
      .delete(userTokens)
      .where(
        and(
          eq(userTokens.kind, "reset"),
          eq(userTokens.email, email),
          isNull(userTokens.usedAt),
          sql`EXISTS (SELECT 1 FROM ${userTokens} AS link WHERE link.token_hash = ${tokenHash} AND link.used_at IS NOT NULL)`,
        ),
      ),
  ]);
  return used.length === 1;
}
