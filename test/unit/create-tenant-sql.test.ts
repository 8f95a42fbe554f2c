/**
 * `npm run tenant:create`: its SQL, run as `wrangler d1 execute` runs it, gives a tenant and an
 * invitation that the real accept-invite route takes, making its reader the tenant's owner.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { checkCreateTenantArgs, tenantCreationSql } from "../../scripts/lib/tenant-sql";
import { sha256Hex } from "../../src/worker/routes/ui/auth/tokens";
import { INVITE_TTL_MS } from "../../src/worker/routes/ui/auth/user-tokens";
import { addUser, Browser, PASSWORD } from "../ui/ui-client";

/** Runs the script's SQL the way `wrangler d1 execute --command` does locally: as one string. */
async function runScriptSql(name: string, owner: string) {
  const checked = checkCreateTenantArgs({ name, owner });
  if (!checked.ok) throw new Error(checked.problems.join("; "));
  const created = await tenantCreationSql(checked.args);
  await env.DB.exec(created.sql);
  return { ...created, owner: checked.args.owner };
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
      args: { name: "Shop", owner: "a@b.example", baseUrl: "https://orderly.example.com", remote: true },
    });
  });
});
