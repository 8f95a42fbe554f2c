/**
 * A credit note is checked against the invoice it credits before anything is written: it must be
 * in the invoice's currency, and with the invoice's earlier credit notes it must not take back more
 * than the invoice's amount. A retry of the same credit note (its own reference) never counts
 * against itself.
 */
import { describe, expect, it } from "vitest";
import { createCreditNote as billyCreditNote, createInvoice as billyInvoice } from "../../src/connectors/billy";
import { createCreditNote as economicCreditNote, createInvoice as economicInvoice } from "../../src/connectors/economic";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import {
  failure as billyFailure,
  danishOrder as billyOrder,
  refund as billyRefund,
  historyEntry,
  PRODUCTS,
  run as runBilly,
  SETTINGS,
} from "../mocks/billy.mock.fixtures";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, done, failure, refundOf, run, TS1, writes } from "../mocks/economic.mock.fixtures";

const BOOKED = { invoiceState: "booked" };
/** The customer paid in EUR; the shop keeps its books in DKK. */
const EXCHANGE = { currency: "EUR", exchange: { shopCurrency: "DKK", rate: "7.4603" } };
const secondRefund = (overrides = {}) =>
  refundOf({
    source: { connector: "shopify", orderId: "5001", refundId: "r2", createdAt: "2025-11-12T09:00:00+01:00" },
    ...overrides,
  });
const fullRefund = () => refundOf({ shipping: 4900, total: 24800 });

describe("e-conomic createCreditNote against the invoice it credits", () => {
  async function bookedInvoice(order = danishOrder(), settings: Record<string, unknown> = BOOKED) {
    const mock = createEconomicMock({ products: [TS1] });
    installEconomicMock(mock);
    const invoice = await run(economicInvoice, order, settings, { reference: "orderly-invoice-0" });
    return { mock, history: [done("createInvoice", invoice.result)] };
  }

  it("refuses a credit note in EUR for an invoice the shop's DKK setting made, naming both and the setting, making nothing", async () => {
    const order = danishOrder(EXCHANGE);
    const { mock, history } = await bookedInvoice(order, { ...BOOKED, invoiceCurrency: "shop" });
    expect(mock.state.booked[0]).toMatchObject({ currency: "DKK" });
    const before = writes(mock).length;

    const error = await failure(
      run(economicCreditNote, order, BOOKED, { refund: refundOf({ currency: "EUR" }), history, reference: "orderly-refund-0" }),
    );

    expect(error).toMatchObject({ errorClass: "validation", code: "economic_credit_currency", madeNothing: true });
    expect(error.message).toBe(
      `e-conomic invoice 1 is in DKK, but this credit note for it would be in EUR: a credit note must be in the currency of the invoice it credits. Set the credit-note step's invoiceCurrency like the invoice step's ("shop") and retry. Nothing was created.`,
    );
    expect(writes(mock)).toHaveLength(before);
  });

  it("with the invoice step's invoiceCurrency, the same refund is credited in DKK", async () => {
    const order = danishOrder(EXCHANGE);
    const { history } = await bookedInvoice(order, { ...BOOKED, invoiceCurrency: "shop" });

    const { result } = await run(
      economicCreditNote,
      order,
      { ...BOOKED, invoiceCurrency: "shop" },
      { refund: refundOf({ currency: "EUR" }), history, reference: "orderly-refund-0" },
    );

    expect(result.outputs).toMatchObject({ currency: "DKK", creditedInvoiceNumber: 1, bookedInvoiceNumber: 2 });
  });

  it("refuses a second credit note that would take back more than the invoice, with the amounts, making nothing", async () => {
    const { mock, history } = await bookedInvoice();
    const first = await run(economicCreditNote, danishOrder(), BOOKED, {
      refund: refundOf(),
      history,
      reference: "orderly-refund-0",
    });
    const later = [...history, done("createCreditNote", first.result)];
    const before = writes(mock).length;

    const error = await failure(
      run(economicCreditNote, danishOrder(), BOOKED, { refund: secondRefund(), history: later, reference: "orderly-refund-1" }),
    );

    expect(error).toMatchObject({ errorClass: "validation", code: "economic_credit_exceeds_invoice", madeNothing: true });
    expect(error.message).toBe(
      "e-conomic invoice 1 is 248.00 DKK and its credit notes already take back 199.00 DKK (credit note 2: 199.00 DKK): this credit note of 199.00 DKK would credit 150.00 DKK more than was invoiced. Check whether this refund was already credited (a refund deleted and made again in the webshop, or credited by another flow); if so, nothing is left to do, else correct the earlier credit notes and retry. Nothing was created.",
    );
    expect(writes(mock)).toHaveLength(before);

    // What is left of the invoice, the shipping, can still be credited.
    const shipping = secondRefund({ lines: [], shipping: 4900, total: 4900 });
    const { result } = await run(economicCreditNote, danishOrder(), BOOKED, {
      refund: shipping,
      history: later,
      reference: "orderly-refund-2",
    });
    expect(result.outputs).toMatchObject({ bookedInvoiceNumber: 3, total: "49.00" });
  });

  it("a retry of the same credit note is not counted against itself; a draft counts until it is deleted", async () => {
    const { mock, history } = await bookedInvoice();
    const first = await run(
      economicCreditNote,
      danishOrder(),
      {},
      { refund: fullRefund(), history, reference: "orderly-refund-0" },
    );
    const later = [...history, done("createCreditNote", first.result)];

    const retried = await run(
      economicCreditNote,
      danishOrder(),
      {},
      { refund: fullRefund(), history: later, reference: "orderly-refund-0" },
    );
    expect(retried.result).toMatchObject({ created: false, outputs: { draftInvoiceNumber: 2, updated: true } });

    // The same refund made again in the webshop: a new refund, a new reference.
    const again = { refund: secondRefund({ shipping: 4900, total: 24800 }), history: later, reference: "orderly-refund-1" };
    const error = await failure(run(economicCreditNote, danishOrder(), {}, again));
    expect(error.code).toBe("economic_credit_exceeds_invoice");
    expect(error.message).toMatch(/already take back 248\.00 DKK \(draft credit note 2: 248\.00 DKK\)/);

    mock.state.drafts = [];
    const { result } = await run(economicCreditNote, danishOrder(), {}, again);
    expect(result).toMatchObject({ created: true, outputs: { creditedInvoiceNumber: 1 } });
  });
});

