/**
 * Hand-over: when a step reports, its order's object hands the next step to the reporting
 * consumer instead of sending it through the queue. The step is released in the object all the
 * same, so a consumer that dies with it loses nothing: the object re-sends it when overdue.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { HAND_OVER_LIMITS } from "../../src/worker/queue/consumer";
import { runStep } from "../../src/worker/queue/run-step";
import { gateFor } from "../../src/worker/queue/target-gate-client";
import { installMeter, settle, startMeter, stopMeter } from "../cost/meter";
import { attemptRows } from "../helpers/history";
import { paidOrderWithHeldStep } from "../helpers/step-messages";
import { createWorld, ledgerSteps, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";

const threeSteps = (w: World) => [
  { target: w.economicId, action: "createInvoice" },
  { target: w.economicId, action: "bookInvoice" },
  { target: w.economicId, action: "registerPayment", settings: { journalNumber: 1, defaultContraAccountNumber: 5820 } },
];

/** Sends one paid order and counts what it used until its transfers settle. */
async function sendMetered(world: World, expected = 1) {
  const order = shopifyOrder();
  startMeter();
  await world.sendShopify("orders/paid", order);
  const transfers = await settledTransfers(world, String(order.id), expected);
  await settle(300);
  return { transfers, usage: stopMeter() };
}

