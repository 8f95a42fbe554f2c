/**
 * Retention of webhook bodies kept in R2 (over the inline limit) that no transfer names: an event
 * every flow ignored, or one that came before any flow existed. Their R2 objects were kept for
 * ever: transfer retention deletes a body only with a transfer's received snapshot.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { deadLetters, snapshots, tenants, transfers } from "../../src/db/schema";
import { eventBodyKey, eventBodyPrefix, NAMED_BODIES, parseEventBodyKey } from "../../src/worker/event-bodies";
import { applyRetention } from "../../src/worker/retention";

const DAY = 86_400_000;
const CONNECTION = "con_shop";

async function tenant(retentionDays: number): Promise<string> {
  const id = `ten_${crypto.randomUUID().slice(0, 8)}`;
  await database(env).insert(tenants).values({ id, name: id, retentionDays });
  return id;
}

/** Stores a body as the webhook route does, received `daysAgo` days before `now`. */
async function body(tenantId: string, orderId: string, now: number, daysAgo: number): Promise<string> {
  const key = await eventBodyKey({
    tenantId,
    connectionId: CONNECTION,
    orderId,
    deliveryId: crypto.randomUUID(),
    receivedAt: now - daysAgo * DAY,
  });
  await env.BLOBS.put(key, "{}");
  return key;
}

/** A transfer of the order whose received snapshot names `key`. */
async function transferNaming(
  tenantId: string,
  orderId: string,
  key: string,
  fields: { updatedAt: number; status: "completed" | "running" },
) {
  const id = `tr_${crypto.randomUUID()}`;
  await database(env)
    .insert(transfers)
    .values({
      id,
      tenantId,
      flowId: "flw_1",
      sourceConnectionId: CONNECTION,
      orderId,
      stage: "paid",
      stepCount: 1,
      createdAt: fields.updatedAt,
      ...fields,
    });
  await database(env)
    .insert(snapshots)
    .values({ transferId: id, tenantId, kind: "received", body: null, blobKey: key, size: 2, createdAt: fields.updatedAt });
  return id;
}

const exists = async (key: string) => (await env.BLOBS.head(key)) !== null;

