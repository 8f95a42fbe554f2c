/**
 * A tenant keeps at least one owner even when two owners demote or remove each other at the same
 * moment: each request counted two owners before either wrote, and both went through.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createWorld } from "../helpers/world";
import { signedIn } from "./ui-client";

async function owners(tenantId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM memberships WHERE tenant_id = ? AND role = 'owner'")
    .bind(tenantId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("the last owner, with two owners acting at once", () => {
  it("two owners making each other admins: one goes through, the other is refused", async () => {
    const world = await createWorld();
    const { browser: ana, user: anaUser } = await signedIn(world.tenantId, "owner");
    const { browser: bo, user: boUser } = await signedIn(world.tenantId, "owner");
    expect(await owners(world.tenantId)).toBe(2);
    await ana.get("/people");
    await bo.get("/people");
    const answers = await Promise.all([
      ana.post(`/people/members/${boUser.id}/role`, { role: "admin" }),
      bo.post(`/people/members/${anaUser.id}/role`, { role: "admin" }),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([303, 409]);
    expect(await owners(world.tenantId)).toBe(1);
  });

  it("two owners removing each other: one goes through, the other is refused and changes nothing", async () => {
    const world = await createWorld();
    const { browser: ana, user: anaUser } = await signedIn(world.tenantId, "owner");
    const { browser: bo, user: boUser } = await signedIn(world.tenantId, "owner");
    await ana.get("/people");
    await bo.get("/people");
    const answers = await Promise.all([
      ana.post(`/people/members/${boUser.id}/remove`, {}),
      bo.post(`/people/members/${anaUser.id}/remove`, {}),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([303, 409]);
    expect(await owners(world.tenantId)).toBe(1);
  });
});
