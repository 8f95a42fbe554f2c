/**
 * Money refunded without lines on a mixed-rate order is spread over the rates in proportion to what
 * was sold: a guess, since the shop did not say which items it was for. The credit-note steps say so
 * in `outputs.checks` (booked as Orderly decided, for a person to check), never in
 * `outputs.differences` (what the target holds other than what Orderly would make, to correct); the
 * differences sweep mails both. A whole-order refund, where the proportion is exact, and a
 * single-rate order stay silent.
 */
import { describe, expect, it } from "vitest";
import { createCreditNote as billyCreditNote, createInvoice as billyInvoice } from "../../src/connectors/billy";
import { createCreditNote as economicCreditNote, createInvoice as economicInvoice } from "../../src/connectors/economic";
import {
  createCreditNote as ledgerCreditNote,
  createInvoice as ledgerInvoice,
} from "../../src/connectors/sandbox-ledger/ledger.actions";
import { buildCreditNoteDocument, spreadChecks } from "../../src/domain/accounting/build-document";
import { amountOnlyRefundCases } from "../accounting-cases/cases/refunds-amount-only";
import { parseCase } from "../accounting-cases/run-case";
import {
  BILLY_PRODUCTS,
  BILLY_SETTINGS,
  BILLY_TAX_RATES,
  ECONOMIC_GROUPS,
  ECONOMIC_PRODUCTS,
  ECONOMIC_SETTINGS,
} from "../accounting-cases/settings";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { historyEntry, run as runBilly } from "../mocks/billy.mock.fixtures";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { done, run as runEconomic } from "../mocks/economic.mock.fixtures";

const caseOf = (id: string) => {
  const c = amountOnlyRefundCases.find((x) => x.id === id);
  if (!c) throw new Error(`no case ${id}`);
  return c;
};

/** Both targets' credit-note results for the case's first refund, after its invoice. */
async function creditBoth(id: string) {
  const c = caseOf(id);
  const { order, refunds } = await parseCase(c);
  const refund = refunds[0]!;
  installEconomicMock(createEconomicMock({ products: ECONOMIC_PRODUCTS, productGroups: ECONOMIC_GROUPS }));
  installBillyMock(createBillyMock({ products: BILLY_PRODUCTS, taxRates: BILLY_TAX_RATES }));
  const eco = { ...ECONOMIC_SETTINGS, ...c.settings };
  const billy = { ...BILLY_SETTINGS, ...c.settings };
  const ecoInvoice = await runEconomic(economicInvoice, order, eco, { reference: `${id}-eco-invoice` });
  const ecoNote = await runEconomic(economicCreditNote, order, eco, {
    reference: `${id}-eco-refund`,
    refund,
    history: [done("createInvoice", ecoInvoice.result)],
  });
  const billyInv = await runBilly(billyInvoice, order, billy, { reference: `${id}-billy-invoice` });
  const billyNote = await runBilly(billyCreditNote, order, billy, {
    reference: `${id}-billy-refund`,
    refund,
    history: [historyEntry("createInvoice", billyInv.result)],
  });
  // A re-run of the e-conomic step finds its credit note booked and adopts it.
  const ecoAgain = await runEconomic(economicCreditNote, order, eco, {
    reference: `${id}-eco-refund`,
    refund,
    history: [done("createInvoice", ecoInvoice.result)],
  });
  return { order, refund, economic: ecoNote.result, economicAgain: ecoAgain.result, billy: billyNote.result };
}

const warning = (record: string, number: string) =>
  `VAT: ${record} splits 10.00 EUR over 7 % and 19 % in proportion to what was sold, since the shop gave the refund no lines; check it against the items refunded for order ${number} and correct the VAT by hand if it was for items of one rate.`;

describe("money refunded without lines over several VAT rates", () => {
  it("a partial refund on a mixed-rate order is credited in proportion and flagged for a person to check (C43)", async () => {
    const { order, refund, economic, economicAgain, billy } = await creditBoth("C43");
    const document = buildCreditNoteDocument(order, refund, { ...ECONOMIC_SETTINGS, ossRegistered: true } as never);
    expect(document.spreadOverRates).toEqual({ gross: 1000, ratesBp: [700, 1900] });
    const number = order.source.orderNumber;
    const ecoCheck = warning(`credit note ${economic.outputs.bookedInvoiceNumber}`, number);
    expect(economic.outputs.checks).toEqual([ecoCheck]);
    expect(billy.outputs.checks).toEqual([warning(`credit note ${billy.outputs.creditNoteNo}`, number)]);
    // Not a difference: the alert would tell the tenant to correct the credit note with another.
    expect(economic.outputs.differences).toBeUndefined();
    expect(billy.outputs.differences).toBeUndefined();
    // The adopted booked note lists what changed in `differences` (nothing), the spread in `checks`.
    expect(economicAgain.created).toBe(false);
    expect(economicAgain.outputs.differences).toEqual([]);
    expect(economicAgain.outputs.checks).toEqual([ecoCheck]);
  });

  it("a refund of the whole order on several rates is exact, and a single-rate order has one rate: no checks (C42, C41)", async () => {
    for (const id of ["C42", "C41"]) {
      const { order, refund, economic, economicAgain, billy } = await creditBoth(id);
      expect(
        buildCreditNoteDocument(order, refund, { ...ECONOMIC_SETTINGS, ossRegistered: true } as never).spreadOverRates,
      ).toBeUndefined();
      expect(economic.outputs.differences).toBeUndefined();
      expect(billy.outputs.differences).toBeUndefined();
      expect(economicAgain.outputs.differences).toEqual([]);
      for (const result of [economic, economicAgain, billy]) expect(result.outputs.checks).toBeUndefined();
    }
  });

  it("the sandbox ledger's credit note says so too (C43)", async () => {
    const { order, refunds } = await parseCase(caseOf("C43"));
    // The ledger's steps take the accounting settings; the e-conomic fixture's context serves them.
    const settings = { ...ECONOMIC_SETTINGS, ossRegistered: true };
    const invoice = await runEconomic(ledgerInvoice as never, order, settings, { reference: "C43-ledger-invoice" });
    const note = await runEconomic(ledgerCreditNote as never, order, settings, {
      reference: "C43-ledger-refund",
      refund: refunds[0]!,
      history: [done("createInvoice", invoice.result)],
    });
    expect(note.result.outputs.differences).toBeUndefined();
    expect(note.result.outputs.checks).toEqual([
      warning(`credit note ${note.result.outputs.creditNoteId}`, order.source.orderNumber),
    ]);
  });

  it("lists three rates in order and leaves a document without a spread silent", () => {
    const base = { currency: "EUR", spreadOverRates: { gross: 1234, ratesBp: [1900, 0, 700].sort((a, b) => a - b) } };
    expect(spreadChecks(base as never, "credit note 7", "#1001")[0]).toContain("splits 12.34 EUR over 0 %, 7 % and 19 %");
    expect(spreadChecks({ currency: "EUR" } as never, "credit note 7", "#1001")).toEqual([]);
  });
});