describe("Billy createCreditNote against the invoice it credits", () => {
  const REF_R1 = "orderly-11111111111111111111111111111111-0";
  const REF_R2 = "orderly-22222222222222222222222222222222-0";
  const approved = { ...SETTINGS, invoiceState: "booked" };

  async function approvedInvoice(order = billyOrder(), settings: Record<string, unknown> = approved) {
    const mock = createBillyMock({ products: PRODUCTS });
    installBillyMock(mock);
    const { result } = await runBilly(billyInvoice, order, settings);
    return { mock, history: [historyEntry("createInvoice", result)] };
  }

  it("refuses a second credit note that would take back more than the invoice, with the amounts, writing nothing", async () => {
    const { mock, history } = await approvedInvoice();
    await runBilly(billyCreditNote, billyOrder(), approved, { reference: REF_R1, history, refund: billyRefund() });
    const before = mock.writes().length;
    const r2 = billyRefund({
      source: { connector: "shopify", orderId: "5001", refundId: "r2", createdAt: "2026-03-06T09:00:00Z" },
    });

    const error = await billyFailure(
      runBilly(billyCreditNote, billyOrder(), approved, { reference: REF_R2, history, refund: r2 }),
    );

    expect(error).toMatchObject({ errorClass: "validation", code: "billy_credit_exceeds_invoice", madeNothing: true });
    expect(error.message).toBe(
      "Billy invoice 1001 is 248.00 DKK and its credit notes already take back 199.00 DKK (credit note 1002: 199.00 DKK): this credit note of 199.00 DKK would credit 150.00 DKK more than was invoiced. Check whether this refund was already credited (a refund deleted and made again in the webshop, or credited by another flow); if so, nothing is left to do, else correct the earlier credit notes and retry. Nothing was created.",
    );
    expect(mock.writes()).toHaveLength(before);
  });

  it("a retry of a full refund's credit note adopts it rather than counting it against itself", async () => {
    const { mock, history } = await approvedInvoice();
    const full = billyRefund({ shipping: 4900, total: 24800 });
    const first = await runBilly(billyCreditNote, billyOrder(), approved, { reference: REF_R1, history, refund: full });
    const before = mock.writes().length;

    const again = await runBilly(billyCreditNote, billyOrder(), approved, { reference: REF_R1, history, refund: full });

    expect(again.result).toMatchObject({ externalId: first.result.externalId, created: false });
    expect(mock.writes()).toHaveLength(before);
  });

  it("refuses a credit note in another currency than the invoice, telling which invoiceCurrency to set", async () => {
    const order = billyOrder(EXCHANGE);
    const { mock, history } = await approvedInvoice(order, { ...approved, invoiceCurrency: "shop" });
    const before = mock.writes().length;

    const error = await billyFailure(
      runBilly(billyCreditNote, order, approved, { reference: REF_R1, history, refund: billyRefund({ currency: "EUR" }) }),
    );

    expect(error).toMatchObject({ errorClass: "validation", code: "billy_credit_currency", madeNothing: true });
    expect(error.message).toBe(
      `Billy invoice 1001 is in DKK, but this credit note for it would be in EUR: a credit note must be in the currency of the invoice it credits. Set the credit-note step's invoiceCurrency like the invoice step's ("shop") and retry. Nothing was created.`,
    );
    expect(mock.writes()).toHaveLength(before);
  });
});
