import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createWorld } from "../helpers/world";
import { createResendMock, installMailMocks } from "../mocks/resend.mock";
import { SYSTEM_MAIL_KEY, SYSTEM_MAIL_VARS, withSystemMailer, workerWith } from "./system-mail";
import { addUser, Browser, type Fetcher, PASSWORD, signedIn } from "./ui-client";

async function lastMailTo(email: string): Promise<{ id: string; subject: string; text: string } | null> {
  return env.DB.prepare("SELECT id, subject, text FROM mail_outbox WHERE to_addresses LIKE ? ORDER BY created_at DESC LIMIT 1")
    .bind(`%${email}%`)
    .first<{ id: string; subject: string; text: string }>();
}

function linkIn(text: string, path: string): string {
  const match = new RegExp(`https://orderly\\.test(${path}/[A-Za-z0-9_-]+)`).exec(text);
  if (!match?.[1]) throw new Error(`no ${path} link in: ${text}`);
  return match[1];
}

/**
 * The operator's system sender, answered by a mock: one-time links reach the recipient only
 * through it, never through the outbox the tenant can read (nor the tenant's own mail connection).
 * `sentTo` is the text of the last email it was given for an address; `fetcher` is the Worker
 * that sends through it (a Browser given it waits for the reset email sent after the answer).
 */
function withMailProvider() {
  const { resend, fetcher } = withSystemMailer();
  const sentTo = (email: string) => {
    const sent = resend.state.emails.filter((m) => JSON.stringify(m.body.to).includes(email)).at(-1);
    if (!sent) throw new Error(`the mail provider was sent nothing for ${email}`);
    return String(sent.body.text);
  };
  return { sentTo, fetcher };
}

describe("password reset by emailed link", () => {
  it("emails a one-hour link through the system sender; it sets a new password once and never again", async () => {
    const world = await createWorld();
    const { sentTo, fetcher } = withMailProvider();
    const user = await addUser(world.tenantId, "admin");
    const browser = new Browser(fetcher);
    await browser.submit("/forgot-password", "/forgot-password", { email: user.email });
    expect(browser.lastHtml).toContain("If an account exists");
    const mail = await lastMailTo(user.email);
    expect(mail?.subject).toContain("Choose a new password");
    const link = linkIn(sentTo(user.email), "/reset-password");
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
    const { sentTo, fetcher } = withMailProvider();
    const user = await addUser(world.tenantId, "admin");
    const browser = new Browser(fetcher);
    await browser.submit("/forgot-password", "/forgot-password", { email: user.email });
    const link = linkIn(sentTo(user.email), "/reset-password");
    await env.DB.prepare("UPDATE user_tokens SET expires_at = ? WHERE email = ?")
      .bind(Date.now() - 1, user.email)
      .run();
    expect((await browser.get(link)).status).toBe(410);

    const stranger = new Browser(fetcher);
    await stranger.submit("/forgot-password", "/forgot-password", { email: "nobody-here@example.test" });
    expect(stranger.lastHtml).toContain("If an account exists");
    expect(await lastMailTo("nobody-here@example.test")).toBeNull();
  });
});

