/**
 * An invitation lets whoever holds its link join in its role, so it must not outlive its maker's
 * right to invite: their unused invitations go when they are removed, made a viewer, or (for
 * owner invitations) stop being an owner. Other members' invitations stay.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createWorld } from "../helpers/world";
import { withSystemMailer } from "./system-mail";
import { Browser, signedIn } from "./ui-client";

async function pendingInvites(tenantId: string): Promise<string[]> {
  const rows = await env.DB.prepare(
    "SELECT email FROM user_tokens WHERE tenant_id = ? AND kind = 'invite' AND used_at IS NULL ORDER BY email",
  )
    .bind(tenantId)
    .all<{ email: string }>();
  return rows.results.map((r) => r.email);
}

async function lastAudit(tenantId: string, action: string) {
  const row = await env.DB.prepare("SELECT details FROM audit_log WHERE tenant_id = ? AND action = ? ORDER BY id DESC LIMIT 1")
    .bind(tenantId, action)
    .first<{ details: string }>();
  return JSON.parse(row?.details ?? "{}") as Record<string, unknown>;
}

async function invite(browser: Browser, email: string, role: string) {
  await browser.get("/people");
  expect((await browser.post("/people/invite", { email, role })).status).toBe(303);
}

describe("a member's invitations go with their right to invite", () => {
  it("removing an admin withdraws the invitations they sent; their links stop working; others' stay", async () => {
    const world = await createWorld();
    const system = withSystemMailer();
    const { browser: owner } = await signedIn(world.tenantId, "owner", system.fetcher);
    const { browser: leaving, user: leavingUser } = await signedIn(world.tenantId, "admin", system.fetcher);
    const { browser: staying } = await signedIn(world.tenantId, "admin", system.fetcher);
    await invite(leaving, "friend-one@example.test", "admin");
    await invite(leaving, "friend-two@example.test", "viewer");
    await invite(staying, "colleague@example.test", "viewer");
    const link = system.linkTo("friend-one@example.test", "/invite");

    await owner.get("/people");
    expect((await owner.post(`/people/members/${leavingUser.id}/remove`, {})).status).toBe(303);
    await owner.get("/people");
    expect(owner.lastHtml).toContain("The 2 invitations they sent were withdrawn.");
    expect(await pendingInvites(world.tenantId)).toEqual(["colleague@example.test"]);
    expect((await new Browser(system.fetcher).get(link)).status).toBe(410);
    expect(await lastAudit(world.tenantId, "member.remove")).toMatchObject({
      invitesWithdrawn: expect.arrayContaining(["friend-one@example.test", "friend-two@example.test"]),
    });
  });

  it("making an admin a viewer withdraws their invitations", async () => {
    const world = await createWorld();
    const system = withSystemMailer();
    const { browser: owner } = await signedIn(world.tenantId, "owner", system.fetcher);
    const { browser: admin, user: adminUser } = await signedIn(world.tenantId, "admin", system.fetcher);
    await invite(admin, "pal@example.test", "viewer");
    const link = system.linkTo("pal@example.test", "/invite");

    await owner.get("/people");
    expect((await owner.post(`/people/members/${adminUser.id}/role`, { role: "viewer" })).status).toBe(303);
    expect(await pendingInvites(world.tenantId)).toEqual([]);
    expect((await new Browser(system.fetcher).get(link)).status).toBe(410);
    expect(await lastAudit(world.tenantId, "member.role")).toMatchObject({
      to: "viewer",
      invitesWithdrawn: ["pal@example.test"],
    });
  });

  it("an owner made admin loses only the owner invitations (an admin invites admins and viewers)", async () => {
    const world = await createWorld();
    const system = withSystemMailer();
    const { browser: owner } = await signedIn(world.tenantId, "owner", system.fetcher);
    const { browser: second, user: secondUser } = await signedIn(world.tenantId, "owner", system.fetcher);
    await invite(second, "co-owner@example.test", "owner");
    await invite(second, "helper@example.test", "admin");

    await owner.get("/people");
    expect((await owner.post(`/people/members/${secondUser.id}/role`, { role: "admin" })).status).toBe(303);
    expect(await pendingInvites(world.tenantId)).toEqual(["helper@example.test"]);

    // Raising someone withdraws nothing.
    await owner.get("/people");
    expect((await owner.post(`/people/members/${secondUser.id}/role`, { role: "owner" })).status).toBe(303);
    expect(await pendingInvites(world.tenantId)).toEqual(["helper@example.test"]);
  });

  it("an invitation whose maker lost the right before the rule (no withdrawal written) no longer works", async () => {
    const world = await createWorld();
    const system = withSystemMailer();
    const { browser: admin, user: adminUser } = await signedIn(world.tenantId, "admin", system.fetcher);
    await invite(admin, "late@example.test", "admin");
    const link = system.linkTo("late@example.test", "/invite");
    // As the previous release removed a member: the membership goes, the invitation stays pending.
    await env.DB.prepare("DELETE FROM memberships WHERE user_id = ? AND tenant_id = ?").bind(adminUser.id, world.tenantId).run();
    expect(await pendingInvites(world.tenantId)).toEqual(["late@example.test"]);
    const invitee = new Browser(system.fetcher);
    expect((await invitee.get(link)).status).toBe(410);
    expect(invitee.lastHtml).toContain("withdrawn");
  });
});
