import { env, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { database } from "../../src/db/client";
import { deadLetters } from "../../src/db/schema";
import type { OrderDO } from "../../src/durable/order-do";
import { attemptRows } from "../helpers/history";
import { holdEveryStep } from "../helpers/step-messages";
import { createWorld, eventually, orderObject, settledTransfers, shopifyOrder } from "../helpers/world";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";

/** A paid order whose transfer (a ledger invoice, then an e-conomic one) failed at its second step. */
async function failedAtItsEconomicStep() {
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
  return { mock, world, ledgerStep, flowId, order, failed };
}

describe("failures on the way to the target", () => {
  it("a 500 then success gives one invoice after two attempts", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    mock.failNext({ status: 500, path: /^\/invoices\/drafts$/, method: "POST" });
    const world = await createWorld();
    await world.flow("paid", [{ target: world.economicId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    expect(mock.state.drafts).toHaveLength(1);
    const rows = await attemptRows(transfer.id);
    expect(rows.map((r) => [r.attempt, r.outcome, r.errorClass])).toEqual([
      [1, "retry", "unavailable"],
      [2, "ok", null],
    ]);
  });

  it("a write that succeeded but answered 500 is adopted on retry, not made twice", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    mock.failNext({ status: 500, path: /^\/invoices\/drafts$/, method: "POST", afterEffect: true });
    const world = await createWorld();
    await world.flow("paid", [{ target: world.economicId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    expect(mock.state.drafts).toHaveLength(1);
    const detail = await world.api(`/transfers/${transfer.id}`);
    expect(detail.body.steps[0]).toMatchObject({ attempts: 2, created: false });
  });

  it("a 429 is sent again in place, no sooner than its Retry-After, without using up an attempt", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    mock.failNext({ status: 429, retryAfter: 1, path: /^\/invoices\/drafts$/, method: "POST" });
    const world = await createWorld();
    await world.flow("paid", [{ target: world.economicId, action: "createInvoice" }]);
    const order = shopifyOrder();
    const sentAt = Date.now();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    const rows = await attemptRows(transfer.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: "ok", attempt: 1 });
    expect(mock.createdInvoiceCount()).toBe(1);
    // The gate held the connection for the Retry-After before the same request went again.
    expect(rows[0]!.createdAt - sentAt).toBeGreaterThanOrEqual(950);
  });

  it("exhausted retries end failed with a reason and a dead letter; a retry through the API then succeeds", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    // Exactly as many failures as the step has attempts (STEP_MAX_ATTEMPTS is 4 in tests).
    mock.failNext({ status: 503, times: 4, path: /^\/invoices\/drafts$/, method: "POST" });
    const world = await createWorld();
    await world.flow("paid", [{ target: world.economicId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [failed] = await settledTransfers(world, String(order.id), 1);
    expect(failed.status).toBe("failed");
    expect(failed.errorReason).toMatch(/e-conomic answered 503.*gave up after 4 attempts/);
    expect(failed.errorClass).toBe("unavailable");
    const letters = await eventually(async () => {
      const rows = await database(env).select().from(deadLetters).where(eq(deadLetters.transferId, failed.id));
      return rows.length > 0 ? rows : undefined;
    }, "a dead letter");
    expect(letters[0]!.reason).toMatch(/gave up after 4 attempts/);

    const retry = await world.api(`/transfers/${failed.id}/retry`, { body: {} });
    expect(retry.status).toBe(202);
    const [done] = await eventually(async () => {
      const list = (await world.api(`/transfers?order=${order.id}`)).body.transfers;
      return list[0].status === "completed" ? list : undefined;
    }, "the retried transfer to complete");
    expect(done.errorReason).toBeNull();
    expect(mock.state.drafts).toHaveLength(1);
    // A completed transfer cannot be retried again, except from the start (which adopts).
    expect((await world.api(`/transfers/${failed.id}/retry`, { body: {} })).status).toBe(409);
    expect((await world.api(`/transfers/${failed.id}/retry`, { body: { fromStart: true } })).status).toBe(202);
    await eventually(async () => (await world.api(`/transfers/${failed.id}`)).body.status === "completed", "the re-run");
    expect(mock.state.drafts).toHaveLength(1);
    // Every attempt keeps its row: four failed, the retry's, the re-run's (numbers go on counting).
    const rows = await eventually(async () => {
      const found = await attemptRows(failed.id);
      return found.length === 6 ? found : undefined;
    }, "six attempt rows");
    expect(rows.map((r) => [r.attempt, r.outcome])).toEqual([
      [1, "retry"],
      [2, "retry"],
      [3, "retry"],
      [4, "failed"],
      [5, "ok"],
      [6, "ok"],
    ]);
  });

  it("a retry with the flow's current steps, which no longer have the failed one, completes the transfer", async () => {
    const { mock, world, ledgerStep, flowId, order, failed } = await failedAtItsEconomicStep();
    // The merchant drops the failing step from the flow and retries with its current settings.
    expect((await world.api(`/flows/${flowId}`, { method: "PATCH", body: { steps: [ledgerStep] } })).status).toBe(200);
    const retry = await world.api(`/transfers/${failed.id}/retry`, { body: { useCurrentSettings: true } });
    expect(retry.status).toBe(202);
    expect(retry.body.status).toBe("completed");
    await eventually(
      async () => (await world.api(`/transfers/${failed.id}`)).body.status === "completed",
      "the transfer in the log",
    );
    expect((await orderObject(world, order).describe()).transfers.map((t) => t.status)).toEqual(["completed"]);
    expect(mock.state.drafts).toHaveLength(0);
  });

  it("a retry with the flow's current steps is refused when they put another action where a done step stands", async () => {
    const { mock, world, ledgerStep, flowId, failed } = await failedAtItsEconomicStep();
    // A step inserted first moves the done step: its reference would change.
    const inserted = [{ target: world.ledgerId, action: "registerPayment" }, ledgerStep];
    expect((await world.api(`/flows/${flowId}`, { method: "PATCH", body: { steps: inserted } })).status).toBe(200);
    for (const fromStart of [false, true]) {
      const refused = await world.api(`/transfers/${failed.id}/retry`, { body: { useCurrentSettings: true, fromStart } });
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(/step 1 \(createInvoice\) is done.*registerPayment in its place/);
    }
    // Without the current settings the retry runs the steps as they were.
    expect((await world.api(`/transfers/${failed.id}/retry`, { body: {} })).status).toBe(202);
    await eventually(async () => (await world.api(`/transfers/${failed.id}`)).body.status === "completed", "the retry");
    expect(mock.state.drafts).toHaveLength(1);
  });

  it("a retry with the flow's current steps is refused when a done step's connection changed, unless from the start", async () => {
    const { world, ledgerStep, flowId, order, failed } = await failedAtItsEconomicStep();
    // The done ledger step now names the e-conomic connection: its result (the ledger's invoice)
    // would be carried on to the next step as if e-conomic had made it.
    const moved = [
      { ...ledgerStep, target: world.economicId },
      { target: world.economicId, action: "createInvoice" },
    ];
    expect((await world.api(`/flows/${flowId}`, { method: "PATCH", body: { steps: moved } })).status).toBe(200);
    const refused = await world.api(`/transfers/${failed.id}/retry`, { body: { useCurrentSettings: true } });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/step 1 \(createInvoice\) is done on another connection.*Retry from the start/);
    // From the start it runs; the moved step no longer keeps the ledger's result, which other
    // transfers of the order would read as e-conomic's. (Its message is held to look before it runs.)
    const stub = orderObject(world, order);
    const { held, restore } = await holdEveryStep(stub);
    const fromStart = await world.api(`/transfers/${failed.id}/retry`, { body: { useCurrentSettings: true, fromStart: true } });
    expect(fromStart.status).toBe(202);
    await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 5000 });
    const kept = await runInDurableObject(stub, (_i, state) =>
      state.storage.sql
        .exec<{ step_index: number; result: string | null }>(
          "SELECT step_index, result FROM step_rows WHERE transfer_id = ? ORDER BY step_index",
          failed.id,
        )
        .toArray()
        .map((r) => [r.step_index, r.result]),
    );
    expect(kept).toEqual([
      [0, null],
      [1, null],
    ]);
    await restore();
    await env.STEPS.send(held[0]!);
    // Settled before the next test installs its own target mock.
    await eventually(async () => (await world.api(`/transfers/${failed.id}`)).body.status === "completed", "the retry");
  });

  it("a retry after an update of the order runs the done steps again too: what they made is from the older version", async () => {
    const { world, order, failed } = await failedAtItsEconomicStep();
    const stub = orderObject(world, order);
    const attemptsOf = async () =>
      (await stub.describe()).steps.filter((st) => st.transfer_id === failed.id).map((st) => [st.step_index, st.attempts]);
    expect(await attemptsOf()).toEqual([
      [0, 1],
      [1, 4],
    ]);
    // The buyer's address changes while the transfer stands failed: it only takes the new version.
    const updated = { ...order, email: "new@example.dk", updated_at: new Date(Date.now() + 1000).toISOString() };
    expect((await world.sendShopify("orders/updated", updated)).status).toBe(200);
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    expect(await attemptsOf()).toEqual([
      [0, 1],
      [1, 4],
    ]);
    // Retried from the failed step, it runs from the first, so the ledger's invoice takes the update.
    expect((await world.api(`/transfers/${failed.id}/retry`, { body: {} })).status).toBe(202);
    await eventually(async () => (await world.api(`/transfers/${failed.id}`)).body.status === "completed", "the retry");
    expect(await attemptsOf()).toEqual([
      [0, 2],
      [1, 5],
    ]);
  });

  it("a re-run gets the full number of tries again, whatever the step used before", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    mock.failNext({ status: 503, times: 4, path: /^\/invoices\/drafts$/, method: "POST" });
    const world = await createWorld();
    await world.flow("paid", [{ target: world.economicId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [failed] = await settledTransfers(world, String(order.id), 1);
    expect(failed.status).toBe("failed");
    // Three failures, then success: within the re-run's own four tries.
    mock.failNext({ status: 503, times: 3, path: /^\/invoices\/drafts$/, method: "POST" });
    expect((await world.api(`/transfers/${failed.id}/retry`, { body: {} })).status).toBe(202);
    await eventually(async () => (await world.api(`/transfers/${failed.id}`)).body.status === "completed", "the retry");
    expect(mock.state.drafts).toHaveLength(1);
  });

  it("a permanent rejection fails at once with the target's reason, without retries", async () => {
    const world = await createWorld();
    const strict = await world.api("/connections", {
      body: { connector: "sandbox-ledger", name: "Strict ledger", settings: { rejectOrdersAbove: 10000 } },
    });
    await world.flow("paid", [{ target: strict.body.id, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("failed");
    expect(transfer.errorClass).toBe("validation");
    expect(transfer.errorReason).toBe("The sandbox ledger rejects orders above 10000 minor units (this one is 24900).");
    expect((await attemptRows(transfer.id)).map((r) => r.outcome)).toEqual(["failed"]);
  });
});

describe("the outbox and the re-send alarm", () => {
  it("a failed Queue send is retried from the order's outbox, not lost", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    const stub = env.ORDERS.get(env.ORDERS.idFromName(`${world.shopId}:${order.id}`));
    let failures = 0;
    await runInDurableObject(stub, (instance: OrderDO) => {
      const steps = (instance as unknown as { env: Env }).env.STEPS;
      vi.spyOn(steps, "send").mockImplementationOnce(async () => {
        failures++;
        throw new Error("queue unavailable");
      });
    });
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(failures).toBe(1);
    expect(transfer.status).toBe("completed");
    vi.restoreAllMocks();
  });

  it("a step whose message was lost is re-sent by the order's alarm", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    const stub = env.ORDERS.get(env.ORDERS.idFromName(`${world.shopId}:${order.id}`));
    let swallowed = 0;
    await runInDurableObject(stub, (instance: OrderDO) => {
      const steps = (instance as unknown as { env: Env }).env.STEPS;
      // The send "succeeds" but the message never arrives, as after a local restart.
      vi.spyOn(steps, "send").mockImplementationOnce(async () => {
        swallowed++;
        return { metadata: { metrics: { backlogCount: 0, backlogBytes: 0 } } } as QueueSendResponse;
      });
    });
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1, 20_000);
    expect(swallowed).toBe(1);
    expect(transfer.status).toBe("completed");
    const state = await stub.describe();
    // Re-sent once; its report set the count of lost messages back (step-resends.test.ts).
    expect(state.steps[0]).toMatchObject({ status: "done", resends: 0 });
    vi.restoreAllMocks();
  });
});
