/**
 * The calls an order makes to e-conomic, through the whole path: a step's first attempt searches
 * nothing by its own reference (ActionContext.firstAttempt), and the accounting years are read once
 * per connection. Every call is one a vendor's rate limit counts and one the target's gate is asked
 * for. A step's attempts go on counting when it leaves the flow and comes back, so its search is
 * never skipped where an earlier attempt made something under the same reference.
 */
import { describe, expect, it } from "vitest";
import { createWorld, eventually, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";

const calls = (requests: Array<{ method: string; path: string }>) => requests.map((r) => `${r.method} ${r.path}`);

async function setSteps(world: World, flowId: string, steps: unknown[]) {
  expect((await world.api(`/flows/${flowId}`, { method: "PATCH", body: { steps } })).status).toBe(200);
}

describe("the calls an order makes to e-conomic", () => {
  it("a three-step order makes eight calls for a new customer (twelve before), and the next order six (eleven)", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    await world.flow("paid", [
      { target: world.economicId, action: "createInvoice" },
      { target: world.economicId, action: "bookInvoice" },
      { target: world.economicId, action: "registerPayment", settings: { journalNumber: 1, defaultContraAccountNumber: 5820 } },
    ]);
    const orderCalls = async () => {
      const before = mock.state.requests.length;
      const order = shopifyOrder({ financial_status: "paid" });
      await world.sendShopify("orders/paid", order);
      const [transfer] = await settledTransfers(world, String(order.id), 1);
      expect(transfer.status).toBe("completed");
      return calls(mock.state.requests.slice(before));
    };
    expect(await orderCalls()).toEqual([
      "GET /products/TS-1",
      "GET /customers",
      "POST /customers",
      "POST /invoices/drafts",
      "POST /invoices/booked",
      "GET /invoices/booked/1",
      "GET /accounting-years",
      "POST /journals/1/vouchers",
    ]);
    expect(await orderCalls()).toEqual([
      "GET /products/TS-1",
      "GET /customers",
      "POST /invoices/drafts",
      "POST /invoices/booked",
      "GET /invoices/booked/2",
      "POST /journals/1/vouchers",
    ]);
    expect(mock.createdInvoiceCount()).toBe(2);
  });

  it("a step taken out of the flow and put back in its place still searches for the invoice it made: one invoice", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    const ledger = { target: world.ledgerId, action: "createInvoice" };
    const economic = { target: world.economicId, action: "createInvoice" };
    const flowId = await world.flow("paid", [ledger, economic]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    expect(mock.state.drafts).toHaveLength(1);

    const rerun = async (steps: unknown[], runs: number) => {
      await setSteps(world, flowId, steps);
      const res = await world.api(`/transfers/${transfer.id}/retry`, { body: { fromStart: true, useCurrentSettings: true } });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      await eventually(async () => {
        const detail = (await world.api(`/transfers/${transfer.id}`)).body;
        return detail.status === "completed" && detail.stepCount === steps.length && detail.attempts.length >= runs
          ? true
          : undefined;
      }, "the re-run");
    };
    // Taken out: the transfer runs with the ledger alone. Put back: its step searches by its
    // reference, finds the draft its first attempt made and updates it, instead of making another.
    await rerun([ledger], 3);
    await rerun([ledger, economic], 5);
    expect(mock.state.drafts).toHaveLength(1);
    expect(mock.createdInvoiceCount()).toBe(1);
    expect(calls(mock.state.requests)).toContain("GET /invoices/drafts");
  });
});
