/**
 * `npm run tenant:create`: its SQL, run as `wrangler d1 execute` runs it, gives a tenant and an
 * invitation that the real accept-invite route takes, making its reader the tenant's owner; with
 * --tenant it replaces that invitation by a fresh one, with --revoke --tenant it withdraws it.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { checkCreateTenantArgs, ownerInviteSql, readOwnerInviteReport, tenantCreationSql } from "../../scripts/lib/tenant-sql";
import { sha256Hex } from "../../src/worker/routes/ui/auth/tokens";
import { INVITE_TTL_MS } from "../../src/worker/routes/ui/auth/user-tokens";
import { addUser, Browser, PASSWORD } from "../ui/ui-client";

/** Runs the script's SQL the way `wrangler d1 execute --command` does locally: as one string. */
async function runScriptSql(name: string, owner: string) {
  const checked = checkCreateTenantArgs({ name, owner });
  if (!checked.ok || checked.args.action !== "create") throw new Error(checked.ok ? "not a create" : checked.problems.join("; "));
  const created = await tenantCreationSql(checked.args);
  await env.DB.exec(created.sql);
  return { ...created, owner: checked.args.owner };
}

/**
 * Runs --tenant / --revoke SQL as `wrangler d1 execute --local --json` does: one statement a line,
 * prepared and run as one D1 batch, each answer as {results, success}; returns the script's reading.
 */
async function runInviteSql(raw: Record<string, unknown>) {
  const checked = checkCreateTenantArgs(raw);
  if (!checked.ok || checked.args.action === "create") throw new Error(checked.ok ? "a create" : checked.problems.join("; "));
  const change = await ownerInviteSql(checked.args);
  const answers = await env.DB.batch(change.sql.split("\n").map((statement) => env.DB.prepare(statement)));
  const report = readOwnerInviteReport(JSON.parse(JSON.stringify(answers.map(({ results, success }) => ({ results, success })))));
  return { ...change, report };
}

async function openInvites(tenantId: string) {
  const { results } = await env.DB.prepare("SELECT email, created_by FROM user_tokens WHERE tenant_id = ? AND used_at IS NULL")
    .bind(tenantId)
    .all<{ email: string; created_by: string | null }>();
  return results;
}

/** What the command wrote to the tenant's audit log (accepting an invitation adds its own entry). */
async function auditedActions(tenantId: string) {
  const { results } = await env.DB.prepare(
    "SELECT actor, action, target FROM audit_log WHERE tenant_id = ? AND actor = 'operator' ORDER BY id",
  )
    .bind(tenantId)
    .all<{ actor: string; action: string; target: string }>();
  return results;
}

