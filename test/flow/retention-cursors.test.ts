/**
 * Retention when part of it fails. Cursors that could not be read made the run start every
 * tenant's emails and webhook bodies from the oldest and write those cursors back there (weeks of
 * runs to walk forward again past millions of kept records); and one part failing for a tenant
 * (the orphaned-steps search, say) skipped that tenant's dead letters, emails and bodies too.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { deadLetters, mailOutbox, tenants, transfers } from "../../src/db/schema";
import { sendMail } from "../../src/mail/send-mail";
import { eventBodyKey, eventBodyPrefix } from "../../src/worker/event-bodies";
import { applyRetention, ORPHAN_STEP_SCAN } from "../../src/worker/retention";
import { withFailingD1, withRecordingD1 } from "../notifications/failing-d1";

const DAY = 86_400_000;

async function tenant(): Promise<string> {
  const id = `ten_${crypto.randomUUID().slice(0, 8)}`;
  await database(env).insert(tenants).values({ id, name: id, retentionDays: 7 });
  return id;
}

/** A completed transfer and a dead letter of the tenant, both a month old. */
async function expiredHistory(tenantId: string) {
  const old = Date.now() - 30 * DAY;
  const transferId = `tr_${crypto.randomUUID()}`;
  await database(env).insert(transfers).values({
    id: transferId,
    tenantId,
    flowId: "flw_1",
    sourceConnectionId: "con_shop",
    orderId: "1001",
    stage: "paid",
    stepCount: 0,
    status: "completed",
    createdAt: old,
    updatedAt: old,
  });
  await database(env).insert(deadLetters).values({ transferId: null, tenantId, body: {}, reason: "old", createdAt: old });
  return {
    transfers: () => database(env).select().from(transfers).where(eq(transfers.id, transferId)),
    deadLetters: () => database(env).select().from(deadLetters).where(eq(deadLetters.tenantId, tenantId)),
  };
}

/** `count` sent invoice e-mails of the tenant, a month old: records retention keeps, read past by its cursor. */
async function sentInvoiceMails(tenantId: string, count: number) {
  await env.DB.prepare(
    `INSERT INTO mail_outbox (id, tenant_id, provider, idempotency_key, from_address, to_addresses, subject, text, status, created_at)
     SELECT 'mail_' || ?1 || '_' || value, ?1, 'dev', 'orderly-tr_' || value || '-0', '', '["a@lund.dk"]', 'Invoice', 'Body', 'sent', ?2 + value
       FROM json_each(?3)`,
  )
    .bind(tenantId, Date.now() - 30 * DAY, JSON.stringify(Array.from({ length: count }, (_, i) => i)))
    .run();
}

const cursor = (topic: string) =>
  env.DB.prepare("SELECT last_sent_at AS at, samples FROM alert_state WHERE tenant_id = '' AND topic = ?").bind(topic).first();

describe("retention whose cursors cannot be read", () => {
  it("leaves the email and webhook-body cursors where they were, and still deletes expired transfers and dead letters", async () => {
    const tenantId = await tenant();
    // 600 sent invoice e-mails past the retention: their records are kept, so the cursor is what
    // stops every run reading them again. Two runs walk it to the last one.
    await sentInvoiceMails(tenantId, 600);
    await applyRetention(env);
    await applyRetention(env);
    const mailTopic = `retention:mail:${tenantId}`;
    const mailCursor = await cursor(mailTopic);
    expect(mailCursor).toMatchObject({ samples: JSON.stringify([`mail_${tenantId}_599`]) });

    // The webhook bodies' sweep has listed past an expired body (its cursor says so).
    const body = await eventBodyKey({
      tenantId,
      connectionId: "con_shop",
      orderId: "1001",
      deliveryId: "d1",
      receivedAt: Date.now() - 40 * DAY,
    });
    await env.BLOBS.put(body, "{}");
    const bodiesTopic = `retention:bodies:${tenantId}`;
    await env.DB.prepare("UPDATE alert_state SET last_sent_at = 0, samples = json_array(?2) WHERE tenant_id = '' AND topic = ?1")
      .bind(bodiesTopic, `${eventBodyPrefix(tenantId)}~`)
      .run();
    const bodiesCursor = await cursor(bodiesTopic);
    expect(bodiesCursor).not.toBeNull();
    const history = await expiredHistory(tenantId);

    await applyRetention(withFailingD1(/topic LIKE 'retention:%'/));
    expect(await cursor(mailTopic)).toEqual(mailCursor);
    expect(await cursor(bodiesTopic)).toEqual(bodiesCursor);
    expect(await env.BLOBS.head(body)).not.toBeNull();
    // What goes by its own age still goes.
    expect(await history.transfers()).toEqual([]);
    expect(await history.deadLetters()).toEqual([]);
  });
});

describe("retention with one damaged cursor row", () => {
  it("reads the other cursors (before, one unreadable row stopped every cursor part of every tenant)", async () => {
    const tenantId = await tenant();
    await sentInvoiceMails(tenantId, 600);
    await applyRetention(env);
    const mailTopic = `retention:mail:${tenantId}`;
    expect(await cursor(mailTopic)).toMatchObject({ samples: JSON.stringify([`mail_${tenantId}_499`]) });
    // Another tenant's cursor row damaged: this tenant's cursor still goes on from where it was.
    await env.DB.prepare("INSERT INTO alert_state (tenant_id, topic, samples, last_sent_at) VALUES ('', ?1, 'not json', 1)")
      .bind(`retention:mail:ten_damaged_${tenantId}`)
      .run();
    await applyRetention(env);
    expect(await cursor(mailTopic)).toMatchObject({ samples: JSON.stringify([`mail_${tenantId}_599`]) });
  });
});

