import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createWorld } from "../helpers/world";
import { signedIn } from "./ui-client";

describe("CSRF tokens and roles", () => {
  it("refuses every POST form without the session's CSRF token, and changes nothing", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId, "owner");
    await browser.get("/notifications");
    for (const token of [null, "", "not-the-token"]) {
      const res = await browser.post(
        "/notifications",
        { alertEmails: "evil@example.test", reportSchedule: "daily", retentionDays: "30" },
        { csrf: token },
      );
      expect(res.status).toBe(403);
      expect(browser.lastHtml).toContain("CSRF check failed");
    }
    const tenant = await env.DB.prepare("SELECT alert_emails, report_schedule FROM tenants WHERE id = ?")
      .bind(world.tenantId)
      .first<{ alert_emails: string; report_schedule: string }>();
    expect(tenant?.alert_emails).not.toContain("evil@example.test");
    expect(tenant?.report_schedule).toBe("off");
  });

  it("lets a viewer read every page but answers 403 to every POST that changes the tenant", async () => {
    const world = await createWorld();
    const flowId = await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const { browser } = await signedIn(world.tenantId, "viewer");
    for (const path of [
      "/",
      "/transfers",
      "/connections",
      `/connections/${world.ledgerId}`,
      `/connections/${world.ledgerId}?test=1`,
      "/flows",
      `/flows/${flowId}`,
      `/flows/${flowId}/dry-run`,
      "/notifications",
      "/people",
      "/audit",
      "/outbox",
    ]) {
      expect((await browser.get(path)).status, path).toBe(200);
    }
    await browser.get("/");
    const posts: Array<[string, Record<string, string>]> = [
      ["/connections", { connector: "sandbox-ledger", name: "Sneaky" }],
      [`/connections/${world.ledgerId}`, { name: "Renamed" }],
      [`/connections/${world.ledgerId}/delete`, {}],
      [
        "/flows",
        {
          _op: "save",
          name: "x",
          source: world.shopId,
          stage: "paid",
          stepCount: "1",
          "step0.use": `${world.ledgerId}|createInvoice`,
        },
      ],
      [`/flows/${flowId}`, { _op: "save", name: "y" }],
      [`/flows/${flowId}/toggle`, {}],
      [`/flows/${flowId}/delete`, {}],
      ["/transfers/trf_x/retry", { mode: "failed" }],
      ["/notifications", { alertEmails: "a@example.test", reportSchedule: "daily", retentionDays: "30" }],
      ["/people/invite", { email: "x@example.test", role: "owner" }],
      ["/people/tokens", { name: "mine" }],
    ];
    for (const [path, fields] of posts) {
      const res = await browser.post(path, fields);
      expect(res.status, path).toBe(403);
    }
    const names = await env.DB.prepare("SELECT name FROM connections WHERE tenant_id = ?")
      .bind(world.tenantId)
      .all<{ name: string }>();
    expect(names.results.map((r) => r.name)).not.toContain("Sneaky");
    expect(names.results.map((r) => r.name)).not.toContain("Renamed");
    const tokens = await env.DB.prepare("SELECT count(*) AS n FROM api_tokens WHERE tenant_id = ?")
      .bind(world.tenantId)
      .first<{ n: number }>();
    expect(tokens?.n).toBe(1);
    // Signing out is about the viewer's own session, so it is allowed.
    expect((await browser.post("/sign-out", {})).status).toBe(303);
  });
});
