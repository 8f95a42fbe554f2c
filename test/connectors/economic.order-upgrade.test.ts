/**
 * createInvoice after an earlier createOrder: the upgrade instructions e-conomic answers wrapped
 * (`{ "draftInvoice": {...} }`), a draft order a person sent (it moves to /orders/sent), and a
 * draft order gone without trace, which fails the step rather than be invoiced a second time.
 */
import { describe, expect, it } from "vitest";
import { createInvoice, createOrder } from "../../src/connectors/economic";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import {
  ANE,
  BASE_URL,
  calls,
  danishOrder,
  done,
  failure,
  GOOD_TOKENS,
  REFERENCE,
  run,
  sent,
  writes,
} from "../mocks/economic.mock.fixtures";

const ORDER_REFERENCE = "orderly-order-0";
const pending = () => danishOrder({ stage: "created", payments: [], financialStatus: "pending" });
const TEMPLATE = "/orders/drafts/1/templates/upgrade-instructions/draftInvoice";

/** A request a person's work in e-conomic makes, straight to the mock. */
async function byPerson(mock: EconomicMock, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await mock.handle(
    new Request(`${BASE_URL}${path}`, {
      method,
      headers: {
        "x-appsecrettoken": GOOD_TOKENS.appSecretToken,
        "x-agreementgranttoken": GOOD_TOKENS.agreementGrantToken,
        "content-type": "application/json",
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );
  expect(response.ok, `${method} ${path}`).toBe(true);
  return response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>);
}

/** createOrder's draft order 1, which a person then moves to customer 42 (Ane as the agreement has her). */
async function orderMovedToAne() {
  const mock = createEconomicMock({ customers: [ANE] });
  installEconomicMock(mock);
  const order = await run(createOrder, pending(), {}, { reference: ORDER_REFERENCE });
  mock.state.orders[0]!.customer = { customerNumber: 42 };
  mock.state.requests.length = 0;
  return { mock, order: order.result, history: [done("createOrder", order.result)] };
}

describe("e-conomic createInvoice from a draft order's upgrade instructions", () => {
  it("reads the wrapped draft invoice: the customer a person moved the order to is kept, and the order named", async () => {
    const { mock, history } = await orderMovedToAne();
    // What the template carries beside the document (not in the POST /invoices/drafts schema).
    mock.state.orders[0]!.metaData = { delete: { available: true } };

    const { result } = await run(createInvoice, danishOrder(), {}, { history });

    expect(result).toMatchObject({ created: true, outputs: { draftInvoiceNumber: 1, fromOrderNumber: 1, customerNumber: 42 } });
    const posted = sent(mock, "POST", "/invoices/drafts") as Record<string, unknown>;
    expect(posted).toMatchObject({ customer: { customerNumber: 42 }, references: { other: REFERENCE } });
    expect(posted).not.toHaveProperty("metaData");
    expect(mock.state.customers).toHaveLength(1);
    expect(mock.state.orders).toEqual([]);
  });

  it("still takes a template answered bare, as the draft invoice itself", async () => {
    const { mock, history } = await orderMovedToAne();
    const wrapped = mock.handle;
    mock.handle = async (request: Request) => {
      const response = await wrapped(request);
      if (!new URL(request.url).pathname.endsWith(TEMPLATE)) return response;
      const { draftInvoice } = (await response.json()) as { draftInvoice: unknown };
      return Response.json(draftInvoice);
    };

    const { result } = await run(createInvoice, danishOrder(), {}, { history });

    expect(result.outputs).toMatchObject({ fromOrderNumber: 1, customerNumber: 42 });
    expect(sent(mock, "POST", "/invoices/drafts")).toMatchObject({ customer: { customerNumber: 42 } });
  });
});

describe("e-conomic createInvoice after a person sent the draft order", () => {
  it("upgrades the sent order, found by the order's reference, instead of making a second invoice beside it", async () => {
    const { mock, history } = await orderMovedToAne();
    const order = await byPerson(mock, "GET", "/orders/drafts/1");
    await byPerson(mock, "POST", "/orders/sent", order);
    mock.state.requests.length = 0;

    const { result } = await run(createInvoice, danishOrder(), {}, { history });

    expect(result).toMatchObject({
      created: true,
      outputs: { draftInvoiceNumber: 1, fromOrderNumber: 1, fromSentOrder: true, customerNumber: 42 },
    });
    expect(calls(mock)).toContain(`GET /orders/sent?filter=references.other$eq:${ORDER_REFERENCE}&pagesize=1000`);
    expect(calls(mock)).toContain("GET /orders/sent/1/templates/upgrade-instructions/draftInvoice");
    expect(sent(mock, "POST", "/invoices/drafts")).toMatchObject({
      customer: { customerNumber: 42 },
      references: { other: REFERENCE },
    });
    expect(mock.state.customers).toHaveLength(1);

    // A re-run updates that invoice; nothing is made again.
    mock.state.requests.length = 0;
    const again = await run(createInvoice, danishOrder(), {}, { history });
    expect(again.result).toMatchObject({ created: false, outputs: { draftInvoiceNumber: 1, updated: true } });
    expect(mock.state.requests.filter((r) => r.method === "POST")).toEqual([]);
    expect(mock.createdInvoiceCount()).toBe(1);
  });

  it("does not take a sent order without the reference, should e-conomic ignore the filter", async () => {
    const { mock, history } = await orderMovedToAne();
    const order = await byPerson(mock, "GET", "/orders/drafts/1");
    await byPerson(mock, "POST", "/orders/sent", { ...order, references: { other: "typed by the bookkeeper" } });
    mock.state.requests.length = 0;
    const filtering = mock.handle;
    mock.handle = (request: Request) => {
      const url = new URL(request.url);
      if (url.pathname === "/orders/sent") url.searchParams.delete("filter");
      return filtering(new Request(url, request));
    };

    const error = await failure(run(createInvoice, danishOrder(), {}, { history }));

    expect(error.code).toBe("economic_order_gone");
    expect(calls(mock)).toContain("GET /orders/sent?pagesize=1000");
    expect(writes(mock)).toEqual([]);
    expect(mock.state.sentOrders).toHaveLength(1);
  });
});

describe("e-conomic createInvoice when the draft order is gone without trace", () => {
  it("fails naming the order and its reference, making nothing, when a person deleted the order", async () => {
    const { mock, history } = await orderMovedToAne();
    await byPerson(mock, "DELETE", "/orders/drafts/1");
    mock.state.requests.length = 0;

    const error = await failure(run(createInvoice, danishOrder(), {}, { history }));

    expect(error).toMatchObject({ errorClass: "validation", code: "economic_order_gone", madeNothing: true });
    expect(error.message).toMatch(
      /^e-conomic draft order 1, which the order's createOrder step made, is neither among the draft nor the sent orders and no invoice carries its reference orderly-order-0/,
    );
    expect(writes(mock)).toEqual([]);
    expect(mock.createdInvoiceCount()).toBe(0);
  });

  it("makes its invoice again when a person deleted the invoice this step made of the order", async () => {
    const { mock, history } = await orderMovedToAne();
    const first = await run(createInvoice, danishOrder(), {}, { history });
    await byPerson(mock, "DELETE", "/invoices/drafts/1");

    const again = await run(createInvoice, danishOrder(), {}, { history, prior: first.result });

    expect(again.result).toMatchObject({ created: true, outputs: { draftInvoiceNumber: 2 } });
    expect(mock.createdInvoiceCount()).toBe(1);
  });
});
