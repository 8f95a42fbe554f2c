/**
 * registerPayment on an invoice a second flow adopted (the paid flow invoiced and registered the
 * payment; the fulfilled flow's createInvoice adopted that invoice): each step finds its own entry
 * only by its own reference, so the fulfilled flow's registerPayment must enter only what the
 * invoice still lacks, never the whole payment again. Per connector: e-conomic (an entry waiting
 * unbooked in the journal leaves the invoice's remainder as it was), Billy and the sandbox ledger.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as billy from "../../src/connectors/billy";
import type { ActionResult, StepHistoryEntry } from "../../src/connectors/contract";
import * as economic from "../../src/connectors/economic";
import * as ledger from "../../src/connectors/sandbox-ledger/ledger.actions";
import { database } from "../../src/db/client";
import { ledgerPayments } from "../../src/db/schema";
import type { CanonicalOrder } from "../../src/domain/order";
import { actionContext } from "../helpers/action-context";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import * as billyFixtures from "../mocks/billy.mock.fixtures";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, done, run, TS1 } from "../mocks/economic.mock.fixtures";

const fulfilled = (over: Partial<CanonicalOrder> = {}) => danishOrder({ stage: "fulfilled", ...over });

function paidStep(action: string, result: ActionResult, stepIndex: number, target?: string): StepHistoryEntry {
  return { ...done(action, result, target), transferId: "t-paid", stage: "paid", stepIndex };
}

describe("e-conomic registerPayment on an invoice another flow made and paid", () => {
  const BOOKED = { invoiceState: "booked" };
  const ON_ACCOUNT = { journalNumber: 1, byGateway: { shopify_payments: { contraAccountNumber: 5820 } } };
  const vouchers = (mock: EconomicMock) =>
    mock.state.requests
      .filter((r) => r.method === "POST" && r.path === "/journals/1/vouchers")
      .map((r) => (r.body as { entries: { customerPayments: Array<{ amount: number }> } }).entries.customerPayments);

  async function paidFlow(mock: EconomicMock, order = danishOrder()) {
    installEconomicMock(mock);
    const invoice = await run(economic.createInvoice, order, BOOKED, { reference: "orderly-paid-0" });
    const payment = await run(economic.registerPayment, order, ON_ACCOUNT, {
      previous: [invoice.result],
      reference: "orderly-paid-1",
    });
    return [paidStep("createInvoice", invoice.result, 0), paidStep("registerPayment", payment.result, 1)];
  }

  async function fulfilledFlow(history: StepHistoryEntry[], order = fulfilled()) {
    const invoice = await run(economic.createInvoice, order, BOOKED, { reference: "orderly-fulfilled-0", history });
    expect(invoice.result.outputs).toMatchObject({ bookedInvoiceNumber: 1, adoptedFrom: { transferId: "t-paid" } });
    return run(economic.registerPayment, order, ON_ACCOUNT, {
      previous: [invoice.result],
      history,
      reference: "orderly-fulfilled-1",
    });
  }

  it("the paid flow's voucher still unbooked in the journal (remainder unchanged): nothing entered again", async () => {
    const mock = createEconomicMock({ products: [TS1] });
    const history = await paidFlow(mock);
    expect(mock.state.booked[0]?.remainder).toBe(248);

    const { result } = await fulfilledFlow(history);

    expect(vouchers(mock)).toHaveLength(1);
    expect(result).toMatchObject({
      created: false,
      outputs: { bookedInvoiceNumber: 1, enteredByOtherFlows: [{ transferId: "t-paid", stage: "paid", amount: "248.00" }] },
    });
    expect(result.outputs.reason).toContain("another flow's registerPayment already entered 248.00 DKK on invoice 1");
  });

  it("the paid flow's voucher booked: the remainder already says so, nothing entered again", async () => {
    const mock = createEconomicMock({ products: [TS1] });
    const history = await paidFlow(mock);
    mock.bookJournal(1);

    const { result } = await fulfilledFlow(history);

    expect(vouchers(mock)).toHaveLength(1);
    expect(result).toMatchObject({ created: false });
  });

  it("a deposit the paid flow entered: the fulfilled flow enters only the rest", async () => {
    const mock = createEconomicMock({ products: [TS1] });
    const deposit = danishOrder({
      payments: [{ gateway: "shopify_payments", amount: 10000, status: "paid" }],
      financialStatus: "partially_paid",
    });
    const history = await paidFlow(mock, deposit);

    const { result } = await fulfilledFlow(history);

    expect(vouchers(mock)).toEqual([[expect.objectContaining({ amount: -100 })], [expect.objectContaining({ amount: -148 })]]);
    expect(result).toMatchObject({ created: true, outputs: { amount: "148.00", partial: false } });
  });
});

describe("Billy registerPayment on an invoice another flow made and paid", () => {
  const PAYMENT = { byGateway: { shopify_payments: { cashAccountId: "acc-bank" } } };
  const BOOKED = { ...billyFixtures.SETTINGS, invoiceState: "booked" };

  it("the fulfilled flow adopts the invoice and its registerPayment enters nothing", async () => {
    const mock = createBillyMock({ products: billyFixtures.PRODUCTS, cashAccounts: ["acc-bank", "acc-other"] });
    installBillyMock(mock);
    const order = billyFixtures.danishOrder();
    const invoice = await billyFixtures.run(billy.createInvoice, order, BOOKED, { reference: "orderly-paid-0" });
    const payment = await billyFixtures.run(billy.registerPayment, order, PAYMENT, {
      previous: [invoice.result],
      reference: "orderly-paid-1",
    });
    expect(payment.result.created).toBe(true);
    const history = [
      billyFixtures.historyEntry("createInvoice", invoice.result),
      billyFixtures.historyEntry("registerPayment", payment.result, { stepIndex: 1 }),
    ];

    const later = billyFixtures.danishOrder({ stage: "fulfilled" });
    const adopted = await billyFixtures.run(billy.createInvoice, later, BOOKED, { reference: "orderly-fulfilled-0", history });
    expect(adopted.result.outputs).toMatchObject({
      invoiceId: invoice.result.outputs.invoiceId,
      adoptedFrom: { transferId: "t-paid" },
    });
    // Even mapped to another cash account: the invoice is settled, and nothing more is registered.
    for (const [i, settings] of [PAYMENT, { byGateway: { shopify_payments: { cashAccountId: "acc-other" } } }].entries()) {
      const { result } = await billyFixtures.run(billy.registerPayment, later, settings, {
        previous: [adopted.result],
        history,
        reference: `orderly-fulfilled-${i + 1}`,
      });
      expect(result).toMatchObject({ created: false, outputs: { payments: [], registered: 24800, isPaid: true } });
    }
    expect(mock.state.bankPayments).toHaveLength(1);
  });
});

describe("sandbox ledger registerPayment on an invoice another flow made and paid", () => {
  const BOOKED = { invoiceState: "booked" };

  function books() {
    const connectionId = `con_ledger_${crypto.randomUUID()}`;
    const connection = { id: connectionId, tenantId: "ten_ledger", settings: {}, credentials: {} };
    const history: StepHistoryEntry[] = [];
    const invoice = (order: CanonicalOrder, reference: string) =>
      ledger.createInvoice.run(actionContext(ledger.createInvoice, { connection, settings: BOOKED, reference, history }).ctx, {
        order,
      });
    const pay = (order: CanonicalOrder, reference: string, previous: ActionResult[]) =>
      ledger.registerPayment.run(actionContext(ledger.registerPayment, { connection, reference, history, previous }).ctx, {
        order,
      });
    const payments = () => database(env).select().from(ledgerPayments).where(eq(ledgerPayments.connectionId, connectionId)).all();
    return { connectionId, history, invoice, pay, payments };
  }

  it("the fulfilled flow adopts the invoice and its registerPayment enters nothing", async () => {
    const l = books();
    const invoice = await l.invoice(danishOrder(), "orderly-paid-0");
    const payment = await l.pay(danishOrder(), "orderly-paid-1", [invoice]);
    expect(payment).toMatchObject({ created: true, outputs: { amount: 24800 } });
    l.history.push(
      paidStep("createInvoice", invoice, 0, l.connectionId),
      paidStep("registerPayment", payment, 1, l.connectionId),
    );

    const adopted = await l.invoice(fulfilled(), "orderly-fulfilled-0");
    expect(adopted.outputs).toMatchObject({ invoiceId: invoice.outputs.invoiceId, adoptedFrom: { transferId: "t-paid" } });
    const again = await l.pay(fulfilled(), "orderly-fulfilled-1", [adopted]);

    expect(again).toMatchObject({ created: false, outputs: { amount: 0, alreadyPaid: 24800 } });
    expect(await l.payments()).toHaveLength(1);
  });

  it("a deposit the paid flow registered: the fulfilled flow registers only the rest", async () => {
    const l = books();
    const deposit = danishOrder({
      payments: [{ gateway: "shopify_payments", amount: 10000, status: "paid" }],
      financialStatus: "partially_paid",
    });
    const invoice = await l.invoice(deposit, "orderly-paid-0");
    const payment = await l.pay(deposit, "orderly-paid-1", [invoice]);
    l.history.push(
      paidStep("createInvoice", invoice, 0, l.connectionId),
      paidStep("registerPayment", payment, 1, l.connectionId),
    );

    const adopted = await l.invoice(fulfilled(), "orderly-fulfilled-0");
    const rest = await l.pay(fulfilled(), "orderly-fulfilled-1", [adopted]);

    expect(rest).toMatchObject({ created: true, outputs: { amount: 14800, partial: false, alreadyPaid: 10000 } });
    expect((await l.payments()).map((p) => p.amount).sort((a, b) => a - b)).toEqual([10000, 14800]);
  });
});
