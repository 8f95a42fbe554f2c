import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { attempts, snapshots, transferSteps, transfers } from "../../src/db/schema";
import { applyRetention, setRetention } from "../../src/worker/retention";
import { createWorld, eventually, settledTransfers, shopifyOrder } from "../helpers/world";

describe("bulk replay", () => {
  it("retries every failed transfer matching a filter once the cause is fixed, with one effect each", async () => {
    const world = await createWorld();
    await world.api(`/connections/${world.ledgerId}`, { method: "PATCH", body: { settings: { rejectOrdersAbove: 100 } } });
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    const orders = [shopifyOrder(), shopifyOrder(), shopifyOrder()];
    for (const order of orders) await world.sendShopify("orders/paid", order);
    for (const order of orders) expect((await settledTransfers(world, String(order.id), 1))[0].status).toBe("failed");

    await world.api(`/connections/${world.ledgerId}`, { method: "PATCH", body: { settings: {} } });
    const first = await world.api("/transfers/retry", { body: { limit: 2 } });
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ queued: 2, skipped: [] });
    const second = await world.api("/transfers/retry", { body: { limit: 2, cursor: first.body.nextCursor } });
    expect(second.body).toMatchObject({ queued: 1, nextCursor: null });
    await eventually(async () => {
      const list = (await world.api("/transfers?status=completed")).body.transfers;
      return list.length === 3 ? list : undefined;
    }, "all three to complete");
    // Replaying again (now from the start) adopts: still exactly one invoice per order.
    const again = await world.api("/transfers/retry", { body: { status: "completed", fromStart: true } });
    expect(again.body.queued).toBe(3);
    await eventually(
      async () => ((await world.api("/transfers?status=completed")).body.transfers.length === 3 ? true : undefined),
      "re-runs to finish",
    );
    const invoices = (await world.api("/ledger/invoices")).body.invoices;
    expect(invoices.map((i: { orderNumber: string }) => i.orderNumber).sort()).toEqual(orders.map((o) => o.name).sort());
    expect((await world.api("/transfers/retry", { body: { status: "completed" } })).status).toBe(400);
  });
});

