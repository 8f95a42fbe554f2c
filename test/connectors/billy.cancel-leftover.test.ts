/**
 * Billy cancelOrder and the drafts that unfinished createInvoice steps leave: a totals mismatch
 * keeps the draft in Billy and fails the step, so the order's history (completed steps only) does
 * not name it. cancelOrder finds it by the reference in its `externalId`, through the transfer log,
 * deletes it while it is a draft, and refuses an approved one.
 */
import { describe, expect, it } from "vitest";
import { cancelOrder, createInvoice } from "../../src/connectors/billy";
import type { StepHistoryEntry } from "../../src/connectors/contract";
import { stepReference } from "../../src/domain/reference";
import { logTransfers, transferIdForTest } from "../helpers/transfer-log";
import { createWorld, eventually, settledTransfers, shopifyOrder } from "../helpers/world";
import { type BillyMock, createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { CONNECTION_ID, danishOrder, failure, historyEntry, PRODUCTS, run, SETTINGS } from "../mocks/billy.mock.fixtures";

/** The customer paid 300.00 but the lines make 248.00: the draft is kept and the step fails. */
const mismatched = () => danishOrder({ totals: { total: 30000, tax: 4960, discounts: 0, shipping: 4900 } });

function billy() {
  const mock = createBillyMock({ products: PRODUCTS });
  installBillyMock(mock);
  return mock;
}

const calls = (mock: BillyMock) =>
  mock.requests.map((r) => `${r.method} ${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query)}` : ""}`);

/** A paid transfer whose createInvoice failed after leaving a draft, and the cancelled transfer now running. */
async function failedInvoice(mock: BillyMock) {
  const paid = transferIdForTest();
  const cancelled = transferIdForTest();
  const order = { tenantId: "ten_test", sourceConnectionId: "con_shop", orderId: `order-${transferIdForTest()}` };
  const paidRef = stepReference(paid, 0);
  const error = await failure(run(createInvoice, mismatched(), SETTINGS, { reference: paidRef }));
  expect(error.code).toBe("invoice_totals_mismatch");
  const draftId = (error.details as { draftId: string }).draftId;
  expect(mock.invoice(draftId)).toMatchObject({ state: "draft", externalId: paidRef });
  await logTransfers(order, [
    { id: paid, stage: "paid", steps: [{ target: CONNECTION_ID, action: "createInvoice", status: "failed" }] },
    {
      id: cancelled,
      stage: "cancelled",
      status: "running",
      steps: [{ target: CONNECTION_ID, action: "cancelOrder", status: "running" }],
    },
  ]);
  mock.requests.length = 0;
  return { order, paid, paidRef, draftId, cancelRef: stepReference(cancelled, 0) };
}

type Failed = Awaited<ReturnType<typeof failedInvoice>>;

const cancel = (at: Failed, history: StepHistoryEntry[] = []) =>
  run(cancelOrder, danishOrder({ stage: "cancelled" }), {}, { reference: at.cancelRef, history });

describe("Billy cancelOrder: drafts left by unfinished createInvoice steps", () => {
  it("deletes the draft a failed createInvoice left, found by the reference in its externalId", async () => {
    const mock = billy();
    const at = await failedInvoice(mock);

    const { result } = await cancel(at);

    expect(calls(mock)).toEqual([`GET /invoices?externalId=${at.paidRef}`, `DELETE /invoices/${at.draftId}`]);
    expect(result).toEqual({
      externalId: `draft ${at.draftId}`,
      created: false,
      outputs: { deletedDraftInvoices: [at.draftId], leftoverReferences: [at.paidRef] },
    });
    expect(mock.state.invoices).toEqual([]);
    expect(mock.state.invoiceLines).toEqual([]);
  });

  it("is idempotent: a re-run finds nothing left, writes nothing and says why", async () => {
    const mock = billy();
    const at = await failedInvoice(mock);
    await cancel(at);
    mock.requests.length = 0;

    const again = await cancel(at);

    expect(mock.writes()).toEqual([]);
    expect(again.result).toEqual({
      externalId: "nothing deleted",
      created: false,
      outputs: {
        deletedDraftInvoices: [],
        reason:
          "no Billy invoice carries the reference of this order's unfinished createInvoice step (1): none was left, or it is already gone",
      },
    });
  });

  it("refuses a left draft a person has approved since, and deletes nothing, not even a completed step's draft", async () => {
    const mock = billy();
    const at = await failedInvoice(mock);
    const approved = mock.invoice(at.draftId);
    if (approved) Object.assign(approved, { state: "approved", invoiceNo: "1001" });
    const other = await run(createInvoice, danishOrder(), SETTINGS, { reference: "orderly-earlier-0" });
    mock.requests.length = 0;

    const error = await failure(
      cancel(at, [historyEntry("createInvoice", other.result, { transferId: "earlier", stepIndex: 0 })]),
    );

    expect(error).toMatchObject({ errorClass: "validation", code: "billy_invoice_approved" });
    expect(error.message).toBe(
      "Billy invoice 1001 for order #1001 is approved and cannot be deleted: credit it instead (a createCreditNote step on the refunded stage, or a credit note in Billy).",
    );
    expect(mock.writes()).toEqual([]);
    expect(mock.state.invoices.map((i) => i.state)).toEqual(["approved", "draft"]);
  });

  it("deletes both the completed step's draft and the left one, each once", async () => {
    const mock = billy();
    const at = await failedInvoice(mock);
    const other = await run(createInvoice, danishOrder(), SETTINGS, { reference: "orderly-earlier-0" });
    const otherId = other.result.outputs.invoiceId as string;
    mock.requests.length = 0;

    const { result } = await cancel(at, [historyEntry("createInvoice", other.result, { transferId: "earlier", stepIndex: 0 })]);

    expect(result.outputs).toEqual({ deletedDraftInvoices: [otherId, at.draftId], leftoverReferences: [at.paidRef] });
    expect(mock.state.invoices).toEqual([]);
  });

  it("leaves alone what another source's order with the same id, or another connection, left; a step that never ran is not looked up", async () => {
    const mock = billy();
    const at = await failedInvoice(mock);
    const otherShop = transferIdForTest();
    await failure(run(createInvoice, mismatched(), SETTINGS, { reference: stepReference(otherShop, 0) }));
    mock.requests.length = 0;
    await logTransfers(at.order, [
      {
        id: otherShop,
        stage: "paid",
        sourceConnectionId: "con_other_shop",
        steps: [{ target: CONNECTION_ID, action: "createInvoice", status: "failed" }],
      },
      { id: transferIdForTest(), stage: "paid", steps: [{ target: "con_billy_2", action: "createInvoice", status: "failed" }] },
      {
        id: transferIdForTest(),
        stage: "fulfilled",
        steps: [{ target: CONNECTION_ID, action: "createInvoice", status: "pending" }],
      },
    ]);

    const { result } = await cancel(at);

    expect(result.outputs).toEqual({ deletedDraftInvoices: [at.draftId], leftoverReferences: [at.paidRef] });
    expect(calls(mock)).toEqual([`GET /invoices?externalId=${at.paidRef}`, `DELETE /invoices/${at.draftId}`]);
    expect(mock.state.invoices.map((i) => i.externalId)).toEqual([stepReference(otherShop, 0)]);
  });
});

describe("Billy cancelOrder through the webhook", () => {
  it("an order whose invoice failed on its totals and is then cancelled leaves no draft in Billy", async () => {
    const mock = createBillyMock({ products: PRODUCTS });
    installBillyMock(mock);
    const world = await createWorld();
    const connection = await world.api("/connections", {
      body: {
        connector: "billy",
        name: "Billy",
        settings: { baseUrl: "https://billy.test" },
        credentials: { accessToken: "billy-token" },
      },
    });
    expect(connection.status, JSON.stringify(connection.body)).toBe(201);
    const billyId = connection.body.id as string;
    await world.flow("paid", [{ target: billyId, action: "createInvoice", settings: SETTINGS }]);
    await world.flow("cancelled", [{ target: billyId, action: "cancelOrder", settings: {} }]);
    const order = shopifyOrder({ total_price: "260.00" });

    await world.sendShopify("orders/paid", order);
    const [paid] = await settledTransfers(world, String(order.id), 1);
    expect(paid.status).toBe("failed");
    expect(paid.errorReason).toMatch(/249.00 DKK.*260.00 DKK/);
    expect(mock.state.invoices).toHaveLength(1);

    await world.sendShopify("orders/cancelled", {
      ...order,
      cancelled_at: new Date().toISOString(),
      updated_at: new Date(Date.now() + 2000).toISOString(),
    });
    const transfers = await settledTransfers(world, String(order.id), 2);
    const cancelled = transfers.find((t) => t.stage === "cancelled");
    expect(cancelled?.status).toBe("completed");
    await eventually(async () => mock.state.invoices.length === 0, "the draft to be deleted");
    expect(mock.requests.filter((r) => r.method === "DELETE")).toHaveLength(1);
  });
});
