import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, createWorld, settledTransfers, shopifyOrder } from "../helpers/world";

describe("the JSON API", () => {
  it("refuses calls without a token or with an unknown one", async () => {
    const none = await SELF.fetch(`${BASE}/api/v1/flows`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: "token_missing" } });
    const world = await createWorld();
    const unknown = await world.api("/flows", { token: "oly_0000000000000000" });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe("token_unknown");
  });

  it("serves an OpenAPI document generated from the schemas, without a token", async () => {
    const res = await SELF.fetch(`${BASE}/api/v1/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    for (const path of ["/connections", "/flows", "/transfers", "/transfers/{id}", "/transfers/{id}/retry", "/ledger/invoices"]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(["Connection", "Flow", "Transfer", "Error"]));
  });

  it("never shows credentials or the webhook secret once stored, and keeps them encrypted at rest", async () => {
    const world = await createWorld();
    const conn = await world.api(`/connections/${world.economicId}`);
    expect(JSON.stringify(conn.body)).not.toMatch(/app-ok|grant-ok/);
    const list = await world.api("/connections");
    expect(JSON.stringify(list.body)).not.toContain(world.secret);
    const row = await env.DB.prepare("SELECT credentials, webhook_secret FROM connections WHERE id = ?")
      .bind(world.economicId)
      .first<{ credentials: string }>();
    expect(row!.credentials).not.toContain("app-ok");
    expect(row!.credentials).toMatch(/^k1\./);
  });

  it("generates a webhook secret for a source when none is given, shown once with the setup steps", async () => {
    const world = await createWorld();
    const made = await world.api("/connections", { body: { connector: "shopify", name: "Second shop" } });
    expect(made.status).toBe(201);
    expect(made.body.webhookSecret).toMatch(/^[0-9a-f]{48}$/);
    expect(made.body.webhookUrl).toBe(`${BASE}/hooks/${made.body.id}`);
    expect(made.body.setupSteps.join(" ")).toContain(made.body.webhookUrl);
    const again = await world.api(`/connections/${made.body.id}`);
    expect(again.body.webhookSecret).toBeUndefined();
  });

  it("validates connections and flows against the connectors' schemas with reasons a person can act on", async () => {
    const world = await createWorld();
    const badConnector = await world.api("/connections", { body: { connector: "nope", name: "x" } });
    expect(badConnector.status).toBe(400);
    expect(badConnector.body.error.message).toContain('Unknown connector "nope"');
    const badCredentials = await world.api("/connections", {
      body: { connector: "economic", name: "x", credentials: { appSecretToken: "" } },
    });
    expect(badCredentials.status).toBe(400);
    expect(badCredentials.body.error.message).toMatch(/credentials.*agreementGrantToken/);
    const badAction = await world.api("/flows", {
      body: { name: "x", source: world.shopId, stage: "paid", steps: [{ target: world.ledgerId, action: "fly" }] },
    });
    expect(badAction.status).toBe(400);
    expect(badAction.body.error.message).toContain(
      'has no action "fly" (it has: createInvoice, registerPayment, createCreditNote)',
    );
    const notSource = await world.api("/flows", {
      body: { name: "x", source: world.ledgerId, stage: "paid", steps: [{ target: world.ledgerId, action: "createInvoice" }] },
    });
    expect(notSource.body.error.code).toBe("flow_source_invalid");
    const badStage = await world.api("/flows", { body: { name: "x", source: world.shopId, stage: "shipped", steps: [] } });
    expect(badStage.status).toBe(400);
    expect(badStage.body.error.code).toBe("request_invalid");
    const malformed = await SELF.fetch(`${BASE}/api/v1/flows`, {
      method: "POST",
      headers: { authorization: `Bearer ${world.token}`, "content-type": "application/json" },
      body: "{nope",
    });
    expect(malformed.status).toBe(400);
  });

  it("keeps tenants apart: one tenant can read or change nothing of another", async () => {
    const a = await createWorld();
    const b = await createWorld();
    await a.flow("paid", [{ target: a.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await a.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(a, String(order.id), 1);

    expect((await b.api(`/transfers/${transfer.id}`)).status).toBe(404);
    expect((await b.api(`/transfers/${transfer.id}/retry`, { body: { fromStart: true } })).status).toBe(404);
    expect((await b.api("/transfers")).body.transfers).toHaveLength(0);
    expect((await b.api(`/connections/${a.shopId}`)).status).toBe(404);
    expect((await b.api(`/connections/${a.shopId}`, { method: "PATCH", body: { name: "mine" } })).status).toBe(404);
    expect((await b.api(`/connections/${a.ledgerId}`, { method: "DELETE" })).status).toBe(404);
    expect((await b.api("/ledger/invoices")).body.invoices).toHaveLength(0);
    // b cannot build a flow on a's connections either.
    const stolen = await b.api("/flows", {
      body: { name: "x", source: a.shopId, stage: "paid", steps: [{ target: b.ledgerId, action: "createInvoice" }] },
    });
    expect(stolen.status).toBe(404);
  });

  it("lists transfers newest first with filters and a cursor", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const orders = [shopifyOrder(), shopifyOrder(), shopifyOrder()];
    for (const order of orders) {
      await world.sendShopify("orders/paid", order);
      await settledTransfers(world, String(order.id), 1);
    }
    const first = await world.api("/transfers?limit=2&status=completed&stage=paid");
    expect(first.body.transfers.map((t: { orderId: string }) => t.orderId)).toEqual([
      String(orders[2]!.id),
      String(orders[1]!.id),
    ]);
    const second = await world.api(`/transfers?limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(second.body.transfers.map((t: { orderId: string }) => t.orderId)).toEqual([String(orders[0]!.id)]);
    expect(second.body.nextCursor).toBeNull();
    expect((await world.api("/transfers?status=failed")).body.transfers).toHaveLength(0);
    expect((await world.api(`/transfers?connection=${world.shopId}`)).body.transfers).toHaveLength(3);
    expect((await world.api("/transfers?cursor=garbage")).status).toBe(400);
  });

  it("refuses to delete a connection a flow still uses", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const res = await world.api(`/connections/${world.ledgerId}`, { method: "DELETE" });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain("paid flow");
    expect((await world.api(`/connections/${world.economicId}`, { method: "DELETE" })).status).toBe(204);
  });

  it("a disabled source connection answers a young delivery 503 (Shopify retries), and keeps an older one as a dead letter (200)", async () => {
    // Shopify retries for ~4 hours: a pause of minutes loses nothing; past the hour the delivery is
    // kept rather than dropped at Shopify's last try (test/flow/shopify-refused.test.ts).
    const world = await createWorld();
    await world.api(`/connections/${world.shopId}`, { method: "PATCH", body: { enabled: false } });
    const young = await world.sendShopify("orders/paid", shopifyOrder());
    expect(young.status).toBe(503);
    expect(await young.json()).toMatchObject({ error: { code: "connection_disabled" } });
    const hoursAgo = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const res = await world.sendShopify("orders/paid", shopifyOrder(), { "X-Shopify-Triggered-At": hoursAgo });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, kept: { code: "connection_disabled" } });
  });
});

