/**
 * A connection whose stored credentials or webhook secret cannot be decrypted (CREDENTIALS_KEY
 * replaced or lost, or a damaged row) can still be read, and repaired by PATCH with new values;
 * meanwhile its steps fail with a reason and its webhooks are refused with one.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { toBase64 } from "../../src/connectors/signatures";
import { loadConnection } from "../../src/db/connections";
import { encryptJson, encryptSecret } from "../../src/db/credentials";
import { shopifyDelivery } from "../fixtures/shopify";
import { BASE, createWorld, settledTransfers, shopifyOrder } from "../helpers/world";

/** A key that is not the test's CREDENTIALS_KEY but has the same id ("k1"): a replaced key. */
const replacedKey = { CREDENTIALS_KEY: toBase64(crypto.getRandomValues(new Uint8Array(32))) };

async function store(id: string, column: "credentials" | "webhook_secret", value: string): Promise<void> {
  await env.DB.prepare(`UPDATE connections SET ${column} = ? WHERE id = ?`).bind(value, id).run();
}

/** Seals the e-conomic credentials under the replaced key, as a rotation that dropped the old key leaves them. */
async function loseEconomicCredentials(economicId: string): Promise<void> {
  await store(economicId, "credentials", await encryptJson(replacedKey, { appSecretToken: "old", agreementGrantToken: "old" }));
}

describe("a connection whose stored credentials cannot be read, through the API", () => {
  it("is listed and read with the reason, and a PATCH with new credentials replaces them whole", async () => {
    const world = await createWorld();
    await loseEconomicCredentials(world.economicId);

    const list = await world.api("/connections");
    expect(list.status).toBe(200);
    expect(list.body.connections.map((c: { id: string }) => c.id)).toContain(world.economicId);

    const read = await world.api(`/connections/${world.economicId}`);
    expect(read.status).toBe(200);
    expect(read.body.unreadable.parts).toEqual(["credentials"]);
    expect(read.body.unreadable.reason).toMatch(/cannot be read.*CREDENTIALS_KEY.*Enter the credentials again/);
    expect((await world.api(`/connections/${world.ledgerId}`)).body.unreadable).toBeUndefined();

    // A rename alone is allowed and says the credentials are still unreadable.
    const renamed = await world.api(`/connections/${world.economicId}`, { method: "PATCH", body: { name: "Books" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.unreadable.parts).toEqual(["credentials"]);

    // Half the credentials: nothing to merge them with, so the whole set is asked for.
    const half = await world.api(`/connections/${world.economicId}`, {
      method: "PATCH",
      body: { credentials: { appSecretToken: "new-app" } },
    });
    expect(half.status).toBe(400);
    expect(half.body.error.code).toBe("credentials_invalid");
    expect(half.body.error.message).toContain("agreementGrantToken");

    const repaired = await world.api(`/connections/${world.economicId}`, {
      method: "PATCH",
      body: { credentials: { appSecretToken: "new-app", agreementGrantToken: "new-grant" } },
    });
    expect(repaired.status).toBe(200);
    expect(repaired.body.unreadable).toBeUndefined();
    const loaded = await loadConnection(env, world.economicId, world.tenantId);
    expect(loaded?.unreadable).toBeUndefined();
    expect(loaded?.credentials).toEqual({ appSecretToken: "new-app", agreementGrantToken: "new-grant" });
  });

  it("names a key id CREDENTIALS_KEY no longer lists, and a damaged row", async () => {
    const world = await createWorld();
    const iv = toBase64(new Uint8Array(12));
    await store(world.economicId, "credentials", `k9.${iv}.${toBase64(new Uint8Array(40))}`);
    const unknown = await world.api(`/connections/${world.economicId}`);
    expect(unknown.body.unreadable.reason).toContain('key "k9", which is not in CREDENTIALS_KEY');

    await store(world.economicId, "credentials", "k1.!!.!!");
    const damaged = await world.api(`/connections/${world.economicId}`);
    expect(damaged.body.unreadable.reason).toContain("damaged");
  });

  it("stays invisible and unchangeable to another tenant", async () => {
    const world = await createWorld();
    const other = await createWorld();
    await loseEconomicCredentials(world.economicId);
    const path = `/connections/${world.economicId}`;
    expect((await other.api(path)).status).toBe(404);
    const patch = await other.api(path, {
      method: "PATCH",
      body: { credentials: { appSecretToken: "theirs", agreementGrantToken: "theirs" } },
    });
    expect(patch.status).toBe(404);
    expect((await world.api(path)).body.unreadable.parts).toEqual(["credentials"]);
  });

  it("retries a step to it with the reason shown, instead of retrying it unseen (the test's retry schedule runs out at once)", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.economicId, action: "createInvoice" }]);
    await loseEconomicCredentials(world.economicId);
    const order = shopifyOrder();
    expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    const [transfer] = await settledTransfers(world, String(order.id), 1, 8_000);
    expect(transfer.status).toBe("failed");
    expect(transfer.errorReason).toMatch(
      /credentials of connection "e-conomic" cannot be read.*Until then the transfer is retried/,
    );
    // Retried, not failed at once: a CREDENTIALS_KEY deployed without its old key heals when it is put back.
    const detail = await world.api(`/transfers/${transfer.id}`);
    expect(detail.body.steps[0].attempts).toBeGreaterThan(1);
  });

  it("refuses webhooks with a 503 and a reason while the webhook secret cannot be read, until a new one is sent", async () => {
    const world = await createWorld();
    await store(world.shopId, "webhook_secret", await encryptSecret(replacedKey, world.secret));
    const refused = await world.sendShopify("orders/paid", shopifyOrder());
    expect(refused.status).toBe(503);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("connection_secret_unreadable");
    expect(body.error.message).toContain("enter the webhook secret again");
    expect((await world.api(`/connections/${world.shopId}`)).body.unreadable.parts).toEqual(["webhookSecret"]);

    const secret = "a-new-shopify-secret";
    expect((await world.api(`/connections/${world.shopId}`, { method: "PATCH", body: { webhookSecret: secret } })).status).toBe(
      200,
    );
    const delivery = await shopifyDelivery("orders/paid", shopifyOrder(), secret);
    const accepted = await SELF.fetch(`${BASE}/hooks/${world.shopId}`, {
      method: "POST",
      headers: delivery.headers,
      body: delivery.body,
    });
    expect(accepted.status).toBe(200);
  });
});
