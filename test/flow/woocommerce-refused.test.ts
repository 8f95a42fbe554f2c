/**
 * WooCommerce never sends a delivery again, and disables its webhook after 5 failed ones in a row.
 * A signed delivery Orderly cannot take (connection disabled, another site, unreadable, too large)
 * is therefore kept in dead_letters with its raw body, alerted, and answered 200; an unsigned one is
 * still refused. Shopify's are kept the same way (test/flow/shopify-refused.test.ts).
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { toBase64 } from "../../src/connectors/signatures";
import { database } from "../../src/db/client";
import { encryptSecret } from "../../src/db/credentials";
import { mailOutbox } from "../../src/db/schema";
import type { InboxDO } from "../../src/durable/inbox-do";
import { orderObjectName } from "../../src/durable/order-types";
import { BATCH_LIMITS } from "../../src/worker/inbox-batch";
import { inboxFor } from "../../src/worker/routes/hooks";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";
import { keptAfterAnswer } from "../helpers/kept-delivery";
import { BASE, createWorld, eventually, settledTransfers, type World } from "../helpers/world";

const SECRET = "woo_secret_0123456789abcdef";

async function wooConnection(world: World, settings: Record<string, unknown> = {}): Promise<string> {
  const res = await world.api("/connections", {
    body: { connector: "woocommerce", name: "Woo shop", webhookSecret: SECRET, settings },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

async function send(connectionId: string, body: object | string, headers: Record<string, string | null> = {}, secret = SECRET) {
  const delivery = await woocommerceDelivery("order.updated", body, secret, headers);
  const res = await SELF.fetch(`${BASE}/hooks/${connectionId}`, {
    method: "POST",
    headers: delivery.headers,
    body: delivery.body,
  });
  return { res, json: (await res.json()) as any, sent: new TextDecoder().decode(delivery.body) };
}

function order(overrides: Record<string, unknown> = {}) {
  return { ...woocommerceFixture("orderTaxExclusive"), id: Math.floor(Math.random() * 1e9), ...overrides } as Record<string, any>;
}

async function alertMail(world: World) {
  return eventually(
    () =>
      database(env)
        .select()
        .from(mailOutbox)
        .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.subject, "%kept, not booked%")))
        .get(),
    "the refused-delivery alert",
  );
}

/** A created-stage flow from the WooCommerce connection to the sandbox ledger: a processed order makes a transfer. */
async function ledgerFlow(world: World, source: string): Promise<void> {
  const res = await world.api("/flows", {
    body: { name: "Woo to ledger", source, stage: "created", steps: [{ target: world.ledgerId, action: "createInvoice" }] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

type AcceptEach = InboxDO["acceptEach"];

/**
 * Runs `work` while the inbox shard of `body`'s order answers acceptEach with `replacement` (given
 * the real method), as a shard whose call fails or hangs would; the method is put back after.
 */
async function withShardCall<T>(
  connectionId: string,
  body: Record<string, any>,
  replacement: (this: InboxDO, original: AcceptEach, ...args: Parameters<AcceptEach>) => ReturnType<AcceptEach>,
  work: () => Promise<T>,
): Promise<T> {
  const shard = inboxFor(env, orderObjectName(connectionId, String(body.id)));
  const proto = await runInDurableObject(shard, (instance: InboxDO) => Object.getPrototypeOf(instance) as InboxDO);
  const original = proto.acceptEach;
  proto.acceptEach = function (this: InboxDO, ...args: Parameters<AcceptEach>) {
    return replacement.call(this, original, ...args);
  };
  try {
    return await work();
  } finally {
    proto.acceptEach = original;
  }
}

async function transfersOf(world: World, orderId: number): Promise<unknown[]> {
  return (await world.api(`/transfers?order=${orderId}`)).body.transfers as unknown[];
}

describe("a WooCommerce delivery Orderly cannot take is kept, alerted and answered 200", () => {
  it("keeps (does not process) a signed order sent to a disabled connection, and tells the merchant to enable it and re-send", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    await ledgerFlow(world, woo);
    expect((await world.api(`/connections/${woo}`, { method: "PATCH", body: { enabled: false } })).status).toBe(200);
    const body = order({ number: "W-1001" });
    const { res, json, sent } = await send(woo, body);
    expect(res.status).toBe(200);
    expect(json).toMatchObject({ ok: true, kept: { code: "connection_disabled" } });
    expect(json.accepted).toBeUndefined();

    const list = await world.api("/dead-letters");
    expect(list.status).toBe(200);
    expect(list.body.deadLetters).toEqual([
      expect.objectContaining({
        kind: "refused_delivery",
        connectionId: woo,
        order: "#W-1001",
        reason: expect.stringMatching(/disabled/),
      }),
    ]);
    const detail = await world.api(`/dead-letters/${json.kept.deadLetterId}`);
    expect(detail.body.rawBody).toBe(sent);
    expect(detail.body.body.headers["x-wc-webhook-topic"]).toBe("order.updated");

    const mail = await alertMail(world);
    expect(mail.subject).toContain('Order #W-1001 from "Woo shop" was kept, not booked');
    expect(mail.text).toMatch(/Enable the connection first, then replay it/);
    expect(mail.text).toContain(`/dead-letters/${json.kept.deadLetterId}`);
    // Nothing was processed while paused; once enabled, the order re-sent from the shop is.
    expect(await transfersOf(world, body.id)).toEqual([]);
    expect((await world.api(`/connections/${woo}`, { method: "PATCH", body: { enabled: true } })).status).toBe(200);
    expect((await send(woo, body)).json).toMatchObject({ ok: true, accepted: 1 });
    await settledTransfers(world, String(body.id), 1);
  });

  it("still refuses an unsigned delivery to a disabled connection, and keeps nothing", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    await world.api(`/connections/${woo}`, { method: "PATCH", body: { enabled: false } });
    const { res } = await send(woo, order(), {}, "not-the-secret");
    expect(res.status).toBe(401);
    expect((await world.api("/dead-letters")).body.deadLetters).toEqual([]);
  });

  it("keeps a signed order the payload schema refuses (a plugin's quantity 1.5), naming the field", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    const body = order();
    body.line_items = [{ ...body.line_items[0], quantity: 1.5 }];
    const { res, json, sent } = await send(woo, body);
    expect(res.status).toBe(200);
    // Validated after the answer (src/worker/deferred-intake.ts): answered as taken, kept just after.
    const kept = await keptAfterAnswer(world, json, /line_items\.0\.quantity/);
    expect(kept.code).toBe("woocommerce_payload_invalid");
    expect(kept.detail.rawBody).toBe(sent);
    expect((await alertMail(world)).text).toMatch(/line_items\.0\.quantity/);
  });

  it("keeps a signed order its inbox shard could not store (a full disk, say) instead of answering an error", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    const body = order();
    const shard = inboxFor(env, orderObjectName(woo, String(body.id)));
    await runInDurableObject(shard, (instance: InboxDO, state) => {
      (instance as unknown as { sql: { one(query: string): unknown } }).sql.one("SELECT 1");
      state.storage.sql.exec(
        "CREATE TRIGGER no_room BEFORE INSERT ON pending BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
      );
    });
    const { res, json, sent } = await send(woo, body);
    await runInDurableObject(shard, (_instance, state) => state.storage.sql.exec("DROP TRIGGER no_room"));
    expect(res.status).toBe(200);
    expect(json.kept).toMatchObject({
      code: "not_stored",
      reason: expect.stringMatching(/disk is full.*not processed: replay it/),
    });
    expect((await world.api(`/dead-letters/${json.kept.deadLetterId}`)).body.rawBody).toBe(sent);
    // The shard said this delivery was not stored: the reason can say so.
    expect(json.kept.reason).toMatch(/It is kept here, not processed/);
    expect(json.kept.reason).not.toMatch(/may already have been stored/);
  });

  it("keeps a signed order whose inbox call failed as a whole, saying it may already be stored: check its transfers before entering it by hand", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    const body = order();
    const { res, json } = await withShardCall(
      woo,
      body,
      async () => {
        throw new Error("Network connection lost.");
      },
      () => send(woo, body),
    );
    expect(res.status).toBe(200);
    expect(json.kept.code).toBe("store_unconfirmed");
    expect(json.kept.reason).toMatch(/Network connection lost/);
    expect(json.kept.reason).toMatch(/may already have been stored and processed/);
    expect(json.kept.reason).toMatch(/check the order's transfers in Orderly before entering anything by hand/);
    expect(json.kept.reason).not.toMatch(/not processed/);
    expect((await alertMail(world)).text).toMatch(/may already have been stored and processed/);
  });

  it("keeps a signed order whose inbox call did not answer in time with the same warning, and the order stored after all is processed", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    await ledgerFlow(world, woo);
    const body = order();
    const stuckMs = BATCH_LIMITS.stuckMs;
    BATCH_LIMITS.stuckMs = 200;
    let stored: ReturnType<AcceptEach> = Promise.resolve([]);
    const { res, json } = await withShardCall(
      woo,
      body,
      function (this: InboxDO, original, deliveries, inflight) {
        // The shard stores it, but only after the Worker gave up waiting.
        stored = new Promise((resolve) => setTimeout(resolve, 600)).then(() => original.call(this, deliveries, inflight));
        return stored;
      },
      () => send(woo, body),
    ).finally(() => {
      BATCH_LIMITS.stuckMs = stuckMs;
    });
    expect(res.status).toBe(200);
    expect(json.kept.code).toBe("store_unconfirmed");
    expect(json.kept.reason).toMatch(/did not confirm this delivery in time/);
    expect(json.kept.reason).toMatch(/may already have been stored and processed.*check the order's transfers in Orderly/);
    // It was: a merchant who entered it by hand would have it twice.
    await stored;
    await settledTransfers(world, String(body.id), 1);
  });

  it("keeps a body that is not JSON, and an order too large to store, with their bodies", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    const notJson = await send(woo, "{not json");
    expect(notJson.res.status).toBe(200);
    expect(notJson.json.kept.code).toBe("woocommerce_body_not_json");

    const huge = await send(woo, order({ customer_note: "n".repeat(2_000_000) }));
    expect(huge.res.status).toBe(200);
    const kept = await keptAfterAnswer(world, huge.json, /too large to store: \d+ KB once mapped/);
    expect(kept.code).toBe("event_too_large");
    // Too large for a D1 row: the body went to R2 under raw/, and reads back byte for byte.
    expect(kept.detail.body.raw.blobKey).toMatch(new RegExp(`^raw/${world.tenantId}/${woo}/`));
    expect(kept.detail.rawBody).toBe(huge.sent);
  });

  it("keeps, unchecked and unprocessed, a delivery to a connection whose webhook secret cannot be read (WooCommerce would lose a 503 and switch the webhook off)", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    // Sealed under another key with the test key's id: a CREDENTIALS_KEY deployed without its old key.
    const replaced = { CREDENTIALS_KEY: toBase64(crypto.getRandomValues(new Uint8Array(32))) };
    await env.DB.prepare("UPDATE connections SET webhook_secret = ? WHERE id = ?")
      .bind(await encryptSecret(replaced, SECRET), woo)
      .run();
    const { res, json, sent } = await send(woo, order());
    expect(res.status).toBe(200);
    expect(json.kept).toMatchObject({
      code: "connection_secret_unreadable",
      reason: expect.stringMatching(/signature was not checked and it was not processed.*enter the webhook secret again/),
    });
    expect((await world.api(`/dead-letters/${json.kept.deadLetterId}`)).body.rawBody).toBe(sent);
    expect((await world.api("/transfers")).body.transfers).toEqual([]);
  });

  it("lists a tenant's dead letters only for that tenant", async () => {
    const world = await createWorld();
    const other = await createWorld();
    const woo = await wooConnection(world);
    await world.api(`/connections/${woo}`, { method: "PATCH", body: { enabled: false } });
    const { json } = await send(woo, order());
    expect((await other.api("/dead-letters")).body.deadLetters).toEqual([]);
    expect((await other.api(`/dead-letters/${json.kept.deadLetterId}`)).status).toBe(404);
  });
});

