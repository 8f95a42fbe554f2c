import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createWorld } from "../helpers/world";
import { withSystemMailer } from "./system-mail";
import { addUser, Browser, PASSWORD, signedIn } from "./ui-client";

/** Invitations go out through the system sender, answered by a mock; its links reach the provider only. */
function withMailProvider() {
  const { resend, fetcher, linkTo } = withSystemMailer();
  return { resend, fetcher, linkTo: (email: string) => linkTo(email, "/invite") };
}

async function roleOf(tenantId: string, userId: string): Promise<string | undefined> {
  const row = await env.DB.prepare("SELECT role FROM memberships WHERE tenant_id = ? AND user_id = ?")
    .bind(tenantId, userId)
    .first<{ role: string }>();
  return row?.role;
}

async function accept(link: string) {
  const browser = new Browser();
  await browser.get(link);
  return browser.post(link, { password: PASSWORD });
}

describe("accepting an invitation as a member already", () => {
  it("never lowers the member's role: the only owner invited as a viewer stays owner", async () => {
    const world = await createWorld();
    const { linkTo, fetcher } = withMailProvider();
    const owner = await addUser(world.tenantId, "owner");
    const { browser: admin } = await signedIn(world.tenantId, "admin", fetcher);
    await admin.get("/people");
    expect((await admin.post("/people/invite", { email: owner.email, role: "viewer" })).status).toBe(303);
    expect((await accept(linkTo(owner.email))).status).toBe(303);
    expect(await roleOf(world.tenantId, owner.id)).toBe("owner");
    const joined = await env.DB.prepare("SELECT details FROM audit_log WHERE tenant_id = ? AND action = 'member.join'")
      .bind(world.tenantId)
      .first<{ details: string }>();
    expect(JSON.parse(joined!.details)).toMatchObject({ role: "owner", invitedAs: "viewer", from: "owner" });
  });

  it("keeps an admin an admin, with their API tokens, when invited as a viewer", async () => {
    const world = await createWorld();
    const { linkTo, fetcher } = withMailProvider();
    const { browser: adminBrowser, user: admin } = await signedIn(world.tenantId, "admin", fetcher);
    await adminBrowser.get("/people");
    expect((await adminBrowser.post("/people/tokens", { name: "script" })).status).toBe(201);
    const { browser: owner } = await signedIn(world.tenantId, "owner", fetcher);
    await owner.get("/people");
    await owner.post("/people/invite", { email: admin.email, role: "viewer" });
    expect((await accept(linkTo(admin.email))).status).toBe(303);
    expect(await roleOf(world.tenantId, admin.id)).toBe("admin");
    const tokens = await env.DB.prepare("SELECT count(*) AS n FROM api_tokens WHERE created_by = ?")
      .bind(admin.id)
      .first<{ n: number }>();
    expect(tokens?.n).toBe(1);
  });

  it("raises a viewer to the role they were invited as", async () => {
    const world = await createWorld();
    const { linkTo, fetcher } = withMailProvider();
    const viewer = await addUser(world.tenantId, "viewer");
    const { browser: owner } = await signedIn(world.tenantId, "owner", fetcher);
    await owner.get("/people");
    await owner.post("/people/invite", { email: viewer.email, role: "admin" });
    expect((await accept(linkTo(viewer.email))).status).toBe(303);
    expect(await roleOf(world.tenantId, viewer.id)).toBe("admin");
  });
});

describe("inviting while the mail provider fails", () => {
  it("keeps the invitation, audits it, and says the email failed and what to do", async () => {
    const world = await createWorld();
    const { resend, fetcher } = withMailProvider();
    resend.failNext({ status: 500, times: 20 });
    const { browser } = await signedIn(world.tenantId, "owner", fetcher);
    await browser.get("/people");
    const res = await browser.post("/people/invite", { email: "late@example.test", role: "viewer" });
    expect(res.status).toBe(303);
    const pending = await env.DB.prepare("SELECT role FROM user_tokens WHERE kind = 'invite' AND email = ? AND tenant_id = ?")
      .bind("late@example.test", world.tenantId)
      .first<{ role: string }>();
    expect(pending?.role).toBe("viewer");
    const audited = await env.DB.prepare("SELECT details FROM audit_log WHERE tenant_id = ? AND action = 'member.invite'")
      .bind(world.tenantId)
      .first<{ details: string }>();
    expect(JSON.parse(audited!.details)).toMatchObject({ role: "viewer", mailFailed: true });
    await browser.get("/people");
    expect(browser.lastHtml).toContain("Invitation made for late@example.test, but its email could not be sent");
    expect(browser.lastHtml).toContain("withdraw this invitation and invite again");
    expect(browser.lastHtml).not.toContain("Nothing was changed");
  });
});
