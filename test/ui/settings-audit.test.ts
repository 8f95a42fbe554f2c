import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { latestSnapshot } from "../../src/db/snapshots";
import type { TransferInput } from "../../src/domain/order";
import { BASE, createWorld, eventually, settledTransfers, shopifyOrder } from "../helpers/world";
import { signedIn } from "./ui-client";

/** The UI's own audit rows (the test tenant's setup through the JSON API is audited as `api …`). */
async function auditActions(tenantId: string): Promise<string[]> {
  const rows = await env.DB.prepare("SELECT action FROM audit_log WHERE tenant_id = ? AND action NOT LIKE 'api %' ORDER BY id")
    .bind(tenantId)
    .all<{ action: string }>();
  return rows.results.map((r) => r.action);
}

describe("settings through the UI, each written to the audit log", () => {
  it("adds and edits a connection from forms generated from its schemas; credentials are write-only", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId);
    await browser.get("/connections/new?connector=economic");
    expect(browser.lastHtml).toContain('for="f-settings-baseUrl"');
    expect(browser.lastHtml).toContain("Address of the e-conomic REST API");
    expect(browser.lastHtml).toContain('type="password"');
    const created = await browser.post("/connections", {
      connector: "economic",
      name: "Books",
      "settings.baseUrl": "https://economic.test",
      "credentials.appSecretToken": "app-secret-1",
      "credentials.agreementGrantToken": "grant-secret-1",
    });
    expect(created.status, browser.lastHtml.slice(0, 500)).toBe(201);
    const id = /href="\/connections\/(con_\w+)"/.exec(browser.lastHtml)?.[1] ?? "";
    await browser.get(`/connections/${id}`);
    expect(browser.lastHtml).not.toMatch(/app-secret-1|grant-secret-1/);
    expect(browser.lastHtml).toContain("leave blank to keep");
    // A blank credential keeps its value; a filled one replaces only itself.
    const saved = await browser.post(`/connections/${id}`, {
      name: "Books 2",
      enabled: "on",
      "settings.baseUrl": "https://economic.test",
      "credentials.appSecretToken": "app-secret-2",
    });
    expect(saved.status).toBe(303);
    const api = await world.api(`/connections/${id}`);
    expect(api.body.name).toBe("Books 2");
    const { loadConnection } = await import("../../src/db/connections");
    const loaded = await loadConnection(env, id, world.tenantId);
    expect(loaded?.credentials).toEqual({ appSecretToken: "app-secret-2", agreementGrantToken: "grant-secret-1" });
    // A new address takes no stored credential along: all of them are typed again, or nothing is saved.
    await browser.get(`/connections/${id}`);
    const moved = await browser.post(`/connections/${id}`, {
      name: "Books 2",
      enabled: "on",
      "settings.baseUrl": "https://attacker.example",
      "credentials.appSecretToken": "app-secret-3",
    });
    expect(moved.status).toBe(400);
    expect(browser.lastHtml).toContain("agreementGrantToken");
    const bare = await browser.post(`/connections/${id}`, {
      name: "Books 2",
      enabled: "on",
      "settings.baseUrl": "https://attacker.example",
    });
    expect(bare.status).toBe(400);
    expect(browser.lastHtml).toContain("send the credentials again in the same request");
    expect((await loadConnection(env, id, world.tenantId))?.settings.baseUrl).toBe("https://economic.test");
    const resent = await browser.post(`/connections/${id}`, {
      name: "Books 2",
      enabled: "on",
      "settings.baseUrl": "https://books.example",
      "credentials.appSecretToken": "app-secret-3",
      "credentials.agreementGrantToken": "grant-secret-3",
    });
    expect(resent.status).toBe(303);
    expect((await loadConnection(env, id, world.tenantId))?.credentials).toEqual({
      appSecretToken: "app-secret-3",
      agreementGrantToken: "grant-secret-3",
    });
    // Invalid settings come back with the API's message and nothing is stored.
    await browser.get("/connections/new?connector=sandbox-ledger");
    const bad = await browser.post("/connections", {
      connector: "sandbox-ledger",
      name: "Bad",
      "settings.rejectOrdersAbove": "-5",
    });
    expect(bad.status).toBe(400);
    expect(browser.lastHtml).toContain("rejectOrdersAbove");
    expect(await auditActions(world.tenantId)).toEqual(["connection.create", "connection.update", "connection.update"]);
  });

  it("a source's webhook secret is shown once after creation, with its setup steps; the test reports honestly", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId);
    await browser.get("/connections/new?connector=shopify");
    await browser.post("/connections", { connector: "shopify", name: "Shop 2" });
    const secret = /id="webhook-secret" type="text" readonly="" value="([0-9a-f]{48})"/.exec(browser.lastHtml)?.[1];
    expect(secret).toBeDefined();
    expect(browser.lastHtml).toContain("Order payment");
    const id = /href="\/connections\/(con_\w+)"/.exec(browser.lastHtml)?.[1] ?? "";
    await browser.get(`/connections/${id}?test=1`);
    expect(browser.lastHtml).not.toContain(secret as string);
    expect(browser.lastHtml).toContain("A webhook secret is set (48 characters)");
    expect(browser.lastHtml).toContain("An unsigned sample delivery is refused");
    expect(browser.lastHtml).toContain("No delivery has started a transfer yet");
    await browser.get(`/connections/${world.economicId}?test=1`);
    expect(browser.lastHtml).toContain("Orderly made no call to https://economic.test now");
  });

  it("builds a flow from a template, disables it, and changes notification settings", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId);
    await browser.get("/flows/new?template=shopify-ledger");
    expect(browser.lastHtml).toContain("Pre-filled from the template");
    expect(browser.lastHtml).toContain(`value="${world.ledgerId}|createInvoice" selected=""`);
    const save = await browser.post("/flows", {
      _op: "save",
      name: "Paid to ledger",
      source: world.shopId,
      stage: "paid",
      enabled: "on",
      stepCount: "1",
      "step0.use": `${world.ledgerId}|createInvoice`,
      "step0.settings.invoiceState": "booked",
      "step0.settings.customerMatch": "email",
    });
    expect(save.status, browser.lastHtml.slice(0, 300)).toBe(303);
    const flowId = save.headers.get("location")?.split("/").pop() ?? "";
    const flow = await world.api(`/flows/${flowId}`);
    expect(flow.body.steps[0]).toMatchObject({
      target: world.ledgerId,
      action: "createInvoice",
      settings: { invoiceState: "booked", centsThreshold: "1.00" },
    });
    await browser.get("/flows");
    expect((await browser.post(`/flows/${flowId}/toggle`, {})).status).toBe(303);
    expect((await world.api(`/flows/${flowId}`)).body.enabled).toBe(false);

    await browser.get("/notifications");
    const bad = await browser.post("/notifications", {
      alertEmails: "not-an-email",
      reportSchedule: "daily",
      retentionDays: "3",
    });
    expect(bad.status).toBe(400);
    const ok = await browser.post("/notifications", {
      alertEmails: "ops@shop.example\nboss@shop.example",
      reportSchedule: "weekly",
      silenceHours: "6",
      mailConnectionId: "",
      retentionDays: "30",
    });
    expect(ok.status).toBe(303);
    const tenant = await env.DB.prepare(
      "SELECT alert_emails, report_schedule, silence_hours, retention_days FROM tenants WHERE id = ?",
    )
      .bind(world.tenantId)
      .first();
    expect(tenant).toEqual({
      alert_emails: '["ops@shop.example","boss@shop.example"]',
      report_schedule: "weekly",
      silence_hours: 6,
      retention_days: 30,
    });
    expect(await auditActions(world.tenantId)).toEqual(["flow.create", "flow.disable", "tenant.notifications"]);
    await browser.get("/audit");
    expect(browser.lastHtml).toContain("tenant.notifications");
  });

  it("makes an API token shown once that works on the API, and revokes it", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId);
    await browser.get("/people");
    expect((await browser.post("/people/tokens", { name: "ERP export" })).status).toBe(201);
    const token = /value="(oly_[0-9a-f]+)"/.exec(browser.lastHtml)?.[1] ?? "";
    expect(token).toMatch(/^oly_/);
    expect((await world.api("/flows", { token })).status).toBe(200);
    await browser.get("/people");
    expect(browser.lastHtml).not.toContain(token);
    const id = /\/people\/tokens\/(tok_\w+)\/revoke/.exec(browser.lastHtml.split("ERP export")[1] ?? "")?.[1];
    expect((await browser.post(`/people/tokens/${id}/revoke`, {})).status).toBe(303);
    expect((await world.api("/flows", { token })).status).toBe(401);
    expect(await auditActions(world.tenantId)).toEqual(["token.create", "token.revoke"]);
  });

  it("shows a failed transfer, retries it three ways, and shows an edited order beside the original", async () => {
    const world = await createWorld();
    await world.api(`/connections/${world.ledgerId}`, { method: "PATCH", body: { settings: { rejectOrdersAbove: 10000 } } });
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [failed] = await settledTransfers(world, String(order.id), 1);
    expect(failed.status).toBe("failed");
    const { browser } = await signedIn(world.tenantId);
    await browser.get(`/transfers?q=${encodeURIComponent(`#${order.id}`)}&status=failed`);
    expect(browser.lastHtml).toContain(`/transfers/${failed.id}`);
    await browser.get(`/transfers/${failed.id}`);
    expect(browser.lastHtml).toContain("Why it failed");
    expect(browser.lastHtml).toContain("rejects orders above 10000");
    expect(browser.lastHtml).toContain("orders/paid");

    // Invalid JSON and an order the schema refuses are both sent back with the text kept.
    expect((await browser.post(`/transfers/${failed.id}/retry`, { mode: "edit", order: "{ not json" })).status).toBe(400);
    expect(browser.lastHtml).toContain("{ not json");
    expect((await browser.post(`/transfers/${failed.id}/retry`, { mode: "edit", order: '{"currency":"DKK"}' })).status).toBe(400);

    // Edit the order down below the limit, then retry: the edited order books.
    const edited = ((await latestSnapshot(env, world.tenantId, failed.id, "canonical")) as TransferInput).order;
    edited.lines[0]!.unitPrice = 0;
    edited.lines[0]!.tax = 0;
    edited.shipping[0]!.price = 5000;
    edited.totals.total = 5000;
    edited.totals.tax = 1000;
    const res = await browser.post(`/transfers/${failed.id}/retry`, { mode: "edit", order: JSON.stringify(edited) });
    expect(res.status, browser.lastHtml.slice(0, 400)).toBe(303);
    await eventually(
      async () => (await world.api(`/transfers/${failed.id}`)).body.status === "completed",
      "the edited transfer to complete",
    );
    await browser.get(`/transfers/${failed.id}`);
    expect(browser.lastHtml).toContain("What changed between the original and the latest version");
    expect(browser.lastHtml).toContain("order.totals.total");
    expect(browser.lastHtml).toContain("<ins>5000</ins>");
    const actions = await auditActions(world.tenantId);
    expect(actions).toEqual(["transfer.retry"]);

    // A completed transfer offers only the re-run from the start.
    expect(browser.lastHtml).not.toContain("Retry from the failed step");
    expect((await browser.post(`/transfers/${failed.id}/retry`, { mode: "start" })).status).toBe(303);
  });

  it("dry-runs a recent order through a flow: the accounting document that would be booked", async () => {
    const world = await createWorld();
    const flowId = await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder({ total_price: "249.01" });
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    const { browser } = await signedIn(world.tenantId, "viewer");
    const res = await browser.get(`/flows/${flowId}/dry-run`);
    expect(res.status).toBe(200);
    expect(browser.lastHtml).toContain("Nothing is sent to any system.");
    expect(browser.lastHtml).toContain("VAT case: <strong>domestic</strong>");
    expect(browser.lastHtml).toContain("T-shirt");
    expect(browser.lastHtml).toContain("Rounding difference");
    expect(browser.lastHtml).toContain("249.01 DKK");
    const before = await SELF.fetch(`${BASE}/api/v1/ledger/invoices`, { headers: { authorization: `Bearer ${world.token}` } });
    expect(((await before.json()) as { invoices: unknown[] }).invoices).toHaveLength(1);
  });
});
