import { env, SELF } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { transfers } from "../../src/db/schema";
import { shopifyDelivery } from "../fixtures/shopify";
import { BASE, createWorld, settledTransfers, shopifyOrder, type World } from "../helpers/world";

/** Nothing of the delivery was kept: no transfer, no raw body in R2, no event in the order's object. */
async function expectNothingStored(world: World, orderId?: number) {
  const rows = await database(env).select().from(transfers).where(eq(transfers.tenantId, world.tenantId));
  expect(rows).toHaveLength(0);
  const blobs = await env.BLOBS.list({ prefix: `raw/${world.tenantId}/` });
  expect(blobs.objects).toHaveLength(0);
  if (orderId !== undefined) {
    const state = await env.ORDERS.get(env.ORDERS.idFromName(`${world.shopId}:${orderId}`)).describe();
    expect(state.events).toHaveLength(0);
  }
}

async function post(world: World, body: BodyInit, headers: HeadersInit) {
  return SELF.fetch(`${BASE}/hooks/${world.shopId}`, { method: "POST", headers, body });
}

describe("bad input at the webhook endpoint", () => {
  it("a wrong signature gets 401 and stores nothing", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    const delivery = await shopifyDelivery("orders/paid", order, "not-the-secret");
    const res = await post(world, delivery.body, delivery.headers);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "signature_invalid" } });
    await expectNothingStored(world, order.id);
  });

  it("a missing signature gets 401", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    const res = await world.sendShopify("orders/paid", order, { "X-Shopify-Hmac-Sha256": null });
    expect(res.status).toBe(401);
    await expectNothingStored(world, order.id);
  });

  it("an unknown connection gets 404 with a JSON error", async () => {
    const res = await SELF.fetch(`${BASE}/hooks/con_nope`, {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "connection_not_found" } });
  });

  it("a body over 10 MiB gets 413, never a 500", async () => {
    const world = await createWorld();
    const big = new Uint8Array(11 * 1024 * 1024).fill(0x20);
    const res = await post(world, big, { "content-type": "application/json" });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "body_too_large" } });
    // Also when the sender streams it without a length.
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 11; i++) controller.enqueue(new Uint8Array(1024 * 1024).fill(0x20));
        controller.close();
      },
    });
    const streamed = await post(world, stream, { "content-type": "application/json" });
    expect(streamed.status).toBe(413);
    await expectNothingStored(world);
  });

  // Signed, so Shopify's: a 4xx would only make it retry for hours, then drop the order. Kept instead
  // (test/flow/shopify-refused.test.ts); only the dead letter is stored.
  it("signed malformed JSON is kept as a dead letter naming the problem, and nothing is processed", async () => {
    const world = await createWorld();
    const res = await world.sendShopify("orders/paid", '{"id": 1, "line_items": [');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { kept: { code: string; reason: string } };
    expect(body.kept).toMatchObject({ code: "shopify_body_not_json", reason: expect.stringMatching(/JSON/) });
    await expectNothingStored(world);
  });

  it("a signed payload that does not parse as an order is kept naming the problem; a topic Orderly does not read is ignored", async () => {
    const world = await createWorld();
    const { id: _omit, ...withoutId } = shopifyOrder();
    const res = await world.sendShopify("orders/paid", withoutId);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { kept: { reason: string } }).kept.reason).toMatch(/\bid\b/);
    const unknownTopic = await world.sendShopify("products/create", shopifyOrder());
    expect(unknownTopic.status).toBe(200);
    expect(await unknownTopic.json()).toMatchObject({ ok: true, ignored: expect.stringContaining('"products/create"') });
    await expectNothingStored(world);
  });

  it("a body over the inline limit is kept in R2, byte for byte, and still flows", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder({ note: "ü".repeat(80_000) });
    const res = await world.sendShopify("orders/paid", order);
    expect(res.status).toBe(200);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    const blobs = await env.BLOBS.list({ prefix: `raw/${world.tenantId}/` });
    expect(blobs.objects).toHaveLength(1);
    const stored = await env.BLOBS.get(blobs.objects[0]!.key);
    expect(await stored!.text()).toBe(JSON.stringify(order));
    const detail = await world.api(`/transfers/${transfer.id}`);
    const received = detail.body.snapshots.find((s: { kind: string }) => s.kind === "received");
    expect(received.size).toBe(new TextEncoder().encode(JSON.stringify(order)).byteLength);
  });
});
