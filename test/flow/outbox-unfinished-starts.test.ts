/**
 * An outbox job under which the order's object died (out of memory or CPU, in a filter or
 * anywhere) is not replayed on every wake for ever, holding up the jobs behind it unseen: its
 * starts are counted, and after three that did not finish a plan or re-run job runs with every
 * filter taken as failed (visible, alerted, retryable transfers) and is never parked (nothing may
 * overtake it), a send is never parked either, and a projection is parked and alerted, the line
 * going on behind it.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import type { OrderDO } from "../../src/durable/order-do";
import { createWorld, eventually, orderObject, settledTransfers, shopifyOrder, type World } from "../helpers/world";

const invoice = (world: World) => [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }];

/** A paid order planned as usual, and a filtered fulfilled-stage flow not planned for it yet. */
async function orderWithFulfilledFlows() {
  const world = await createWorld();
  await world.flow("paid", invoice(world));
  const order = shopifyOrder();
  expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
  await settledTransfers(world, String(order.id), 1);
  const filtered = await world.api("/flows", {
    body: { name: "Filtered", source: world.shopId, stage: "fulfilled", filter: "true", steps: invoice(world) },
  });
  expect(filtered.status, JSON.stringify(filtered.body)).toBe(201);
  const stub = orderObject(world, order);
  await eventually(async () => (await stub.describe()).outbox === 0, "the outbox to empty");
  const seq = (await stub.describe()).events.at(-1)!.seq;
  return { world, order, stub, seq, filtered: filtered.body.id as string };
}

/** Queues jobs as an object that died under them left them (this instance did not queue them). */
async function leftBehind(stub: DurableObjectStub<OrderDO>, jobs: Array<{ kind: string; payload: object }>) {
  await runInDurableObject(stub, (_instance, state) => {
    for (const job of jobs)
      state.storage.sql.exec(
        "INSERT INTO outbox (kind, payload, next_at) VALUES (?, ?, ?)",
        job.kind,
        JSON.stringify(job.payload),
        Date.now(),
      );
  });
}

async function outboxRows(stub: DurableObjectStub<OrderDO>) {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ kind: string; parked: number; last_error: string | null }>(
        "SELECT kind, parked, last_error FROM outbox ORDER BY id",
      )
      .toArray(),
  );
}

