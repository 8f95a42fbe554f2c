/**
 * A delivery to a connection whose webhook secret cannot be read is answered before any signature
 * check, so anyone with the URL gets that answer: it names nothing about the connection (its name,
 * its kind) beyond the id the caller sent. The kept dead letter keeps the whole reason.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { toBase64 } from "../../src/connectors/signatures";
import { encryptSecret } from "../../src/db/credentials";
import { shopifyDelivery } from "../fixtures/shopify";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";
import { BASE, createWorld, shopifyOrder, type World } from "../helpers/world";

const NAME = "Ane's secret side shop";

/** Seals the connection's webhook secret under a key with the test key's id: a CREDENTIALS_KEY deployed without its old key. */
async function loseWebhookSecret(connectionId: string): Promise<void> {
  const replaced = { CREDENTIALS_KEY: toBase64(crypto.getRandomValues(new Uint8Array(32))) };
  await env.DB.prepare("UPDATE connections SET webhook_secret = ? WHERE id = ?")
    .bind(await encryptSecret(replaced, "whatever-it-was"), connectionId)
    .run();
}

async function source(world: World, connector: "shopify" | "woocommerce"): Promise<string> {
  const res = await world.api("/connections", { body: { connector, name: NAME, webhookSecret: "a-secret-0123456789abcdef" } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

describe("a delivery to a connection whose webhook secret cannot be read", () => {
  it("answers a retrying source 503 without the connection's name", async () => {
    const world = await createWorld();
    const shop = await source(world, "shopify");
    await loseWebhookSecret(shop);
    // Signed with a guess: the caller need not know the secret to get this answer.
    const delivery = await shopifyDelivery("orders/paid", shopifyOrder(), "a guess");
    const res = await SELF.fetch(`${BASE}/hooks/${shop}`, { method: "POST", headers: delivery.headers, body: delivery.body });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toContain("Ane");
    expect(text).toContain("connection_secret_unreadable");
    expect(text).toContain("enter the webhook secret again on this connection");
  });

  it("keeps a non-retrying source's delivery with the whole reason, but answers without the name or the shop's kind", async () => {
    const world = await createWorld();
    const woo = await source(world, "woocommerce");
    await loseWebhookSecret(woo);
    const body = { ...woocommerceFixture("orderTaxExclusive"), id: Math.floor(Math.random() * 1e9) };
    const delivery = await woocommerceDelivery("order.updated", body, "a guess", {});
    const res = await SELF.fetch(`${BASE}/hooks/${woo}`, { method: "POST", headers: delivery.headers, body: delivery.body });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain("Ane");
    expect(text).not.toContain("WooCommerce");
    const { kept } = JSON.parse(text) as { kept: { deadLetterId: number; code: string; reason: string } };
    expect(kept.code).toBe("connection_secret_unreadable");
    expect(kept.reason).toMatch(/signature was not checked and it was not processed.*enter the webhook secret again/);

    const stored = await world.api(`/dead-letters/${kept.deadLetterId}`);
    expect(stored.status).toBe(200);
    expect(stored.body.reason).toContain(`the connection "${NAME}"`);
    expect(stored.body.reason).toContain("then replay it");
    expect(stored.body.reason).toContain("Its signature is checked then");
  });
});
