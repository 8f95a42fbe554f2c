/**
 * The transfer log catches up within seconds: while a transfer has a step out, its projection to
 * D1 waits (PROJECTION_HOLD_SECONDS, 5 s) and the steps that report meanwhile join the same job,
 * so a transfer that runs within the hold writes its rows in D1 once. Anything else (a finished,
 * failed or waiting transfer) is written at once, and a held projection holds up no step.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { OrderDO } from "../../src/durable/order-do";
import type { StepMessage, StepOutcome } from "../../src/durable/order-types";
import { runStep } from "../../src/worker/queue/run-step";
import { installMeter, settle, startMeter, stopMeter } from "../cost/meter";
import { holdEveryStep, paidOrderWithHeldStep } from "../helpers/step-messages";
import { createWorld, eventually, ledgerSteps, orderObject, settledTransfers, shopifyOrder, type World } from "../helpers/world";

/** The order object's outbox jobs, oldest first, with how far in the future each is due. */
async function outbox(stub: DurableObjectStub<OrderDO>): Promise<Array<{ kind: string; dueInMs: number }>> {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ kind: string; next_at: number }>("SELECT kind, next_at FROM outbox ORDER BY id")
      .toArray()
      .map((row) => ({ kind: row.kind, dueInMs: row.next_at - Date.now() })),
  );
}

/** Claims the held first step as the consumer does and reports `outcome` for it. */
async function reportFirstStep(stub: DurableObjectStub<OrderDO>, message: StepMessage, outcome: StepOutcome) {
  const token = crypto.randomUUID();
  expect((await stub.claimStep(message, token, { orderInClaim: true })).action).toBe("run");
  return stub.reportStep({ transferId: message.transferId, stepIndex: 0, token, outcome, latencyMs: 5, snapshots: [] });
}

async function logged(world: World, orderId: number): Promise<any[]> {
  return (await world.api(`/transfers?order=${orderId}`)).body.transfers as any[];
}

describe("the transfer log while a transfer runs", () => {
  beforeAll(installMeter);

  it("a transfer whose steps run within the hold is written to D1 once, in its final state", async () => {
    const world = await createWorld();
    await world.flow("paid", ledgerSteps(world));
    const order = shopifyOrder();
    startMeter();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    await settle(300);
    const usage = stopMeter();
    expect(transfer).toMatchObject({ status: "completed", stepsDone: 2 });
    // Two outbox jobs: the plan and one projection (the first step's message is sent at once, as
    // nothing is ahead of it); the two reports joined the projection (an update of its row each)
    // instead of queueing their own.
    expect(usage.doSqlByStatement["OrderDO INSERT outbox"]?.count).toBe(2);
    expect(usage.doSqlByStatement["OrderDO UPDATE outbox"]?.count).toBe(2);
    const detail = await world.api(`/transfers/${transfer.id}`);
    expect(detail.body.steps.map((s: any) => [s.status, s.attempts])).toEqual([
      ["completed", 1],
      ["completed", 1],
    ]);
  });

  it("a step that stays out holds up nothing: its message goes first, the log shows the transfer after the hold", {
    timeout: 30_000,
  }, async () => {
    const world = await createWorld();
    await world.flow("paid", ledgerSteps(world));
    const order = shopifyOrder();
    const stub = orderObject(world, order);
    // The test is the queue's consumer: every message of the order (the re-sends too) stays here.
    const { held, restore } = await holdEveryStep(stub);
    try {
      await world.sendShopify("orders/paid", order);
      // The step's message was sent while its transfer's projection waits behind it.
      await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 5000 });
      const waiting = await outbox(stub);
      expect(waiting.map((j) => j.kind)).toEqual(["project"]);
      expect(waiting[0]!.dueInMs).toBeGreaterThan(3000);
      expect(await logged(world, order.id)).toEqual([]);
      // No report comes (the step is re-sent meanwhile, still out): the alarm writes the held
      // projection when the hold is over.
      const [shown] = await eventually(async () => {
        const list = await logged(world, order.id);
        return list.length > 0 ? list : undefined;
      }, "the held projection");
      // Pending, or running once the order's alarm has re-sent the step (after 2 s in the tests).
      expect(["pending", "running"]).toContain(shown.status);
      expect(shown.stepsDone).toBe(0);
      // The step reports and its next is handed over: a new projection waits for that one.
      const verdict = await runStep(env, held.at(-1)!, true);
      expect(verdict.next).toBe("ack");
      const handOver = verdict.next === "ack" ? verdict.handOver : undefined;
      const [job] = await outbox(stub);
      expect(job).toMatchObject({ kind: "project" });
      expect(job!.dueInMs).toBeGreaterThan(3000);
      // The last step reports: the finished transfer is written at once, well inside the hold.
      expect(await runStep(env, handOver!.message, true, handOver)).toEqual({ next: "ack" });
      const [done] = await settledTransfers(world, String(order.id), 1, 2000);
      expect(done).toMatchObject({ status: "completed", stepsDone: 2 });
    } finally {
      await restore();
    }
  });

  it("a step that will be retried later has its transfer written at once", async () => {
    const { world, order, stub, message } = await paidOrderWithHeldStep();
    const verdict = await reportFirstStep(stub, message, {
      kind: "retry",
      error: { message: "The ledger is busy", code: "busy", errorClass: "unavailable" },
    });
    expect(verdict.next).toBe("retry");
    const [job] = (await outbox(stub)).filter((j) => j.kind === "project");
    expect(job!.dueInMs).toBeLessThanOrEqual(0);
    const [transfer] = await eventually(async () => {
      const list = await logged(world, order.id);
      return list[0]?.status === "retrying" ? list : undefined;
    }, "the retrying transfer in the log");
    expect(transfer.errorReason).toContain("The ledger is busy");
  });

  it("a consumer of the previous release (no order key in its claim) gets its transfer in D1 before its claim", async () => {
    const { world, order, stub, message } = await paidOrderWithHeldStep();
    expect(await logged(world, order.id)).toEqual([]);
    // That consumer finds the order through the running transfer's row (cancelOrder's leftovers).
    const claim = await stub.claimStep(message, crypto.randomUUID());
    expect(claim).toMatchObject({ action: "run", order: { orderId: String(order.id), sourceConnectionId: world.shopId } });
    expect(await logged(world, order.id)).toEqual([expect.objectContaining({ status: "running" })]);
  });

  it("a failed step's transfer is in D1 when the report is answered, for the consumer's failure alert", async () => {
    const { world, order, stub, message } = await paidOrderWithHeldStep();
    const verdict = await reportFirstStep(stub, message, {
      kind: "failed",
      error: { message: "The ledger refused the invoice", code: "refused", errorClass: "validation" },
    });
    expect(verdict.next).toBe("dead-letter");
    expect(await logged(world, order.id)).toEqual([
      expect.objectContaining({ status: "failed", errorReason: "The ledger refused the invoice" }),
    ]);
  });
});
