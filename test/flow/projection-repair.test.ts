/**
 * The transfer log shows what the order's object knows, also after the less common turns: a step
 * a retry dropped, a projection parked during a D1 outage, a step the gate defers after its
 * transfer was written, and a projection the previous release serialised that runs late.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { asc, eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database, type SerializedStatement } from "../../src/db/client";
import { transferSteps, transfers } from "../../src/db/schema";
import type { OrderDO } from "../../src/durable/order-do";
import { paidOrderWithHeldStep } from "../helpers/step-messages";
import { createWorld, eventually, ledgerSteps, orderObject, settledTransfers, shopifyOrder } from "../helpers/world";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";

const DAY_MS = 86_400_000;

async function loggedTransfer(id: string) {
  const [row] = await database(env).select().from(transfers).where(eq(transfers.id, id));
  return row;
}

async function loggedSteps(transferId: string) {
  return database(env)
    .select({ stepIndex: transferSteps.stepIndex, status: transferSteps.status, errorReason: transferSteps.errorReason })
    .from(transferSteps)
    .where(eq(transferSteps.transferId, transferId))
    .orderBy(asc(transferSteps.stepIndex));
}

/** The order object's outbox jobs, oldest first. */
async function outbox(stub: DurableObjectStub<OrderDO>) {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql
      .exec<{ kind: string; next_at: number; attempts: number; parked: number }>(
        "SELECT kind, next_at, attempts, parked FROM outbox ORDER BY id",
      )
      .toArray()
      .map((row) => ({ kind: row.kind, dueInMs: row.next_at - Date.now(), attempts: row.attempts, parked: row.parked })),
  );
}

/** Makes the order's held projections due and runs its outbox (what the alarm does when the hold ends). */
async function endTheHold(stub: DurableObjectStub<OrderDO>): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec("UPDATE outbox SET next_at = ? WHERE kind = 'project' AND parked = 0", Date.now());
  });
  await stub.nudge();
}

