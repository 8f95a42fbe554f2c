/** What an update or a replay does to transfers made before it (src/durable/order-do.ts, rerunForUpdate). */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { OrderDO } from "../../src/durable/order-do";
import { createWorld, eventually, orderObject, settledTransfers, shopifyOrder, type World } from "../helpers/world";

async function completedOrder(world: World) {
  const order = shopifyOrder();
  await world.sendShopify("orders/paid", order);
  const [transfer] = await settledTransfers(world, String(order.id), 1);
  expect(transfer.status).toBe("completed");
  return { order, transfer, stub: orderObject(world, order) };
}

function update(order: Record<string, unknown>, email: string) {
  return { ...order, email, updated_at: new Date(Date.now() + 1000).toISOString() };
}

describe("re-runs after an update", () => {
  it("go at the order's priority, though a bulk replay ran the transfer last", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const { order, transfer, stub } = await completedOrder(world);
    const priority = () =>
      runInDurableObject(
        stub,
        (_i, state) =>
          state.storage.sql.exec<{ priority: string }>("SELECT priority FROM transfers WHERE id = ?", transfer.id).one().priority,
      );
    const replay = await world.api("/transfers/retry", { body: { status: "completed", fromStart: true } });
    expect(replay.status).toBe(202);
    expect(await priority()).toBe("bulk");
    await eventually(async () => (await world.api(`/transfers/${transfer.id}`)).body.status === "completed", "the replay");
    await world.sendShopify("orders/updated", update(order, "changed@example.dk"));
    await expect.poll(priority, { timeout: 5000 }).toBe("order");
  });

  it("leave the transfers of a flow switched off since alone", async () => {
    const world = await createWorld();
    const flowId = await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const { order, stub } = await completedOrder(world);
    expect((await world.api(`/flows/${flowId}`, { method: "PATCH", body: { enabled: false } })).status).toBe(200);
    await world.sendShopify("orders/updated", update(order, "changed@example.dk"));
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    const { steps, order: latest } = await stub.describe();
    expect(latest?.customer?.email).toBe("changed@example.dk");
    expect(steps.map((st) => [st.status, st.attempts])).toEqual([["done", 1]]);
    // It still takes the new version, for a re-run once the flow is back.
    const input = await runInDurableObject(stub, (_i, state) =>
      JSON.parse(state.storage.sql.exec<{ input: string }>("SELECT input FROM transfers").one().input),
    );
    expect(input.order.customer.email).toBe("changed@example.dk");
  });

  it("give a step's claim what the order's other transfers made, though a re-run set their steps back to waiting", async () => {
    const world = await createWorld();
    // Two flows on one stage (a second ledger: the same step twice on one target is refused).
    const other = (await world.api("/connections", { body: { connector: "sandbox-ledger", name: "Ledger 2" } })).body.id;
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    await world.flow("paid", [{ target: other, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [first, second] = await settledTransfers(world, String(order.id), 2);
    const stub = orderObject(world, order);
    const history = await runInDurableObject(stub, (instance: OrderDO, state) => {
      // The first is set back for a re-run from the start (resetSteps keeps what it made).
      state.storage.sql.exec("UPDATE step_rows SET status = 'waiting' WHERE transfer_id = ?", first.id);
      const claim = (
        instance as unknown as {
          runClaim(id: string, step: number, attempt: number, leaseUntil: number): { history: Array<{ transferId: string }> };
        }
      ).runClaim(second.id, 0, 1, Date.now() + 60_000);
      return claim.history.map((h) => h.transferId);
    });
    expect(history).toEqual([first.id]);
    void env;
  });
});

describe("a step's own earlier success", () => {
  it("comes with its claim when the transfer runs again, and not on its first run", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const { transfer, stub } = await completedOrder(world);
    const claimOf = () =>
      runInDurableObject(stub, (instance) =>
        (
          instance as unknown as {
            runClaim(t: string, i: number, a: number, l: number): { prior?: { externalId: string }; previous: unknown[] };
          }
        ).runClaim(transfer.id, 0, 2, Date.now() + 60_000),
      );
    const stored = await runInDurableObject(
      stub,
      (_i, state) =>
        JSON.parse(
          state.storage.sql.exec<{ result: string }>("SELECT result FROM step_rows WHERE step_index = 0").one().result,
        ) as {
          externalId: string;
        },
    );
    expect((await claimOf()).prior?.externalId).toBe(stored.externalId);
    // A step that never succeeded has none.
    await runInDurableObject(stub, (_i, state) => {
      state.storage.sql.exec("UPDATE step_rows SET result = NULL");
    });
    expect(await claimOf()).not.toHaveProperty("prior");
  });
});
