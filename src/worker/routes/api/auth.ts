/**
 * Bearer API tokens. A token is shown once when made; only its SHA-256 is stored, so a leaked
 * database does not leak working tokens.
 */
import { and, eq } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { toHex } from "../../../connectors/signatures";
import { database } from "../../../db/client";
import { apiTokens, auditLog, memberships } from "../../../db/schema";
import { OrderlyError } from "../../../domain/errors";
import { canEdit } from "../ui/ui-env";
import type { ApiEnv } from "./api-env";

const TOKEN_PREFIX = "oly_";

export function newApiToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return TOKEN_PREFIX + toHex(bytes);
}

export async function hashApiToken(token: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))));
}

export const requireApiToken = createMiddleware<ApiEnv>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]?.startsWith(TOKEN_PREFIX)) {
    throw new OrderlyError("Send an API token as `Authorization: Bearer oly_…`.", { errorClass: "auth", code: "token_missing" });
  }
  const db = database(c.env);
  // The maker's role in the token's tenant comes with the token (one query): a token acts for the
  // whole tenant, so it works only while its maker may still make one. Removal and demotion delete
  // the maker's tokens already; this holds even where that did not happen (a membership changed
  // outside /people, or a revocation that failed).
  const row = await db
    .select({
      id: apiTokens.id,
      tenantId: apiTokens.tenantId,
      lastUsedAt: apiTokens.lastUsedAt,
      createdBy: apiTokens.createdBy,
      makerRole: memberships.role,
    })
    .from(apiTokens)
    .leftJoin(memberships, and(eq(memberships.tenantId, apiTokens.tenantId), eq(memberships.userId, apiTokens.createdBy)))
    .where(eq(apiTokens.tokenHash, await hashApiToken(match[1])))
    .get();
  if (!row)
    throw new OrderlyError("The API token is not known; it may have been revoked.", {
      errorClass: "auth",
      code: "token_unknown",
    });
  // Tokens from before makers were recorded (migration 0009) have none and keep working.
  if (row.createdBy !== null && !(row.makerRole && canEdit(row.makerRole)))
    throw new OrderlyError(
      "The person who made this API token is no longer an owner or admin of its tenant, so it no longer works; an owner or admin can make a new one under Users & API tokens.",
      { errorClass: "auth", code: "token_maker_not_allowed" },
    );
  c.set("tenantId", row.tenantId);
  const now = Date.now();
  // "Last used" at ten-minute precision: one write per token per ten minutes, not one per call.
  if (!row.lastUsedAt || now - row.lastUsedAt > LAST_USED_PRECISION_MS) {
    c.executionCtx.waitUntil(
      db
        .update(apiTokens)
        .set({ lastUsedAt: now })
        .where(eq(apiTokens.id, row.id))
        .then(() => undefined),
    );
  }
  await next();
  // Every change made through the API is in the audit log, as changes made in the UI are.
  if (c.req.method !== "GET" && c.res.status < 400) {
    const target = c.req.path.replace(/^\/api\/v1\//, "");
    await db.insert(auditLog).values({
      tenantId: row.tenantId,
      actor: `token:${row.id}`,
      action: `api ${c.req.method} ${target.split("/")[0]}`,
      target,
      createdAt: now,
    });
  }
});

const LAST_USED_PRECISION_MS = 10 * 60_000;
