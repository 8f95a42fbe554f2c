/**
 * An API token works only while its maker is still an owner or admin of the token's tenant,
 * checked when it is used, whatever happened to the revocation /people does. Tokens without a
 * maker (made before migration 0009) keep working.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hashApiToken, newApiToken } from "../../src/worker/routes/api/auth";
import { createWorld } from "../helpers/world";
import { addUser, signedIn } from "./ui-client";

async function tokenMadeBy(tenantId: string, userId: string | null): Promise<string> {
  const token = newApiToken();
  await env.DB.prepare(
    "INSERT INTO api_tokens (id, tenant_id, name, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
  )
    .bind(`tok_${crypto.randomUUID().slice(0, 8)}`, tenantId, "made by hand", await hashApiToken(token), userId, Date.now())
    .run();
  return token;
}

describe("an API token answers for its maker's role when used", () => {
  it("refuses a token whose maker became a viewer or left outside /people; a token without a maker still works", async () => {
    const world = await createWorld();
    const { user: maker } = await signedIn(world.tenantId, "admin");
    const token = await tokenMadeBy(world.tenantId, maker.id);
    expect((await world.api("/flows", { token })).status).toBe(200);

    await env.DB.prepare("UPDATE memberships SET role = 'viewer' WHERE tenant_id = ? AND user_id = ?")
      .bind(world.tenantId, maker.id)
      .run();
    const demoted = await world.api("/flows", { token });
    expect(demoted.status).toBe(401);
    expect(demoted.body.error.code).toBe("token_maker_not_allowed");
    expect(demoted.body.error.message).toContain("no longer an owner or admin");

    await env.DB.prepare("UPDATE memberships SET role = 'owner' WHERE tenant_id = ? AND user_id = ?")
      .bind(world.tenantId, maker.id)
      .run();
    expect((await world.api("/flows", { token })).status).toBe(200);

    await env.DB.prepare("DELETE FROM memberships WHERE tenant_id = ? AND user_id = ?").bind(world.tenantId, maker.id).run();
    expect((await world.api("/flows", { token })).status).toBe(401);

    expect((await world.api("/flows", { token: await tokenMadeBy(world.tenantId, null) })).status).toBe(200);
  });

  it("an admin of another tenant is no maker here", async () => {
    const world = await createWorld();
    const other = await createWorld();
    const outsider = await addUser(other.tenantId, "admin");
    const token = await tokenMadeBy(world.tenantId, outsider.id);
    expect((await world.api("/flows", { token })).status).toBe(401);
  });
});
