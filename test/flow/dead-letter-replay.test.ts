/**
 * Replaying a kept delivery (POST /api/v1/dead-letters/{id}/replay, and the bulk POST /replay):
 * it runs through the path a new delivery takes after its signature check, under its own delivery
 * id, so the order books it once however often it comes. Refused again, the row stays with the new
 * reason and no second alert; one kept unchecked is checked against the connection's current secret.
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { toBase64 } from "../../src/connectors/signatures";
import { database } from "../../src/db/client";
import { encryptSecret } from "../../src/db/credentials";
import { alertState, deadLetters, mailOutbox } from "../../src/db/schema";
import type { InboxDO } from "../../src/durable/inbox-do";
import { orderObjectName, orderStub } from "../../src/durable/order-types";
import { inboxFor } from "../../src/worker/routes/hooks";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";
import { keptDelivery } from "../helpers/kept-delivery";
import { BASE, createWorld, eventually, settledTransfers, type World } from "../helpers/world";

const SECRET = "woo_secret_0123456789abcdef";

async function wooConnection(world: World): Promise<string> {
  const res = await world.api("/connections", { body: { connector: "woocommerce", name: "Woo shop", webhookSecret: SECRET } });
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

/** Sends a delivery; returns the dead letter it was kept as. */
async function kept(woo: string, body: object, secret = SECRET, headers: Record<string, string | null> = {}): Promise<number> {
  const delivery = await woocommerceDelivery("order.updated", body, secret, headers);
  return keptDelivery(woo, () =>
    SELF.fetch(`${BASE}/hooks/${woo}`, { method: "POST", headers: delivery.headers, body: delivery.body }),
  );
}

const enable = (world: World, woo: string, enabled = true) =>
  world.api(`/connections/${woo}`, { method: "PATCH", body: { enabled } });
const replay = (world: World, id: number) => world.api(`/dead-letters/${id}/replay`, { method: "POST" });

async function tenantDeadLetters(world: World) {
  return database(env).select().from(deadLetters).where(eq(deadLetters.tenantId, world.tenantId)).all();
}

/** Hands on whatever the order's inbox shard holds now, then the order object's events. */
async function orderEvents(woo: string, orderId: number): Promise<string[]> {
  const name = orderObjectName(woo, String(orderId));
  await runInDurableObject(inboxFor(env, name), (instance: InboxDO) =>
    (instance as unknown as { forward(): Promise<void> }).forward(),
  );
  return runInDurableObject(orderStub(env, name), (_instance, state) =>
    state.storage.sql
      .exec<{ delivery_id: string }>("SELECT delivery_id FROM events")
      .toArray()
      .map((r) => r.delivery_id),
  );
}

