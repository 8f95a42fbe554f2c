/**
 * Bearer API tokens. A token is shown once when made; only its SHA-256 is stored, so a leaked
 * database does not leak working tokens.
 */
import { eq } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import { toHex } from "../../../connectors/signatures";
import { database } from "../../../db/client";
import { apiTokens, auditLog } from "../../../db/schema";
import { OrderlyError } from "../../../domain/errors";
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
  const row = await db
    .select({ id: apiTokens.id, tenantId: apiTokens.tenantId, lastUsedAt: apiTokens.lastUsedAt })
    .from(apiTokens)
    .where(eq(apiTokens.tokenHash, await hashApiToken(match[1])))
    .get();
  if (!row)
    throw new OrderlyError("The API token is not known; it may have been revoked.", {
      errorClass: "auth",
      code: "token_unknown",
    });
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
