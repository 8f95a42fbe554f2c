/**
 * A flow's filter decides, in the order's object, whether an order gets the flow's transfer: a
 * truthy filter makes it, a falsy one makes none, no filter is every order as before, and a
 * filter that fails on an order makes its transfer fail visibly (alerted, retryable) instead of
 * dropping the order.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sweepUnalertedFailures } from "../../src/notifications/failure-alerts";
import { notificationConfig } from "../../src/notifications/notification-config";
import { createWorld, eventually, orderObject, settledTransfers, shopifyOrder, type World } from "../helpers/world";

const invoice = (world: World) => [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }];

/** A paid-stage flow with a filter, beside a created-stage flow without one (the control). */
async function filteredWorld(filter: string) {
  const world = await createWorld();
  const control = await world.flow("created", invoice(world));
  const res = await world.api("/flows", {
    body: { name: "Filtered", source: world.shopId, stage: "paid", filter, steps: invoice(world) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.filter).toBe(filter);
  return { world, control, filtered: res.body.id as string };
}

/** Sends orders/paid; both stages are planned in one job, so the control's transfer means planning is done. */
async function paid(world: World, overrides: Record<string, unknown>, expected: number) {
  const order = shopifyOrder(overrides);
  expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
  const transfers = await settledTransfers(world, String(order.id), expected);
  const state = await orderObject(world, order).describe();
  return { order, transfers, state };
}

describe("a flow's filter", () => {
  it("makes the transfer when truthy and none when falsy; a flow without a filter takes every order", async () => {
    const { world, control, filtered } = await filteredWorld('$not("wholesale" in order.tags)');

    const retail = await paid(world, { tags: "retail, vip" }, 2);
    expect(retail.transfers.map((t) => [t.flowId, t.status]).sort()).toEqual(
      [
        [control, "completed"],
        [filtered, "completed"],
      ].sort(),
    );

    const wholesale = await paid(world, { tags: "wholesale" }, 1);
    expect(wholesale.transfers.map((t) => t.flowId)).toEqual([control]);
    // Nothing written for the filtered flow: no transfer in the object either.
    expect(wholesale.state.transfers.map((t) => t.flow_id)).toEqual([control]);
    await eventually(async () => (await orderObject(world, wholesale.order).describe()).outbox === 0, "the outbox to empty");
    expect((await world.api(`/transfers?order=${wholesale.order.id}`)).body.transfers).toHaveLength(1);
  });

  it("that fails on an order fails its transfer with flow_filter_failed: alerted, and a retry once it is fixed runs the flow", async () => {
    // A number plus a string: JSONata's T2002, at run time only.
    const { world, filtered } = await filteredWorld('order.totals.total + "x" > 0');

    const { order, transfers, state } = await paid(world, {}, 2);
    const failed = transfers.find((t) => t.flowId === filtered);
    expect(failed.status).toBe("failed");
    expect(failed.errorReason).toContain("The flow's filter could not decide on this order");
    expect(failed.errorReason).toContain("T2002");
    expect(failed.errorClass).toBe("validation");
    const inObject = state.transfers.find((t) => t.flow_id === filtered)!;
    expect(JSON.parse(inObject.error!)).toMatchObject({ code: "flow_filter_failed" });
    const firstStep = state.steps.find((s) => s.transfer_id === inObject.id && s.step_index === 0)!;
    expect(firstStep.status).toBe("failed");
    expect(firstStep.attempts).toBe(0);

    // The cron's sweeper alerts it like any failed transfer.
    expect(await sweepUnalertedFailures(env, Date.now(), notificationConfig(env).alertWindowMs)).toBeGreaterThanOrEqual(1);
    const marked = await env.DB.prepare("SELECT alerted_at FROM transfers WHERE id = ?")
      .bind(failed.id)
      .first<{ alerted_at: number | null }>();
    expect(marked?.alerted_at).not.toBeNull();

    // The retry asks the flow's filter as it is now (test/flow/flow-filter-retry.test.ts): fixed first.
    expect((await world.api(`/flows/${filtered}`, { method: "PATCH", body: { filter: "order.totals.total > 0" } })).status).toBe(
      200,
    );
    const retry = await world.api(`/transfers/${failed.id}/retry`, { body: {} });
    expect(retry.status, JSON.stringify(retry.body)).toBe(202);
    await eventually(async () => {
      const list = (await world.api(`/transfers?order=${order.id}`)).body.transfers as Array<{ id: string; status: string }>;
      return list.find((t) => t.id === failed.id)?.status === "completed";
    }, "the retried transfer to complete");
  });

  it("that runs away (an endless loop) fails the transfer instead of holding up the order", async () => {
    const { world, filtered } = await filteredWorld("( $f := function($n) { $f($n + 1) }; $f(0) )");
    const { transfers } = await paid(world, {}, 2);
    const failed = transfers.find((t) => t.flowId === filtered);
    expect(failed.status).toBe("failed");
    expect(failed.errorReason).toMatch(/steps|timeout|Stack overflow/i);
  });
});