describe("a part of a tenant's retention that fails", () => {
  it("the orphaned-steps search (once a run, for every tenant) failing skips neither the tenant's dead letters nor its emails", async () => {
    const tenantId = await tenant();
    const history = await expiredHistory(tenantId);
    await sendMail(env, { tenantId, idempotencyKey: "alert/x", email: { to: ["ops@lund.dk"], subject: "S", text: "T" } });

    await applyRetention(withFailingD1(/FROM transfers t WHERE t\.id = s\.transfer_id/), Date.now() + 8 * DAY);
    expect(await history.deadLetters()).toEqual([]);
    expect(await history.transfers()).toEqual([]);
    expect(await database(env).select().from(mailOutbox).where(eq(mailOutbox.tenantId, tenantId))).toEqual([]);
  });

  it("the expired transfers' read failing skips neither the tenant's dead letters nor its emails", async () => {
    const tenantId = await tenant();
    const history = await expiredHistory(tenantId);
    await sendMail(env, { tenantId, idempotencyKey: "alert/y", email: { to: ["ops@lund.dk"], subject: "S", text: "T" } });

    await applyRetention(withFailingD1(/^SELECT id FROM transfers WHERE tenant_id = \?/), Date.now() + 8 * DAY);
    expect(await history.transfers()).toHaveLength(1);
    expect(await history.deadLetters()).toEqual([]);
    expect(await database(env).select().from(mailOutbox).where(eq(mailOutbox.tenantId, tenantId))).toEqual([]);
  });
});

describe("the orphaned steps' cursor", () => {
  it("is one row for all tenants, stored with the other cursors in the run's last write", async () => {
    const tenantId = await tenant();
    const transferId = `tr_${crypto.randomUUID()}`;
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO transfers (id, tenant_id, flow_id, source_connection_id, order_id, stage, status, step_count, created_at, updated_at)
       VALUES (?1, ?2, 'flw_1', 'con_shop', '1001', 'paid', 'running', ?3, ?4, ?4)`,
    )
      .bind(transferId, tenantId, ORPHAN_STEP_SCAN, now)
      .run();
    await env.DB.prepare(
      `INSERT INTO transfer_steps (transfer_id, step_index, tenant_id, target_connection_id, action, status, updated_at)
       SELECT ?1, value, ?2, 'con_ledger', 'createInvoice', 'pending', ?3 FROM json_each(?4)`,
    )
      .bind(transferId, tenantId, now, JSON.stringify(Array.from({ length: ORPHAN_STEP_SCAN }, (_, i) => i)))
      .run();
    const rowids = await env.DB.prepare(
      "SELECT min(rowid) AS first, max(rowid) AS last FROM transfer_steps WHERE transfer_id = ?",
    )
      .bind(transferId)
      .first<{ first: number; last: number }>();
    await env.DB.prepare(
      `INSERT INTO alert_state (tenant_id, topic, pending, last_sent_at, samples) VALUES ('', 'retention:orphan-steps', 0, 1, json_array(?1))
       ON CONFLICT (tenant_id, topic) DO UPDATE SET samples = excluded.samples`,
    )
      .bind(String(rowids!.first - 1))
      .run();

    const { env: recording, statements } = withRecordingD1();
    await applyRetention(recording, now);
    // A full page: the cursor is its last row, written by the one statement that stores every cursor.
    expect(await cursor("retention:orphan-steps")).toEqual({ at: now, samples: JSON.stringify([String(rowids!.last)]) });
    expect(statements.filter((sql) => sql.includes("INTO alert_state"))).toHaveLength(1);
  });

  it("migration 0011 deletes the per-tenant cursors it replaces, and keeps the others", async () => {
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0011_"));
    expect(migration).toBeDefined();
    const tenantId = await tenant();
    for (const topic of [`retention:steps:${tenantId}`, `retention:steps:${tenantId}_2`, `retention:mail:${tenantId}`])
      await env.DB.prepare(
        "INSERT INTO alert_state (tenant_id, topic, pending, last_sent_at, samples) VALUES ('', ?1, 0, 5, '[\"7\"]')",
      )
        .bind(topic)
        .run();
    // A tenant's own alert row of the same name is not a cursor.
    await env.DB.prepare("INSERT INTO alert_state (tenant_id, topic, pending, samples) VALUES (?1, 'retention:steps:x', 0, '[]')")
      .bind(tenantId)
      .run();
    // Its statements again (the index is already gone: it drops it only if it is there).
    for (const query of migration!.queries) await env.DB.prepare(query).run();
    expect(await cursor(`retention:steps:${tenantId}`)).toBeNull();
    expect(await cursor(`retention:steps:${tenantId}_2`)).toBeNull();
    expect(await cursor(`retention:mail:${tenantId}`)).not.toBeNull();
    const own = await env.DB.prepare("SELECT 1 AS n FROM alert_state WHERE tenant_id = ? AND topic = 'retention:steps:x'")
      .bind(tenantId)
      .first();
    expect(own).not.toBeNull();
  });
});
