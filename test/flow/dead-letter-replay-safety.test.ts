/**
 * Replaying kept deliveries without booking twice: a bulk replay leaves out a row whose reason told
 * the merchant to act by hand (or one kept before reasons said so), and "Mark handled" takes a row
 * out for good. A replayed test order is reported as ignored and stays waiting, with its alert. Two
 * replays at once cannot undo each other's result; 100 ids fit D1's bound parameters; a replayed row
 * is not alerted late; a `wrong_site` row is not taken once the Store URL is cleared.
 */
import { env, SELF } from "cloudflare:test";
import { and, count, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { findDeadLetter, keptWaiting, untoldKeptDeliveries } from "../../src/db/dead-letters";
import { deadLetters, mailOutbox } from "../../src/db/schema";
import { DISABLED_RETRY_WINDOW_MS } from "../../src/worker/routes/hooks";
import { replayDeadLetter } from "../../src/worker/routes/replay";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";
import { keptDelivery } from "../helpers/kept-delivery";
import { BASE, createWorld, eventually, settledTransfers, shopifyOrder, type World } from "../helpers/world";

const SECRET = "woo_secret_0123456789abcdef";

async function wooConnection(world: World, settings: Record<string, unknown> = {}): Promise<string> {
  const res = await world.api("/connections", {
    body: { connector: "woocommerce", name: "Woo shop", webhookSecret: SECRET, settings },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const flow = await world.api("/flows", {
    body: {
      name: "Woo to ledger",
      source: res.body.id,
      stage: "created",
      steps: [{ target: world.ledgerId, action: "createInvoice" }],
    },
  });
  expect(flow.status, JSON.stringify(flow.body)).toBe(201);
  return res.body.id as string;
}

function order(overrides: Record<string, unknown> = {}) {
  return { ...woocommerceFixture("orderTaxExclusive"), id: Math.floor(Math.random() * 1e9), ...overrides } as Record<string, any>;
}

/** Sends a WooCommerce delivery; returns the dead letter it was kept as. */
async function kept(woo: string, body: object, headers: Record<string, string | null> = {}): Promise<number> {
  const delivery = await woocommerceDelivery("order.updated", body, SECRET, headers);
  return keptDelivery(woo, () =>
    SELF.fetch(`${BASE}/hooks/${woo}`, { method: "POST", headers: delivery.headers, body: delivery.body }),
  );
}

const enable = (world: World, id: string, enabled = true) =>
  world.api(`/connections/${id}`, { method: "PATCH", body: { enabled } });
const replay = (world: World, id: number) => world.api(`/dead-letters/${id}/replay`, { method: "POST" });
const handle = (world: World, id: number) => world.api(`/dead-letters/${id}/handled`, { method: "POST" });

async function row(world: World, id: number) {
  const found = await findDeadLetter(env, world.tenantId, id);
  if (!found) throw new Error(`dead letter ${id} is gone`);
  return found;
}

/** As a row kept before this release: no `verified`, no `manual`, and an old reason. */
async function makeOlder(id: number, reason: string) {
  await env.DB.prepare("UPDATE dead_letters SET body = json_remove(body, '$.verified', '$.manual'), reason = ? WHERE id = ?")
    .bind(reason, id)
    .run();
}

function unmappable() {
  const body = order();
  body.line_items = [{ ...body.line_items[0], quantity: 1.5 }];
  return body;
}

describe("a bulk replay does not book again what the merchant entered by hand", () => {
  it("leaves out rows whose reason said to act by hand and older rows; they replay one by one, or are marked handled", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    await enable(world, woo, false);
    const fine = order();
    const fineId = await kept(woo, fine);
    const older = order();
    const olderId = await kept(woo, older);
    await makeOlder(
      olderId,
      'The connection "Woo shop" is disabled, so Orderly did not process it. Enable the connection in Orderly, then book this refund by hand.',
    );
    await enable(world, woo);
    const manualId = await kept(woo, unmappable());
    expect((await row(world, fineId)).body).toMatchObject({ manual: false });
    expect((await row(world, manualId)).body).toMatchObject({ manual: true });

    const listed = (await world.api("/dead-letters")).body.deadLetters;
    expect(listed.map((r: any) => [r.id, r.checkFirst, r.handled])).toEqual([
      [manualId, "manual", null],
      [olderId, "older", null],
      [fineId, null, null],
    ]);

    const bulk = await world.api("/dead-letters/replay", { body: { connectionId: woo } });
    expect(bulk.body.results.map((r: any) => [r.id, r.result])).toEqual([[fineId, "taken"]]);
    expect(bulk.body.remaining).toBe(0);
    expect((await world.api("/dead-letters/replay", { body: { connectionId: woo } })).body.results).toEqual([]);
    await settledTransfers(world, String(fine.id), 1);
    expect((await world.api(`/transfers?order=${older.id}`)).body.transfers).toEqual([]);

    // One at a time, it is still replayed: the person asked for this very row.
    expect((await replay(world, olderId)).body).toMatchObject({ result: "taken", accepted: 1 });
    await settledTransfers(world, String(older.id), 1);

    // The unmappable one was entered by hand: marked handled, it is out for good.
    const marked = await handle(world, manualId);
    expect(marked.status, JSON.stringify(marked.body)).toBe(200);
    expect(marked.body).toMatchObject({ id: manualId, handled: { by: 'API token "test"' } });
    expect((await handle(world, manualId)).body.handled).toEqual(marked.body.handled);
    const refused = await replay(world, manualId);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "not_replayable", message: expect.stringMatching(/marked it handled/) });
    const byId = await world.api("/dead-letters/replay", { body: { ids: [manualId] } });
    expect(byId.body.results).toEqual([expect.objectContaining({ id: manualId, result: "skipped", code: "not_replayable" })]);
    const detail = (await world.api(`/dead-letters/${manualId}`)).body;
    expect(detail).toMatchObject({ replayable: false, replayed: null, checkFirst: null, handled: marked.body.handled });

    // A row a replay took has nothing to mark.
    const taken = await handle(world, fineId);
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe("already_replayed");
    expect((await row(world, fineId)).body).not.toHaveProperty("handled");
  });

  it("marks a refused Shopify refund as to be booked by hand, and leaves it out of a bulk replay", async () => {
    const world = await createWorld();
    const res = await world.sendShopify("refunds/create", { id: 8001, order_id: "not a number" });
    const json = (await res.json()) as any;
    expect(json.kept?.reason, JSON.stringify(json)).toMatch(/book this refund by hand/);
    expect((await row(world, json.kept.deadLetterId)).body).toMatchObject({ manual: true });
    expect((await world.api("/dead-letters/replay", { body: { connectionId: world.shopId } })).body.results).toEqual([]);
  });

  it("refuses to mark a failed step handled", async () => {
    const world = await createWorld();
    const step = await database(env)
      .insert(deadLetters)
      .values({ transferId: "trf_x", tenantId: world.tenantId, body: { kind: "step" }, reason: "refused", createdAt: Date.now() })
      .returning({ id: deadLetters.id })
      .get();
    const res = await handle(world, step.id);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: "not_a_kept_delivery", message: expect.stringMatching(/transfers\/trf_x/) });
  });
});

