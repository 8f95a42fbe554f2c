import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { dashboardData } from "../../src/worker/routes/ui/data/dashboard-data";
import { createWorld } from "../helpers/world";
import { transferWithSteps } from "./step-rows";
import { signedIn } from "./ui-client";

const HOUR_MS = 3_600_000;

describe("the dashboard's failing connections", () => {
  it("show the error of each connection's newest failed step, not the alphabetically last one", async () => {
    const world = await createWorld();
    const now = Date.now();
    // Each failed step with its transfer: the dashboard finds steps through their transfers.
    const failed = (target: string, errorReason: string, hoursAgo: number) =>
      transferWithSteps(world.tenantId, { updatedAt: now - hoursAgo * HOUR_MS }, [
        { target, status: "failed", errorReason, updatedAt: now - hoursAgo * HOUR_MS },
      ]);
    // Older errors that sort after the newest one alphabetically.
    await failed(world.economicId, "zz older: customer group missing", 30);
    await failed(world.economicId, "aa newest: layout 19 unknown", 1);
    await failed(world.economicId, "mm middle: timeout", 5);
    await failed(world.ledgerId, "bb newest: order above limit", 2);
    await failed(world.ledgerId, "yy older: account locked", 20);
    const data = await dashboardData(env, world.tenantId, now);
    const byId = new Map(data.failing.map((f) => [f.id, f]));
    expect(byId.get(world.economicId)).toMatchObject({
      failures: 3,
      lastAt: now - HOUR_MS,
      lastError: "aa newest: layout 19 unknown",
    });
    expect(byId.get(world.ledgerId)).toMatchObject({
      failures: 2,
      lastAt: now - 2 * HOUR_MS,
      lastError: "bb newest: order above limit",
    });

    const { browser } = await signedIn(world.tenantId);
    await browser.get("/");
    expect(browser.lastHtml).toContain("aa newest: layout 19 unknown");
    expect(browser.lastHtml).toContain("bb newest: order above limit");
    expect(browser.lastHtml).not.toMatch(/zz older|yy older/);
  });
});