describe("steps handed over to the reporting consumer", () => {
  beforeAll(installMeter);

  it("runs a three-step transfer from one queue message and one consumer invocation", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    await world.flow("paid", threeSteps(world));
    const {
      transfers: [transfer],
      usage,
    } = await sendMetered(world);
    expect(transfer.status).toBe("completed");
    expect(mock.state.booked).toHaveLength(1);
    expect(usage.queue.stepSends).toBe(1);
    expect(usage.worker.queueBatches).toBe(1);
    // Only the first step is claimed by the consumer; the others come claimed with the hand-over.
    expect(usage.doCalls["OrderDO.claimStep"]).toBe(1);
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
    const {
      transfers: [transfer],
      usage,
    } = await sendMetered(world);
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

  it("a handed-over step whose consumer died is re-sent by the order's alarm once its lease is over, and runs once", {
    timeout: 40_000,
  }, async () => {
    const { world, order, stub, message } = await paidOrderWithHeldStep();
    const verdict = await runStep(env, message, true);
    expect(verdict.next).toBe("ack");
    const handOver = verdict.next === "ack" ? verdict.handOver : undefined;
    expect(handOver?.message).toMatchObject({ transferId: message.transferId, stepIndex: 1 });
    expect(handOver?.claim).toMatchObject({ action: "run", attempt: 1, stepIndex: 1 });
    // ...and the consumer dies holding the hand-over: the object has the step claimed, under a lease.
    expect((await stub.describe()).steps[1]).toMatchObject({ status: "running", attempts: 1, resends: 0 });
    // It is re-sent one call's time (OUTBOUND_TIMEOUT_MS, 2 s in tests) after the lease, so a
    // consumer whose last call ended with the lease can still report.
    const margin = await runInDurableObject(
      stub,
      (_instance, state) =>
        state.storage.sql.exec<{ m: number }>("SELECT due_at - lease_until AS m FROM step_rows WHERE step_index = 1").one().m,
    );
    expect(margin).toBe(2000);
    const [transfer] = await settledTransfers(world, String(order.id), 1, 30_000);
    expect(transfer.status).toBe("completed");
    const state = await stub.describe();
    // The claim that died counts as an attempt, as for a consumer that died after claiming; the
    // re-sent step's report set its count of lost messages back (step-resends.test.ts).
    expect(state.steps.map((s) => [s.status, s.attempts, s.resends])).toEqual([
      ["done", 1, 0],
      ["done", 2, 0],
    ]);
    // The hand-over, run late (after its lease), does not run.
    expect(await runStep(env, handOver!.message, true, handOver)).toEqual({ next: "ack" });
    expect((await attemptRows(transfer.id)).map((r) => [r.stepIndex, r.attempt, r.outcome])).toEqual([
      [0, 1, "ok"],
      [1, 2, "ok"],
    ]);
  });

  it("a hand-over that came too late to run gives its claim back without using an attempt, and is sent again at once", async () => {
    const { world, order, stub, message } = await paidOrderWithHeldStep();
    const verdict = await runStep(env, message, true);
    const handOver = verdict.next === "ack" ? verdict.handOver : undefined;
    if (!handOver) throw new Error("the next step must be handed over");
    // Its consumer was held up: less than one call's time (OUTBOUND_TIMEOUT_MS, 2 s) is left of the lease.
    const late = { ...handOver, claim: { ...handOver.claim, leaseUntil: Date.now() + 1000 } };
    const givenBack = Date.now();
    expect(await runStep(env, handOver.message, true, late)).toEqual({ next: "ack" });
    expect((await stub.describe()).steps[1]).toMatchObject({ status: "deferred", attempts: 0 });
    // Not held for the lease (10 s) and its margin: the object sends it again at once.
    const [transfer] = await settledTransfers(world, String(order.id), 1, 8000);
    expect(transfer.status).toBe("completed");
    expect(Date.now() - givenBack).toBeLessThan(8000);
    expect((await stub.describe()).steps.map((s) => [s.status, s.attempts])).toEqual([
      ["done", 1],
      ["done", 1],
    ]);
  });

  it("a step whose claim fails gives the target's gate its slot back at once", async () => {
    installEconomicMock(createEconomicMock());
    const { world, order, message } = await paidOrderWithHeldStep((w) => threeSteps(w).slice(0, 1));
    // The order's object cannot be reached when the step claims (it is being moved, say).
    const unreachable = {
      idFromName: (name: string) => env.ORDERS.idFromName(name),
      get: () => ({
        claimStep: async () => {
          throw new Error("order object unreachable");
        },
      }),
    } as unknown as Env["ORDERS"];
    await expect(runStep({ ...env, ORDERS: unreachable }, message)).rejects.toThrow("order object unreachable");
    // The slot is back: it is not held until its ticket expires 15 minutes later.
    expect((await gateFor(env, world.economicId).status()).running).toBe(0);
    // The step then runs as it would from its re-sent message (and is not re-sent into the next test).
    expect((await runStep(env, message)).next).toBe("ack");
    expect((await settledTransfers(world, String(order.id), 1))[0].status).toBe("completed");
  });

  it("a handed-over step the target's gate turns away gives its claim back, without using an attempt", async () => {
    installEconomicMock(createEconomicMock());
    const { world, order, stub, message } = await paidOrderWithHeldStep((w) => threeSteps(w).slice(0, 2));
    const verdict = await runStep(env, message, true);
    expect(verdict.next).toBe("ack");
    const handOver = verdict.next === "ack" ? verdict.handOver : undefined;
    expect(handOver?.claim.attempt).toBe(1);
    // The target answered a 429 with a Retry-After of 1 s: its gate turns the step away.
    await gateFor(env, world.economicId).rateLimited(1);
    expect(await runStep(env, handOver!.message, true, handOver)).toEqual({ next: "ack" });
    expect((await stub.describe()).steps[1]).toMatchObject({ status: "deferred", attempts: 0 });
    // ...and the object sends it again when the gate's hold is over: it runs once, as attempt 1.
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    expect((await stub.describe()).steps[1]).toMatchObject({ status: "done", attempts: 1 });
  });

  it("a consumer that does not take the next step gets it sent through the queue, as before", async () => {
    const { world, order, stub, message } = await paidOrderWithHeldStep();
    // The previous release's consumer asks for no hand-over.
    expect(await runStep(env, message)).toEqual({ next: "ack" });
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    expect((await stub.describe()).steps.map((s) => s.resends)).toEqual([0, 0]);
  });

  it("hands over only the reporting transfer's next step; another transfer's first step goes through the queue", async () => {
    const world = await createWorld();
    // Two flows on one stage (a second ledger: the same step twice on one target is refused).
    const other = (await world.api("/connections", { body: { connector: "sandbox-ledger", name: "Ledger 2" } })).body.id;
    await world.flow("paid", ledgerSteps(world));
    await world.flow("paid", ledgerSteps({ ...world, ledgerId: other }));
    const { transfers, usage } = await sendMetered(world, 2);
    expect(transfers.map((t) => t.status)).toEqual(["completed", "completed"]);
    // Each transfer's first step is a message (sent after its projection); its second is handed over.
    expect(usage.queue.stepSends).toBe(2);
    expect(usage.doCalls["OrderDO.reportStep"]).toBe(4);
  });

  it("hands over at most a bounded number of steps in one invocation", async () => {
    const world = await createWorld();
    const [invoice, payment] = ledgerSteps(world);
    const steps = Array.from({ length: HAND_OVER_LIMITS.steps + 2 }, (_, i) => (i === 0 ? invoice! : payment!));
    await world.flow("paid", steps);
    const {
      transfers: [transfer],
      usage,
    } = await sendMetered(world);
    expect(transfer.status).toBe("completed");
    // 18 steps: the first message carries 16, the object sends the 17th, which carries the rest.
    expect(usage.queue.stepSends).toBe(2);
    expect(usage.doCalls["OrderDO.reportStep"]).toBe(steps.length);
  });
});
