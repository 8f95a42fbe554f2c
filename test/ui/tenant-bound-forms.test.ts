/**
 * The current tenant lives in the session, shared by every tab. A form drawn for tenant A and sent
 * after another tab switched to B must not save into B: form tokens are bound to the tenant the
 * page was drawn for. The tenant switcher and sign-out, on every page, work from any tab.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createWorld } from "../helpers/world";
import { addUser, Browser, PASSWORD } from "./ui-client";

/** One person, owner of two tenants, signed in (their session starts in one of the two). */
async function agencyUser() {
  const a = await createWorld();
  const b = await createWorld();
  const email = `agency-${crypto.randomUUID().slice(0, 8)}@example.test`;
  await addUser(a.tenantId, "owner", email);
  await addUser(b.tenantId, "owner", email);
  const browser = new Browser();
  await browser.get("/sign-in");
  expect((await browser.post("/sign-in", { email, password: PASSWORD })).status).toBe(303);
  return { a, b, browser };
}

async function switchTo(browser: Browser, tenantId: string): Promise<void> {
  await browser.get("/");
  expect((await browser.post("/switch-tenant", { tenantId })).status).toBe(303);
}

async function alertEmails(tenantId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT alert_emails AS e FROM tenants WHERE id = ?").bind(tenantId).first<{ e: string }>();
  return row?.e ?? "";
}

const NOTIFICATIONS = {
  alertEmails: "tab-one@example.test",
  reportSchedule: "off",
  silenceHours: "",
  mailConnectionId: "",
  retentionDays: "30",
};

describe("a form drawn for one tenant, sent after another tab switched tenant", () => {
  it("is refused with 403 and a reason, and changes nothing in either tenant", async () => {
    const { a, b, browser } = await agencyUser();
    await switchTo(browser, a.tenantId);
    // Tab 1: tenant A's notifications page, left open.
    await browser.get("/notifications");
    const drawnForA = browser.csrf();
    // Tab 2: switches to B.
    await switchTo(browser, b.tenantId);
    const before = { a: await alertEmails(a.tenantId), b: await alertEmails(b.tenantId) };

    const res = await browser.post("/notifications", NOTIFICATIONS, { csrf: drawnForA });
    expect(res.status).toBe(403);
    expect(browser.lastHtml).toContain("Nothing was changed");
    expect(browser.lastHtml).toContain("Reload the page");
    expect(await alertEmails(a.tenantId)).toBe(before.a);
    expect(await alertEmails(b.tenantId)).toBe(before.b);

    // Tenant A's other forms are refused the same way (an API token would have been made in B).
    expect((await browser.post("/people/tokens", { name: "made in A's tab" }, { csrf: drawnForA })).status).toBe(403);
    const tokens = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_tokens WHERE name = ?")
      .bind("made in A's tab")
      .first<{ n: number }>();
    expect(tokens?.n).toBe(0);

    // Reloaded, the page is B's and its form saves into B.
    await browser.get("/notifications");
    expect((await browser.post("/notifications", NOTIFICATIONS)).status).toBe(303);
    expect(await alertEmails(b.tenantId)).toContain("tab-one@example.test");
    expect(await alertEmails(a.tenantId)).toBe(before.a);
  });

  it("still switches tenant and signs out from a page drawn for the other tenant", async () => {
    const { a, b, browser } = await agencyUser();
    await switchTo(browser, a.tenantId);
    await browser.get("/");
    const drawnForA = browser.csrf();
    await switchTo(browser, b.tenantId);

    // The switcher in tab 1 (drawn under A) goes back to A.
    expect((await browser.post("/switch-tenant", { tenantId: a.tenantId }, { csrf: drawnForA })).status).toBe(303);
    await browser.get("/");
    expect(browser.lastHtml).toContain(`<option value="${a.tenantId}" selected="">`);

    // Now drawn for A is current again, and B's page is the stale one: sign-out works from it.
    await switchTo(browser, b.tenantId);
    await browser.get("/");
    const drawnForB = browser.csrf();
    await switchTo(browser, a.tenantId);
    expect((await browser.post("/sign-out", {}, { csrf: drawnForB })).status).toBe(303);
    expect((await browser.get("/notifications")).status).toBe(303);
  });

  it("refuses a token that is not one of the person's tenants' (forged, or another session's)", async () => {
    const { a, browser } = await agencyUser();
    const other = await agencyUser();
    await other.browser.get("/");
    const theirs = other.browser.csrf();
    await switchTo(browser, a.tenantId);
    for (const path of ["/notifications", "/switch-tenant", "/sign-out"]) {
      const res = await browser.post(path, { ...NOTIFICATIONS, tenantId: a.tenantId }, { csrf: theirs });
      expect(res.status, path).toBe(403);
      expect(browser.lastHtml, path).toContain("CSRF check failed");
    }
    expect((await browser.get("/")).status).toBe(200);
  });
});
