/**
 * An outbox job under which the order's object died (out of memory or CPU, in a filter or
 * anywhere) is not replayed on every wake for ever, holding up the jobs behind it unseen: its
 * starts are counted, and after three that did not finish a plan job plans once more with every
 * filter taken as failed (visible, alerted, retryable transfers), and any other job is parked and
 * alerted, the line going on behind it.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
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

  it("is parked and alerted when it is no plan job (or one planned so already), and the line goes on", async () => {
    const { world, order, stub, seq } = await orderWithFulfilledFlows();
    await leftBehind(stub, [
      { kind: "rerun", payload: { eventSeq: seq, starts: 3 } },
      {
        kind: "plan",
        payload: { stages: [{ stage: "fulfilled", occurrence: "" }], eventSeq: seq, starts: 4, filtersFailed: true },
      },
      // Queued behind them and never started: it runs.
      { kind: "plan", payload: { stages: [{ stage: "refunded", occurrence: "r1" }], eventSeq: seq } },
    ]);
    await stub.nudge();
    const rows = await outboxRows(stub);
    expect(rows.map((r) => [r.kind, r.parked])).toEqual([
      ["rerun", 1],
      ["plan", 1],
    ]);
    for (const row of rows) expect(row.last_error).toMatch(/^started [34] times without finishing: the order.s object stopped/);
    // Nothing more was planned for the order (the paid transfer alone), and no plan job holds the line.
    expect((await stub.describe()).transfers).toHaveLength(1);
    const mails = await eventually(async () => {
      const found = await database(env)
        .select()
        .from(mailOutbox)
        .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.text, "%started 3 times without finishing%")));
      return found.length > 0 ? found : undefined;
    }, "the parked-job alert");
    expect(mails[0]!.subject).toContain(String(order.name));
    // The sweeper's nudge does not put them back (each start would stop the object again).
    await stub.nudge();
    expect((await outboxRows(stub)).map((r) => r.parked)).toEqual([1, 1]);
    await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec("DELETE FROM outbox"));
  });
});
