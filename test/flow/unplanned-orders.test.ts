/**
 * An order that reaches a stage while its source has no enabled flow at all is recorded
 * (`unplanned_orders`) and the tenant alerted, once per window; with a flow on nothing is recorded
 * and plan makes no extra D1 query. Once a flow is on, "run flows for them" makes the transfers of
 * the stages recorded (only those), once however often it is run, and only for the tenant's own
 * rows; a stage no enabled flow starts at stays listed; a person dismisses orders booked by hand;
 * retention deletes old rows. The record is a job of its own, which parks rather than hold the line.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { ledgerInvoices, mailOutbox, tenants, unplannedOrders } from "../../src/db/schema";
import { unplannedTopic } from "../../src/notifications/unplanned-alerts";
import { applyRetention } from "../../src/worker/retention";
import { installMeter, settle, startMeter, stopMeter } from "../cost/meter";
import {
  createWorld,
  eventually,
  ledgerSteps,
  orderObject,
  settledTransfers,
  shopifyOrder,
  shopifyRefund,
  type World,
} from "../helpers/world";
import { withFailingD1 } from "../notifications/failing-d1";

const DAY = 86_400_000;

async function rowsOf(world: World) {
  return database(env).select().from(unplannedOrders).where(eq(unplannedOrders.tenantId, world.tenantId));
}

async function rowOf(world: World, orderId: number) {
  return (await rowsOf(world)).find((r) => r.orderId === String(orderId));
}

async function alertMails(world: World) {
  return database(env)
    .select()
    .from(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.subject, "%no flow is switched on%")));
}

async function pending(world: World) {
  return (
    await env.DB.prepare("SELECT pending FROM alert_state WHERE tenant_id = ? AND topic = ?")
      .bind(world.tenantId, unplannedTopic(world.shopId))
      .first<{ pending: number }>()
  )?.pending;
}

async function invoices(world: World) {
  return database(env)
    .select()
    .from(ledgerInvoices)
    .where(and(eq(ledgerInvoices.connectionId, world.ledgerId), eq(ledgerInvoices.type, "invoice")));
}

/** A paid order whose object has planned (and recorded, with no flow on) its stages. */
async function paidUnplanned(world: World) {
  const order = shopifyOrder();
  expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
  await eventually(() => rowOf(world, order.id), `order ${order.id} recorded`);
  return order;
}

