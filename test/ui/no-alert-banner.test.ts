/** Every page warns while the tenant has no alert address: its alerts and reports reach nobody. */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import { createWorld } from "../helpers/world";
import { signedIn } from "./ui-client";

const BANNER = "No alert address is set";

describe("the no-alert-address banner", () => {
  it("shows on every page while the tenant has no alert address, and goes once one is set", async () => {
    const world = await createWorld();
    await database(env).update(tenants).set({ alertEmails: [] }).where(eq(tenants.id, world.tenantId));
    const { browser } = await signedIn(world.tenantId);
    for (const path of ["/", "/transfers", "/connections"]) {
      await browser.get(path);
      expect(browser.lastHtml, path).toContain(BANNER);
      expect(browser.lastHtml).toContain('<a href="/notifications">Set an alert address</a>');
    }
    await database(env)
      .update(tenants)
      .set({ alertEmails: ["ops@example.com"] })
      .where(eq(tenants.id, world.tenantId));
    await browser.get("/");
    expect(browser.lastHtml).not.toContain(BANNER);
  });
});
