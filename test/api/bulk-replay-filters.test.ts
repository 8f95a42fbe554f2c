import { describe, expect, it } from "vitest";
import { createWorld, eventually, settledTransfers, shopifyOrder } from "../helpers/world";

/** Two strict ledgers behind two flows of one shop: each order fails once at each. */
async function failedAtTwoTargets() {
  const world = await createWorld();
  const strict = async (name: string) =>
    (
      await world.api("/connections", {
        body: { connector: "sandbox-ledger", name, settings: { rejectOrdersAbove: 100 } },
      })
    ).body.id as string;
  const a = await strict("Ledger A");
  const b = await strict("Ledger B");
  await world.flow("paid", [{ target: a, action: "createInvoice" }]);
  await world.flow("paid", [{ target: b, action: "createInvoice" }]);
  const orders = [shopifyOrder(), shopifyOrder()];
  for (const order of orders) await world.sendShopify("orders/paid", order);
  for (const order of orders) {
    const settled = await settledTransfers(world, String(order.id), 2);
    expect(settled.map((t) => t.status)).toEqual(["failed", "failed"]);
  }
  return { world, a, b, orders };
}

/** Waits until the replayed transfers have failed again, so nothing runs on after the test. */
async function allFailedAgain(world: Awaited<ReturnType<typeof createWorld>>) {
  await eventually(async () => {
    const list = (await world.api("/transfers")).body.transfers as Array<{ status: string }>;
    return list.every((t) => t.status === "failed") ? true : undefined;
  }, "the replays to fail again");
}

describe("bulk replay filters", () => {
  it("retries only the transfers of the given target, or of the given order", async () => {
    const { world, a, orders } = await failedAtTwoTargets();
    const byTarget = await world.api("/transfers/retry", { body: { target: a } });
    expect(byTarget.status).toBe(202);
    expect(byTarget.body).toMatchObject({ queued: 2, skipped: [] });
    await allFailedAgain(world);
    const byOrder = await world.api("/transfers/retry", { body: { order: String(orders[0]!.id) } });
    expect(byOrder.status).toBe(202);
    expect(byOrder.body).toMatchObject({ queued: 2, skipped: [] });
    await allFailedAgain(world);
    const both = await world.api("/transfers/retry", { body: { order: String(orders[1]!.id), target: a } });
    expect(both.body).toMatchObject({ queued: 1 });
    await allFailedAgain(world);
    // Another tenant's connection id matches nothing of this one.
    const other = await createWorld();
    expect((await other.api("/transfers/retry", { body: { target: a } })).body).toMatchObject({ queued: 0 });
  });

  it("refuses a filter it does not know with a 400 naming it, and retries nothing", async () => {
    const world = await createWorld();
    const res = await world.api("/transfers/retry", { body: { status: "completed", fromStart: true, targets: "con_x" } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("request_invalid");
    expect(res.body.error.message).toContain("targets");
  });
});
