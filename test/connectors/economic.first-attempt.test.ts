/**
 * A step's first attempt searches nothing by its own reference (ActionContext.firstAttempt): no
 * attempt before it can have made anything under it. A later attempt still searches, and adopts
 * what an earlier one made unanswered. The accounting years are read once per connection, not once
 * per payment.
 */
import { describe, expect, it } from "vitest";
import { bookInvoice, createInvoice, registerPayment } from "../../src/connectors/economic";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { calls, danishOrder, done, failure, REFERENCE, run } from "../mocks/economic.mock.fixtures";

const PAYMENT = { journalNumber: 1, byGateway: { shopify_payments: { contraAccountNumber: 5820 } } };
const searches = (list: string[]) => list.filter((c) => c.includes("filter=references.other") || c.includes("/vouchers?"));

describe("e-conomic steps on their first attempt", () => {
  it("createInvoice makes the draft without searching for one under its reference", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const created = await run(createInvoice, danishOrder(), {}, { firstAttempt: true });
    expect(created.result).toMatchObject({ created: true, outputs: { draftInvoiceNumber: 1, reference: REFERENCE } });
    expect(searches(calls(mock))).toEqual([]);
    expect(calls(mock)).toContain("POST /invoices/drafts");
  });

  it("a later attempt still searches, and adopts the draft a first attempt made unanswered: one invoice", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    mock.failNext({ status: 500, method: "POST", path: /^\/invoices\/drafts$/, afterEffect: true });
    const error = await failure(run(createInvoice, danishOrder(), {}, { firstAttempt: true }));
    expect(error.retryable).toBe(true);

    const retry = await run(createInvoice, danishOrder());
    expect(retry.result).toMatchObject({ outputs: { draftInvoiceNumber: 1 } });
    expect(searches(calls(mock))).toHaveLength(1);
    expect(mock.createdInvoiceCount()).toBe(1);
  });

  it("bookInvoice books at once, and adopts the invoice when a person booked the draft before it", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const created = await run(createInvoice, danishOrder(), {}, { firstAttempt: true });
    const before = mock.state.requests.length;
    const booked = await run(bookInvoice, danishOrder(), {}, { previous: [created.result], firstAttempt: true });
    expect(booked.result).toMatchObject({ created: true, outputs: { bookedInvoiceNumber: 1 } });
    expect(calls(mock).slice(before)).toEqual(["POST /invoices/booked"]);

    // The draft is booked already (by a person, say): e-conomic refuses to book it, and the
    // first attempt then finds the booked invoice by the draft's reference.
    const again = await run(bookInvoice, danishOrder(), {}, { previous: [created.result], firstAttempt: true });
    expect(again.result).toMatchObject({ created: false, externalId: "1", outputs: { bookedInvoiceNumber: 1 } });
    expect(mock.state.booked).toHaveLength(1);
  });

  it("bookInvoice's first attempt still fails when e-conomic refuses and nothing was booked", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const gone = { externalId: "9", created: true, outputs: { draftInvoiceNumber: 9, reference: "orderly-gone-0" } };
    const error = await failure(run(bookInvoice, danishOrder(), {}, { previous: [gone], firstAttempt: true }));
    expect(error.errorClass).toBe("validation");
    expect(mock.state.booked).toEqual([]);
  });

  it("registerPayment enters the payment without reading the journal, and reads the accounting years once per connection", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const invoice = await run(createInvoice, danishOrder(), { invoiceState: "booked" }, { reference: "orderly-invoice-0" });
    const connectionId = `con_years_${crypto.randomUUID()}`;
    const history = [done("createInvoice", invoice.result, connectionId)];
    const before = mock.state.requests.length;
    const paid = await run(registerPayment, danishOrder(), PAYMENT, { history, firstAttempt: true, connectionId });
    expect(paid.result).toMatchObject({ created: true });
    const first = calls(mock).slice(before);
    expect(searches(first)).toEqual([]);
    expect(first.filter((c) => c.startsWith("GET /accounting-years"))).toHaveLength(1);

    // A second order's payment on the same connection takes the year from memory.
    const second = await run(createInvoice, danishOrder(), { invoiceState: "booked" }, { reference: "orderly-invoice2-0" });
    const after = mock.state.requests.length;
    await run(registerPayment, danishOrder(), PAYMENT, {
      history: [done("createInvoice", second.result, connectionId)],
      reference: "orderly-payment2-2",
      firstAttempt: true,
      connectionId,
    });
    expect(
      calls(mock)
        .slice(after)
        .filter((c) => c.startsWith("GET /accounting-years")),
    ).toEqual([]);

    // A later attempt reads the journal for an entry an earlier one made.
    const retried = mock.state.requests.length;
    const again = await run(registerPayment, danishOrder(), PAYMENT, { history, connectionId });
    expect(again.result).toMatchObject({ created: false });
    expect(
      calls(mock)
        .slice(retried)
        .some((c) => c.startsWith("GET /journals/1/vouchers")),
    ).toBe(true);
  });
});
