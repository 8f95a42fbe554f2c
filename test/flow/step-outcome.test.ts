/**
 * Once a step's action has run, its outcome is known: nothing that fails after it (the gate's
 * release, R2, the report's trip to the order's object) may lose it, or the step runs again. And a
 * message that comes back after its consumer died is never acked without the step moving on.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { database } from "../../src/db/client";
import { snapshots } from "../../src/db/schema";
import { readHistory } from "../../src/db/snapshots";
import type { OrderDO } from "../../src/durable/order-do";
import type { TargetGate } from "../../src/durable/target-gate";
import { runStep } from "../../src/worker/queue/run-step";
import { gateFor } from "../../src/worker/queue/target-gate-client";
import { holdFirstStep, paidOrderWithHeldStep } from "../helpers/step-messages";
import { createWorld, orderObject, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";

const oneInvoice = (w: World) => [{ target: w.economicId, action: "createInvoice" }];

/**
 * The order objects as the consumer reaches them, with `reportStep` failing the first `times`
 * tries: before the object sees the report, or after (the answer is lost on its way back).
 */
function ordersWhoseReportFails(when: "before" | "after", times = 1) {
  let left = times;
  const tries: string[] = [];
  const orders = {
    idFromName: (name: string) => env.ORDERS.idFromName(name),
    get: (id: DurableObjectId) => {
      const real = env.ORDERS.get(id);
      return {
        claimStep: (...args: Parameters<OrderDO["claimStep"]>) => real.claimStep(...args),
        deferStep: (...args: Parameters<OrderDO["deferStep"]>) => real.deferStep(...args),
        reportStep: async (...args: Parameters<OrderDO["reportStep"]>) => {
          tries.push(args[0].token);
          if (left <= 0) return real.reportStep(...args);
          left--;
          if (when === "after") await real.reportStep(...args);
          throw new Error("Network connection lost.");
        },
      };
    },
  } as unknown as Env["ORDERS"];
  return { orders, tries };
}

/** Target gates as the consumer reaches them, whose `release` cannot be reached. */
function gatesWhoseReleaseFails(): Env["GATES"] {
  return {
    idFromName: (name: string) => env.GATES.idFromName(name),
    get: (id: DurableObjectId) => {
      const real = env.GATES.get(id);
      return {
        acquire: (...args: Parameters<TargetGate["acquire"]>) => real.acquire(...args),
        call: (...args: Parameters<TargetGate["call"]>) => real.call(...args),
        sentLate: (...args: Parameters<TargetGate["sentLate"]>) => real.sentLate(...args),
        hold: (...args: Parameters<TargetGate["hold"]>) => real.hold(...args),
        letGo: (...args: Parameters<TargetGate["letGo"]>) => real.letGo(...args),
        rateLimited: (...args: Parameters<TargetGate["rateLimited"]>) => real.rateLimited(...args),
        release: async () => {
          throw new Error("gate unreachable");
        },
      };
    },
  } as unknown as Env["GATES"];
}

describe("a step's known outcome is not lost by what fails after the call", () => {
  it("a report that does not get through is sent again in place, with the same token: one invoice, one attempt", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const { world, order, stub, message } = await paidOrderWithHeldStep(oneInvoice);
    const { orders, tries } = ordersWhoseReportFails("before");
    expect(await runStep({ ...env, ORDERS: orders }, message)).toEqual({ next: "ack" });
    expect(tries).toHaveLength(2);
    expect(new Set(tries).size).toBe(1);
    expect((await stub.describe()).steps[0]).toMatchObject({ status: "done", attempts: 1 });
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    expect(mock.createdInvoiceCount()).toBe(1);
  });

  it("a report that landed but whose answer was lost answers `stale` when repeated, and the step does not run again", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const { world, order, stub, message } = await paidOrderWithHeldStep(oneInvoice);
    const { orders, tries } = ordersWhoseReportFails("after");
    // The consumer acks a stale verdict: the object has the outcome already.
    expect(await runStep({ ...env, ORDERS: orders }, message)).toEqual({ next: "stale" });
    expect(tries).toHaveLength(2);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    expect((await stub.describe()).steps[0]).toMatchObject({ status: "done", attempts: 1 });
    expect(mock.createdInvoiceCount()).toBe(1);
  });

  it("a gate that cannot be reached after the call loses no outcome: the step is reported done", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const { world, order, stub, message } = await paidOrderWithHeldStep(oneInvoice);
    expect(await runStep({ ...env, GATES: gatesWhoseReleaseFails() }, message)).toEqual({ next: "ack" });
    expect((await stub.describe()).steps[0]).toMatchObject({ status: "done", attempts: 1 });
    expect((await settledTransfers(world, String(order.id), 1))[0].status).toBe("completed");
    expect(mock.createdInvoiceCount()).toBe(1);
    // Its ticket was not released: it expires with the step's lease.
    expect((await gateFor(env, world.economicId).status()).running).toBe(1);
  });

  it("an attempt too large to keep inline, which R2 cannot take, is kept inline cut down and marked so, and the outcome reported", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    // A line title of 80 KB makes the attempt's mapped snapshot larger than a D1 row keeps inline (64 KB).
    (order.line_items as Array<Record<string, unknown>>)[0]!.title = "Lang T-shirt ".repeat(6200);
    const stub = orderObject(world, order);
    const held = await holdFirstStep(stub);
    await world.sendShopify("orders/paid", order);
    await expect.poll(() => held.length, { timeout: 5000 }).toBe(1);
    const blobs = {
      put: async () => {
        throw new Error("R2 is unavailable");
      },
      get: (...args: Parameters<R2Bucket["get"]>) => env.BLOBS.get(...args),
    } as unknown as R2Bucket;
    expect(await runStep({ ...env, BLOBS: blobs }, held[0]!)).toEqual({ next: "ack" });
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    const rows = await database(env)
      .select()
      .from(snapshots)
      .where(eq(snapshots.transferId, transfer.id))
      .orderBy(asc(snapshots.id));
    const history = await readHistory(env, rows);
    expect(history.attempts.map((a) => a.outcome)).toEqual(["ok"]);
    const mapped = history.snapshots.find((s) => s.kind === "mapped");
    expect(mapped?.data).toMatchObject({ truncated: expect.stringMatching(/R2 could not store/), head: expect.any(String) });
    expect((mapped!.data as { head: string }).head.length).toBeLessThan(64 * 1024);
  });
});

