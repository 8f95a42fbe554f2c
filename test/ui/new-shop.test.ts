/**
 * "New shop": a signed-in person the operator lists in TENANT_CREATORS (or everyone, with `*`)
 * creates a tenant, becomes its owner and works in it; anyone else is refused and nothing is made.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTenantWithOwner } from "../../src/db/tenants";
import worker from "../../src/worker/index";
import { createWorld } from "../helpers/world";
import { workerWith } from "./system-mail";
import { addUser, Browser, type Fetcher, PASSWORD } from "./ui-client";

async function signInAs(email: string, fetcher: Fetcher) {
  const browser = new Browser(fetcher);
  await browser.get("/sign-in");
  const res = await browser.post("/sign-in", { email, password: PASSWORD });
  expect(res.status).toBe(303);
  return browser;
}

/** A member of a fresh tenant, signed in to the Worker under TENANT_CREATORS = `creators(email)`. */
async function member(creators: (email: string) => string, role: "owner" | "admin" | "viewer" = "owner") {
  const world = await createWorld();
  const email = `person-${crypto.randomUUID().slice(0, 8)}@example.test`;
  const user = await addUser(world.tenantId, role, email);
  const browser = await signInAs(email, workerWith({ TENANT_CREATORS: creators(email) }));
  return { world, user, browser };
}

async function tenantsNamed(name: string) {
  const { results } = await env.DB.prepare("SELECT id FROM tenants WHERE name = ?").bind(name).all<{ id: string }>();
  return results.map((r) => r.id);
}

/**
 * The Worker over a D1 whose audit_log statements fail (the table name is swapped for one that does
 * not exist), as a write to the audit log may fail in production.
 */
