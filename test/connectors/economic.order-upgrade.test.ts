/**
 * createInvoice after an earlier createOrder: the upgrade instructions e-conomic answers wrapped
 * (`{ "draftInvoice": {...} }`), a draft order a person sent (it moves to /orders/sent), and a
 * draft order gone without trace, which fails the step rather than be invoiced a second time, unless
 * Orderly itself used it up (this step's earlier success, the order's cancelOrder). The order is
 * used up only once the invoice passed its checks, so a retry after a failed check still has it.
 */
import { describe, expect, it } from "vitest";
import { cancelOrder, createInvoice, createOrder } from "../../src/connectors/economic";
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
    expect(calls(mock)).toContain(`GET /orders/sent?filter=references.other$eq:${ORDER_REFERENCE}&skippages=0&pagesize=1000`);
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
    expect(calls(mock)).toContain("GET /orders/sent?skippages=0&pagesize=1000");
    expect(writes(mock)).toEqual([]);
    expect(mock.state.sentOrders).toHaveLength(1);
  });

  it("finds the sent order on a later page, should e-conomic ignore the filter over more than 1,000 sent orders", async () => {
    const { mock, history } = await orderMovedToAne();
    const order = await byPerson(mock, "GET", "/orders/drafts/1");
    await byPerson(mock, "POST", "/orders/sent", order);
    const others = Array.from({ length: 1000 }, (_, i) => ({
      ...mock.state.sentOrders[0],
      orderNumber: 100 + i,
      references: { other: `another shop's order ${i}` },
    }));
    mock.state.sentOrders.unshift(...others);
    mock.state.requests.length = 0;
    const filtering = mock.handle;
    mock.handle = (request: Request) => {
      const url = new URL(request.url);
      if (url.pathname === "/orders/sent") url.searchParams.delete("filter");
      return filtering(new Request(url, request));
    };

    const { result } = await run(createInvoice, danishOrder(), {}, { history });

    expect(result.outputs).toMatchObject({ fromOrderNumber: 1, fromSentOrder: true, customerNumber: 42 });
    expect(calls(mock)).toContain("GET /orders/sent?skippages=1&pagesize=1000");
    expect(calls(mock)).toContain("GET /orders/sent/1/templates/upgrade-instructions/draftInvoice");
    expect(mock.createdInvoiceCount()).toBe(1);
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

/** The customer paid 300.00 for lines of 248.00: the invoice fails its totals check, left as a draft. */
const mismatched = () => danishOrder({ totals: { total: 30000, tax: 4960, discounts: 0, shipping: 4900 } });

/** Answers `path` (any method, or only `method`) with `answer` instead of the mock. */
function answer(mock: EconomicMock, path: string, reply: () => Response, method?: string) {
  const inner = mock.handle;
  mock.handle = (request: Request) => {
    const url = new URL(request.url);
    if (url.pathname === path && (method === undefined || request.method === method)) return Promise.resolve(reply());
    return inner(request);
  };
}

describe("e-conomic createInvoice uses the order up only once the invoice passed its checks", () => {
  it("a retry after a failed check, whose draft a person deleted, upgrades the order again instead of finding it gone", async () => {
    const { mock, history } = await orderMovedToAne();
    const error = await failure(run(createInvoice, mismatched(), {}, { history }));
    expect(error.code).toBe("invoice_totals_mismatch");
    expect(mock.state.orders).toHaveLength(1);
    // A person corrects the order's setup and deletes the draft the attempt left.
    await byPerson(mock, "DELETE", "/invoices/drafts/1");

    const { result } = await run(createInvoice, danishOrder(), {}, { history });

    expect(result).toMatchObject({ created: true, outputs: { draftInvoiceNumber: 2, fromOrderNumber: 1, customerNumber: 42 } });
    expect(mock.state.orders).toEqual([]);
    expect(mock.state.drafts).toHaveLength(1);
  });

  it("the failed check says the draft order is still there and to delete it if the draft is booked by hand", async () => {
    const { mock, history } = await orderMovedToAne();

    const error = await failure(run(createInvoice, mismatched(), {}, { history }));

    expect(error.message).toContain(
      "The invoice was left as e-conomic draft 1. The e-conomic draft order 1 it was made from is still there: a retry deletes it once the invoice passes its checks. If you book draft invoice 1 by hand instead, delete draft order 1 in e-conomic, or it stays there, reserving stock, and can be invoiced a second time.",
    );
    expect(error).toMatchObject({
      code: "invoice_totals_mismatch",
      details: { draftInvoiceNumber: 1, orderLeft: { kind: "draft", orderNumber: 1 } },
    });
    expect(mock.state.orders).toHaveLength(1);

    // A retry that fails the check again (its own draft found, the order not used up yet) says so too.
    const again = await failure(run(createInvoice, mismatched(), {}, { history }));
    expect(again.message).toContain("delete draft order 1 in e-conomic");
  });

  it("a failed check without an order from createOrder names none", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);

    const error = await failure(run(createInvoice, mismatched()));

    expect(error.code).toBe("invoice_totals_mismatch");
    expect(error.message).not.toContain("order 1");
    expect(error.details).not.toHaveProperty("orderLeft");
  });

  it("a retry that finds its draft updates it and then deletes the order", async () => {
    const { mock, history } = await orderMovedToAne();
    await failure(run(createInvoice, mismatched(), {}, { history }));

    const { result } = await run(createInvoice, danishOrder(), {}, { history });

    expect(result).toMatchObject({ created: false, outputs: { draftInvoiceNumber: 1, updated: true } });
    expect(mock.state.orders).toEqual([]);
    expect(mock.createdInvoiceCount()).toBe(1);
  });

  it("a retry that finds its draft booked by a person since deletes the order it was made of", async () => {
    const { mock, history } = await orderMovedToAne();
    await failure(run(createInvoice, mismatched(), {}, { history }));
    await byPerson(mock, "POST", "/invoices/booked", { draftInvoice: { draftInvoiceNumber: 1 } });

    const { result } = await run(createInvoice, mismatched(), {}, { history });

    expect(result.outputs).toMatchObject({ bookedInvoiceNumber: 1 });
    expect(mock.state.orders).toEqual([]);
  });
});