describe("a message that comes back after its consumer died holding the step", () => {
  it("turned away by the gate while the dead claim's lease holds, is retried after the lease, then deferred", async () => {
    installEconomicMock(createEconomicMock());
    const { world, order, stub, message } = await paidOrderWithHeldStep(oneInvoice);
    // A consumer claimed the step and died; the queue delivers its message again.
    await stub.claimStep(message, "a-consumer-that-died", { orderInClaim: true });
    await gateFor(env, world.economicId).rateLimited(1);
    const verdict = await runStep(env, message);
    // Acked, the step would wait for the alarm (the lease and STEP_RESEND_AFTER_SECONDS; 15 minutes deployed).
    expect(verdict).toMatchObject({ next: "retry" });
    if (verdict.next === "retry") expect(verdict.delaySeconds).toBeGreaterThanOrEqual(8);
    expect((await stub.describe()).steps[0]).toMatchObject({ status: "running", attempts: 1 });

    // Just past the lease its holder may still be reporting a call that ended with it: a call's
    // time (OUTBOUND_TIMEOUT_MS, 2 s in the tests) is left to it, and the message waits again.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE step_rows SET lease_until = ? WHERE step_index = 0", Date.now() - 500);
    });
    await gateFor(env, world.economicId).rateLimited(1);
    expect(await runStep(env, message)).toMatchObject({ next: "retry" });
    expect((await stub.describe()).steps[0]).toMatchObject({ status: "running", attempts: 1 });
    // Another claim in that time is turned away too.
    expect(await stub.claimStep(message, "another-consumer", { orderInClaim: true })).toMatchObject({ action: "busy" });

    // The lease and that call's time are over when it comes back, and the gate still turns it
    // away: the step is deferred.
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec("UPDATE step_rows SET lease_until = ? WHERE step_index = 0", Date.now() - 2001);
    });
    await gateFor(env, world.economicId).rateLimited(1);
    expect(await runStep(env, message)).toEqual({ next: "ack" });
    // The dead claim was an attempt; the deferral is none.
    expect((await stub.describe()).steps[0]).toMatchObject({ status: "deferred", attempts: 1 });
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    expect((await stub.describe()).steps[0]).toMatchObject({ status: "done", attempts: 2 });
  });

  it("sends a step's message at once when nothing is ahead of it in the outbox, and behind what is", async () => {
    const { stub, message } = await paidOrderWithHeldStep();
    await runInDurableObject(stub, async (instance: OrderDO, state) => {
      const own = instance as unknown as {
        env: Env;
        sendStep(m: typeof message, projected: boolean): void;
        sent(): Promise<void>;
      };
      const sends: unknown[] = [];
      const spy = vi.spyOn(own.env.STEPS, "send").mockImplementation(async (body) => {
        sends.push(body);
        return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse;
      });
      const kinds = () =>
        state.storage.sql
          .exec<{ kind: string }>("SELECT kind FROM outbox ORDER BY id")
          .toArray()
          .map((r) => r.kind);
      state.storage.sql.exec("DELETE FROM outbox");
      own.sendStep(message, true);
      await own.sent();
      expect(sends).toHaveLength(1);
      expect(kinds()).toEqual([]);
      // A projection due ahead of it (another transfer's, which the step may read from D1) goes first.
      state.storage.sql.exec("INSERT INTO outbox (kind, payload, next_at) VALUES ('d1', '{\"statements\":[]}', ?)", Date.now());
      own.sendStep(message, true);
      await own.sent();
      expect(sends).toHaveLength(1);
      expect(kinds()).toEqual(["d1", "send"]);
      spy.mockRestore();
      state.storage.sql.exec("DELETE FROM outbox");
    });
  });
});
