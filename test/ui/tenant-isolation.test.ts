import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import { createWorld, settledTransfers, shopifyOrder } from "../helpers/world";
import { addUser, Browser, PASSWORD, signedIn } from "./ui-client";

describe("tenant isolation in the UI", () => {
  it("a user of one tenant can read or change nothing of another: its ids answer 404", async () => {
    const mine = await createWorld();
    const theirs = await createWorld();
    const flowId = await theirs.flow("paid", [{ target: theirs.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    expect((await theirs.sendShopify("orders/paid", order)).status).toBe(200);
    const [transfer] = await settledTransfers(theirs, String(order.id), 1);
    await database(env)
      .insert(mailOutbox)
      .values({
        id: `mail_${theirs.tenantId}`,
        tenantId: theirs.tenantId,
        provider: "dev-outbox",
        idempotencyKey: "k",
        fromAddress: "a@example.test",
        toAddresses: ["b@example.test"],
        subject: "Their secret mail",
        text: "secret",
        status: "sent",
        createdAt: Date.now(),
      });
    const { browser } = await signedIn(mine.tenantId, "owner");

    for (const path of [
      `/connections/${theirs.shopId}`,
      `/connections/${theirs.ledgerId}?test=1`,
      `/flows/${flowId}`,
      `/flows/${flowId}/dry-run`,
      `/transfers/${transfer.id}`,
      `/outbox/mail_${theirs.tenantId}`,
    ]) {
      const res = await browser.get(path);
      expect(res.status, path).toBe(404);
      expect(browser.lastHtml).not.toContain("Their secret mail");
    }
    await browser.get("/");
    for (const [path, fields] of [
      [`/connections/${theirs.ledgerId}`, { name: "Taken over", enabled: "on" }],
      [`/connections/${theirs.ledgerId}/delete`, {}],
      [`/flows/${flowId}`, { _op: "save", name: "Taken over", source: mine.shopId, stage: "paid", stepCount: "0" }],
      [`/flows/${flowId}/toggle`, {}],
      [`/flows/${flowId}/delete`, {}],
      [`/transfers/${transfer.id}/retry`, { mode: "start" }],
      ["/switch-tenant", { tenantId: theirs.tenantId }],
    ] as Array<[string, Record<string, string>]>) {
      expect((await browser.post(path, fields)).status, path).toBe(404);
    }
    // A flow in my tenant cannot point at their connections either.
    const res = await browser.post("/flows", {
      _op: "save",
      name: "Cross",
      source: theirs.shopId,
      stage: "paid",
      stepCount: "1",
      "step0.use": `${mine.ledgerId}|createInvoice`,
    });
    expect(res.status).toBe(400);

    const theirConnections = await env.DB.prepare("SELECT name FROM connections WHERE tenant_id = ?")
      .bind(theirs.tenantId)
      .all<{ name: string }>();
    expect(theirConnections.results.map((r) => r.name)).not.toContain("Taken over");
    const theirFlow = await env.DB.prepare("SELECT name, enabled FROM flows WHERE id = ?")
      .bind(flowId)
      .first<{ name: string; enabled: number }>();
    expect(theirFlow).toEqual({ name: "paid flow", enabled: 1 });

    // Lists show only my tenant's rows.
    await browser.get(`/transfers?q=${order.id}`);
    expect(browser.lastHtml).not.toContain(transfer.id);
    await browser.get("/outbox");
    expect(browser.lastHtml).not.toContain("Their secret mail");
    await browser.get("/audit");
    expect(browser.lastHtml).not.toContain(theirs.tenantId);
  });

  it("an agency user in two tenants switches between them from the menu, each scoping every page", async () => {
    const a = await createWorld();
    const b = await createWorld();
    const user = await addUser(a.tenantId, "admin");
    await addUser(b.tenantId, "viewer", user.email);
    const browser = new Browser();
    await browser.get("/sign-in");
    await browser.post("/sign-in", { email: user.email, password: PASSWORD });
    await browser.get("/");
    expect((await browser.post("/switch-tenant", { tenantId: a.tenantId })).status).toBe(303);
    await browser.get("/connections");
    expect(browser.lastHtml).toContain('id="tenant-switch"');
    expect(browser.lastHtml).toContain(`/connections/${a.shopId}`);
    expect(browser.lastHtml).not.toContain(`/connections/${b.shopId}`);
    const switched = await browser.post("/switch-tenant", { tenantId: b.tenantId });
    expect(switched.status).toBe(303);
    await browser.get("/connections");
    expect(browser.lastHtml).toContain(`/connections/${b.shopId}`);
    expect(browser.lastHtml).not.toContain(`/connections/${a.shopId}`);
    expect((await browser.get(`/connections/${a.shopId}`)).status).toBe(404);
    // In b the same person is a viewer.
    expect((await browser.post("/people/tokens", { name: "x" })).status).toBe(403);
  });
});