describe("e-conomic createInvoice when e-conomic ignores the sent orders' filter beyond the last page read", () => {
  it("a retry that finds its draft booked takes no sent order as found, instead of failing the step", async () => {
    const { mock, history } = await orderMovedToAne();
    await failure(run(createInvoice, mismatched(), {}, { history }));
    await byPerson(mock, "POST", "/invoices/booked", { draftInvoice: { draftInvoiceNumber: 1 } });
    // Every page full of other shops' sent orders, and always another one after it.
    const others = (skip: string | null) => ({
      collection: [{ orderNumber: 100 + Number(skip), references: { other: "another shop's order" } }],
      pagination: { nextPage: `${BASE_URL}/orders/sent?skippages=${Number(skip) + 1}` },
    });
    const pagesRead: string[] = [];
    const inner = mock.handle;
    mock.handle = (request: Request) => {
      const url = new URL(request.url);
      if (url.pathname !== "/orders/sent") return inner(request);
      pagesRead.push(url.searchParams.get("skippages") ?? "");
      return Promise.resolve(Response.json(others(url.searchParams.get("skippages"))));
    };

    const { result } = await run(createInvoice, mismatched(), {}, { history });

    expect(result).toMatchObject({ created: false, outputs: { bookedInvoiceNumber: 1 } });
    expect(result.outputs).not.toHaveProperty("deletedSentOrder");
    expect(pagesRead).toHaveLength(10);
    expect(mock.state.orders).toEqual([]);
    expect(mock.createdInvoiceCount()).toBe(1);
  });
});