describe("a WooCommerce connection with a store URL takes deliveries from that site only", () => {
  it("keeps a signed delivery from a staging copy of the shop, alerts, and answers 200", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world, { storeUrl: "https://shop.example.com" });
    await ledgerFlow(world, woo);
    const body = order({ number: "5001" });
    const { res, json } = await send(woo, body, { "X-WC-Webhook-Source": "https://staging.example.com/" });
    expect(res.status).toBe(200);
    expect(json.kept.code).toBe("wrong_site");
    expect(json.accepted).toBeUndefined();
    expect(json.kept.reason).toMatch(
      /came from https:\/\/staging\.example\.com, not the shop's address https:\/\/shop\.example\.com/,
    );
    const mail = await alertMail(world);
    expect(mail.text).toMatch(/update the connection's Store URL/);
    expect(await transfersOf(world, body.id)).toEqual([]);
  });

  it("takes a delivery from the shop's own address, whatever its trailing slash", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world, { storeUrl: "https://shop.example.com" });
    const { res, json } = await send(woo, order(), { "X-WC-Webhook-Source": "https://shop.example.com/" });
    expect(res.status).toBe(200);
    expect(json).toMatchObject({ ok: true, accepted: 1 });
    expect(json.kept).toBeUndefined();
  });

  it("takes a delivery from the shop's home when the Store URL was typed as one of its pages", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world, { storeUrl: "https://shop.example.com/shop" });
    const { json } = await send(woo, order(), { "X-WC-Webhook-Source": "https://shop.example.com/" });
    expect(json).toMatchObject({ ok: true, accepted: 1 });
    expect(json.kept).toBeUndefined();
  });

  it("keeps a delivery from a copy in a folder below the shop's address", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world, { storeUrl: "https://shop.example.com" });
    const { json } = await send(woo, order(), { "X-WC-Webhook-Source": "https://shop.example.com/staging/4821/" });
    expect(json.kept).toBeDefined();
    expect(await transfersOf(world, order().id)).toEqual([]);
  });

  it("takes deliveries from any site when no store URL is set, as before", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    const { json } = await send(woo, order(), { "X-WC-Webhook-Source": "https://staging.example.com/" });
    expect(json).toMatchObject({ ok: true, accepted: 1 });
  });
});