function withAuditLogBroken(vars: Record<string, string>): Fetcher {
  const db = new Proxy(env.DB, {
    get(target, key) {
      if (key === "prepare") return (query: string) => target.prepare(query.replaceAll("audit_log", "audit_log_gone"));
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const brokenEnv = { ...env, ...vars, DB: db } as Env;
  return async (request) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(request, brokenEnv, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
}

const uniqueName = () => `Shop ${crypto.randomUUID().slice(0, 8)}`;

describe("New shop, for a person TENANT_CREATORS allows", () => {
  it("creates the tenant, makes them its owner, audits it and switches the session to it", async () => {
    const { world, user, browser } = await member((email) => `someone@example.test, ${email.toUpperCase()}`);
    await browser.get("/");
    expect(browser.lastHtml).toContain('href="/tenants/new"');
    expect((await browser.get("/tenants/new")).status).toBe(200);
    const name = uniqueName();
    const res = await browser.post("/tenants/new", { name: `  ${name} `, alertEmails: "ops@shop.example\nboss@shop.example" });
    expect(res.status).toBe(303);
    const [tenantId] = await tenantsNamed(name);
    expect(tenantId).toMatch(/^ten_[0-9a-f]{20}$/);
    const tenant = await env.DB.prepare("SELECT alert_emails FROM tenants WHERE id = ?")
      .bind(tenantId)
      .first<{ alert_emails: string }>();
    expect(JSON.parse(tenant!.alert_emails)).toEqual(["ops@shop.example", "boss@shop.example"]);
    const role = await env.DB.prepare("SELECT role FROM memberships WHERE tenant_id = ? AND user_id = ?")
      .bind(tenantId, user.id)
      .first<{ role: string }>();
    expect(role?.role).toBe("owner");
    const audited = await env.DB.prepare(
      "SELECT actor, target, details FROM audit_log WHERE tenant_id = ? AND action = 'tenant.create'",
    )
      .bind(tenantId)
      .first<{ actor: string; target: string; details: string }>();
    expect(audited).toMatchObject({ actor: user.id, target: tenantId });
    expect(JSON.parse(audited!.details)).toMatchObject({ name, from: world.tenantId });
    // The session works in the new shop now: its pages are drawn for it.
    await browser.get("/");
    expect(browser.lastHtml).toContain(`<option value="${tenantId}" selected="">`);
    expect(browser.lastHtml).toContain("you are its owner and work in it now");
  });

  it("is about the person, not their role where they are: a viewer listed may create a shop", async () => {
    const { user, browser } = await member((email) => email, "viewer");
    await browser.get("/tenants/new");
    const name = uniqueName();
    expect((await browser.post("/tenants/new", { name, alertEmails: "" })).status).toBe(303);
    const [tenantId] = await tenantsNamed(name);
    const role = await env.DB.prepare("SELECT role FROM memberships WHERE tenant_id = ? AND user_id = ?")
      .bind(tenantId, user.id)
      .first<{ role: string }>();
    expect(role?.role).toBe("owner");
  });

  it("lets every signed-in person create shops with `*`", async () => {
    const { browser } = await member(() => "*", "admin");
    await browser.get("/tenants/new");
    const name = uniqueName();
    expect((await browser.post("/tenants/new", { name, alertEmails: "" })).status).toBe(303);
    expect(await tenantsNamed(name)).toHaveLength(1);
  });

  it("answers an empty name or a bad alert address with 400, says why, and creates nothing", async () => {
    const { browser } = await member(() => "*");
    await browser.get("/tenants/new");
    const empty = await browser.post("/tenants/new", { name: "   ", alertEmails: "" });
    expect(empty.status).toBe(400);
    expect(browser.lastHtml).toContain("Shop name: give the shop a name");
    const name = uniqueName();
    const bad = await browser.post("/tenants/new", { name, alertEmails: "ops@shop.example\nnot-an-address" });
    expect(bad.status).toBe(400);
    expect(browser.lastHtml).toContain("Alert recipients: “not-an-address” is not an email address");
    expect(browser.lastHtml).toContain(`value="${name}"`);
    const long = await browser.post("/tenants/new", { name: "x".repeat(101), alertEmails: "" });
    expect(long.status).toBe(400);
    expect(browser.lastHtml).toContain("at most 100 characters");
    expect(await tenantsNamed(name)).toHaveLength(0);
  });

  it("refuses a second shop of a name the person already works in", async () => {
    const { browser } = await member(() => "*");
    await browser.get("/tenants/new");
    const name = uniqueName();
    expect((await browser.post("/tenants/new", { name, alertEmails: "" })).status).toBe(303);
    await browser.get("/tenants/new");
    expect((await browser.post("/tenants/new", { name: name.toLowerCase(), alertEmails: "" })).status).toBe(400);
    expect(browser.lastHtml).toContain(`you already work in a shop named “${name}”`);
    expect(await tenantsNamed(name)).toHaveLength(1);
  });

  it("makes one shop of two posts sent together (a double click), and answers the other as a same-name refusal", async () => {
    const { user, browser } = await member(() => "*");
    await browser.get("/tenants/new");
    const name = uniqueName();
    const answers = await Promise.all([
      browser.post("/tenants/new", { name, alertEmails: "" }),
      browser.post("/tenants/new", { name, alertEmails: "" }),
    ]);
    expect(answers.map((r) => r.status).sort()).toEqual([303, 400]);
    const refusal = await answers.find((r) => r.status === 400)!.text();
    expect(refusal).toContain(`you already work in a shop named “${name}”`);
    const made = await tenantsNamed(name);
    expect(made).toHaveLength(1);
    const owned = await env.DB.prepare("SELECT count(*) AS n FROM memberships WHERE user_id = ? AND tenant_id = ?")
      .bind(user.id, made[0])
      .first<{ n: number }>();
    expect(owned?.n).toBe(1);
  });

  it("checks the name inside the write, whatever the session read: a second write of the name makes nothing", async () => {
    const world = await createWorld();
    const user = await addUser(world.tenantId, "viewer");
    const name = uniqueName();
    const first = await createTenantWithOwner(env, { name, alertEmails: [], ownerUserId: user.id, auditDetails: {} });
    expect(first.created).toBe(true);
    const second = await createTenantWithOwner(env, {
      name: ` ${name.toUpperCase()} `,
      alertEmails: [],
      ownerUserId: user.id,
      auditDetails: {},
    });
    expect(second).toEqual({ created: false, sameName: name });
    expect(await tenantsNamed(name)).toHaveLength(1);
    const { n } = (await env.DB.prepare("SELECT count(*) AS n FROM audit_log WHERE actor = ? AND action = 'tenant.create'")
      .bind(user.id)
      .first<{ n: number }>())!;
    expect(n).toBe(1);
    // Another person may have a shop of that name: the check is about the owner's own shops.
    const other = await addUser(world.tenantId, "viewer");
    expect((await createTenantWithOwner(env, { name, alertEmails: [], ownerUserId: other.id, auditDetails: {} })).created).toBe(
      true,
    );
  });

  it("writes nothing when the audit entry cannot be written, so the error page's “nothing was changed” is true", async () => {
    const email = `person-${crypto.randomUUID().slice(0, 8)}@example.test`;
    const world = await createWorld();
    await addUser(world.tenantId, "owner", email);
    const browser = await signInAs(email, withAuditLogBroken({ TENANT_CREATORS: "*" }));
    await browser.get("/tenants/new");
    const name = uniqueName();
    const res = await browser.post("/tenants/new", { name, alertEmails: "" });
    expect(res.status).toBe(500);
    expect(browser.lastHtml).toContain("Nothing was changed");
    expect(await tenantsNamed(name)).toHaveLength(0);
    // Still working where they were, and a member of that tenant alone (no switcher).
    await browser.get("/");
    expect(browser.lastHtml).toContain(`<span class="tenant">`);
    expect(browser.lastHtml).not.toContain(name);
  });

  it("needs the form's CSRF token", async () => {
    const { browser } = await member(() => "*");
    const name = uniqueName();
    expect((await browser.post("/tenants/new", { name, alertEmails: "" }, { csrf: null })).status).toBe(403);
    expect(await tenantsNamed(name)).toHaveLength(0);
  });
});

describe("New shop, for anyone else", () => {
  it("is not offered, and answers 403 without creating anything to a person not listed", async () => {
    const { browser } = await member(() => "someone-else@example.test");
    await browser.get("/");
    expect(browser.lastHtml).not.toContain('href="/tenants/new"');
    expect((await browser.get("/tenants/new")).status).toBe(403);
    expect(browser.lastHtml).toContain("Creating shops is not open to");
    const name = uniqueName();
    const res = await browser.post("/tenants/new", { name, alertEmails: "" });
    expect(res.status).toBe(403);
    expect(browser.lastHtml).toContain("TENANT_CREATORS");
    expect(await tenantsNamed(name)).toHaveLength(0);
  });

  it("is closed to everyone under wrangler.toml's default (empty)", async () => {
    expect(env.TENANT_CREATORS).toBe("");
    const world = await createWorld();
    const user = await addUser(world.tenantId, "owner");
    const browser = await signInAs(user.email, workerWith({}));
    await browser.get("/");
    expect(browser.lastHtml).not.toContain('href="/tenants/new"');
    const name = uniqueName();
    expect((await browser.post("/tenants/new", { name, alertEmails: "" })).status).toBe(403);
    expect(await tenantsNamed(name)).toHaveLength(0);
  });
});
