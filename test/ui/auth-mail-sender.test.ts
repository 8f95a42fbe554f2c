/**
 * Password-reset and invitation emails carry links that sign in as, or join a tenant as, whoever
 * reads them. A tenant's admins choose its mail connection (its provider account, its baseUrl), so
 * these emails go through the operator's system sender only, never a tenant's connection: else an
 * admin of one tenant could ask a reset for another tenant's owner and read the link.
 */
import { env } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { createWorld } from "../helpers/world";
import { createConnection } from "../mail/mail-helpers";
import { createPostmarkMock } from "../mocks/postmark.mock";
import { RESEND_BASE } from "../mocks/resend.mock";
import { SYSTEM_MAIL_FROM, SYSTEM_MAIL_VARS, withSystemMailer, workerWith } from "./system-mail";
import { addUser, Browser, signedIn } from "./ui-client";

const EVIL_BASE = "https://mail-relay.evil.test";

/** Points the tenant's mail connection at a Postmark account (and address) its admin controls. */
async function attackerMailConnection(tenantId: string) {
  const evil = createPostmarkMock({ baseUrl: EVIL_BASE, serverToken: "pm-attacker" });
  const connectionId = await createConnection(
    tenantId,
    "postmark",
    { baseUrl: EVIL_BASE, from: "Shop <shop@evil.test>", messageStream: "outbound" },
    { serverToken: "pm-attacker" },
  );
  await env.DB.prepare("UPDATE tenants SET mail_connection_id = ? WHERE id = ?").bind(connectionId, tenantId).run();
  return evil;
}

async function outboxRowsTo(email: string) {
  const rows = await env.DB.prepare("SELECT provider, text, html, status, error FROM mail_outbox WHERE to_addresses LIKE ?")
    .bind(`%${email}%`)
    .all<{ provider: string; text: string | null; html: string | null; status: string; error: string | null }>();
  return rows.results;
}

