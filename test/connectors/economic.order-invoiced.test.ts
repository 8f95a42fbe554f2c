/**
 * createOrder once the order has become an invoice: a re-run (an update of the order) must not
 * make a second draft order, since the upgrade to the invoice deleted the first
 * (docs/guarantees.md, gap 6).
 */
import { describe, expect, it } from "vitest";
import { bookInvoice, createInvoice, createOrder } from "../../src/connectors/economic";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, done, REFERENCE, run, writes } from "../mocks/economic.mock.fixtures";

const ORDER_REFERENCE = "orderly-order-0";
const pending = () => danishOrder({ stage: "created", payments: [], financialStatus: "pending" });

/** createOrder, then the paid flow's createInvoice made from that order (optionally booked by bookInvoice). */
async function invoicedOrder(book: boolean) {
  const mock = createEconomicMock();
  installEconomicMock(mock);
  const order = await run(createOrder, pending(), {}, { reference: ORDER_REFERENCE });
  const invoice = await run(createInvoice, danishOrder(), {}, { history: [done("createOrder", order.result)] });
  const history = [done("createInvoice", invoice.result)];
  if (book) {
    const booked = await run(bookInvoice, danishOrder(), {}, { previous: [invoice.result] });
    history.push(done("bookInvoice", booked.result));
  }
  expect(mock.state.orders).toEqual([]);
  return { mock, history };
}

describe("e-conomic createOrder after the order became an invoice", () => {
  it("makes no draft order beside a booked invoice and says which invoice the order is", async () => {
    const { mock, history } = await invoicedOrder(true);
    const writesBefore = writes(mock).length;

    const again = await run(createOrder, danishOrder(), {}, { reference: ORDER_REFERENCE, history });

    expect(again.result).toEqual({
      externalId: "1",
      created: false,
      outputs: {
        invoiced: true,
        invoiceState: "booked",
        invoiceNumber: 1,
        reference: ORDER_REFERENCE,
        reason:
          "the order is already e-conomic booked invoice 1; no draft order is made again, and the invoice's own step brings it up to date",
      },
    });
    expect(writes(mock)).toHaveLength(writesBefore);
    expect(mock.state.orders).toEqual([]);
    expect(again.mapped).toEqual([]);
  });

  it("finds a draft invoice as e-conomic has it now: still a draft, or booked by a person since", async () => {
    const { mock, history } = await invoicedOrder(false);

    const draft = await run(createOrder, danishOrder(), {}, { reference: ORDER_REFERENCE, history });
    expect(draft.result.outputs).toMatchObject({ invoiced: true, invoiceState: "draft", invoiceNumber: 1 });

    mock.state.requests.length = 0;
    await run(bookInvoice, danishOrder(), {}, { previous: [history[0]!.result] });
    const booked = await run(createOrder, danishOrder(), {}, { reference: ORDER_REFERENCE, history });
    expect(booked.result.outputs).toMatchObject({ invoiced: true, invoiceState: "booked", invoiceNumber: 1 });
    expect(mock.state.orders).toEqual([]);
    expect(mock.state.requests.filter((r) => r.method === "POST" && r.path === "/orders/drafts")).toEqual([]);
  });

  it("says so when the invoice is gone from e-conomic, and still makes no draft order", async () => {
    const { mock, history } = await invoicedOrder(false);
    mock.state.drafts.length = 0;

    const again = await run(createOrder, danishOrder(), {}, { reference: ORDER_REFERENCE, history });

    expect(again.result.outputs).toMatchObject({ invoiced: true, invoiceState: "gone", invoiceNumber: 1 });
    expect(String(again.result.outputs.reason)).toMatch(/no longer in e-conomic; no draft order is made again/);
    expect(mock.state.orders).toEqual([]);
  });

  it("deletes the draft order an interrupted upgrade left behind instead of updating it", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = await run(createOrder, pending(), {}, { reference: ORDER_REFERENCE });
    const left = structuredClone(mock.state.orders[0]!);
    const invoice = await run(createInvoice, danishOrder(), {}, { history: [done("createOrder", order.result)] });
    mock.state.orders.push(left);

    const again = await run(
      createOrder,
      danishOrder(),
      {},
      { reference: ORDER_REFERENCE, history: [done("createInvoice", invoice.result)] },
    );

    expect(again.result.outputs).toMatchObject({ invoiced: true, invoiceState: "draft", invoiceNumber: 1, deletedOrders: [1] });
    expect(mock.state.orders).toEqual([]);
    expect(mock.state.requests.filter((r) => r.method === "PUT" && r.path.startsWith("/orders/drafts"))).toEqual([]);
  });

  it("without an invoice, a re-run still updates its own draft order", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    await run(createOrder, pending(), {}, { reference: REFERENCE });

    const again = await run(createOrder, pending(), {}, { reference: REFERENCE, history: [] });

    expect(again.result).toMatchObject({ externalId: "1", created: false, outputs: { orderNumber: 1, updated: true } });
    expect(mock.state.orders).toHaveLength(1);
  });
});
