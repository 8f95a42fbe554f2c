import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createWorld } from "../helpers/world";
import { addUser, Browser, PASSWORD, signedIn } from "./ui-client";

async function lastMailTo(email: string): Promise<{ subject: string; text: string } | null> {
  return env.DB.prepare("SELECT subject, text FROM mail_outbox WHERE to_addresses LIKE ? ORDER BY created_at DESC LIMIT 1")
    .bind(`%${email}%`)
    .first<{ subject: string; text: string }>();
}

function linkIn(text: string, path: string): string {
  const match = new RegExp(`https://orderly\\.test(${path}/[A-Za-z0-9_-]+)`).exec(text);
  if (!match?.[1]) throw new Error(`no ${path} link in: ${text}`);
  return match[1];
}

describe("password reset by emailed link", () => {
  it("emails a one-hour link through the outbox; it sets a new password once and never again", async () => {
    const world = await createWorld();
    const user = await addUser(world.tenantId, "admin");
    const browser = new Browser();
    await browser.submit("/forgot-password", "/forgot-password", { email: user.email });
    expect(browser.lastHtml).toContain("If an account exists");
    const mail = await lastMailTo(user.email);
    expect(mail?.subject).toContain("Choose a new password");
    const link = linkIn(mail!.text, "/reset-password");
    const stored = await env.DB.prepare("SELECT token_hash, expires_at - created_at AS ttl FROM user_tokens WHERE email = ?")
      .bind(user.email)
      .first<{ token_hash: string; ttl: number }>();
    expect(stored?.ttl).toBe(3_600_000);
    expect(link).not.toContain(stored!.token_hash);

    await browser.get(link);
    const res = await browser.post(link, { password: "a brand new password" });
    expect(res.status).toBe(303);
    expect((await browser.get("/")).status).toBe(200);

    const again = new Browser();
    expect((await again.get(link)).status).toBe(410);
    await again.get("/sign-in");
    const replay = await again.post(link, { password: "another new password" });
    expect(replay.status).toBe(410);

    const old = new Browser();
    await old.get("/sign-in");
    expect((await old.post("/sign-in", { email: user.email, password: PASSWORD })).status).toBe(401);
    await old.get("/sign-in");
    expect((await old.post("/sign-in", { email: user.email, password: "a brand new password" })).status).toBe(303);
  });

  it("refuses an expired link and tells an unknown address nothing", async () => {
    const world = await createWorld();
    const user = await addUser(world.tenantId, "admin");
    const browser = new Browser();
    await browser.submit("/forgot-password", "/forgot-password", { email: user.email });
    const link = linkIn((await lastMailTo(user.email))!.text, "/reset-password");
    await env.DB.prepare("UPDATE user_tokens SET expires_at = ? WHERE email = ?")
      .bind(Date.now() - 1, user.email)
      .run();
    expect((await browser.get(link)).status).toBe(410);

    const stranger = new Browser();
    await stranger.submit("/forgot-password", "/forgot-password", { email: "nobody-here@example.test" });
    expect(stranger.lastHtml).toContain("If an account exists");
    expect(await lastMailTo("nobody-here@example.test")).toBeNull();
  });
});

describe("invitations", () => {
  it("an owner invites a new person by email; accepting creates the user, the membership and a session", async () => {
    const world = await createWorld();
    const { browser: owner } = await signedIn(world.tenantId, "owner");
    await owner.get("/people");
    expect((await owner.post("/people/invite", { email: "New.Person@Example.test", role: "admin" })).status).toBe(303);
    const mail = await lastMailTo("new.person@example.test");
    const link = linkIn(mail!.text, "/invite");

    const invitee = new Browser();
    await invitee.get(link);
    expect(invitee.lastHtml).toContain("Choose a password");
    const res = await invitee.post(link, { name: "New Person", password: "a good long password" });
    expect(res.status).toBe(303);
    await invitee.get("/people");
    expect(invitee.lastHtml).toContain("New Person");
    const member = await env.DB.prepare(
      "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = ? AND m.tenant_id = ?",
    )
      .bind("new.person@example.test", world.tenantId)
      .first<{ role: string }>();
    expect(member?.role).toBe("admin");
    expect((await new Browser().get(link)).status).toBe(410);
  });

  it("an existing user (an agency) accepts with their password and gains the tenant", async () => {
    const home = await createWorld();
    const client = await createWorld();
    const agency = await addUser(home.tenantId, "owner");
    const { browser: owner } = await signedIn(client.tenantId, "owner");
    await owner.get("/people");
    await owner.post("/people/invite", { email: agency.email, role: "viewer" });
    const link = linkIn((await lastMailTo(agency.email))!.text, "/invite");
    const browser = new Browser();
    await browser.get(link);
    expect(browser.lastHtml).toContain("Your current password");
    expect((await browser.post(link, { password: "wrong password" })).status).toBe(400);
    expect((await browser.post(link, { password: PASSWORD })).status).toBe(303);
    await browser.get("/");
    expect(browser.lastHtml).toContain('id="tenant-switch"');
  });

  it("only an owner may invite an owner", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId, "admin");
    await browser.get("/people");
    expect((await browser.post("/people/invite", { email: "boss@example.test", role: "owner" })).status).toBe(403);
  });
});
