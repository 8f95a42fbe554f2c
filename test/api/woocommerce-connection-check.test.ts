/** "Test connection" tells the truth about what happens to a source's deliveries, a disabled one's included. */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { checkConnection } from "../../src/worker/routes/ui/data/connection-check";
import { createWorld } from "../helpers/world";

describe("checking a connection", () => {
  it("says a disabled one keeps signed deliveries as dead letters (WooCommerce does not retry), and asks for the store URL", async () => {
    const world = await createWorld();
    const created = await world.api("/connections", {
      body: { connector: "woocommerce", name: "Woo", webhookSecret: "woo_secret_0123456789abcdef", settings: {} },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await world.api(`/connections/${created.body.id}`, { method: "PATCH", body: { enabled: false } });
    const texts = ((await checkConnection(env, world.tenantId, created.body.id)) ?? []).map((l) => l.text);
    expect(texts).toContainEqual(expect.stringMatching(/disabled: its signed deliveries are kept under dead letters/));
    expect(texts.join("\n")).not.toMatch(/the sender retries/);
    expect(texts).toContainEqual(expect.stringMatching(/No store URL is set/));
  });

  it("says a disabled Shopify source keeps its signed deliveries as dead letters too (it no longer answers 503)", async () => {
    const world = await createWorld();
    await world.api(`/connections/${world.shopId}`, { method: "PATCH", body: { enabled: false } });
    const texts = ((await checkConnection(env, world.tenantId, world.shopId)) ?? []).map((l) => l.text);
    expect(texts).toContainEqual(
      expect.stringMatching(/disabled: its signed deliveries are kept under dead letters .* and alerted/),
    );
    expect(texts.join("\n")).not.toMatch(/503|the sender retries/);
  });

  it("says a disabled target runs no step, and says nothing of deliveries", async () => {
    const world = await createWorld();
    await world.api(`/connections/${world.ledgerId}`, { method: "PATCH", body: { enabled: false } });
    const texts = ((await checkConnection(env, world.tenantId, world.ledgerId)) ?? []).map((l) => l.text);
    expect(texts).toContainEqual("The connection is disabled: no step runs.");
    expect(texts.join("\n")).not.toMatch(/503|deliver/);
  });
});