describe("a replayed test order", () => {
  it("is reported ignored, not taken; stays waiting; raises the test-orders alert; and books once test orders are on", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    await enable(world, world.shopId, false);
    const test = shopifyOrder({ test: true, name: "#T-9" });
    const old = { "X-Shopify-Triggered-At": new Date(Date.now() - DISABLED_RETRY_WINDOW_MS - 60_000).toISOString() };
    const json = (await (await world.sendShopify("orders/paid", test, old)).json()) as any;
    const id = json.kept?.deadLetterId as number;
    expect(json.kept?.code, JSON.stringify(json)).toBe("connection_disabled");
    await enable(world, world.shopId);

    const res = await replay(world, id);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ id, result: "ignored", code: "test_order", replayed: false });
    expect(res.body.reason).toMatch(/test order/);
    const after = (await world.api(`/dead-letters/${id}`)).body;
    expect(after).toMatchObject({ replayable: true, replayed: null });
    expect(after.body).toMatchObject({ lastIgnored: { code: "test_order" } });
    const mail = await eventually(
      () =>
        database(env)
          .select()
          .from(mailOutbox)
          .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.subject, "%Test orders%")))
          .get(),
      "the test-orders alert",
    );
    expect(mail.text).toContain("#T-9");

    // Still waiting: a bulk replay takes it again, as ignored.
    const bulk = await world.api("/dead-letters/replay", { body: { connectionId: world.shopId } });
    expect(bulk.body.results).toEqual([expect.objectContaining({ id, result: "ignored", replayed: false })]);

    const on = await world.api(`/connections/${world.shopId}`, {
      method: "PATCH",
      body: { settings: { processTestOrders: true } },
    });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect((await replay(world, id)).body).toMatchObject({ result: "taken", accepted: 1 });
    await settledTransfers(world, String(test.id), 1);
    expect((await world.api(`/dead-letters/${id}`)).body.replayed).toMatchObject({ accepted: 1 });
  });
});