describe("an outbox job that keeps stopping the object", () => {
  it("is a plan job: planned once more with every filter taken as failed, visibly", async () => {
    const { world, order, stub, seq, filtered } = await orderWithFulfilledFlows();
    await leftBehind(stub, [
      { kind: "plan", payload: { stages: [{ stage: "fulfilled", occurrence: "" }], eventSeq: seq, starts: 3 } },
    ]);
    await stub.nudge();
    const transfers = await settledTransfers(world, String(order.id), 2);
    const failed = transfers.find((t) => t.flowId === filtered);
    expect(failed?.status).toBe("failed");
    expect(failed?.errorReason).toContain("The flow's filter could not decide on this order");
    expect(failed?.errorReason).toContain("stopped Orderly's work on the order 3 times");
    const inObject = (await stub.describe()).transfers.find((t) => t.flow_id === filtered)!;
    expect(JSON.parse(inObject.error!)).toMatchObject({ code: "flow_filter_failed" });
    expect(await outboxRows(stub)).toEqual([]);
  });

  it("is a plan job whose start with filters failed died too: started again, never parked, and nothing overtakes it", async () => {
    const { world, order, stub, seq, filtered } = await orderWithFulfilledFlows();
    const errors = vi.spyOn(console, "error");
    await leftBehind(stub, [
      {
        kind: "plan",
        payload: { stages: [{ stage: "fulfilled", occurrence: "" }], eventSeq: seq, starts: 4, filtersFailed: true },
      },
      // Queued behind it: it waits for the plan job before it, as before that job kept dying.
      { kind: "plan", payload: { stages: [{ stage: "fulfilled", occurrence: "again" }], eventSeq: seq } },
    ]);
    await stub.nudge();
    // Both ran, in line: no plan job is left, none parked (projections of the new transfers may be).
    expect((await outboxRows(stub)).filter((r) => r.kind === "plan" || r.parked)).toEqual([]);
    const transfers = (await stub.describe()).transfers;
    expect(transfers.map((t) => [t.stage, t.occurrence, t.status])).toEqual([
      ["paid", "", "completed"],
      ["fulfilled", "", "failed"],
      ["fulfilled", "again", expect.any(String)],
    ]);
    expect(JSON.parse(transfers[1]!.error!)).toMatchObject({ code: "flow_filter_failed" });
    expect(transfers[1]!.flow_id).toBe(filtered);
    const logged = errors.mock.calls.find((c) => String(c[0]).includes("plan job keeps stopping the object"));
    expect(logged?.[1]).toMatchObject({ orderId: String(order.id), starts: 4 });
    errors.mockRestore();
    await settledTransfers(world, String(order.id), 3);
  });

  it("is a re-run job: run with every filter taken as failed, never parked", async () => {
    const world = await createWorld();
    // Leaves this retail order out: the cancellation ran no flow, so the paid transfer's re-run
    // waits for the order to be taken back; taken as failed, the cancel flow takes it.
    const cancel = await world.api("/flows", {
      body: {
        name: "Cancel wholesale",
        source: world.shopId,
        stage: "cancelled",
        filter: '"wholesale" in order.tags',
        steps: invoice(world),
      },
    });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(201);
    await world.flow("paid", invoice(world));
    const start = Date.now();
    const at = (s: number) => new Date(start + s * 1000).toISOString();
    const order = shopifyOrder({ tags: "retail" });
    await world.sendShopify("orders/paid", { ...order, updated_at: at(0) });
    await settledTransfers(world, String(order.id), 1);
    await world.sendShopify("orders/cancelled", { ...order, cancelled_at: at(1), updated_at: at(1) });
    const stub = orderObject(world, order);
    await eventually(
      async () => (await stub.describe()).stage.cancelled && (await stub.describe()).outbox === 0,
      "the cancellation",
    );
    const seq = (await stub.describe()).events.at(-1)!.seq;
    const rerunPending = () =>
      runInDurableObject(
        stub,
        (_instance, state) =>
          state.storage.sql.exec<{ r: number }>("SELECT rerun_pending AS r FROM transfers WHERE stage = 'paid'").one().r,
      );
    // Filters evaluated: the re-run is marked to wait for the order to be taken back.
    await leftBehind(stub, [{ kind: "rerun", payload: { eventSeq: seq } }]);
    await stub.nudge();
    expect(await outboxRows(stub)).toEqual([]);
    expect(await rerunPending()).toBe(1);
    await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec("UPDATE transfers SET rerun_pending = 0"));
    // Past its starts: the cancel flow's filter is not evaluated, taken as failed (so it ran).
    await leftBehind(stub, [{ kind: "rerun", payload: { eventSeq: seq, starts: 3 } }]);
    await stub.nudge();
    expect(await outboxRows(stub)).toEqual([]);
    expect(await rerunPending()).toBe(0);
  });

  it("is a send job: never parked (the alarm re-sends its step anyway)", async () => {
    const { world, order, stub } = await orderWithFulfilledFlows();
    const [transfer] = (await stub.describe()).transfers;
    await leftBehind(stub, [
      {
        kind: "send",
        payload: {
          message: {
            kind: "step",
            order: `${world.shopId}:${order.id}`,
            tenantId: world.tenantId,
            transferId: transfer!.id,
            stepIndex: 0,
            dispatchId: "gone",
            target: world.ledgerId,
            action: "createInvoice",
            priority: "order",
          },
          starts: 5,
        },
      },
    ]);
    await stub.nudge();
    expect((await outboxRows(stub)).filter((r) => r.kind === "send" || r.parked)).toEqual([]);
  });

  it("is a projection: parked and alerted, the line goes on, and the sweeper's nudge leaves it parked", async () => {
    const { world, order, stub, seq } = await orderWithFulfilledFlows();
    const [transfer] = (await stub.describe()).transfers;
    const errors = vi.spyOn(console, "error");
    await leftBehind(stub, [
      { kind: "project", payload: { transferId: transfer!.id, snapshots: [], attempts: [], extra: [], starts: 3 } },
      // Queued behind it and never started: it runs.
      { kind: "plan", payload: { stages: [{ stage: "fulfilled", occurrence: "" }], eventSeq: seq } },
    ]);
    await stub.nudge();
    const rows = (await outboxRows(stub)).filter((r) => r.kind === "plan" || r.parked);
    expect(rows.map((r) => [r.kind, r.parked])).toEqual([["project", 1]]);
    expect(rows[0]!.last_error).toMatch(/^started 3 times without finishing: the order.s object stopped/);
    expect((await stub.describe()).transfers).toHaveLength(2);
    const logged = errors.mock.calls.find((c) => String(c[0]).includes("projection parked"));
    expect(logged?.[1]).toMatchObject({ starts: 3 });
    expect(logged?.[1]).not.toHaveProperty("attempts");
    errors.mockRestore();
    const mails = await eventually(async () => {
      const found = await database(env)
        .select()
        .from(mailOutbox)
        .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.text, "%started 3 times without finishing%")));
      return found.length > 0 ? found : undefined;
    }, "the parked-job alert");
    expect(mails[0]!.subject).toContain(String(order.name));
    // The sweeper's nudge does not put it back (each start would stop the object again).
    await stub.nudge();
    expect((await outboxRows(stub)).filter((r) => r.parked).map((r) => r.kind)).toEqual(["project"]);
    await settledTransfers(world, String(order.id), 2);
    await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec("DELETE FROM outbox"));
  });
});