describe("the API's audit trail", () => {
  it("records every change made with a token, and when the token was last used", async () => {
    const world = await createWorld();
    await world.api("/tenant", { method: "PATCH", body: { retentionDays: 45 } });
    const rows = await env.DB.prepare("SELECT actor, action, target FROM audit_log WHERE tenant_id = ? ORDER BY id")
      .bind(world.tenantId)
      .all();
    expect(rows.results).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: `tok_${world.tenantId}`.replace(/^/, "token:"),
          action: "api POST connections",
          target: "connections",
        }),
        expect.objectContaining({ action: "api PATCH tenant", target: "tenant" }),
      ]),
    );
    const token = await env.DB.prepare("SELECT last_used_at FROM api_tokens WHERE tenant_id = ?")
      .bind(world.tenantId)
      .first<{ last_used_at: number }>();
    expect(token?.last_used_at).toBeGreaterThan(0);
  });
});

describe("a connection's credentials stay with the address they were given for", () => {
  const credentials = async (tenantId: string, id: string) => {
    const { loadConnection } = await import("../../src/db/connections");
    return (await loadConnection(env, id, tenantId))?.credentials;
  };

  it("refuses a new baseUrl without the credentials, and takes it with them", async () => {
    const world = await createWorld();
    const path = `/connections/${world.economicId}`;
    const moved = await world.api(path, { method: "PATCH", body: { settings: { baseUrl: "https://attacker.example" } } });
    expect(moved.status).toBe(400);
    expect(moved.body.error).toMatchObject({ code: "credentials_required" });
    expect(moved.body.error.message).toContain("send the credentials again in the same request");
    expect((await world.api(path)).body.settings.baseUrl).toBe("https://economic.test");

    const fresh = { appSecretToken: "app-2", agreementGrantToken: "grant-2" };
    const resent = await world.api(path, {
      method: "PATCH",
      body: { settings: { baseUrl: "https://books.example" }, credentials: fresh },
    });
    expect(resent.status).toBe(200);
    expect(resent.body.settings.baseUrl).toBe("https://books.example");
    expect(await credentials(world.tenantId, world.economicId)).toEqual(fresh);
  });

  it("keeps the stored credentials when the address stays (or is only named again)", async () => {
    const world = await createWorld();
    const path = `/connections/${world.economicId}`;
    const same = await world.api(path, {
      method: "PATCH",
      body: { name: "Books", settings: { baseUrl: "https://economic.test" } },
    });
    expect(same.status).toBe(200);
    // Fields a PATCH leaves out stay as they are (no defaults fill them in).
    const renamed = await world.api(path, { method: "PATCH", body: { name: "Books 2" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.settings.baseUrl).toBe("https://economic.test");
    expect(await credentials(world.tenantId, world.economicId)).toEqual({
      appSecretToken: "app-ok",
      agreementGrantToken: "grant-ok",
    });
  });
});

describe("the API's token check", () => {
  it("lets only the OpenAPI document itself through without a token", async () => {
    for (const path of ["/connections/openapi.json", "/mail/outbox/openapi.json", "/transfers/openapi.json"]) {
      const res = await SELF.fetch(`${BASE}/api/v1${path}`);
      expect(res.status, path).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "token_missing" } });
    }
    expect((await SELF.fetch(`${BASE}/api/v1/openapi.json`)).status).toBe(200);
  });
});
