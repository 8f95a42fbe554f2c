/**
 * A retry (or a bulk replay) of a transfer its flow's filter failed on asks the flow's filter as
 * it is now: an order the fixed filter leaves out is not booked (completed, "not taken", nothing
 * sent), one it fails on again stays failed with the new error, one it takes runs. And a cancel
 * flow whose filter leaves the order out did not run for the cancellation: an update that came
 * while the order was cancelled re-runs once the shop takes it back, as with no cancel flow.
 */
import { describe, expect, it } from "vitest";
import { createWorld, DEARER_SHIPPING, orderObject, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { signedIn } from "../ui/ui-client";

const invoice = (world: World) => [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }];

async function invoicesOf(world: World, ledger: string, orderNumber: string) {
  const docs = (await world.api(`/ledger/invoices?connection=${ledger}`)).body.invoices as any[];
  return docs.filter((d) => d.type === "invoice" && d.orderNumber === orderNumber);
}

async function failedByFilter(world: World, flowId: string, tags: string) {
  const order = shopifyOrder({ tags });
  expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
  const [transfer] = await settledTransfers(world, String(order.id), 1);
  expect(transfer.flowId).toBe(flowId);
  expect(transfer.status).toBe("failed");
  return { order, transfer };
}

describe("a retry of a transfer its flow's filter failed on", () => {
  it("evaluates the flow's filter as it is now: not taken, taken, or failing again", async () => {
    const world = await createWorld();
    // A number plus a string: fails on every order, at run time.
    const res = await world.api("/flows", {
      body: {
        name: "Filtered",
        source: world.shopId,
        stage: "paid",
        filter: 'order.totals.total + "x" > 0',
        steps: invoice(world),
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const flowId = res.body.id as string;
    const retail = await failedByFilter(world, flowId, "retail");
    const wholesale = await failedByFilter(world, flowId, "wholesale");
    const other = await failedByFilter(world, flowId, "other");

    // Fixed to fail differently first: a retry keeps the transfer failed, with the new error.
    const patch = (filter: string) => world.api(`/flows/${flowId}`, { method: "PATCH", body: { filter } });
    expect((await patch('$number("x") > 0')).status).toBe(200);
    const again = await world.api(`/transfers/${other.transfer.id}/retry`, { body: {} });
    expect(again.status, JSON.stringify(again.body)).toBe(202);
    expect(again.body.status).toBe("failed");
    const stillFailed = (await world.api(`/transfers/${other.transfer.id}`)).body;
    expect(stillFailed.status).toBe("failed");
    expect(stillFailed.errorReason).toContain("D3030");

    // Fixed for real, then every failed transfer of the flow replayed in bulk.
    expect((await patch('$not("wholesale" in order.tags)')).status).toBe(200);
    const bulk = await world.api("/transfers/retry", { body: { flow: flowId } });
    expect(bulk.status, JSON.stringify(bulk.body)).toBe(202);
    expect(bulk.body.skipped).toEqual([]);

    const [booked] = await settledTransfers(world, String(retail.order.id), 1);
    expect(booked.status).toBe("completed");
    expect(await invoicesOf(world, world.ledgerId, String(retail.order.name))).toHaveLength(1);

    const [left] = await settledTransfers(world, String(wholesale.order.id), 1);
    expect(left.status).toBe("completed");
    expect(left.errorReason).toContain("Not taken by the flow's filter");
    const detail = (await world.api(`/transfers/${left.id}`)).body;
    expect(detail.stepsDone).toBe(0);
    expect(detail.steps.map((s: { status: string; attempts: number }) => [s.status, s.attempts])).toEqual([["pending", 0]]);
    expect(await invoicesOf(world, world.ledgerId, String(wholesale.order.name))).toHaveLength(0);
    // The transfer page says why nothing was sent.
    const { browser } = await signedIn(world.tenantId);
    await browser.get(`/transfers/${left.id}`);
    expect(browser.lastHtml).toContain("Nothing was sent");
    expect(browser.lastHtml).toContain("Not taken by the flow&#39;s filter");
    const inObject = (await orderObject(world, wholesale.order).describe()).transfers[0]!;
    expect(JSON.parse(inObject.error!)).toMatchObject({ code: "flow_filter_not_taken" });

    // Retried again from the start, it is asked again (still left out), not run.
    const fromStart = await world.api(`/transfers/${left.id}/retry`, { body: { fromStart: true } });
    expect(fromStart.body.status).toBe("completed");
    expect(await invoicesOf(world, world.ledgerId, String(wholesale.order.name))).toHaveLength(0);
  });
});

describe("a cancel flow whose filter leaves the order out", () => {
  it("did not run for the cancellation: an update while cancelled re-runs once the order is taken back", async () => {
    const world = await createWorld();
    const other = (await world.api("/connections", { body: { connector: "sandbox-ledger", name: "Ledger 2" } })).body.id;
    const cancel = await world.api("/flows", {
      body: {
        name: "Cancel wholesale",
        source: world.shopId,
        stage: "cancelled",
        filter: '"wholesale" in order.tags',
        steps: [{ target: other, action: "createInvoice" }],
      },
    });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(201);
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const start = Date.now();
    const at = (s: number) => new Date(start + s * 1000).toISOString();
    const order = shopifyOrder({ tags: "retail" });
    await world.sendShopify("orders/paid", { ...order, updated_at: at(0) });
    await settledTransfers(world, String(order.id), 1);
    const cancelled = { ...order, cancelled_at: at(1), updated_at: at(1) };
    await world.sendShopify("orders/cancelled", cancelled);
    const stub = orderObject(world, order);
    await expect.poll(async () => (await stub.describe()).stage.cancelled, { timeout: 5000 }).toBe(true);
    await world.sendShopify("orders/updated", { ...cancelled, ...DEARER_SHIPPING, updated_at: at(2) });
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    const total = async () => (await invoicesOf(world, world.ledgerId, String(order.name))).map((d) => d.total);
    expect(await total()).toEqual([24900]);
    await world.sendShopify("orders/fulfilled", {
      ...order,
      ...DEARER_SHIPPING,
      fulfillment_status: "fulfilled",
      cancelled_at: null,
      updated_at: at(3),
    });
    await expect.poll(async () => (await stub.describe()).stage.cancelled, { timeout: 5000 }).toBe(false);
    await expect.poll(total, { timeout: 10_000 }).toEqual([25900]);
    // The cancel flow made nothing for the order.
    expect((await stub.describe()).transfers.map((t) => t.stage)).toEqual(["paid"]);
  });
  it("left out on retry (not taken) did not run for the cancellation either", async () => {
    const world = await createWorld();
    const other = (await world.api("/connections", { body: { connector: "sandbox-ledger", name: "Ledger 2" } })).body.id;
    // Fails on every order at run time: the cancellation makes a failed transfer.
    const cancel = await world.api("/flows", {
      body: {
        name: "Cancel wholesale",
        source: world.shopId,
        stage: "cancelled",
        filter: 'order.totals.total + "x" > 0',
        steps: [{ target: other, action: "createInvoice" }],
      },
    });
    expect(cancel.status, JSON.stringify(cancel.body)).toBe(201);
    const cancelFlow = cancel.body.id as string;
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const start = Date.now();
    const at = (s: number) => new Date(start + s * 1000).toISOString();
    const order = shopifyOrder({ tags: "retail" });
    await world.sendShopify("orders/paid", { ...order, updated_at: at(0) });
    await settledTransfers(world, String(order.id), 1);
    const cancelled = { ...order, cancelled_at: at(1), updated_at: at(1) };
    await world.sendShopify("orders/cancelled", cancelled);
    const stub = orderObject(world, order);
    const transfers = await settledTransfers(world, String(order.id), 2);
    const failed = transfers.find((t) => t.flowId === cancelFlow);
    expect(failed?.status).toBe("failed");
    // Fixed to leave this order out, and retried: not taken, nothing sent.
    expect(
      (await world.api(`/flows/${cancelFlow}`, { method: "PATCH", body: { filter: '"wholesale" in order.tags' } })).status,
    ).toBe(200);
    const retried = await world.api(`/transfers/${failed.id}/retry`, { body: {} });
    expect(retried.body.status, JSON.stringify(retried.body)).toBe("completed");
    await world.sendShopify("orders/updated", { ...cancelled, ...DEARER_SHIPPING, updated_at: at(2) });
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    const total = async () => (await invoicesOf(world, world.ledgerId, String(order.name))).map((d) => d.total);
    expect(await total()).toEqual([24900]);
    await world.sendShopify("orders/fulfilled", {
      ...order,
      ...DEARER_SHIPPING,
      fulfillment_status: "fulfilled",
      cancelled_at: null,
      updated_at: at(3),
    });
    await expect.poll(async () => (await stub.describe()).stage.cancelled, { timeout: 5000 }).toBe(false);
    await expect.poll(total, { timeout: 10_000 }).toEqual([25900]);
  });
});