describe("retention of webhook bodies no transfer names", () => {
  it("deletes one past the retention (and the dedupe retention), and keeps younger ones", async () => {
    const now = Date.now();
    // 7 days of history, but the order's object keeps the key 30 days (DEDUPE_RETENTION_DAYS).
    const short = await tenant(7);
    const long = await tenant(90);
    const expired = await body(short, "1001", now, 32);
    const dedupe = await body(short, "1002", now, 20);
    const young = await body(short, "1003", now, 1);
    const kept = await body(long, "1004", now, 60);

    const deleted = await applyRetention(env, now);
    expect(await exists(expired)).toBe(false);
    expect(await exists(dedupe)).toBe(true);
    expect(await exists(young)).toBe(true);
    expect(await exists(kept)).toBe(true);
    expect(deleted.event_bodies).toBe(1);

    await applyRetention(env, now + 75 * DAY);
    expect(await exists(dedupe)).toBe(false);
    expect(await exists(young)).toBe(false);
    expect(await exists(kept)).toBe(false);
  });

  it("keeps a body a kept transfer names, whatever its age, until transfer retention deletes it with the transfer", async () => {
    const now = Date.now();
    const tenantId = await tenant(7);
    const named = await body(tenantId, "2001", now, 40);
    const running = await body(tenantId, "2002", now, 40);
    const alone = await body(tenantId, "2001", now, 40);
    const recent = await transferNaming(tenantId, "2001", named, { updatedAt: now - DAY, status: "completed" });
    await transferNaming(tenantId, "2002", running, { updatedAt: now - 40 * DAY, status: "running" });

    await applyRetention(env, now);
    expect(await exists(named)).toBe(true);
    expect(await exists(running)).toBe(true);
    // Of the same order, but no transfer names it.
    expect(await exists(alone)).toBe(false);

    await database(env)
      .update(transfers)
      .set({ updatedAt: now - 8 * DAY })
      .where(eq(transfers.id, recent));
    await applyRetention(env, now);
    expect(await database(env).select().from(transfers).where(eq(transfers.id, recent))).toEqual([]);
    expect(await exists(named)).toBe(false);
    expect(await exists(running)).toBe(true);
  });

  it("never touches a kept dead letter's body, a key of the old layout, or a body whose order id was hashed", async () => {
    const now = Date.now();
    const tenantId = await tenant(7);
    const oldLayout = `raw/${tenantId}/${CONNECTION}/${crypto.randomUUID()}`;
    const refused = `raw/${tenantId}/${CONNECTION}/refused-${now}-${crypto.randomUUID()}`;
    await env.BLOBS.put(oldLayout, "{}");
    await env.BLOBS.put(refused, "{}");
    await database(env)
      .insert(deadLetters)
      .values({
        transferId: null,
        tenantId,
        body: { kind: "refused_delivery", raw: { body: null, blobKey: refused, size: 2 } },
        reason: "connection disabled",
        // Kept at the run below: it is that run's newest.
        createdAt: now + 100 * DAY,
      });
    const hashed = await body(tenantId, "9".repeat(300), now, 40);
    expect(parseEventBodyKey(tenantId, hashed)).toEqual({ day: expect.any(String), orderId: null });

    await applyRetention(env, now + 100 * DAY);
    expect(await exists(oldLayout)).toBe(true);
    expect(await exists(refused)).toBe(true);
    expect(await exists(hashed)).toBe(true);
  });

  it("lists a quiet tenant's bodies once a day, and goes on from its cursor when a page is full", async () => {
    // Midday (UTC): the runs a minute apart below see the same day's boundary.
    const now = Math.floor(Date.now() / DAY) * DAY + DAY / 2;
    const tenantId = await tenant(7);
    const prefix = eventBodyPrefix(tenantId);
    const keys: string[] = [];
    for (let i = 0; i < 1003; i += 100)
      keys.push(
        ...(await Promise.all(Array.from({ length: Math.min(100, 1003 - i) }, (_, k) => body(tenantId, `o${i + k}`, now, 40)))),
      );
    const young = await body(tenantId, "o-young", now, 1);
    let lists = 0;
    const blobs = new Proxy(env.BLOBS, {
      get(target, prop) {
        if (prop === "list")
          return (options?: R2ListOptions) => {
            if (options?.prefix === prefix) lists++;
            return target.list(options);
          };
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const run = (at: number) => applyRetention({ ...env, BLOBS: blobs }, at);

    expect((await run(now)).event_bodies).toBe(1000);
    expect((await run(now)).event_bodies).toBe(3);
    expect((await env.BLOBS.list({ prefix })).objects.map((o) => o.key)).toEqual([young]);
    expect(lists).toBe(2);
    // The listing reached the young body: nothing more expires before tomorrow.
    await run(now);
    await run(now + 60_000);
    expect(lists).toBe(2);
    await run(now + DAY);
    expect(lists).toBe(3);
  });

  it("finds the transfers naming a page of bodies through the order's index, not by reading the snapshots", async () => {
    const rows = await env.DB.prepare(`EXPLAIN QUERY PLAN ${NAMED_BODIES}`)
      .bind("ten_plan", JSON.stringify(["1"]), JSON.stringify(["raw/x"]))
      .all<{ detail: string }>();
    const detail = rows.results.map((r) => r.detail).join("\n");
    expect(detail).toMatch(/SEARCH t USING (COVERING )?INDEX transfers_tenant_order \(tenant_id=\? AND order_id=\?\)/);
    expect(detail).toMatch(/SEARCH s USING INDEX snapshots_transfer \(transfer_id=\?\)/);
    expect(detail).not.toMatch(/SCAN (s|snapshots)\b/);
  });
});