describe("invitations", () => {
  it("an owner invites a new person by email; accepting creates the user, the membership and a session", async () => {
    const world = await createWorld();
    const { sentTo, fetcher } = withMailProvider();
    const { browser: owner } = await signedIn(world.tenantId, "owner", fetcher);
    await owner.get("/people");
    expect((await owner.post("/people/invite", { email: "New.Person@Example.test", role: "admin" })).status).toBe(303);
    const link = linkIn(sentTo("new.person@example.test"), "/invite");

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
    const { sentTo, fetcher } = withMailProvider();
    const agency = await addUser(home.tenantId, "owner");
    const { browser: owner } = await signedIn(client.tenantId, "owner", fetcher);
    await owner.get("/people");
    await owner.post("/people/invite", { email: agency.email, role: "viewer" });
    const link = linkIn(sentTo(agency.email), "/invite");
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

describe("one-time links are read by their recipient only, never by the tenant", () => {
  /** What the tenant's viewer sees of an email in the dev outbox, and what its API token reads. */
  async function readers(world: Awaited<ReturnType<typeof createWorld>>, mailId: string) {
    const { browser: viewer } = await signedIn(world.tenantId, "viewer");
    expect((await viewer.get(`/outbox/${mailId}`)).status).toBe(200);
    const api = await world.api(`/mail/outbox/${mailId}`);
    expect(api.status).toBe(200);
    return { page: viewer.lastHtml, api: JSON.stringify(api.body) };
  }

  it("a password reset without a system sender leaves no link in the outbox", async () => {
    const world = await createWorld();
    const user = await addUser(world.tenantId, "admin");
    await new Browser(workerWith({})).submit("/forgot-password", "/forgot-password", { email: user.email });
    const mail = await lastMailTo(user.email);
    expect(mail?.subject).toContain("Choose a new password");
    expect(mail?.text).toContain("not shown here");
    const seen = await readers(world, mail!.id);
    for (const text of [seen.page, seen.api]) {
      expect(text).not.toContain("/reset-password/");
      expect(text).toContain(`A password reset link for ${user.email}`);
    }
  });

  it("with a system sender the provider gets the link and the outbox row does not", async () => {
    const world = await createWorld();
    const { sentTo, fetcher } = withMailProvider();
    const user = await addUser(world.tenantId, "owner");
    await new Browser(fetcher).submit("/forgot-password", "/forgot-password", { email: user.email });
    expect(linkIn(sentTo(user.email), "/reset-password")).toMatch(/^\/reset-password\//);
    const mail = await lastMailTo(user.email);
    const api = await world.api(`/mail/outbox/${mail!.id}`);
    expect(api.body.provider).toBe("resend");
    expect(JSON.stringify(api.body)).not.toContain("/reset-password/");
  });

  it("an invitation without a system sender leaves no link in the outbox and says no email went out", async () => {
    const world = await createWorld();
    const { browser: owner } = await signedIn(world.tenantId, "owner");
    await owner.get("/people");
    expect((await owner.post("/people/invite", { email: "quiet@example.test", role: "admin" })).status).toBe(303);
    await owner.get("/people");
    expect(owner.lastHtml).toContain("but no email went out");
    expect(owner.lastHtml).toContain("the operator of this Orderly has not set one up");
    const mail = await lastMailTo("quiet@example.test");
    const seen = await readers(world, mail!.id);
    for (const text of [seen.page, seen.api]) {
      expect(text).not.toContain("/invite/");
      expect(text).toContain("An invitation link for quiet@example.test as admin");
    }
  });
});

describe("links in account emails with PUBLIC_URL set", () => {
  /** The Worker as reached under another host name (a forged Host on a wildcard route or proxy). */
  function underHost(fetcher: Fetcher, host: string): Fetcher {
    return (request) => fetcher(new Request(request.url.replace("https://orderly.test", `https://${host}`), request));
  }

  it("a reset link points at PUBLIC_URL, whatever host the request named", async () => {
    const world = await createWorld();
    const resend = createResendMock({ apiKey: SYSTEM_MAIL_KEY });
    installMailMocks({ resend });
    const user = await addUser(world.tenantId, "admin");
    const fetcher = workerWith({ ...SYSTEM_MAIL_VARS, PUBLIC_URL: "https://orderly.example.com/" });
    await new Browser(underHost(fetcher, "evil.example")).submit("/forgot-password", "/forgot-password", { email: user.email });
    const text = String(resend.state.emails.filter((m) => JSON.stringify(m.body.to).includes(user.email)).at(-1)?.body.text);
    expect(text).toMatch(/https:\/\/orderly\.example\.com\/reset-password\/[A-Za-z0-9_-]+/);
    expect(text).not.toContain("evil.example");
  });

  it("without PUBLIC_URL the request's own origin stands in, as before", async () => {
    const world = await createWorld();
    const resend = createResendMock({ apiKey: SYSTEM_MAIL_KEY });
    installMailMocks({ resend });
    const user = await addUser(world.tenantId, "admin");
    await new Browser(workerWith(SYSTEM_MAIL_VARS)).submit("/forgot-password", "/forgot-password", { email: user.email });
    const text = String(resend.state.emails.filter((m) => JSON.stringify(m.body.to).includes(user.email)).at(-1)?.body.text);
    expect(text).toMatch(/https:\/\/orderly\.test\/reset-password\//);
  });
});