describe("account emails never go through a tenant's mail connection", () => {
  it("a reset asked by another tenant's admin reaches the victim through the system sender; the admin's provider gets nothing", async () => {
    const attackers = await createWorld();
    const victims = await createWorld();
    const victim = await addUser(victims.tenantId, "owner");
    // The victim also works in the attacker's tenant (an agency), the only one with a mail connection.
    await addUser(attackers.tenantId, "viewer", victim.email);
    const evil = await attackerMailConnection(attackers.tenantId);
    const system = withSystemMailer({ postmark: evil });

    await new Browser(system.fetcher).submit("/forgot-password", "/forgot-password", { email: victim.email });
    expect(evil.state.requests).toEqual([]);
    const sent = system.resend.state.emails.filter((m) => JSON.stringify(m.body.to).includes(victim.email));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.body.from).toBe(SYSTEM_MAIL_FROM);
    expect(system.linkTo(victim.email, "/reset-password")).toMatch(/^\/reset-password\//);
    for (const row of await outboxRowsTo(victim.email)) {
      expect(row.provider).toBe("resend");
      expect(`${row.text} ${row.html}`).not.toContain("/reset-password/");
    }
  });

  it("an invitation goes through the system sender, not the inviting tenant's connection", async () => {
    const world = await createWorld();
    const evil = await attackerMailConnection(world.tenantId);
    const system = withSystemMailer({ postmark: evil });
    const { browser: admin } = await signedIn(world.tenantId, "admin", system.fetcher);
    await admin.get("/people");
    expect((await admin.post("/people/invite", { email: "agency.owner@example.test", role: "viewer" })).status).toBe(303);
    await admin.get("/people");
    expect(admin.lastHtml).toContain("Invitation sent to agency.owner@example.test");
    expect(evil.state.requests).toEqual([]);
    expect(system.linkTo("agency.owner@example.test", "/invite")).toMatch(/^\/invite\//);
  });

  it("deployed without a system sender, neither goes through the tenant's connection and the invitation says no email went out", async () => {
    const world = await createWorld();
    const evil = await attackerMailConnection(world.tenantId);
    const system = withSystemMailer({ postmark: evil });
    const deployed = workerWith({});
    const user = await addUser(world.tenantId, "owner");
    await new Browser(deployed).submit("/forgot-password", "/forgot-password", { email: user.email });
    const { browser: admin } = await signedIn(world.tenantId, "admin", deployed);
    await admin.get("/people");
    expect((await admin.post("/people/invite", { email: "left.out@example.test", role: "admin" })).status).toBe(303);
    await admin.get("/people");
    expect(admin.lastHtml).toContain("the operator of this Orderly has not set one up");

    expect(evil.state.requests).toEqual([]);
    expect(system.resend.state.requests).toEqual([]);
    for (const email of [user.email, "left.out@example.test"]) {
      const rows = await outboxRowsTo(email);
      expect(rows.map((r) => r.provider)).toEqual(["dev"]);
      expect(rows[0]?.text).toContain("not shown here");
    }
  });

  it("a system sender missing its token fails the invitation with the reason, and sends nothing", async () => {
    const world = await createWorld();
    const evil = await attackerMailConnection(world.tenantId);
    withSystemMailer({ postmark: evil });
    const broken = workerWith({ SYSTEM_MAIL_PROVIDER: "resend", SYSTEM_MAIL_FROM });
    const { browser: admin } = await signedIn(world.tenantId, "admin", broken);
    await admin.get("/people");
    expect((await admin.post("/people/invite", { email: "later@example.test", role: "viewer" })).status).toBe(303);
    await admin.get("/people");
    expect(admin.lastHtml).toContain("SYSTEM_MAIL_TOKEN is not set");
    expect(evil.state.requests).toEqual([]);
    const [row] = await outboxRowsTo("later@example.test");
    expect(row?.status).toBe("failed");
    expect(row?.error).toContain("system mail sender");
  });
});

describe("forgot-password tells nothing about the address", () => {
  it("answers at once, before the email is sent, with the page an unknown address gets", async () => {
    const world = await createWorld();
    const user = await addUser(world.tenantId, "admin");
    // A tenant connection too: before the fix the reset went through it and was awaited.
    const connectionId = await createConnection(
      world.tenantId,
      "resend",
      { baseUrl: RESEND_BASE, from: "Shop <shop@example.test>" },
      { apiKey: "re_tenant" },
    );
    await env.DB.prepare("UPDATE tenants SET mail_connection_id = ? WHERE id = ?").bind(connectionId, world.tenantId).run();
    // Every mail provider call hangs until released.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async () => {
      await held;
      return Response.json({ id: "held-email" });
    });
    const worker = workerWith(SYSTEM_MAIL_VARS, { settle: false });
    const answer = async (email: string) => {
      const browser = new Browser(worker);
      await browser.get("/forgot-password");
      const res = await Promise.race([
        browser.post("/forgot-password", { email }),
        new Promise<"still waiting">((resolve) => setTimeout(() => resolve("still waiting"), 3000)),
      ]);
      return { res, html: browser.lastHtml };
    };
    try {
      const known = await answer(user.email);
      expect(known.res).not.toBe("still waiting");
      await vi.waitFor(() => expect(fetchSpy).toHaveBeenCalled());
      const unknown = await answer("no-account@example.test");
      expect(unknown.res).not.toBe("still waiting");
      expect((known.res as Response).status).toBe((unknown.res as Response).status);
      expect(known.html).toBe(unknown.html);
    } finally {
      release();
      await worker.settled();
      fetchSpy.mockRestore();
    }
  });
});

describe("a used reset link ends the others", () => {
  it("deletes every unused reset link of the address when one sets a new password", async () => {
    const world = await createWorld();
    const user = await addUser(world.tenantId, "admin");
    const system = withSystemMailer();
    await new Browser(system.fetcher).submit("/forgot-password", "/forgot-password", { email: user.email });
    await new Browser(system.fetcher).submit("/forgot-password", "/forgot-password", { email: user.email });
    const [first, second] = system.linksTo(user.email, "/reset-password");
    expect(first && second && first !== second).toBe(true);

    const browser = new Browser(system.fetcher);
    await browser.get(second!);
    expect((await browser.post(second!, { password: "a brand new password" })).status).toBe(303);

    const other = new Browser(system.fetcher);
    expect((await other.get(first!)).status).toBe(410);
    const unused = await env.DB.prepare("SELECT count(*) AS n FROM user_tokens WHERE email = ? AND used_at IS NULL")
      .bind(user.email)
      .first<{ n: number }>();
    expect(unused?.n).toBe(0);
  });
});
