/**
 * e-conomic cancelOrder and the drafts that unfinished steps leave: a createInvoice that fails on a
 * totals mismatch keeps its draft in e-conomic but is not in the order's history (only completed
 * steps are). cancelOrder finds such drafts by the reference the step wrote, through the transfer
 * log, deletes drafts and never touches a booked invoice.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { StepHistoryEntry } from "../../src/connectors/contract";
import { cancelOrder, createInvoice, createOrder } from "../../src/connectors/economic";
import { transferOfReference } from "../../src/connectors/order-steps";
import { stepReference } from "../../src/domain/reference";
import { logTransfers, transferIdForTest } from "../helpers/transfer-log";
import { createWorld, eventually, settledTransfers, shopifyOrder } from "../helpers/world";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { CONNECTION_ID, calls, danishOrder, done, failure, run, writes } from "../mocks/economic.mock.fixtures";

/** One order's ids; fresh per test, as D1 keeps what earlier tests of the file wrote. */
function ids() {
  const created = transferIdForTest();
  const paid = transferIdForTest();
  const cancelled = transferIdForTest();
  return {
    order: { tenantId: "tenant_1", sourceConnectionId: "con_shop", orderId: `order-${transferIdForTest()}` },
    created,
    paid,
    cancelled,
    paidRef: stepReference(paid, 0),
    createdRef: stepReference(created, 0),
    cancelRef: stepReference(cancelled, 0),
  };
}
type Ids = ReturnType<typeof ids>;

/** The customer paid 300.00 but the lines make 248.00: the draft is kept and the step fails. */
const mismatched = () => danishOrder({ totals: { total: 30000, tax: 4960, discounts: 0, shipping: 4900 } });

function economic() {
  const mock = createEconomicMock();
  installEconomicMock(mock);
  return mock;
}

/** A paid transfer whose createInvoice failed after leaving a draft, and the cancelled transfer now running. */
async function failedInvoice(mock: EconomicMock, settings: Record<string, unknown> = {}): Promise<Ids> {
  const at = ids();
  const drafts = mock.state.drafts.length;
  const error = await failure(run(createInvoice, mismatched(), settings, { reference: at.paidRef }));
  expect(error.code).toBe("invoice_totals_mismatch");
  expect(mock.state.drafts).toHaveLength(drafts + 1);
  await logTransfers(at.order, [
    { id: at.paid, stage: "paid", steps: [{ target: CONNECTION_ID, action: "createInvoice", status: "failed" }] },
    {
      id: at.cancelled,
      stage: "cancelled",
      status: "running",
      steps: [{ target: CONNECTION_ID, action: "cancelOrder", status: "running" }],
    },
  ]);
  mock.state.requests.length = 0;
  return at;
}

const cancel = (at: Ids, history: StepHistoryEntry[] = []) =>
  run(cancelOrder, danishOrder({ stage: "cancelled" }), {}, { reference: at.cancelRef, history });