describe("replays at once", () => {
  it("two replays at once, one refused after the other took it: the row ends marked replayed", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    await enable(world, woo, false);
    const id = await kept(woo, order());
    await enable(world, woo);
    // The second replay read the row before the first one wrote; its connection check comes after.
    const stale = await row(world, id);
    const ctx = { env, waitUntil: () => undefined, tenantId: world.tenantId, by: "someone else" };
    const [taken, refused] = await Promise.all([
      replay(world, id),
      (async () => {
        await eventually(async () => "replayed" in ((await row(world, id)).body as object), "the first replay's write");
        await enable(world, woo, false);
        return replayDeadLetter(ctx, stale);
      })(),
    ]);
    expect(taken.body).toMatchObject({ result: "taken" });
    expect(refused).toMatchObject({ result: "refused", code: "connection_disabled" });
    const body = (await row(world, id)).body as any;
    expect(body.replayed).toMatchObject({ by: 'API token "test"', accepted: 1 });
    expect((await world.api(`/dead-letters/${id}`)).body.replayed).not.toBeNull();
  });

  it("a refusal written first is kept beside the replay that took the row", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    await enable(world, woo, false);
    const id = await kept(woo, order());
    const stale = await row(world, id);
    const ctx = { env, waitUntil: () => undefined, tenantId: world.tenantId, by: "first" };
    expect(await replayDeadLetter(ctx, stale)).toMatchObject({ result: "refused" });
    await enable(world, woo);
    expect(await replayDeadLetter({ ...ctx, by: "second" }, stale)).toMatchObject({ result: "taken" });
    expect((await row(world, id)).body).toMatchObject({ lastRefused: { by: "first" }, replayed: { by: "second" } });
  });
});

describe("bulk replay by ids", () => {
  it("takes 100 ids in one call (D1 binds at most 100 parameters)", async () => {
    const world = await createWorld();
    const ids = Array.from({ length: 100 }, (_, i) => 1_000_000 + i);
    const res = await world.api("/dead-letters/replay", { body: { ids } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results).toHaveLength(100);
    expect(res.body.results.every((r: any) => r.code === "not_found")).toBe(true);
  });
});

describe("after a replay", () => {
  it("the alert sweep leaves out a row a replay took (or marked handled) before its alert went out", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    await enable(world, woo, false);
    const taken = await kept(woo, order());
    const handled = await kept(woo, order());
    const waiting = await kept(woo, order());
    await enable(world, woo);
    expect((await replay(world, taken)).body.result).toBe("taken");
    // As if the route's alert had failed for all three.
    await env.DB.prepare("UPDATE dead_letters SET alerted_at = NULL WHERE tenant_id = ?").bind(world.tenantId).run();
    const untold = async () =>
      (await untoldKeptDeliveries(env, 0, Date.now() + 1000, 1000)).filter((u) => u.tenantId === world.tenantId).map((u) => u.id);
    expect(await untold()).toEqual([handled, waiting]);
    expect((await handle(world, handled)).status).toBe(200);
    expect(await untold()).toEqual([waiting]);
  });

  it("refuses a wrong_site row while the connection has no Store URL, and takes it once the shop's address is set", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world, { storeUrl: "https://shop.example.com" });
    const body = order();
    const id = await kept(woo, body, { "X-WC-Webhook-Source": "https://staging.example.com/" });
    expect((await world.api(`/connections/${woo}`, { method: "PATCH", body: { settings: {} } })).status).toBe(200);

    const res = await replay(world, id);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: "wrong_site",
      message: expect.stringMatching(/now has no Store URL.*Store URL first/),
    });
    expect((await world.api(`/transfers?order=${body.id}`)).body.transfers).toEqual([]);
    expect((await row(world, id)).body).not.toHaveProperty("replayed");

    // The shop moved to the address it came from: set so, it is taken.
    const moved = { settings: { storeUrl: "https://staging.example.com" } };
    expect((await world.api(`/connections/${woo}`, { method: "PATCH", body: moved })).status).toBe(200);
    expect((await replay(world, id)).body).toMatchObject({ result: "taken" });
  });

  it("keptWaiting counts only refused deliveries not replayed and not handled (the All shops figure)", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    await enable(world, woo, false);
    const [a, b] = [await kept(woo, order()), await kept(woo, order())];
    await kept(woo, order());
    await enable(world, woo);
    await replay(world, a);
    await handle(world, b);
    await database(env)
      .insert(deadLetters)
      .values({ transferId: "trf_y", tenantId: world.tenantId, body: { kind: "step" }, reason: "x", createdAt: Date.now() })
      .run();
    const waiting = await database(env)
      .select({ n: count() })
      .from(deadLetters)
      .where(and(eq(deadLetters.tenantId, world.tenantId), keptWaiting()))
      .get();
    expect(waiting?.n).toBe(1);
  });
});
