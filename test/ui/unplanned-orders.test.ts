/**
 * The Flows page says how many orders arrived while no flow was on, and offers owners and admins
 * "Run flows for them now" (behind the form token, written to the audit log); viewers read only.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { auditLog, unplannedOrders } from "../../src/db/schema";
import { createWorld, eventually, ledgerSteps, settledTransfers, shopifyOrder } from "../helpers/world";
import { signedIn } from "./ui-client";

describe("orders that arrived while no flow was on, on the Flows page", () => {
  it("are shown with a button that runs their flows, for owners and admins", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await eventually(
      async () => (await database(env).select().from(unplannedOrders).where(eq(unplannedOrders.tenantId, world.tenantId)))[0],
      "the order recorded",
    );

    const viewer = (await signedIn(world.tenantId, "viewer")).browser;
    await viewer.get("/flows");
    expect(viewer.lastHtml).toContain("1 order from Shop arrived while no flow was on.");
    expect(viewer.lastHtml).toContain("Switch a flow on for this source first");
    expect(viewer.lastHtml).not.toContain("Run flows for them now");

    await world.flow("paid", ledgerSteps(world));
    const { browser, user } = await signedIn(world.tenantId, "admin");
    await browser.get("/flows");
    expect(browser.lastHtml).toContain('action="/flows/unplanned/run"');
    expect(browser.lastHtml).toContain("Run flows for them now");

    // A viewer's POST changes nothing.
    await viewer.get("/flows");
    expect((await viewer.post("/flows/unplanned/run", { connectionId: world.shopId })).status).toBe(403);

    const res = await browser.post("/flows/unplanned/run", { connectionId: world.shopId });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/flows");
    await browser.get("/flows");
    expect(browser.lastHtml).toContain("Flows run for 1 order: 1 run (1 transfer made).");
    expect(browser.lastHtml).not.toContain("arrived while no flow was on");
    await settledTransfers(world, String(order.id), 1);
    const entries = await database(env)
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.tenantId, world.tenantId), eq(auditLog.action, "unplanned_orders.run")));
    expect(entries).toEqual([expect.objectContaining({ actor: user.id, target: world.shopId })]);
    expect(entries[0]!.details).toMatchObject({ planned: 1, made: 1, remaining: 0 });
  });
});