/** A paid order of the sandbox ledger's two steps, completed and in the log. */
async function completedOrder() {
  const world = await createWorld();
  await world.flow("paid", ledgerSteps(world));
  const order = shopifyOrder();
  await world.sendShopify("orders/paid", order);
  const [transfer] = await settledTransfers(world, String(order.id), 1);
  expect(transfer).toMatchObject({ status: "completed", stepsDone: 2 });
  return { world, order, transfer, stub: orderObject(world, order) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the transfer log after the less common turns", () => {
  it("drops the row of a step a retry with the flow's current steps removed", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    mock.failNext({ status: 503, times: 4, path: /^\/invoices\/drafts$/, method: "POST" });
    const world = await createWorld();
    const ledgerStep = { target: world.ledgerId, action: "createInvoice" };
    const flowId = await world.flow("paid", [ledgerStep, { target: world.economicId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [failed] = await settledTransfers(world, String(order.id), 1);
    expect(failed.status).toBe("failed");
    expect((await loggedSteps(failed.id)).map((s) => s.status)).toEqual(["completed", "failed"]);
    // The merchant drops the failing step and retries with the flow's current steps.
    expect((await world.api(`/flows/${flowId}`, { method: "PATCH", body: { steps: [ledgerStep] } })).status).toBe(200);
    const retry = await world.api(`/transfers/${failed.id}/retry`, { body: { useCurrentSettings: true } });
    expect(retry.body.status).toBe("completed");
    await eventually(async () => (await loggedTransfer(failed.id))?.status === "completed", "the completed transfer in the log");
    expect(await loggedTransfer(failed.id)).toMatchObject({ stepCount: 1, stepsDone: 1 });
    // Completed, 1 of 1: no failed step beside it for the failing panel or the status report.
    expect((await loggedSteps(failed.id)).map((s) => [s.stepIndex, s.status])).toEqual([[0, "completed"]]);
    // Nor is it found as a transfer with a step to e-conomic (bulk replay's target filter).
    expect((await world.api(`/transfers?target=${world.economicId}`)).body.transfers).toEqual([]);
  });

  it("a nudge from the sweeper runs a projection parked during a D1 outage at once, and logs it", async () => {
    const { transfer, stub } = await completedOrder();
    // The outage: the completed state never reached D1 and its projection was parked an hour later.
    await env.DB.prepare("UPDATE transfers SET status = 'running', steps_done = 1, completed_at = NULL WHERE id = ?")
      .bind(transfer.id)
      .run();
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec(
        "INSERT INTO outbox (kind, transfer_id, payload, next_at, attempts, parked) VALUES ('project', ?, ?, ?, 60, 1)",
        transfer.id,
        JSON.stringify({ transferId: transfer.id, snapshots: [], attempts: [], extra: [] }),
        Date.now() + DAY_MS - 60_000,
      );
    });
    const errors = vi.spyOn(console, "error");
    // D1 is back: the sweeper finds the transfer unfinished and unchanged, and nudges its order.
    await stub.nudge();
    expect(await outbox(stub)).toEqual([]);
    expect(await loggedTransfer(transfer.id)).toMatchObject({ status: "completed", stepsDone: 2 });
    expect(errors).toHaveBeenCalledWith(
      "order outbox: parked projections tried again",
      expect.objectContaining({ by: "sweeper", count: 1, jobs: [expect.objectContaining({ transferId: transfer.id })] }),
    );
  });

  it("a parked projection that fails again under a nudge is parked again after one try, with the order's count logged", async () => {
    const { stub } = await completedOrder();
    await runInDurableObject(stub, (_instance, state) => {
      // A previous release's job that can never be written.
      const bad: SerializedStatement = { sql: "UPDATE no_such_table SET x = 1", params: [] };
      state.storage.sql.exec(
        "INSERT INTO outbox (kind, payload, next_at, attempts, parked) VALUES ('d1', ?, ?, 60, 1)",
        JSON.stringify({ statements: [bad] }),
        Date.now() + DAY_MS - 60_000,
      );
    });
    const errors = vi.spyOn(console, "error");
    await stub.nudge();
    const [job] = await outbox(stub);
    expect(job).toMatchObject({ kind: "d1", parked: 1, attempts: 60 });
    expect(job!.dueInMs).toBeGreaterThan(DAY_MS - 60_000);
    expect(errors).toHaveBeenCalledWith(
      "order outbox: projection parked",
      expect.objectContaining({ kind: "d1", parked: 1, orderId: expect.any(String) }),
    );
    await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec("DELETE FROM outbox"));
  });

  it("a step the gate defers joins its transfer's held projection, which keeps its hold, and is shown when it is written", async () => {
    const { stub, message } = await paidOrderWithHeldStep();
    // The step waits for its consumer; the transfer's projection is held meanwhile.
    const token = crypto.randomUUID();
    expect((await stub.claimStep(message, token, { orderInClaim: true })).action).toBe("run");
    expect(await stub.deferStep(message, Date.now() + 60_000, "rate limited (429)", token)).toBeUndefined();
    // The common case: the deferral joins the held job, which keeps its hold (no write of its own).
    const held = await outbox(stub);
    expect(held.map((j) => j.kind)).toEqual(["project"]);
    expect(held[0]!.dueInMs).toBeGreaterThan(3000);
    await endTheHold(stub);
    expect((await loggedSteps(message.transferId))[0]).toMatchObject({
      status: "retrying",
      errorReason: "Waiting for the target: rate limited (429)",
    });
  });

  it("shows a step deferred when its held projection was already written (a queue delivery slower than the hold)", async () => {
    const { stub, message } = await paidOrderWithHeldStep();
    await endTheHold(stub);
    expect(await outbox(stub)).toEqual([]);
    expect((await loggedSteps(message.transferId))[0]).toMatchObject({ status: "running" });
    const token = crypto.randomUUID();
    expect((await stub.claimStep(message, token, { orderInClaim: true })).action).toBe("run");
    await stub.deferStep(message, Date.now() + 60_000, "the connection is paused", token);
    const [job] = await outbox(stub);
    expect(job).toMatchObject({ kind: "project" });
    await endTheHold(stub);
    expect((await loggedSteps(message.transferId))[0]).toMatchObject({
      status: "retrying",
      errorReason: "Waiting for the target: the connection is paused",
    });
  });

  it("a previous release's projection run after newer ones leaves the newer state in the log", async () => {
    const { world, transfer, stub } = await completedOrder();
    const stored = (await loggedTransfer(transfer.id))!;
    // What the previous release serialised while the first step ran: running, one step done. Its
    // guard writes whenever the status differs, whatever the time.
    const old = stored.createdAt;
    const statements: SerializedStatement[] = [
      {
        sql: `INSERT INTO transfers (id, tenant_id, flow_id, source_connection_id, order_id, stage, occurrence, status, step_count,
                steps_done, created_at, updated_at, completed_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, 'running', 2, 1, ?, ?, NULL)
              ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, completed_at = excluded.completed_at
              WHERE excluded.status IS NOT transfers.status OR excluded.updated_at >= transfers.updated_at + 60000`,
        params: [
          transfer.id,
          world.tenantId,
          stored.flowId,
          stored.sourceConnectionId,
          stored.orderId,
          stored.stage,
          stored.occurrence,
          old,
          old,
        ],
      },
      { sql: "UPDATE transfers SET steps_done = ? WHERE id = ? AND steps_done IS NOT ?", params: [1, transfer.id, 1] },
      {
        sql: `INSERT INTO transfer_steps (transfer_id, step_index, tenant_id, target_connection_id, action, status, attempts, updated_at)
              VALUES (?, 1, ?, ?, 'registerPayment', 'running', 1, ?)
              ON CONFLICT (transfer_id, step_index) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at
              WHERE excluded.status IS NOT transfer_steps.status`,
        params: [transfer.id, world.tenantId, world.ledgerId, old],
      },
    ];
    await runInDurableObject(stub, (_instance, state) => {
      // Parked during an outage and tried again now, after the newer projections were written.
      state.storage.sql.exec(
        "INSERT INTO outbox (kind, payload, next_at, attempts) VALUES ('d1', ?, ?, 57)",
        JSON.stringify({ statements }),
        Date.now(),
      );
    });
    await stub.nudge();
    expect(await outbox(stub)).toEqual([]);
    expect(await loggedTransfer(transfer.id)).toMatchObject({
      status: "completed",
      stepsDone: 2,
      completedAt: stored.completedAt,
    });
    expect((await loggedSteps(transfer.id)).map((s) => s.status)).toEqual(["completed", "completed"]);
  });
});
