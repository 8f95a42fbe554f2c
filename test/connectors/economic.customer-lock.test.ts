/**
 * The buyer's key at the gate guards find-or-create of a customer. A step whose POST /customers got
 * no answer does not know whether e-conomic is still making the customer, so it keeps the key until
 * its lease ends: a step of another order of the same buyer let in at once would find nothing yet
 * and make a second customer. A definite answer lets go at once, as success does.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createInvoice } from "../../src/connectors/economic";
import { OrderlyError } from "../../src/domain/errors";
import type { StepMessage } from "../../src/durable/order-types";
import { runtimeConfig } from "../../src/worker/config";
import { gateExclusive } from "../../src/worker/queue/target-gate-client";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, failure, run } from "../mocks/economic.mock.fixtures";

const config = runtimeConfig(env);
const order = danishOrder({ customer: { email: "new.buyer@example.dk", firstName: "Ny", lastName: "Kunde" } });

/** A connection's gate of its own, and a step on it holding its lease until `leaseUntil`. */
function connection() {
  const message = { target: `con_lock_${crypto.randomUUID()}` } as StepMessage;
  return (ticket: string, leaseUntil: number) => gateExclusive(env, message, ticket, leaseUntil, config);
}

/** A lease so short that a step gives up on a held key at once (`record_busy`) instead of waiting. */
const impatient = () => Date.now() + 2 * config.outboundTimeoutMs + 50;

const customerPosts = (mock: EconomicMock) => mock.state.requests.filter((r) => r.method === "POST" && r.path === "/customers");

/**
 * The mock behind fetch, with the next POST /customers failing as `fails` says before e-conomic
 * has answered; `land()` then makes the customer, as e-conomic finishing the request later would.
 */
function customerPostFails(mock: EconomicMock, fails: () => Error) {
  const { spy } = installEconomicMock(mock);
  const real = spy.getMockImplementation();
  if (!real) throw new Error("the e-conomic mock stands behind fetch");
  let pending: (() => Promise<unknown>) | undefined;
  let used = false;
  spy.mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (used || request.method !== "POST" || !new URL(request.url).pathname.endsWith("/customers")) return real(input, init);
    used = true;
    pending = () => real(input, init);
    throw fails();
  });
  return { land: () => pending?.() };
}

describe("the buyer's key when a customer's creation may have landed unanswered", () => {
  it("a POST /customers that timed out keeps the key until its lease ends: one customer, not two", async () => {
    const mock = createEconomicMock();
    const { land } = customerPostFails(mock, () => new DOMException("The operation timed out.", "TimeoutError"));
    const step = connection();

    const a = await failure(
      run(createInvoice, order, {}, { reference: "ref-a", exclusive: step("ticket-a", Date.now() + 1000) }),
    );
    expect(a).toMatchObject({ errorClass: "timeout", code: "outbound_timeout" });

    // Another order of the same buyer, while e-conomic is still making A's customer.
    const b = await failure(run(createInvoice, order, {}, { reference: "ref-b", exclusive: step("ticket-b", impatient()) }));
    // Given up before its find-or-create ran: the attempt made nothing (OrderlyError.madeNothing).
    expect(b).toMatchObject({ errorClass: "unavailable", code: "record_busy", madeNothing: true });
    // B made no customer: the only POST is A's, still on its way.
    expect(customerPosts(mock)).toHaveLength(0);

    await land();
    expect(customerPosts(mock)).toHaveLength(1);
    expect(mock.state.customers).toHaveLength(1);
    // Once A's lease is over the key is free by itself, and the next try finds A's customer.
    const c = await run(createInvoice, order, {}, { reference: "ref-b", exclusive: step("ticket-c", Date.now() + 60_000) });
    expect(c.result.outputs).toMatchObject({ customerNumber: mock.state.customers[0]?.customerNumber, customerCreated: false });
    expect(mock.state.customers).toHaveLength(1);
  });

  it("a connection lost on the way keeps the key too", async () => {
    const mock = createEconomicMock();
    customerPostFails(mock, () => new TypeError("Network connection lost."));
    const step = connection();

    const a = await failure(
      run(createInvoice, order, {}, { reference: "ref-a", exclusive: step("ticket-a", Date.now() + 60_000) }),
    );
    expect(a).toMatchObject({ errorClass: "unavailable", code: "outbound_network" });

    const b = await failure(run(createInvoice, order, {}, { reference: "ref-b", exclusive: step("ticket-b", impatient()) }));
    expect(b.code).toBe("record_busy");
  });

  it("an answered failure lets go at once, as success does: the next step goes ahead", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    mock.failNext({ status: 500, method: "POST", path: /^\/customers$/ });
    const step = connection();

    const a = await failure(
      run(createInvoice, order, {}, { reference: "ref-a", exclusive: step("ticket-a", Date.now() + 60_000) }),
    );
    expect(a).toMatchObject({ errorClass: "unavailable", code: "outbound_unavailable" });

    const b = await run(createInvoice, order, {}, { reference: "ref-b", exclusive: step("ticket-b", impatient()) });
    expect(b.result.outputs).toMatchObject({ customerCreated: true });
    const c = await run(createInvoice, order, {}, { reference: "ref-c", exclusive: step("ticket-c", impatient()) });
    expect(c.result.outputs).toMatchObject({ customerNumber: b.result.outputs.customerNumber, customerCreated: false });
    expect(mock.state.customers).toHaveLength(1);
  });

  it("work failing on our side, before any call, lets go as well", async () => {
    const step = connection();
    const refused = new OrderlyError("checked and refused", { errorClass: "validation", code: "own_check" });
    await expect(
      step("ticket-a", Date.now() + 60_000)("customer:x", async () => {
        throw refused;
      }),
    ).rejects.toBe(refused);
    expect(await step("ticket-b", impatient())("customer:x", async () => "held")).toBe("held");
  });
});
