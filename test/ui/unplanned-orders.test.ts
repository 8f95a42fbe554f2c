/**
 * The Flows page lists the orders that arrived while no flow was on, each with a checkbox for
 * owners and admins: run the flows for the ticked ones, dismiss the ticked ones (booked by hand),
 * or "Run all", which says it runs every listed order. Plain forms behind the form token, written
 * to the audit log; viewers read only.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { auditLog, unplannedOrders } from "../../src/db/schema";
import { createWorld, eventually, ledgerSteps, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { signedIn } from "./ui-client";

async function rows(world: World) {
  return database(env).select().from(unplannedOrders).where(eq(unplannedOrders.tenantId, world.tenantId));
}

async function recorded(world: World) {
  const order = shopifyOrder();
  await world.sendShopify("orders/paid", order);
  await eventually(async () => (await rows(world)).find((r) => r.orderId === String(order.id)), "the order recorded");
  return order;
}

async function audited(world: World, action: string) {
  return database(env)
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.tenantId, world.tenantId), eq(auditLog.action, action)));
}

describe("orders that arrived while no flow was on, on the Flows page", () => {
  it("are listed, each to tick for owners and admins, with Run all saying it runs every listed order", async () => {
    const world = await createWorld();
    const order = await recorded(world);

    const viewer = (await signedIn(world.tenantId, "viewer")).browser;
    await viewer.get("/flows");
    expect(viewer.lastHtml).toContain("1 order from Shop arrived while no flow was on.");
    expect(viewer.lastHtml).toContain(`#${order.id}`);
    expect(viewer.lastHtml).not.toContain('name="ids"');
    expect(viewer.lastHtml).not.toContain("Run all");

    await world.flow("paid", ledgerSteps(world));
    const { browser, user } = await signedIn(world.tenantId, "admin");
    await browser.get("/flows");
    expect(browser.lastHtml).toContain('action="/flows/unplanned/chosen"');
    expect(browser.lastHtml).toContain(`name="ids" value="${world.shopId}:${order.id}"`);
    expect(browser.lastHtml).toContain("Run flows for the ticked orders");
    expect(browser.lastHtml).toContain("Dismiss the ticked orders");
    expect(browser.lastHtml).toContain('action="/flows/unplanned/run"');
    expect(browser.lastHtml).toContain("Run all: every listed order from Shop");
    expect(browser.lastHtml).toContain("including any you booked by hand");

    // A viewer's POST changes nothing.
    await viewer.get("/flows");
    expect((await viewer.post("/flows/unplanned/run", { connectionId: world.shopId })).status).toBe(403);

    const res = await browser.post("/flows/unplanned/run", { connectionId: world.shopId });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/flows");
    await browser.get("/flows");
    expect(browser.lastHtml).toContain("Flows run for 1 order: 1 run (1 transfer made)");
    await settledTransfers(world, String(order.id), 1);
    const entries = await audited(world, "unplanned_orders.run");
    expect(entries).toEqual([expect.objectContaining({ actor: user.id, target: world.shopId })]);
    expect(entries[0]!.details).toMatchObject({ planned: 1, made: 1 });
  });

  it("run the flows for the ticked order only, and dismiss a ticked one with nothing run", async () => {
    const world = await createWorld();
    const run = await recorded(world);
    const byHand = await recorded(world);
    await world.flow("paid", ledgerSteps(world));
    const { browser, user } = await signedIn(world.tenantId, "admin");
    await browser.get("/flows");

    let res = await browser.post("/flows/unplanned/chosen", { op: "dismiss", ids: `${world.shopId}:${byHand.id}` });
    expect(res.status).toBe(303);
    await browser.get("/flows");
    expect(browser.lastHtml).toContain("1 order dismissed; nothing was run for it.");
    expect((await rows(world)).map((r) => r.orderId)).toEqual([String(run.id)]);
    expect(await audited(world, "unplanned_orders.dismiss")).toEqual([
      expect.objectContaining({ actor: user.id, details: { ids: [`${world.shopId}:${byHand.id}`] } }),
    ]);

    res = await browser.post("/flows/unplanned/chosen", { op: "run", ids: `${world.shopId}:${run.id}` });
    expect(res.status).toBe(303);
    await settledTransfers(world, String(run.id), 1);
    expect((await world.api(`/transfers?order=${byHand.id}`)).body.transfers).toEqual([]);
  });
});
