/**
 * Replay on "Kept, not processed" (/dead-letters): a Replay button per kept delivery and "Replay all
 * from this connection", for owners and admins, behind the form token; each writes the audit log and
 * says what became of it.
 */
import { env, SELF } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { auditLog } from "../../src/db/schema";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";
import { BASE, createWorld, settledTransfers, type World } from "../helpers/world";
import { signedIn } from "./ui-client";

const SECRET = "woo_secret_0123456789abcdef";

async function disabledWoo(world: World): Promise<string> {
  const res = await world.api("/connections", { body: { connector: "woocommerce", name: "Woo shop", webhookSecret: SECRET } });
  const woo = res.body.id as string;
  await world.api("/flows", {
    body: { name: "Woo to ledger", source: woo, stage: "created", steps: [{ target: world.ledgerId, action: "createInvoice" }] },
  });
  expect((await world.api(`/connections/${woo}`, { method: "PATCH", body: { enabled: false } })).status).toBe(200);
  return woo;
}

async function keep(woo: string): Promise<{ id: number; orderId: number }> {
  const orderId = Math.floor(Math.random() * 1e9);
  const delivery = await woocommerceDelivery(
    "order.updated",
    { ...woocommerceFixture("orderTaxExclusive"), id: orderId },
    SECRET,
  );
  const res = await SELF.fetch(`${BASE}/hooks/${woo}`, { method: "POST", headers: delivery.headers, body: delivery.body });
  const json = (await res.json()) as any;
  expect(json.kept?.code, JSON.stringify(json)).toBe("connection_disabled");
  return { id: json.kept.deadLetterId, orderId };
}

describe("replaying kept deliveries from the UI", () => {
  it("replays one with its button, says what became of it, and writes the audit log", async () => {
    const world = await createWorld();
    const woo = await disabledWoo(world);
    const { id, orderId } = await keep(woo);
    const { browser, user } = await signedIn(world.tenantId, "admin");

    await browser.get("/dead-letters");
    expect(browser.lastHtml).toContain(`action="/dead-letters/${id}/replay"`);
    expect(browser.lastHtml).toContain("Replay all from this connection");

    // Still disabled: refused, and the page says to enable the connection first.
    let res = await browser.post(`/dead-letters/${id}/replay`, { back: "list" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/dead-letters");
    await browser.get("/dead-letters");
    expect(browser.lastHtml).toMatch(
      /Not replayed: The connection &quot;Woo shop&quot; is disabled.*Enable the connection first/,
    );

    await world.api(`/connections/${woo}`, { method: "PATCH", body: { enabled: true } });
    await browser.get(`/dead-letters/${id}`);
    res = await browser.post(`/dead-letters/${id}/replay`, { back: "detail" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/dead-letters/${id}`);
    await browser.get(`/dead-letters/${id}`);
    expect(browser.lastHtml).toContain("Replayed: the delivery was handed to its order");
    expect(browser.lastHtml).toContain(`by ${user.email}`);
    expect(browser.lastHtml).not.toContain(`action="/dead-letters/${id}/replay"`);
    await settledTransfers(world, String(orderId), 1);

    const entries = await database(env)
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.tenantId, world.tenantId), eq(auditLog.action, "dead_letter.replay")))
      .all();
    expect(entries.map((e) => [e.actor, e.target, (e.details as any).result])).toEqual([
      [user.id, String(id), "refused"],
      [user.id, String(id), "taken"],
    ]);
  });

  it("replays all from a connection", async () => {
    const world = await createWorld();
    const woo = await disabledWoo(world);
    const kept = [await keep(woo), await keep(woo)];
    await world.api(`/connections/${woo}`, { method: "PATCH", body: { enabled: true } });
    const { browser } = await signedIn(world.tenantId, "owner");
    await browser.get("/dead-letters");
    expect(browser.lastHtml).toContain("Woo shop: 2 waiting");
    const res = await browser.post("/dead-letters/replay-all", { connectionId: woo });
    expect(res.status).toBe(303);
    await browser.get("/dead-letters");
    expect(browser.lastHtml).toContain("Replayed 2: 2 taken.");
    expect(browser.lastHtml).not.toContain("Replay all from this connection");
    for (const k of kept) await settledTransfers(world, String(k.orderId), 1);
    const audit = await database(env)
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.tenantId, world.tenantId), eq(auditLog.action, "dead_letter.replay_all")))
      .get();
    expect(audit).toMatchObject({ target: woo, details: { taken: 2, remaining: 0 } });
  });

  it("shows no replay to a viewer and refuses their post, a post without the form token, and another tenant's row", async () => {
    const world = await createWorld();
    const woo = await disabledWoo(world);
    const { id } = await keep(woo);
    const viewer = (await signedIn(world.tenantId, "viewer")).browser;
    await viewer.get("/dead-letters");
    expect(viewer.lastHtml).not.toContain("/replay");
    expect((await viewer.post(`/dead-letters/${id}/replay`, {})).status).toBe(403);

    const owner = (await signedIn(world.tenantId, "owner")).browser;
    await owner.get("/dead-letters");
    expect((await owner.post(`/dead-letters/${id}/replay`, {}, { csrf: null })).status).toBe(403);

    const other = await createWorld();
    const stranger = (await signedIn(other.tenantId, "owner")).browser;
    await stranger.get("/dead-letters");
    expect((await stranger.post(`/dead-letters/${id}/replay`, {})).status).toBe(404);
    await stranger.get("/dead-letters");
    expect((await stranger.post("/dead-letters/replay-all", { connectionId: woo })).status).toBe(303);
    await stranger.get("/dead-letters");
    expect(stranger.lastHtml).toContain("Nothing from this connection is waiting to be replayed.");

    const row = await world.api(`/dead-letters/${id}`);
    expect(row.body).toMatchObject({ replayed: null, reason: expect.stringMatching(/is disabled/) });
  });
});