describe("orders that arrive while no flow is on", () => {
  beforeAll(async () => {
    await installMeter();
  });

  it("are recorded with the stages reached, merged, and alerted once per window", async () => {
    const world = await createWorld();
    const order = await paidUnplanned(world);
    const first = (await rowOf(world, order.id))!;
    expect(first).toMatchObject({ connectionId: world.shopId, orderNumber: `#${order.id}` });
    expect(first.stages.sort()).toEqual(["created", "paid"]);
    const mails = await eventually(async () => {
      const found = await alertMails(world);
      return found.length > 0 ? found : undefined;
    }, "the alert");
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain('no flow of "Shop" is switched on, so it was not transferred');
    expect(mails[0]!.text).toContain("Flows page");

    // A later stage merges into the same row, and is not a new order to alert about.
    await world.sendShopify("orders/fulfilled", {
      ...order,
      fulfillment_status: "fulfilled",
      updated_at: new Date(Date.now() + 1000).toISOString(),
    });
    const merged = await eventually(async () => {
      const row = await rowOf(world, order.id);
      return row?.stages.includes("fulfilled") ? row : undefined;
    }, "the fulfilled stage merged");
    expect(merged.stages.sort()).toEqual(["created", "fulfilled", "paid"]);
    expect(merged.firstSeenAt).toBe(first.firstSeenAt);
    expect(merged.lastSeenAt).toBeGreaterThanOrEqual(first.lastSeenAt);

    // Another order within the window is counted into it, not mailed on its own.
    await paidUnplanned(world);
    await eventually(async () => (await pending(world)) === 1, "the second order counted");
    expect(await alertMails(world)).toHaveLength(1);
    expect(await rowsOf(world)).toHaveLength(2);
  });

  it("stay in the order's outbox (a job of their own) when the record fails, and are recorded when D1 takes it again", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    const stub = orderObject(world, order);
    type WithEnv = { env: Env };
    const real = await runInDurableObject(stub, (instance) => {
      const object = instance as unknown as WithEnv;
      const before = object.env;
      object.env = withFailingD1(/unplanned_orders/, before);
      return before;
    });
    expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    const failedRecord = () =>
      runInDurableObject(stub, (_instance, state) => {
        const job = state.storage.sql
          .exec<{ attempts: number; last_error: string }>("SELECT attempts, last_error FROM outbox WHERE kind = 'unplanned'")
          .toArray()[0];
        return job && job.attempts > 0 ? job : undefined;
      });
    const job = await eventually(failedRecord, "the unplanned job failed on the record");
    expect(job.last_error).toContain("D1_ERROR");
    expect(await rowOf(world, order.id)).toBeUndefined();

    await runInDurableObject(stub, (instance) => {
      (instance as unknown as WithEnv).env = real;
    });
    const row = await eventually(() => rowOf(world, order.id), "the order recorded on the job's retry");
    expect(row.stages.sort()).toEqual(["created", "paid"]);
  });

  it("are parked, not holding up the order's line, when the record keeps failing; recorded once D1 takes it", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    const stub = orderObject(world, order);
    type WithEnv = { env: Env };
    const real = await runInDurableObject(stub, (instance) => {
      const object = instance as unknown as WithEnv;
      const before = object.env;
      object.env = withFailingD1(/unplanned_orders/, before);
      return before;
    });
    expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    const failing = () =>
      runInDurableObject(stub, (_instance, state) => {
        const job = state.storage.sql
          .exec<{ id: number; attempts: number }>("SELECT id, attempts FROM outbox WHERE attempts > 0 AND parked = 0")
          .toArray()[0];
        return job;
      });
    const job = await eventually(failing, "the record failed");
    // Its tries used up (PARK_AFTER_ATTEMPTS - 1 failed): the next failure parks it.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE outbox SET attempts = 59, next_at = 0 WHERE id = ?", job.id);
    });
    await stub.nudge();
    const parked = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ kind: string; parked: number }>("SELECT kind, parked FROM outbox").toArray(),
    );
    expect(parked).toEqual([{ kind: "unplanned", parked: 1 }]);

    // The line moves on: a flow switched on since books the order's next stage.
    await world.flow("fulfilled", ledgerSteps(world));
    await world.sendShopify("orders/fulfilled", {
      ...order,
      fulfillment_status: "fulfilled",
      updated_at: new Date(Date.now() + 1000).toISOString(),
    });
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer).toMatchObject({ stage: "fulfilled", status: "completed" });

    // D1 takes it again: the sweeper's nudge puts it back in line, and the order is recorded.
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as WithEnv).env = real;
    });
    await stub.nudge();
    const row = await eventually(() => rowOf(world, order.id), "the order recorded once un-parked");
    expect(row.stages.sort()).toEqual(["created", "paid"]);
  });

  it("are not recorded when the source has an enabled flow (of any stage), and plan makes no extra D1 query", async () => {
    const world = await createWorld();
    // A flow of another stage: the source is set up, the paid stage simply runs nothing.
    await world.flow("fulfilled", ledgerSteps(world));
    const order = shopifyOrder();
    startMeter();
    expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    await settle(300);
    const usage = stopMeter();
    expect(usage.d1.unplanned_orders).toBeUndefined();
    // The plan's one read of the flows, as before.
    expect(usage.d1.flows?.statements).toBe(1);
    expect(await rowsOf(world)).toEqual([]);
    expect(await alertMails(world)).toEqual([]);
  });

  it("get their transfers when the flows are run for them after a flow is switched on, once however often", async () => {
    const world = await createWorld();
    const order = await paidUnplanned(world);
    const [item] = (await world.api("/unplanned-orders")).body.unplannedOrders;
    expect(item).toMatchObject({ id: `${world.shopId}:${order.id}`, orderNumber: `#${order.id}`, stages: ["created", "paid"] });

    // Still no flow: nothing is done, and the row stays.
    let run = await world.api("/unplanned-orders/run", { body: { connectionId: world.shopId } });
    expect(run.status).toBe(200);
    expect(run.body.results).toEqual([expect.objectContaining({ id: item.id, result: "no_flow" })]);
    expect(run.body.remaining).toBe(1);

    await world.flow("paid", ledgerSteps(world));
    run = await world.api("/unplanned-orders/run", { body: { ids: [item.id] } });
    // Paid is run; created, below it with no flow starting there, has nothing left to run: the row goes.
    expect(run.body.results).toEqual([expect.objectContaining({ id: item.id, result: "planned", made: 1 })]);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    expect(await rowsOf(world)).toEqual([]);

    // Again, straight to the order's object: it makes no transfer twice.
    expect(await orderObject(world, order).planReached(["created", "paid"])).toEqual({
      outcome: "planned",
      made: 0,
      settled: ["created", "paid"],
      failed: [],
    });
    await settledTransfers(world, String(order.id), 1);
    expect((await world.api(`/transfers?order=${order.id}`)).body.transfers).toHaveLength(1);
    expect(await invoices(world)).toHaveLength(1);
  });

  it("plan only the stages recorded: a stage a flow booked before is not booked again by a flow switched on since", async () => {
    const world = await createWorld();
    const x = await world.flow("paid", ledgerSteps(world));
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    expect((await world.api(`/flows/${x}`, { method: "PATCH", body: { enabled: false } })).status).toBe(200);
    // Fulfilled in the gap: only that stage is recorded.
    await world.sendShopify("orders/fulfilled", {
      ...order,
      fulfillment_status: "fulfilled",
      updated_at: new Date(Date.now() + 1000).toISOString(),
    });
    const row = await eventually(() => rowOf(world, order.id), "the fulfilled stage recorded");
    expect(row.stages).toEqual(["fulfilled"]);

    await world.flow("paid", ledgerSteps(world));
    const id = `${world.shopId}:${order.id}`;
    const run = await world.api("/unplanned-orders/run", { body: { ids: [id] } });
    expect(run.body.results).toEqual([expect.objectContaining({ id, result: "no_flow", left: ["fulfilled"] })]);
    const { transfers } = await orderObject(world, order).describe();
    expect(transfers.map((t) => t.flow_id)).toEqual([x]);
  });

  it("run a cancelled order's recorded cancellation, not its ladder stages", async () => {
    const world = await createWorld();
    const order = await paidUnplanned(world);
    const at = new Date(Date.now() + 1000).toISOString();
    await world.sendShopify("orders/cancelled", { ...order, cancelled_at: at, updated_at: at });
    await eventually(async () => (await rowOf(world, order.id))?.stages.includes("cancelled"), "the cancellation recorded");
    await world.flow("paid", ledgerSteps(world));
    await world.flow("cancelled", [{ target: world.economicId, action: "cancelOrder" }]);

    const id = `${world.shopId}:${order.id}`;
    const run = await world.api("/unplanned-orders/run", { body: { ids: [id] } });
    expect(run.body.results).toEqual([expect.objectContaining({ id, result: "cancelled", made: 1 })]);
    const { transfers } = await orderObject(world, order).describe();
    expect(transfers.map((t) => t.stage)).toEqual(["cancelled"]);
    expect(await rowsOf(world)).toEqual([]);
  });

  it("fail a recorded refund whose details are gone, and keep it listed", async () => {
    const world = await createWorld();
    const order = await paidUnplanned(world);
    await world.sendShopify("refunds/create", shopifyRefund(order.id, order.id + 7));
    const recorded = await eventually(async () => {
      const row = await rowOf(world, order.id);
      return row?.stages.some((s) => s.startsWith("refunded:")) ? row : undefined;
    }, "the refund recorded");
    expect(recorded.stages).toContain(`refunded:${order.id + 7}`);
    const listed = (await world.api("/unplanned-orders")).body.unplannedOrders[0];
    expect(listed).toMatchObject({ stages: ["created", "paid", "refunded"], refunds: [String(order.id + 7)] });
    // Past the dedupe retention housekeeping keeps only the refund's keys.
    await runInDurableObject(orderObject(world, order), (_instance, state) => {
      state.storage.sql.exec(`UPDATE events SET object = '{"type":"kept"}', raw_body = NULL WHERE stage = 'refunded'`);
    });
    await world.flow("paid", ledgerSteps(world));
    await world.flow("refunded", [{ target: world.ledgerId, action: "createCreditNote" }]);

    const id = `${world.shopId}:${order.id}`;
    const run = await world.api("/unplanned-orders/run", { body: { ids: [id] } });
    expect(run.body.results).toEqual([
      expect.objectContaining({ id, result: "failed", made: 1, reason: expect.stringContaining("Book the refund by hand") }),
    ]);
    // Paid is planned and leaves the row with created below it (no flow starts there); the failed refund stays.
    expect((await rowOf(world, order.id))?.stages).toEqual([`refunded:${order.id + 7}`]);
  });

  it("keep the stages no enabled flow starts at: with only a refund flow on, a paid order stays listed", async () => {
    const world = await createWorld();
    const order = await paidUnplanned(world);
    await world.flow("refunded", [{ target: world.ledgerId, action: "createCreditNote" }]);
    const id = `${world.shopId}:${order.id}`;
    const run = await world.api("/unplanned-orders/run", { body: { ids: [id] } });
    expect(run.body.results).toEqual([expect.objectContaining({ id, result: "no_flow", left: ["created", "paid"] })]);
    expect((await rowOf(world, order.id))?.stages.sort()).toEqual(["created", "paid"]);
  });

  it("are dismissed, by id or by connection, with nothing run (booked by hand)", async () => {
    const world = await createWorld();
    const a = await paidUnplanned(world);
    const b = await paidUnplanned(world);
    const c = await paidUnplanned(world);
    await world.flow("paid", ledgerSteps(world));
    const key = (o: { id: number }) => `${world.shopId}:${o.id}`;
    let res = await world.api("/unplanned-orders/dismiss", { body: { ids: [key(a), `${world.shopId}:nope`] } });
    expect(res).toEqual({ status: 200, body: { dismissed: [key(a)] } });
    expect((await rowsOf(world)).map((r) => r.orderId).sort()).toEqual([String(b.id), String(c.id)].sort());
    expect((await world.api("/unplanned-orders/dismiss", { body: {} })).status).toBe(400);
    res = await world.api("/unplanned-orders/dismiss", { body: { connectionId: world.shopId } });
    expect(res.body.dismissed.sort()).toEqual([key(b), key(c)].sort());
    expect(await rowsOf(world)).toEqual([]);
    expect((await world.api(`/transfers?order=${a.id}`)).body.transfers).toEqual([]);
    const audit = await env.DB.prepare("SELECT target FROM audit_log WHERE tenant_id = ? AND target LIKE '%dismiss%'")
      .bind(world.tenantId)
      .all<{ target: string }>();
    expect(audit.results).toHaveLength(2);
  });

  it("are the tenant's own: another tenant neither lists nor runs them", async () => {
    const a = await createWorld();
    const b = await createWorld();
    const order = await paidUnplanned(a);
    const id = `${a.shopId}:${order.id}`;
    await a.flow("paid", ledgerSteps(a));

    expect((await b.api("/unplanned-orders")).body.unplannedOrders).toEqual([]);
    const byId = await b.api("/unplanned-orders/run", { body: { ids: [id] } });
    expect(byId.body.results).toEqual([expect.objectContaining({ id, result: "not_found" })]);
    const byConnection = await b.api("/unplanned-orders/run", { body: { connectionId: a.shopId } });
    expect(byConnection.body).toEqual({ results: [], remaining: 0 });
    expect(await rowOf(a, order.id)).toBeDefined();
    expect((await a.api(`/transfers?order=${order.id}`)).body.transfers).toEqual([]);
  });

  it("refuses a run that names neither ids nor a connection, or both", async () => {
    const world = await createWorld();
    expect((await world.api("/unplanned-orders/run", { body: {} })).status).toBe(400);
    const both = await world.api("/unplanned-orders/run", { body: { ids: ["a:1"], connectionId: world.shopId } });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toContain("either ids or connectionId");
  });

  it("are deleted by retention once older than the tenant's log retention", async () => {
    const world = await createWorld();
    await database(env).update(tenants).set({ retentionDays: 7 }).where(eq(tenants.id, world.tenantId));
    const now = Date.now();
    const row = (orderId: string, at: number) => ({
      tenantId: world.tenantId,
      connectionId: world.shopId,
      orderId,
      orderNumber: null,
      stages: ["created"],
      firstSeenAt: at - DAY,
      lastSeenAt: at,
    });
    await database(env)
      .insert(unplannedOrders)
      .values([row("old", now - 8 * DAY), row("recent", now - 6 * DAY)]);
    const deleted = await applyRetention(env, now);
    expect(deleted.unplanned_orders).toBeGreaterThanOrEqual(1);
    expect((await rowsOf(world)).map((r) => r.orderId)).toEqual(["recent"]);
  });
});