describe("e-conomic createInvoice after Orderly itself used the draft order up", () => {
  it("makes a fresh draft for a cancelled order paid after all: createOrder, cancelOrder, createInvoice", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = await run(createOrder, pending(), {}, { reference: ORDER_REFERENCE });
    const cancelled = await run(cancelOrder, pending(), {}, { history: [done("createOrder", order.result)] });
    expect(cancelled.result.outputs).toMatchObject({ deletedOrders: [1] });
    const history = [done("createOrder", order.result), done("cancelOrder", cancelled.result)];

    const { result } = await run(createInvoice, danishOrder(), {}, { history });

    expect(result).toMatchObject({ created: true, outputs: { draftInvoiceNumber: 1, reference: REFERENCE } });
    expect(result.outputs).not.toHaveProperty("fromOrderNumber");
    expect(mock.createdInvoiceCount()).toBe(1);
  });

  it("still fails for an order a cancelOrder of another connection deleted", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = await run(createOrder, pending(), {}, { reference: ORDER_REFERENCE });
    await byPerson(mock, "DELETE", "/orders/drafts/1");
    const elsewhere = done(
      "cancelOrder",
      { externalId: "order 1", created: false, outputs: { deletedOrders: [1] } },
      "conn_other",
    );

    const error = await failure(
      run(createInvoice, danishOrder(), {}, { history: [done("createOrder", order.result), elsewhere] }),
    );

    expect(error.code).toBe("economic_order_gone");
  });

  it("makes its invoice again after a person deleted it, when the last success was a re-run that did not name the order", async () => {
    const { mock, history } = await orderMovedToAne();
    const first = await run(createInvoice, danishOrder(), {}, { history });
    const rerun = await run(createInvoice, danishOrder(), {}, { history, prior: first.result });
    expect(rerun.result.outputs).not.toHaveProperty("fromOrderNumber");
    await byPerson(mock, "DELETE", "/invoices/drafts/1");

    const again = await run(createInvoice, danishOrder(), {}, { history, prior: rerun.result });

    expect(again.result).toMatchObject({ created: true, outputs: { draftInvoiceNumber: 2 } });
    expect(mock.createdInvoiceCount()).toBe(1);
  });

  it("makes its invoice again when the last success, of an earlier release, named no order", async () => {
    const { mock, history } = await orderMovedToAne();
    const first = await run(createInvoice, danishOrder(), {}, { history });
    await byPerson(mock, "DELETE", "/invoices/drafts/1");
    const { fromOrderNumber: _named, ...older } = first.result.outputs;

    const again = await run(createInvoice, danishOrder(), {}, { history, prior: { ...first.result, outputs: older } });

    expect(again.result).toMatchObject({ created: true, outputs: { draftInvoiceNumber: 2 } });
  });
});

describe("e-conomic createInvoice deletes the sent order it upgraded, should e-conomic not archive it", () => {
  async function sentOrder() {
    const setup = await orderMovedToAne();
    const order = await byPerson(setup.mock, "GET", "/orders/drafts/1");
    await byPerson(setup.mock, "POST", "/orders/sent", order);
    setup.mock.state.requests.length = 0;
    return setup;
  }

  it("deletes it once the invoice passed its checks, and names it", async () => {
    const { mock, history } = await sentOrder();

    const { result } = await run(createInvoice, danishOrder(), {}, { history });

    expect(result.outputs).toMatchObject({ fromSentOrder: true, deletedSentOrder: 1 });
    expect(calls(mock)).toContain("DELETE /orders/sent/1");
    expect(mock.state.sentOrders).toEqual([]);
  });

  it("takes a 404 as archived already, and names nothing", async () => {
    const { mock, history } = await sentOrder();
    answer(mock, "/orders/sent/1", () => Response.json({ message: "Not found" }, { status: 404 }), "DELETE");

    const { result } = await run(createInvoice, danishOrder(), {}, { history });

    expect(result.outputs).toMatchObject({ fromSentOrder: true });
    expect(result.outputs).not.toHaveProperty("deletedSentOrder");
  });

  it("keeps it while the invoice fails its checks, and deletes it on the retry that passes them", async () => {
    const { mock, history } = await sentOrder();
    const error = await failure(run(createInvoice, mismatched(), {}, { history }));
    expect(mock.state.sentOrders).toHaveLength(1);
    expect(error.message).toContain("If you book draft invoice 1 by hand instead, delete sent order 1 in e-conomic");

    const { result } = await run(createInvoice, danishOrder(), {}, { history });

    expect(result.outputs).toMatchObject({ draftInvoiceNumber: 1, updated: true, deletedSentOrder: 1 });
    expect(mock.state.sentOrders).toEqual([]);
  });

  it("a sent-order list it cannot read is passing trouble, retried, and made nothing", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const order = await run(createOrder, pending(), {}, { reference: ORDER_REFERENCE });
    await byPerson(mock, "DELETE", "/orders/drafts/1");
    answer(mock, "/orders/sent", () => Response.json({ collection: "not a list" }));

    const error = await failure(run(createInvoice, danishOrder(), {}, { history: [done("createOrder", order.result)] }));

    expect(error).toMatchObject({ errorClass: "unavailable", code: "economic_unexpected_response", madeNothing: true });
    expect(error.retryable).toBe(true);
    expect(error.message).not.toMatch(/retry the step/);
  });
});