describe("replaying a kept delivery", () => {
  it("books an order kept while its connection was disabled once it is enabled, once however often it is replayed or re-sent", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    expect((await enable(world, woo, false)).status).toBe(200);
    const body = order({ number: "W-7001" });
    const id = await kept(woo, body);

    // Still disabled: refused with what to do, the row stays, and nothing new is kept.
    const early = await replay(world, id);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe("connection_disabled");
    expect(early.body.error.message).toMatch(/Enable the connection first/);
    expect((await tenantDeadLetters(world)).map((r) => r.id)).toEqual([id]);

    expect((await enable(world, woo)).status).toBe(200);
    const first = await replay(world, id);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toEqual({ id, result: "taken", accepted: 1 });
    const [transfer] = await settledTransfers(world, String(body.id), 1);
    expect(transfer.status).toBe("completed");

    const row = (await world.api(`/dead-letters/${id}`)).body;
    expect(row.replayed).toMatchObject({ by: 'API token "test"', accepted: 1 });
    expect(row.replayed.at).toBeGreaterThan(0);

    // Again, and the shop sending the very same delivery again: one event, one transfer.
    expect((await replay(world, id)).body).toMatchObject({ result: "taken" });
    const res = await SELF.fetch(`${BASE}/hooks/${woo}`, {
      method: "POST",
      headers: row.body.headers,
      body: row.rawBody,
    });
    expect(res.status).toBe(200);
    expect(await orderEvents(woo, body.id)).toHaveLength(1);
    expect((await world.api(`/transfers?order=${body.id}`)).body.transfers).toHaveLength(1);
    expect(await tenantDeadLetters(world)).toHaveLength(1);
  });

  it("leaves a still unmappable delivery kept with the new reason, no new row and no second alert", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    const body = order();
    body.line_items = [{ ...body.line_items[0], quantity: 1.5 }];
    const id = await kept(woo, body);
    const mails = () =>
      database(env)
        .select()
        .from(mailOutbox)
        .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.subject, "%kept, not booked%")))
        .all();
    await eventually(async () => (await mails()).length === 1, "the first alert's mail");
    const alerted = (await tenantDeadLetters(world))[0]?.alertedAt;
    expect(alerted).toBeGreaterThan(0);
    const alertsBefore = await database(env).select().from(alertState).where(eq(alertState.tenantId, world.tenantId)).all();

    const res = await replay(world, id);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: "woocommerce_payload_invalid", details: { deadLetterId: id } });
    expect(res.body.error.message).toMatch(/line_items\.0\.quantity/);

    const rows = await tenantDeadLetters(world);
    expect(rows.map((r) => r.id)).toEqual([id]);
    expect(rows[0]?.alertedAt).toBe(alerted);
    expect(rows[0]?.reason).toBe(res.body.error.message);
    expect(rows[0]?.body).toMatchObject({ code: "woocommerce_payload_invalid", lastRefused: { by: 'API token "test"' } });
    expect(await database(env).select().from(alertState).where(eq(alertState.tenantId, world.tenantId)).all()).toEqual(
      alertsBefore,
    );
    expect(await mails()).toHaveLength(1);
    const listed = (await world.api("/dead-letters")).body.deadLetters;
    expect(listed).toEqual([expect.objectContaining({ id, replayable: true, replayed: null })]);
  });

  it("checks one kept unchecked (its secret unreadable) against the connection's secret entered again", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    const replaced = { CREDENTIALS_KEY: toBase64(crypto.getRandomValues(new Uint8Array(32))) };
    await env.DB.prepare("UPDATE connections SET webhook_secret = ? WHERE id = ?")
      .bind(await encryptSecret(replaced, SECRET), woo)
      .run();
    const body = order();
    const genuine = await kept(woo, body);
    const forged = await kept(woo, order(), "not the shop's secret");
    const unsigned = await kept(woo, order(), SECRET, { "X-WC-Webhook-Signature": null });
    expect((await tenantDeadLetters(world)).map((r) => (r.body as any).verified)).toEqual([false, false, false]);

    // Its secret is still unreadable: nothing to check against.
    const early = await replay(world, genuine);
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe("connection_secret_unreadable");
    expect(early.body.error.message).toMatch(/still cannot read the webhook secret.*enter the webhook secret again/);

    expect((await world.api(`/connections/${woo}`, { method: "PATCH", body: { webhookSecret: SECRET } })).status).toBe(200);
    const taken = await replay(world, genuine);
    expect(taken.status, JSON.stringify(taken.body)).toBe(200);
    expect(taken.body).toMatchObject({ result: "taken", accepted: 1 });
    await settledTransfers(world, String(body.id), 1);

    const bad = await replay(world, forged);
    expect(bad.status).toBe(409);
    expect(bad.body.error.code).toBe("signature_invalid");
    expect(bad.body.error.message).toMatch(/signature was not checked when it came.*does not match the body/);
    const none = await replay(world, unsigned);
    expect(none.body.error.code).toBe("signature_invalid");
    expect(none.body.error.message).toMatch(/X-WC-Webhook-Signature header is missing/);
    // Refused, they stay unchecked: a later replay checks them again.
    const after = await tenantDeadLetters(world);
    expect(after.find((r) => r.id === forged)?.body).toMatchObject({ verified: false });
    expect(after.find((r) => r.id === genuine)?.body).toMatchObject({ verified: true, replayed: { accepted: 1 } });
  });

  it("replays a connection's kept deliveries in bounded calls with a cursor, oldest first", async () => {
    const world = await createWorld();
    const woo = await wooConnection(world);
    await enable(world, woo, false);
    const orders = [order(), order(), order()];
    const ids = [];
    for (const o of orders) ids.push(await kept(woo, o));
    await enable(world, woo);
    const bad = order();
    bad.line_items = [{ ...bad.line_items[0], quantity: 1.5 }];
    const badId = await kept(woo, bad);

    const first = await world.api("/dead-letters/replay", { body: { connectionId: woo, limit: 2 } });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.results.map((r: any) => [r.id, r.result])).toEqual([
      [ids[0], "taken"],
      [ids[1], "taken"],
    ]);
    expect(first.body).toMatchObject({ remaining: 1, nextCursor: String(ids[1]) });
    const second = await world.api("/dead-letters/replay", {
      body: { connectionId: woo, limit: 2, cursor: first.body.nextCursor },
    });
    // The unmappable one's reason offers entering it by hand: a bulk replay leaves it out.
    expect(second.body.results.map((r: any) => [r.id, r.result])).toEqual([[ids[2], "taken"]]);
    expect(second.body).toMatchObject({ remaining: 0, nextCursor: null });
    for (const o of orders) await settledTransfers(world, String(o.id), 1);
    const again = await world.api("/dead-letters/replay", { body: { connectionId: woo } });
    expect(again.body.results).toEqual([]);
    // Named by id, it is replayed (and refused again, still unmappable).
    const byId = await world.api("/dead-letters/replay", { body: { ids: [badId] } });
    expect(byId.body.results.map((r: any) => [r.id, r.result])).toEqual([[badId, "refused"]]);

    const invalid = await world.api("/dead-letters/replay", { body: { ids: [ids[0]], connectionId: woo } });
    expect(invalid.status).toBe(400);
    expect((await world.api("/dead-letters/replay", { body: { connection: woo } })).status).toBe(400);
  });

  it("replays only the tenant's own dead letters", async () => {
    const world = await createWorld();
    const other = await createWorld();
    const woo = await wooConnection(world);
    await enable(world, woo, false);
    const id = await kept(woo, order());
    await enable(world, woo);
    expect((await replay(other, id)).status).toBe(404);
    const bulk = await other.api("/dead-letters/replay", { body: { ids: [id] } });
    expect(bulk.body.results).toEqual([expect.objectContaining({ id, result: "skipped", code: "not_found" })]);
    expect((await other.api("/dead-letters/replay", { body: { connectionId: woo } })).body.results).toEqual([]);
    expect((await world.api(`/dead-letters/${id}`)).body.replayed).toBeNull();
  });

  it("refuses to replay a failed step: its transfer is retried instead", async () => {
    const world = await createWorld();
    const row = await database(env)
      .insert(deadLetters)
      .values({
        transferId: "trf_x",
        tenantId: world.tenantId,
        body: { kind: "step", transferId: "trf_x" },
        reason: "the ledger refused it",
        createdAt: Date.now(),
      })
      .returning({ id: deadLetters.id })
      .get();
    const res = await replay(world, row.id);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: "not_replayable", message: expect.stringMatching(/retry its transfer/) });
  });
});