describe("the tenant:create script's SQL", () => {
  it("makes a tenant whose owner invitation the accept-invite route takes, for a new person", async () => {
    const name = `O'Brien; Sons -- ${crypto.randomUUID().slice(0, 6)}`;
    const email = `owner-${crypto.randomUUID().slice(0, 8)}@example.test`;
    const created = await runScriptSql(` ${name} `, email.toUpperCase());
    const tenant = await env.DB.prepare("SELECT name, alert_emails FROM tenants WHERE id = ?")
      .bind(created.tenantId)
      .first<{ name: string; alert_emails: string }>();
    expect(tenant).toEqual({ name, alert_emails: "[]" });
    const stored = await env.DB.prepare("SELECT * FROM user_tokens WHERE tenant_id = ?")
      .bind(created.tenantId)
      .first<Record<string, unknown>>();
    expect(stored).toMatchObject({
      token_hash: await sha256Hex(created.token),
      kind: "invite",
      email,
      role: "owner",
      created_by: null,
      used_at: null,
      expires_at: created.expiresAt,
    });
    expect(Number(stored!.expires_at) - Number(stored!.created_at)).toBe(INVITE_TTL_MS);

    const browser = new Browser();
    expect((await browser.get(created.invitePath)).status).toBe(200);
    expect(browser.lastHtml).toContain(name.replace("'", "&#39;"));
    const res = await browser.post(created.invitePath, { name: "First Owner", password: PASSWORD });
    expect(res.status).toBe(303);
    const joined = await env.DB.prepare(
      "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = ? AND u.email = ?",
    )
      .bind(created.tenantId, email)
      .first<{ role: string }>();
    expect(joined?.role).toBe("owner");
    // Signed in, working in the new tenant.
    await browser.get("/");
    expect(browser.lastHtml).toContain(`<span class="tenant">`);
    expect(browser.lastHtml).toContain("(owner)");
    const audited = await env.DB.prepare("SELECT actor FROM audit_log WHERE tenant_id = ? AND action = 'tenant.create'")
      .bind(created.tenantId)
      .first<{ actor: string }>();
    expect(audited?.actor).toBe("operator");
    // The link works once.
    expect((await new Browser().get(created.invitePath)).status).toBe(410);
  });

  it("lets a person with an account already accept with their password", async () => {
    const other = await runScriptSql(
      `Other ${crypto.randomUUID().slice(0, 6)}`,
      `x-${crypto.randomUUID().slice(0, 6)}@example.test`,
    );
    const user = await addUser(other.tenantId, "viewer");
    const created = await runScriptSql(`Second ${crypto.randomUUID().slice(0, 6)}`, user.email);
    const browser = new Browser();
    await browser.get(created.invitePath);
    expect((await browser.post(created.invitePath, { password: PASSWORD })).status).toBe(303);
    const role = await env.DB.prepare("SELECT role FROM memberships WHERE tenant_id = ? AND user_id = ?")
      .bind(created.tenantId, user.id)
      .first<{ role: string }>();
    expect(role?.role).toBe("owner");
  });

  it("--tenant: a fresh owner invitation in place of the unused one, whose link stops working", async () => {
    const email = `owner-${crypto.randomUUID().slice(0, 8)}@example.test`;
    const name = `Reissued ${crypto.randomUUID().slice(0, 6)}`;
    const created = await runScriptSql(name, email);
    const reissued = await runInviteSql({ tenant: created.tenantId, owner: email.toUpperCase() });
    expect(reissued.report).toEqual({ found: true, tenantName: name, withdrawn: [email] });
    expect(await openInvites(created.tenantId)).toEqual([{ email, created_by: null }]);
    // The first link no longer works; the new one makes its reader the owner.
    expect((await new Browser().get(created.invitePath)).status).toBe(410);
    const browser = new Browser();
    expect((await browser.get(reissued.invite!.invitePath)).status).toBe(200);
    expect((await browser.post(reissued.invite!.invitePath, { name: "Late Owner", password: PASSWORD })).status).toBe(303);
    const joined = await env.DB.prepare(
      "SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = ? AND u.email = ?",
    )
      .bind(created.tenantId, email)
      .first<{ role: string }>();
    expect(joined?.role).toBe("owner");
    expect(await auditedActions(created.tenantId)).toEqual([
      { actor: "operator", action: "tenant.create", target: created.tenantId },
      { actor: "operator", action: "member.invite_withdraw", target: email },
      { actor: "operator", action: "member.invite", target: email },
    ]);
    // Once used, it is nobody's to withdraw: a later re-issue reports none withdrawn.
    const again = await runInviteSql({ tenant: created.tenantId, owner: email });
    expect(again.report).toEqual({ found: true, tenantName: name, withdrawn: [] });
  });

  it("--revoke --tenant: withdraws the operator's unused invitations, issues none, leaves members' own alone", async () => {
    const email = `owner-${crypto.randomUUID().slice(0, 8)}@example.test`;
    const created = await runScriptSql(`Revoked ${crypto.randomUUID().slice(0, 6)}`, email);
    const second = await runInviteSql({ tenant: created.tenantId, owner: `other-${email}` });
    // An invitation a member made in the UI (it has a maker) is theirs to withdraw, not the operator's.
    await env.DB.prepare(
      "INSERT INTO user_tokens (token_hash, kind, email, tenant_id, role, created_by, created_at, expires_at) VALUES (?, 'invite', 'staff@example.test', ?, 'viewer', 'usr_member', ?, ?)",
    )
      .bind(`hash-${crypto.randomUUID()}`, created.tenantId, Date.now(), Date.now() + INVITE_TTL_MS)
      .run();
    const revoked = await runInviteSql({ tenant: created.tenantId, revoke: true });
    expect(revoked.invite).toBeUndefined();
    expect(revoked.report).toMatchObject({ found: true, withdrawn: [`other-${email}`] });
    expect(await openInvites(created.tenantId)).toEqual([{ email: "staff@example.test", created_by: "usr_member" }]);
    expect((await new Browser().get(second.invite!.invitePath)).status).toBe(410);
    expect((await runInviteSql({ tenant: created.tenantId, revoke: true })).report).toMatchObject({ withdrawn: [] });
  });

  it("--tenant with an id no tenant has: reports it and changes nothing", async () => {
    const tenant = `ten_missing_${crypto.randomUUID().slice(0, 8)}`;
    const reissued = await runInviteSql({ tenant, owner: "someone@example.test" });
    expect(reissued.report).toEqual({ found: false });
    expect((await runInviteSql({ tenant, revoke: true })).report).toEqual({ found: false });
    expect(await openInvites(tenant)).toEqual([]);
    expect(await auditedActions(tenant)).toEqual([]);
    expect(await env.DB.prepare("SELECT id FROM tenants WHERE id = ?").bind(tenant).first()).toBeNull();
  });

  it("says when wrangler's answer cannot be read, rather than guessing", () => {
    expect(() => readOwnerInviteReport({ error: { text: "boom" } })).toThrow(/no result for the first statement/);
    expect(() => readOwnerInviteReport([{ results: [{ tenant_name: 3 }] }])).toThrow(/not the report/);
  });

  it("refuses --revoke without --tenant, and options the action has no use for", () => {
    const problems = (raw: Record<string, unknown>) => {
      const checked = checkCreateTenantArgs(raw);
      return checked.ok ? [] : checked.problems;
    };
    expect(problems({ revoke: true })).toEqual(["--revoke: needs --tenant <id>, the shop whose owner invitations to withdraw"]);
    expect(problems({ tenant: "ten_x", revoke: true, owner: "a@b.example", baseUrl: "https://x.example" })).toEqual([
      "--owner: not with --revoke, which issues no invitation",
      "--base-url: not with --revoke, which issues no invitation",
    ]);
    expect(problems({ tenant: "ten_x", name: "Shop", owner: "a@b.example" })).toEqual([
      "--name: not with --tenant: the shop keeps its name",
    ]);
    expect(problems({ tenant: "ten_x" })).toEqual(["--owner: “” is not an email address"]);
    expect(problems({ tenant: "ten x", owner: "a@b.example" })).toEqual(["--tenant: one id, without spaces"]);
    expect(checkCreateTenantArgs({ tenant: " ten_x ", owner: "A@B.example", remote: true })).toEqual({
      ok: true,
      args: { action: "reissue", tenant: "ten_x", owner: "a@b.example", remote: true },
    });
    expect(checkCreateTenantArgs({ tenant: "ten_x", revoke: true })).toEqual({
      ok: true,
      args: { action: "revoke", tenant: "ten_x", remote: false },
    });
  });

  it("refuses an empty name, a bad address or base URL, naming the option", () => {
    const bad = checkCreateTenantArgs({ name: "  ", owner: "not-an-address", baseUrl: "ftp://x" });
    expect(bad.ok).toBe(false);
    expect(bad.ok ? [] : bad.problems).toEqual([
      "--name: give the shop a name",
      "--owner: “not-an-address” is not an email address",
      "--base-url: an absolute http(s) address such as https://orderly.example.com",
    ]);
    const missing = checkCreateTenantArgs({});
    expect(missing.ok ? [] : missing.problems.map((p) => p.split(":")[0])).toEqual(["--name", "--owner"]);
    const good = checkCreateTenantArgs({
      name: "Shop",
      owner: "A@B.example",
      baseUrl: "https://orderly.example.com/",
      remote: true,
    });
    expect(good).toEqual({
      ok: true,
      args: { action: "create", name: "Shop", owner: "a@b.example", baseUrl: "https://orderly.example.com", remote: true },
    });
  });
});
