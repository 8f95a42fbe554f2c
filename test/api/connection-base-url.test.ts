/**
 * The connections API refuses a base URL the tenant could aim anywhere (a fragment or query that
 * swallows the connector's path, a private host), and a connection stored with one before the rule
 * existed fails its steps with the reason instead of being called.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { checkConnection } from "../../src/worker/routes/ui/data/connection-check";
import { attemptRows } from "../helpers/history";
import { createWorld, settledTransfers, shopifyOrder } from "../helpers/world";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";

const CREDENTIALS = { appSecretToken: "app-ok", agreementGrantToken: "grant-ok" };

describe("a connection's base URL through the API", () => {
  it("refuses a URL whose fragment would take the connector's path, with the address to use", async () => {
    const world = await createWorld();
    const made = await world.api("/connections", {
      body: {
        connector: "economic",
        name: "Proxy",
        settings: { baseUrl: "https://collector.example/anything#" },
        credentials: CREDENTIALS,
      },
    });
    expect(made.status).toBe(400);
    expect(made.body.error.code).toBe("settings_invalid");
    expect(made.body.error.message).toBe(
      "Invalid settings: baseUrl: must not have a fragment (#…): it must be an https URL of the vendor's API, such as https://restapi.e-conomic.com",
    );
  });

  it("refuses a private host or plain http when the address moves", async () => {
    const world = await createWorld();
    const path = `/connections/${world.economicId}`;
    for (const baseUrl of [
      "https://169.254.169.254/latest",
      "http://economic.test",
      "https://[::1]:8443",
      "https://db.internal",
    ]) {
      const moved = await world.api(path, { method: "PATCH", body: { settings: { baseUrl }, credentials: CREDENTIALS } });
      expect(moved.status, baseUrl).toBe(400);
      expect(moved.body.error.message, baseUrl).toContain("such as https://restapi.e-conomic.com");
    }
    expect((await world.api(path)).body.settings.baseUrl).toBe("https://economic.test");
  });
});

describe("a connection stored with a base URL the rule refuses", () => {
  it("fails its step at once with the reason, calls nothing, and can still be corrected", async () => {
    const world = await createWorld();
    // Saved before the rule existed: written straight into D1, as the API no longer takes it.
    await env.DB.prepare("UPDATE connections SET settings = ? WHERE id = ?")
      .bind(JSON.stringify({ baseUrl: "https://economic.test/#" }), world.economicId)
      .run();
    await world.flow("paid", [{ target: world.economicId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [failed] = await settledTransfers(world, String(order.id), 1);
    expect(failed.status).toBe("failed");
    expect(failed.errorReason).toContain(
      'Connection "e-conomic" has a base URL Orderly does not call (must not have a fragment (#…)',
    );
    expect(failed.errorReason).toContain("Edit the connection's Base URL, then retry.");
    expect(failed.errorClass).toBe("validation");
    // One attempt, no request: the step failed before the connector made any call.
    const rows = await attemptRows(failed.id);
    expect(rows.map((r) => r.outcome)).toEqual(["failed"]);
    const detail = await world.api(`/transfers/${failed.id}`);
    const kinds = (detail.body.snapshots as Array<{ kind: string }>).map((s) => s.kind);
    expect(kinds).toContain("error");
    expect(kinds).not.toContain("request");

    // The merchant puts the vendor's address back (credentials with it: the address moved); the retry goes through.
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const fixed = await world.api(`/connections/${world.economicId}`, {
      method: "PATCH",
      body: { settings: { baseUrl: "https://economic.test" }, credentials: CREDENTIALS },
    });
    expect(fixed.status, JSON.stringify(fixed.body)).toBe(200);
    expect((await world.api(`/transfers/${failed.id}/retry`, { body: {} })).status).toBe(202);
    const [done] = await settledTransfers(world, String(order.id), 1);
    expect(done.status).toBe("completed");
    expect(mock.state.drafts).toHaveLength(1);
  });

  it("the connection's check page says its base URL is refused, not that it passes", async () => {
    const world = await createWorld();
    await env.DB.prepare("UPDATE connections SET settings = ? WHERE id = ?")
      .bind(JSON.stringify({ baseUrl: "https://economic.test/#" }), world.economicId)
      .run();
    const lines = (await checkConnection(env, world.tenantId, world.economicId)) ?? [];
    expect(lines[0]).toMatchObject({ ok: false });
    expect(lines[0]?.text).toContain("has a base URL Orderly does not call");
  });
});
