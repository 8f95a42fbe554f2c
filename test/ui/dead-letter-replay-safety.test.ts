/**
 * "Kept, not processed" without booking twice: "Mark handled" takes a kept delivery out for good
 * (audited); "Replay all" leaves out one whose reason said to act by hand (or an older one), and its
 * own Replay asks first, showing that reason (a second POST with confirm=1); a replayed test order
 * is told as not booked, not as taken.
 */
import { env, SELF } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { auditLog } from "../../src/db/schema";
import { DISABLED_RETRY_WINDOW_MS } from "../../src/worker/routes/hooks";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";
import { keptDelivery } from "../helpers/kept-delivery";
import { BASE, createWorld, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { signedIn } from "./ui-client";

const SECRET = "woo_secret_0123456789abcdef";

async function woo(world: World): Promise<string> {
  const res = await world.api("/connections", { body: { connector: "woocommerce", name: "Woo shop", webhookSecret: SECRET } });
  const id = res.body.id as string;
  await world.api("/flows", {
    body: { name: "Woo to ledger", source: id, stage: "created", steps: [{ target: world.ledgerId, action: "createInvoice" }] },
  });
  return id;
}

const enable = (world: World, id: string, enabled = true) =>
  world.api(`/connections/${id}`, { method: "PATCH", body: { enabled } });

async function keep(connection: string, overrides: Record<string, unknown> = {}): Promise<{ id: number; orderId: number }> {
  const orderId = Math.floor(Math.random() * 1e9);
  const body = { ...woocommerceFixture("orderTaxExclusive"), id: orderId, ...overrides };
  const delivery = await woocommerceDelivery("order.updated", body, SECRET);
  const id = await keptDelivery(connection, () =>
    SELF.fetch(`${BASE}/hooks/${connection}`, { method: "POST", headers: delivery.headers, body: delivery.body }),
  );
  return { id, orderId };
}

async function auditOf(world: World, action: string) {
  return database(env)
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.tenantId, world.tenantId), eq(auditLog.action, action)))
    .all();
}

describe("kept deliveries that may have been entered by hand", () => {
  it("marks one handled with its button: audited, shown, and never replayed", async () => {
    const world = await createWorld();
    const connection = await woo(world);
    await enable(world, connection, false);
    const { id } = await keep(connection);
    const viewer = (await signedIn(world.tenantId, "viewer")).browser;
    await viewer.get("/dead-letters");
    expect(viewer.lastHtml).not.toContain("/handled");
    expect((await viewer.post(`/dead-letters/${id}/handled`, {})).status).toBe(403);

    const { browser, user } = await signedIn(world.tenantId, "admin");
    await browser.get("/dead-letters");
    expect(browser.lastHtml).toContain(`action="/dead-letters/${id}/handled"`);
    const res = await browser.post(`/dead-letters/${id}/handled`, { back: "list" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/dead-letters");
    await browser.get("/dead-letters");
    expect(browser.lastHtml).toContain(`Marked handled: Orderly will not replay kept delivery ${id}.`);
    expect(browser.lastHtml).toContain(`by ${user.email}`);
    expect(browser.lastHtml).not.toContain(`action="/dead-letters/${id}/replay"`);
    expect(browser.lastHtml).not.toContain("Replay all from this connection");
    expect((await auditOf(world, "dead_letter.handled")).map((e) => [e.actor, e.target])).toEqual([[user.id, String(id)]]);

    await enable(world, connection);
    await browser.post(`/dead-letters/${id}/replay`, { back: "detail" });
    await browser.get(`/dead-letters/${id}`);
    expect(browser.lastHtml).toMatch(/cannot be replayed: .* marked it handled/);
    expect((await world.api(`/dead-letters/${id}`)).body.replayed).toBeNull();
  });

  it("leaves one whose reason said to act by hand out of Replay all, and asks with its reason before replaying it", async () => {
    const world = await createWorld();
    const connection = await woo(world);
    const fields = woocommerceFixture("orderTaxExclusive") as any;
    const manual = await keep(connection, { line_items: [{ ...fields.line_items[0], quantity: 1.5 }] });
    const { browser } = await signedIn(world.tenantId, "owner");
    await browser.get("/dead-letters");
    expect(browser.lastHtml).toContain("Woo shop: 1 to check one by one");
    expect(browser.lastHtml).not.toContain("Replay all from this connection");
    expect(browser.lastHtml).toContain("Not in &quot;Replay all&quot;");

    const asked = await browser.post(`/dead-letters/${manual.id}/replay`, { back: "list" });
    expect(asked.status).toBe(200);
    const html = await asked.text();
    expect(html).toContain("Its reason told you to book or enter it by hand.");
    expect(html).toMatch(/line_items\.0\.quantity/);
    expect(html).toContain('name="confirm" value="1"');
    expect(html).toContain(`action="/dead-letters/${manual.id}/handled"`);
    // Asking changed nothing.
    expect(await auditOf(world, "dead_letter.replay")).toEqual([]);
    expect((await world.api(`/dead-letters/${manual.id}`)).body.body).not.toHaveProperty("lastRefused");
  });

  it("replays an older row once confirmed", async () => {
    const world = await createWorld();
    const connection = await woo(world);
    await enable(world, connection, false);
    const older = await keep(connection);
    await env.DB.prepare(
      "UPDATE dead_letters SET body = json_remove(body, '$.verified', '$.manual'), reason = 'Enable the connection in Orderly, then enter the order by hand.' WHERE id = ?",
    )
      .bind(older.id)
      .run();
    await enable(world, connection);
    const { browser } = await signedIn(world.tenantId, "owner");
    await browser.get(`/dead-letters/${older.id}`);
    const asked = await browser.post(`/dead-letters/${older.id}/replay`, { back: "detail" });
    expect(asked.status).toBe(200);
    const html = await asked.text();
    expect(html).toContain("kept by an older Orderly");
    expect(html).toContain("then enter the order by hand.");

    const res = await browser.post(`/dead-letters/${older.id}/replay`, { back: "detail", confirm: "1" });
    expect(res.status).toBe(303);
    await browser.get(`/dead-letters/${older.id}`);
    expect(browser.lastHtml).toContain("Replayed: the delivery was handed to its order");
    await settledTransfers(world, String(older.orderId), 1);
    expect((await auditOf(world, "dead_letter.replay")).map((e) => e.details)).toEqual([{ result: "taken", confirmed: "older" }]);
  });
});

describe("a replayed test order in the UI", () => {
  it("says it was not booked and stays waiting, not that it was taken", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    await enable(world, world.shopId, false);
    const old = { "X-Shopify-Triggered-At": new Date(Date.now() - DISABLED_RETRY_WINDOW_MS - 60_000).toISOString() };
    const json = (await (await world.sendShopify("orders/paid", shopifyOrder({ test: true }), old)).json()) as any;
    const id = json.kept.deadLetterId as number;
    await enable(world, world.shopId);
    const { browser } = await signedIn(world.tenantId, "owner");
    await browser.get(`/dead-letters/${id}`);
    await browser.post(`/dead-letters/${id}/replay`, { back: "detail" });
    await browser.get(`/dead-letters/${id}`);
    expect(browser.lastHtml).toMatch(/Replayed, but not booked: Shopify order .* is a test order/);
    expect(browser.lastHtml).not.toContain("handed to its order");
    expect(browser.lastHtml).toContain(`action="/dead-letters/${id}/replay"`);
    expect((await auditOf(world, "dead_letter.replay")).map((e) => e.details)).toEqual([
      { result: "ignored", code: "test_order" },
    ]);
  });
});