describe("e-conomic cancelOrder: drafts left by unfinished steps", () => {
  it("deletes the draft a failed createInvoice left, found by the reference it wrote", async () => {
    const mock = economic();
    const at = await failedInvoice(mock);

    const { result } = await cancel(at);

    expect(writes(mock).map((w) => `${w.method} ${w.path}`)).toEqual(["DELETE /invoices/drafts/1"]);
    expect(result).toEqual({
      externalId: "draft 1",
      created: false,
      outputs: { deletedOrders: [], deletedDraftInvoices: [1], leftoverReferences: [at.paidRef] },
    });
    expect(mock.state.drafts).toEqual([]);
  });

  it("is idempotent: a re-run finds nothing left and says why", async () => {
    const mock = economic();
    const at = await failedInvoice(mock);
    await cancel(at);
    mock.state.requests.length = 0;

    const again = await cancel(at);

    expect(writes(mock)).toEqual([]);
    expect(again.result).toEqual({
      externalId: "nothing deleted",
      created: false,
      outputs: {
        deletedOrders: [],
        deletedDraftInvoices: [],
        reason:
          "no e-conomic draft carries the reference of this order's unfinished step (1): none was left, or it is already gone",
      },
    });
  });

  it("refuses when a person has booked the left draft since, deleting nothing (not even a draft order)", async () => {
    const mock = economic();
    const order = await run(createOrder, danishOrder(), {}, { reference: stepReference(transferIdForTest(), 0) });
    const at = await failedInvoice(mock);
    await mock.handle(
      new Request("https://economic.test/invoices/booked", {
        method: "POST",
        headers: { "x-appsecrettoken": "app-ok", "x-agreementgranttoken": "grant-ok", "content-type": "application/json" },
        body: JSON.stringify({ draftInvoice: { draftInvoiceNumber: 1 } }),
      }),
    );
    expect(mock.state.booked).toHaveLength(1);
    mock.state.requests.length = 0;

    const error = await failure(cancel(at, [done("createOrder", order.result)]));

    expect(error).toMatchObject({ errorClass: "validation", code: "economic_invoice_booked" });
    expect(error.message).toBe(
      "Invoice 1 is booked in e-conomic and cannot be deleted: credit it instead (a createCreditNote step, or a credit note in e-conomic).",
    );
    expect(writes(mock)).toEqual([]);
    expect(mock.state.orders).toHaveLength(1);
  });

  it("deletes a draft order a createOrder left while it was being retried, with the draft invoice", async () => {
    const mock = economic();
    const at = await failedInvoice(mock);
    await run(createOrder, danishOrder(), {}, { reference: at.createdRef });
    await logTransfers(at.order, [
      {
        id: at.created,
        stage: "created",
        status: "retrying",
        createdAt: 1_600_000_000_000,
        steps: [{ target: CONNECTION_ID, action: "createOrder", status: "retrying", attempts: 2 }],
      },
    ]);

    const { result } = await cancel(at);

    expect(result.outputs).toEqual({
      deletedOrders: [1],
      deletedDraftInvoices: [1],
      leftoverReferences: [at.paidRef, at.createdRef],
    });
    expect(mock.state.orders).toEqual([]);
    expect(mock.state.drafts).toEqual([]);
  });

  it("looks for the reference with the prefix the flow step writes before it", async () => {
    const mock = economic();
    const at = await failedInvoice(mock, { referencePrefix: "WEB-" });
    const flow = `flow_${at.paid}`;
    await env.DB.batch([
      env.DB.prepare("INSERT INTO tenants (id, name) VALUES ('tenant_1', 'Test') ON CONFLICT DO NOTHING"),
      env.DB.prepare(
        "INSERT INTO connections (id, tenant_id, connector, name, settings, credentials) VALUES ('con_shop', 'tenant_1', 'shopify', 'Shop', '{}', 'x') ON CONFLICT DO NOTHING",
      ),
      env.DB.prepare(
        `INSERT INTO flows (id, tenant_id, name, source_connection_id, trigger_stage, steps)
         VALUES (?, 'tenant_1', 'Paid', 'con_shop', 'paid', ?)`,
      ).bind(flow, JSON.stringify([{ target: CONNECTION_ID, action: "createInvoice", settings: { referencePrefix: "WEB-" } }])),
      env.DB.prepare("UPDATE transfers SET flow_id = ? WHERE id = ?").bind(flow, at.paid),
    ]);

    const { result } = await cancel(at);

    expect(calls(mock)[0]).toBe(`GET /invoices/drafts?filter=references.other$eq:WEB-${at.paidRef}&skippages=0&pagesize=1000`);
    expect(result.outputs).toMatchObject({ deletedDraftInvoices: [1], leftoverReferences: [`WEB-${at.paidRef}`] });
  });

  it("leaves alone what belongs to another source's order with the same id, another connection, or a step that never ran", async () => {
    const mock = economic();
    const at = await failedInvoice(mock);
    const otherShop = transferIdForTest();
    await failure(run(createInvoice, mismatched(), {}, { reference: stepReference(otherShop, 0) }));
    mock.state.requests.length = 0;
    await logTransfers(at.order, [
      {
        id: otherShop,
        stage: "paid",
        sourceConnectionId: "con_other_shop",
        steps: [{ target: CONNECTION_ID, action: "createInvoice", status: "failed" }],
      },
      {
        id: transferIdForTest(),
        stage: "paid",
        steps: [{ target: "conn_other_economic", action: "createInvoice", status: "failed" }],
      },
      {
        id: transferIdForTest(),
        stage: "fulfilled",
        steps: [{ target: CONNECTION_ID, action: "createInvoice", status: "pending" }],
      },
    ]);

    const { result } = await cancel(at);

    expect(result.outputs).toMatchObject({ deletedDraftInvoices: [1], leftoverReferences: [at.paidRef] });
    // Only this order's failed step was looked up (drafts, then booked is not needed); the other shop's draft 2 stays.
    expect(calls(mock).filter((c) => c.startsWith("GET"))).toHaveLength(1);
    expect(mock.state.drafts.map((d) => d.draftInvoiceNumber)).toEqual([2]);
  });

  it("looks in the log only when the log has its own transfer", async () => {
    const mock = economic();
    const at = await failedInvoice(mock);

    const { result } = await run(cancelOrder, danishOrder(), {}, { reference: stepReference(transferIdForTest(), 0) });

    expect(mock.state.requests).toEqual([]);
    expect(result.outputs).toEqual({
      deletedOrders: [],
      deletedDraftInvoices: [],
      reason: "nothing was made in e-conomic for this order",
    });
    expect(transferOfReference(at.cancelRef)).toBe(at.cancelled);
    expect(transferOfReference("orderly-order-0")).toBeUndefined();
  });
});

describe("e-conomic cancelOrder through the webhook", () => {
  it("an order whose invoice failed on its totals and is then cancelled leaves no draft behind", async () => {
    const mock = createEconomicMock({
      products: [{ productNumber: "TS-1", name: "T-shirt", productGroup: { productGroupNumber: 1 } }],
    });
    installEconomicMock(mock);
    const world = await createWorld();
    await world.flow("paid", [{ target: world.economicId, action: "createInvoice", settings: {} }]);
    await world.flow("cancelled", [{ target: world.economicId, action: "cancelOrder", settings: {} }]);
    const order = shopifyOrder({ total_price: "260.00" });

    await world.sendShopify("orders/paid", order);
    const [paid] = await settledTransfers(world, String(order.id), 1);
    expect(paid.status).toBe("failed");
    expect(paid.errorReason).toMatch(/left as e-conomic draft 1/);
    expect(mock.state.drafts).toHaveLength(1);

    await world.sendShopify("orders/cancelled", {
      ...order,
      cancelled_at: new Date().toISOString(),
      updated_at: new Date(Date.now() + 2000).toISOString(),
    });
    const transfers = await settledTransfers(world, String(order.id), 2);
    const cancelled = transfers.find((t) => t.stage === "cancelled");
    expect(cancelled?.status).toBe("completed");
    await eventually(async () => mock.state.drafts.length === 0, "the draft to be deleted");
    const detail = await world.api(`/transfers/${cancelled.id}`);
    expect(JSON.stringify(detail.body)).toContain('"deletedDraftInvoices":[1]');
  });
});
