/**
 * Hand-over: when a step reports, its order's object hands the next step to the reporting
 * consumer instead of sending it through the queue. The step is released in the object all the
 * same, so a consumer that dies with it loses nothing: the object re-sends it when overdue.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { asc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { database } from "../../src/db/client";
import { attempts } from "../../src/db/schema";
import type { OrderDO } from "../../src/durable/order-do";
import { orderObjectName, type StepMessage } from "../../src/durable/order-types";
import { HAND_OVER_LIMITS } from "../../src/worker/queue/consumer";
import { runStep } from "../../src/worker/queue/run-step";
import { installMeter, settle, startMeter, stopMeter } from "../cost/meter";
import { createWorld, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";

const threeSteps = (w: World) => [
  { target: w.economicId, action: "createInvoice" },
  { target: w.economicId, action: "bookInvoice" },
  { target: w.economicId, action: "registerPayment", settings: { journalNumber: 1, defaultContraAccountNumber: 5820 } },
];

async function attemptRows(transferId: string) {
  return database(env)
    .select()
    .from(attempts)
    .where(eq(attempts.transferId, transferId))
    .orderBy(asc(attempts.stepIndex), asc(attempts.attempt));
}

describe("steps handed over to the reporting consumer", () => {
  beforeAll(installMeter);

  it("runs a three-step transfer from one queue message and one consumer invocation", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    await world.flow("paid", threeSteps(world));
    const order = shopifyOrder();
    startMeter();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    await settle(300);
    const usage = stopMeter();
    expect(transfer.status).toBe("completed");
    expect(mock.state.booked).toHaveLength(1);
    expect(usage.queue.stepSends).toBe(1);
    expect(usage.worker.queueBatches).toBe(1);
    expect(usage.doCalls["OrderDO.claimStep"]).toBe(3);
    expect(usage.doCalls["OrderDO.reportStep"]).toBe(3);
    expect((await attemptRows(transfer.id)).map((r) => [r.stepIndex, r.outcome])).toEqual([
      [0, "ok"],
      [1, "ok"],
      [2, "ok"],
    ]);
  });

  it("a handed-over step that must wait goes back through the queue with its delay, once", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    mock.failNext({ status: 500, path: /^\/invoices\/booked$/, method: "POST" });
    const world = await createWorld();
    await world.flow("paid", threeSteps(world));
    const order = shopifyOrder();
    startMeter();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    await settle(300);
    const usage = stopMeter();
    expect(transfer.status).toBe("completed");
    expect(mock.state.booked).toHaveLength(1);
    // The first step's message, then the booking's retry; the payment is handed over again.
    expect(usage.queue.stepSends).toBe(2);
    expect((await attemptRows(transfer.id)).map((r) => [r.stepIndex, r.attempt, r.outcome])).toEqual([
      [0, 1, "ok"],
      [1, 1, "retry"],
      [1, 2, "ok"],
      [2, 1, "ok"],
    ]);
  });

  it("a handed-over step whose consumer died is re-sent by the order's alarm, and runs once", async () => {
    const world = await createWorld();
    await world.flow("paid", [
      { target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } },
      { target: world.ledgerId, action: "registerPayment" },
    ]);
    const order = shopifyOrder();
    const stub = env.ORDERS.get(env.ORDERS.idFromName(orderObjectName(world.shopId, String(order.id))));
    // The first step's message is kept from the queue, so this test is its consumer.
    const held: StepMessage[] = [];
    await runInDurableObject(stub, (instance: OrderDO) => {
      const steps = (instance as unknown as { env: Env }).env.STEPS;
      vi.spyOn(steps, "send").mockImplementationOnce(async (message) => {
        held.push(message as StepMessage);
        return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse;
      });
    });
    await world.sendShopify("orders/paid", order);
    await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 5000 });
    vi.restoreAllMocks();
    const verdict = await runStep(env, held[0]!, true);
    expect(verdict.next).toBe("ack");
    const handOver = verdict.next === "ack" ? verdict.handOver : undefined;
    expect(handOver).toMatchObject({ transferId: held[0]!.transferId, stepIndex: 1 });
    // ...and the consumer dies holding the hand-over: the object still has the step out.
    expect((await stub.describe()).steps[1]).toMatchObject({ status: "released", resends: 0 });
    const [transfer] = await settledTransfers(world, String(order.id), 1, 20_000);
    expect(transfer.status).toBe("completed");
    const state = await stub.describe();
    expect(state.steps.map((s) => [s.status, s.attempts])).toEqual([
      ["done", 1],
      ["done", 1],
    ]);
    expect(state.steps[1]).toMatchObject({ resends: 1 });
    // The hand-over, run late after the re-send did it, is dropped by its dispatch id.
    expect(await runStep(env, handOver!, true)).toEqual({ next: "ack" });
    expect((await attemptRows(transfer.id)).map((r) => [r.stepIndex, r.outcome])).toEqual([
      [0, "ok"],
      [1, "ok"],
    ]);
  });

  it("a consumer that does not take the next step gets it sent through the queue, as before", async () => {
    const world = await createWorld();
    await world.flow("paid", [
      { target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } },
      { target: world.ledgerId, action: "registerPayment" },
    ]);
    const order = shopifyOrder();
    const stub = env.ORDERS.get(env.ORDERS.idFromName(orderObjectName(world.shopId, String(order.id))));
    const held: StepMessage[] = [];
    await runInDurableObject(stub, (instance: OrderDO) => {
      const steps = (instance as unknown as { env: Env }).env.STEPS;
      vi.spyOn(steps, "send").mockImplementationOnce(async (message) => {
        held.push(message as StepMessage);
        return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse;
      });
    });
    await world.sendShopify("orders/paid", order);
    await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 5000 });
    vi.restoreAllMocks();
    // The previous release's consumer asks for no hand-over.
    expect(await runStep(env, held[0]!)).toEqual({ next: "ack" });
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    expect((await stub.describe()).steps.map((s) => s.resends)).toEqual([0, 0]);
  });

  it("hands over only the reporting transfer's next step; another transfer's first step goes through the queue", async () => {
    const world = await createWorld();
    const ledgerSteps = [
      { target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } },
      { target: world.ledgerId, action: "registerPayment" },
    ];
    await world.flow("paid", ledgerSteps);
    await world.flow("paid", ledgerSteps);
    const order = shopifyOrder();
    startMeter();
    await world.sendShopify("orders/paid", order);
    const transfers = await settledTransfers(world, String(order.id), 2);
    await settle(300);
    const usage = stopMeter();
    expect(transfers.map((t) => t.status)).toEqual(["completed", "completed"]);
    // Each transfer's first step is a message (sent after its projection); its second is handed over.
    expect(usage.queue.stepSends).toBe(2);
    expect(usage.doCalls["OrderDO.reportStep"]).toBe(4);
  });

  it("hands over at most a bounded number of steps in one invocation", async () => {
    const world = await createWorld();
    const steps = Array.from({ length: HAND_OVER_LIMITS.steps + 2 }, (_, i) =>
      i === 0
        ? { target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }
        : { target: world.ledgerId, action: "registerPayment" },
    );
    await world.flow("paid", steps);
    const order = shopifyOrder();
    startMeter();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    await settle(300);
    const usage = stopMeter();
    expect(transfer.status).toBe("completed");
    // 18 steps: the first message carries 16, the object sends the 17th, which carries the rest.
    expect(usage.queue.stepSends).toBe(2);
    expect(usage.doCalls["OrderDO.reportStep"]).toBe(steps.length);
  });
});
