/**
 * A kept delivery's alert is told exactly once even when the webhook route's try fails: the
 * dead letter's `alerted_at` is its marker, and the cron raises any kept delivery of the last 48
 * hours whose alert was never counted.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { alertState, deadLetters } from "../../src/db/schema";
import { alertRefusedDelivery, sweepUntoldRefusals } from "../../src/notifications/refused-alerts";
import { runNotifications } from "../../src/worker/cron";
import { withFailingD1 } from "./failing-d1";
import { HOUR, MINUTE, outbox, type Seeded, seedTenant, T0 } from "./notification-helpers";

const WINDOW = 15 * MINUTE;

/** Local development: the dev outbox counts as sent (deployed, a tenant with no mail provider gets failed rows). */
const local = { ...env, DEV_SEED_TOKEN: "local" } as Env;

/** A dead letter as the webhook route keeps it (no alert stored yet). */
async function keep(world: Seeded, at: number, order = "#1001") {
  const row = await database(env)
    .insert(deadLetters)
    .values({
      transferId: null,
      tenantId: world.tenantId,
      body: { kind: "refused_delivery", code: "connection_disabled", connectionId: world.shop, connector: "woocommerce", order },
      reason: `The connection "Shop" is disabled, so the order was not processed (${order}).`,
      createdAt: at,
    })
    .returning({ id: deadLetters.id })
    .get();
  const refused = { tenantId: world.tenantId, connectionId: world.shop, deadLetterId: row.id, order, reason: "Disabled." };
  return { id: row.id, refused };
}

async function alertedAt(id: number) {
  const row = await env.DB.prepare("SELECT alerted_at FROM dead_letters WHERE id = ?")
    .bind(id)
    .first<{ alerted_at: number | null }>();
  return row?.alerted_at;
}

async function pending(world: Seeded) {
  const row = await database(env)
    .select({ pending: alertState.pending })
    .from(alertState)
    .where(and(eq(alertState.tenantId, world.tenantId), eq(alertState.topic, `refused:${world.shop}`)))
    .get();
  return row?.pending;
}

describe("a kept delivery whose alert the webhook route could not store", () => {
  it("is raised by the cron, once", async () => {
    const world = await seedTenant();
    const kept = await keep(world, T0);
    // A brief D1 error on the throttle's upsert: the route's try logs it and stores nothing.
    await alertRefusedDelivery(withFailingD1(/alert_state/, local), kept.refused, T0);
    expect(await outbox(world.tenantId)).toEqual([]);
    expect(await alertedAt(kept.id)).toBeNull();

    expect(await sweepUntoldRefusals(local, T0 + 5 * MINUTE, WINDOW)).toBe(1);
    const mails = await outbox(world.tenantId);
    expect(mails.map((m) => [m.status, m.subject])).toEqual([["sent", '[Orderly] Order #1001 from "Shop" was kept, not booked']]);
    // The sweeper reads the reason and the link the dead letter keeps.
    expect(mails[0]!.text).toContain(`/dead-letters/${kept.id}`);
    expect(mails[0]!.text).toContain('The connection "Shop" is disabled');
    expect(await alertedAt(kept.id)).toBe(T0 + 5 * MINUTE);

    // Told: the next run raises nothing, and nothing waits for a grouped email.
    expect(await sweepUntoldRefusals(local, T0 + 10 * MINUTE, WINDOW)).toBe(0);
    expect(await pending(world)).toBe(0);
  });

  it("counts a delivery the route told and the cron swept only once", async () => {
    const world = await seedTenant();
    const first = await keep(world, T0, "#1001");
    const second = await keep(world, T0 + MINUTE, "#1002");
    await alertRefusedDelivery(local, first.refused, T0);
    expect(await alertedAt(first.id)).toBe(T0);

    // The cron comes before the route's try of the second: it raises the second only.
    expect(await sweepUntoldRefusals(local, T0 + 2 * MINUTE, WINDOW)).toBe(1);
    await alertRefusedDelivery(local, second.refused, T0 + 3 * MINUTE);
    expect(await pending(world)).toBe(1);
    expect(await outbox(world.tenantId)).toHaveLength(1);
  });

  it("is counted again when its first email could be neither sent nor stored (its marker given back)", async () => {
    const world = await seedTenant();
    const kept = await keep(world, T0);
    await alertRefusedDelivery(withFailingD1(/"mail_outbox"/, local), kept.refused, T0);
    expect(await outbox(world.tenantId)).toEqual([]);
    expect(await alertedAt(kept.id)).toBeNull();

    // Counted into the window the lost email opened, and told in its grouped email.
    expect(await sweepUntoldRefusals(local, T0 + MINUTE, WINDOW)).toBe(1);
    expect(await pending(world)).toBe(1);
  });

  it("leaves alone a step's dead letter, one told long ago, and one from before the cron's look-back", async () => {
    const world = await seedTenant();
    await database(env)
      .insert(deadLetters)
      .values({
        transferId: "tr_x",
        tenantId: world.tenantId,
        body: { transferId: "tr_x" },
        reason: "Out of retries.",
        createdAt: T0,
      });
    const told = await keep(world, T0);
    await database(env).update(deadLetters).set({ alertedAt: T0 }).where(eq(deadLetters.id, told.id));
    await keep(world, T0 - 49 * HOUR);
    expect(await sweepUntoldRefusals(local, T0 + MINUTE, WINDOW)).toBe(0);
    expect(await outbox(world.tenantId)).toEqual([]);
  });

  it("is raised by the notification cron", async () => {
    const world = await seedTenant();
    const now = Date.now();
    const kept = await keep(world, now - MINUTE);
    await runNotifications(local, now);
    expect(await alertedAt(kept.id)).toBe(now);
    expect((await outbox(world.tenantId)).map((m) => m.subject)).toEqual([
      '[Orderly] Order #1001 from "Shop" was kept, not booked',
    ]);
  });
});

describe("migration 0010", () => {
  it("counts dead letters kept before it as told, so the first cron after the upgrade mails none of them", async () => {
    // Its statements, run on a scratch table shaped as dead_letters was before it.
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0010_"));
    expect(migration).toBeDefined();
    const scratch = `dl_pre_0010_${crypto.randomUUID().slice(0, 8)}`;
    await env.DB.exec(
      `CREATE TABLE ${scratch} (id integer PRIMARY KEY AUTOINCREMENT NOT NULL, transfer_id text, tenant_id text, body text NOT NULL, reason text, created_at integer NOT NULL)`,
    );
    await env.DB.prepare(
      `INSERT INTO ${scratch} (tenant_id, body, reason, created_at) VALUES ('t', '{"kind":"refused_delivery"}', 'r', ?)`,
    )
      .bind(T0)
      .run();
    for (const query of migration!.queries)
      await env.DB.prepare(
        query.replaceAll("`dead_letters`", scratch).replaceAll("dead_letters_unalerted", `${scratch}_u`),
      ).run();
    const rows = await env.DB.prepare(`SELECT alerted_at, created_at FROM ${scratch}`).all<{
      alerted_at: number;
      created_at: number;
    }>();
    expect(rows.results).toEqual([{ alerted_at: T0, created_at: T0 }]);
    await env.DB.exec(`DROP TABLE ${scratch}`);
  });
});
