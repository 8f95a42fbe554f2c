import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { hashApiToken, newApiToken } from "../../src/worker/routes/api/auth";
import { createWorld } from "../helpers/world";
import { addUser, type Browser, signedIn } from "./ui-client";

/** Makes an API token through /people as the browser's person and returns it. */
async function makeToken(browser: Browser, name: string): Promise<string> {
  await browser.get("/people");
  expect((await browser.post("/people/tokens", { name })).status).toBe(201);
  const token = /value="(oly_[0-9a-f]+)"/.exec(browser.lastHtml)?.[1];
  if (!token) throw new Error("no token on the page");
  return token;
}

describe("API tokens do not outlive their maker's right to make them", () => {
  it("records who made a token and revokes it when they become a viewer or leave; older tokens stay", async () => {
    const world = await createWorld();
    const other = await createWorld();
    const { browser: owner } = await signedIn(world.tenantId, "owner");
    const { browser: ana, user: anaUser } = await signedIn(world.tenantId, "admin");
    const { browser: bo, user: boUser } = await signedIn(world.tenantId, "admin");
    const anaToken = await makeToken(ana, "Ana's export");
    const boToken = await makeToken(bo, "Bo's export");
    const row = await env.DB.prepare("SELECT created_by FROM api_tokens WHERE name = ? AND tenant_id = ?")
      .bind("Ana's export", world.tenantId)
      .first<{ created_by: string }>();
    expect(row?.created_by).toBe(anaUser.id);
    // Ana's token in another tenant is that tenant's business.
    await addUser(other.tenantId, "admin", anaUser.email);
    const elsewhere = newApiToken();
    await env.DB.prepare(
      "INSERT INTO api_tokens (id, tenant_id, name, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
      .bind(
        `tok_${crypto.randomUUID().slice(0, 8)}`,
        other.tenantId,
        "Ana elsewhere",
        await hashApiToken(elsewhere),
        anaUser.id,
        Date.now(),
      )
      .run();

    await owner.get("/people");
    expect((await owner.post(`/people/members/${boUser.id}/role`, { role: "owner" })).status).toBe(303);
    expect((await world.api("/flows", { token: boToken })).status).toBe(200);

    await owner.get("/people");
    expect((await owner.post(`/people/members/${anaUser.id}/role`, { role: "viewer" })).status).toBe(303);
    expect((await world.api("/flows", { token: anaToken })).status).toBe(401);
    expect((await other.api("/flows", { token: elsewhere })).status).toBe(200);

    await owner.get("/people");
    expect((await owner.post(`/people/members/${boUser.id}/remove`, {})).status).toBe(303);
    expect((await world.api("/flows", { token: boToken })).status).toBe(401);

    // The token made before makers were recorded (no created_by) still works.
    expect((await world.api("/flows")).status).toBe(200);
    const audit = await env.DB.prepare(
      "SELECT action, details FROM audit_log WHERE tenant_id = ? AND action LIKE 'member.%' ORDER BY id",
    )
      .bind(world.tenantId)
      .all<{ action: string; details: string }>();
    expect(audit.results.map((r) => [r.action, JSON.parse(r.details).tokensRevoked])).toEqual([
      ["member.role", 0],
      ["member.role", 1],
      ["member.remove", 1],
    ]);
  });
});