describe("retention", () => {
  it("deletes history older than the tenant's retention, in bounded batches, and keeps newer and unfinished transfers", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    await setRetention(env, world.tenantId, 7);
    const db = database(env);
    expect((await db.select().from(snapshots).where(eq(snapshots.transferId, transfer.id))).length).toBeGreaterThan(0);

    // Nothing is old yet.
    await applyRetention(env);
    expect(await db.select().from(transfers).where(eq(transfers.id, transfer.id))).toHaveLength(1);
    // Eight days later it is.
    const deleted = await applyRetention(env, Date.now() + 8 * 86_400_000);
    expect(deleted.transfers).toBeGreaterThanOrEqual(1);
    expect(await db.select().from(transfers).where(eq(transfers.id, transfer.id))).toHaveLength(0);
    expect(await db.select().from(snapshots).where(eq(snapshots.transferId, transfer.id))).toHaveLength(0);
    expect(await db.select().from(attempts).where(eq(attempts.transferId, transfer.id))).toHaveLength(0);
    expect(await db.select().from(transferSteps).where(eq(transferSteps.transferId, transfer.id))).toHaveLength(0);
  });

  it("keeps a webhook's raw body in R2 while another transfer made from it is kept, and deletes it with the last", async () => {
    const world = await createWorld();
    // Two flows on one stage (a second ledger: the same step twice on one target is refused).
    const other = (await world.api("/connections", { body: { connector: "sandbox-ledger", name: "Ledger 2" } })).body.id;
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    await world.flow("paid", [{ target: other, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    // Over the inline limit: the body is kept once in R2 and both transfers' received snapshots name it.
    const order = shopifyOrder({ note: "ü".repeat(80_000) });
    await world.sendShopify("orders/paid", order);
    const [first, second] = await settledTransfers(world, String(order.id), 2);
    const db = database(env);
    const received = await db.select().from(snapshots).where(eq(snapshots.kind, "received"));
    const key = received.find((r) => r.transferId === first.id)?.blobKey;
    expect(key).toBeTruthy();
    expect(received.find((r) => r.transferId === second.id)?.blobKey).toBe(key);
    await setRetention(env, world.tenantId, 7);
    const old = Date.now() - 30 * 86_400_000;
    await db.update(transfers).set({ updatedAt: old }).where(eq(transfers.id, first.id));
    await applyRetention(env);
    expect(await db.select().from(transfers).where(eq(transfers.id, first.id))).toHaveLength(0);
    expect(await env.BLOBS.head(key!)).not.toBeNull();
    await db.update(transfers).set({ updatedAt: old }).where(eq(transfers.id, second.id));
    await applyRetention(env);
    expect(await db.select().from(transfers).where(eq(transfers.id, second.id))).toHaveLength(0);
    expect(await env.BLOBS.head(key!)).toBeNull();
  });

  it("deletes step rows an earlier release left without their transfer, whatever their age", async () => {
    const world = await createWorld();
    await setRetention(env, world.tenantId, 7);
    const db = database(env);
    const row = {
      tenantId: world.tenantId,
      stepIndex: 1,
      targetConnectionId: world.ledgerId,
      action: "registerPayment",
      status: "pending" as const,
    };
    await db.insert(transferSteps).values([
      { ...row, transferId: "tr_gone_old", updatedAt: Date.now() - 30 * 86_400_000 },
      { ...row, transferId: "tr_gone_new", updatedAt: Date.now() },
    ]);
    await applyRetention(env);
    const left = await db.select().from(transferSteps).where(eq(transferSteps.tenantId, world.tenantId));
    // Nothing reads a step without its transfer: the orphan search deletes it whatever its age.
    expect(left.map((s) => s.transferId)).toEqual([]);
  });

  it("keeps the whole history of a transfer that has not ended, whatever its age", async () => {
    const world = await createWorld();
    await setRetention(env, world.tenantId, 7);
    const db = database(env);
    const old = Date.now() - 30 * 86_400_000;
    const id = `tr_running_${crypto.randomUUID()}`;
    await db.insert(transfers).values({
      id,
      tenantId: world.tenantId,
      flowId: "flow_x",
      sourceConnectionId: world.shopId,
      orderId: "42",
      stage: "paid",
      status: "running",
      stepCount: 1,
      createdAt: old,
      updatedAt: old,
    });
    await db
      .insert(snapshots)
      .values({ transferId: id, tenantId: world.tenantId, kind: "canonical", body: "{}", size: 2, createdAt: old });
    await db.insert(attempts).values({
      transferId: id,
      stepIndex: 0,
      attempt: 1,
      tenantId: world.tenantId,
      outcome: "retry",
      latencyMs: 5,
      createdAt: old,
    });
    await applyRetention(env);
    expect(await db.select().from(transfers).where(eq(transfers.id, id))).toHaveLength(1);
    expect(await db.select().from(snapshots).where(eq(snapshots.transferId, id))).toHaveLength(1);
    expect(await db.select().from(attempts).where(eq(attempts.transferId, id))).toHaveLength(1);
  });

  it("is set per tenant through the API, never below 7 days", async () => {
    const world = await createWorld();
    expect((await world.api("/tenant")).body).toMatchObject({
      retentionDays: 90,
      alertEmails: [`ops@${world.tenantId.replace("_", "-")}.example`],
    });
    expect((await world.api("/tenant", { method: "PATCH", body: { retentionDays: 3 } })).status).toBe(400);
    expect(
      (await world.api("/tenant", { method: "PATCH", body: { retentionDays: 30, alertEmails: ["a@b.dk"] } })).body,
    ).toMatchObject({
      retentionDays: 30,
      alertEmails: ["a@b.dk"],
    });
    const notMail = await world.api("/tenant", { method: "PATCH", body: { mailConnectionId: world.ledgerId } });
    expect(notMail.status).toBe(400);
  });
});
