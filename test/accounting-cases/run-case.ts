/**
 * Runs one accounting case the way a flow would: the webshop delivery is signed, verified and
 * parsed by the real source connector; the order's invoice (and each refund's credit note) goes to
 * the strict e-conomic mock and the strict Billy mock; then the exact bodies they received and the
 * totals they computed are compared with the case's expectations.
 */
import { expect } from "vitest";
import { createCreditNote as billyCreditNote, createInvoice as billyInvoice } from "../../src/connectors/billy";
import type { ActionResult } from "../../src/connectors/contract";
import { createCreditNote as economicCreditNote, createInvoice as economicInvoice } from "../../src/connectors/economic";
import { shopifyConnector } from "../../src/connectors/shopify";
import { woocommerceConnector } from "../../src/connectors/woocommerce";
import type { OrderlyError } from "../../src/domain/errors";
import type { CanonicalOrder, CanonicalRefund } from "../../src/domain/order";
import { shopifyDelivery } from "../fixtures/shopify";
import { woocommerceDelivery } from "../fixtures/woocommerce";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { failure as billyFailure, historyEntry, run as runBilly } from "../mocks/billy.mock.fixtures";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { done, failure as economicFailure, run as runEconomic } from "../mocks/economic.mock.fixtures";
import { amount, cents, major } from "./amounts";
import type { AccountingCase, ExpectedDocument } from "./case-types";
import { billyInvoiceLines, economicDraftLines, orderNumberOf } from "./expected-bodies";
import { SHOPIFY_API_VERSION, shopifyOrderPayload, shopifyRefundPayload, wooOrderPayload } from "./payloads";
import { invoiceName, person } from "./people";
import {
  BILLY_PRODUCTS,
  BILLY_SETTINGS,
  BILLY_TAX_RATES,
  ECONOMIC_GROUPS,
  ECONOMIC_PRODUCTS,
  ECONOMIC_SETTINGS,
  EXISTING,
} from "./settings";

const SECRET = "accounting-cases-webhook-secret";

/** The canonical order and refunds, exactly as the source connector parses the signed deliveries. */
export async function parseCase(c: AccountingCase): Promise<{ order: CanonicalOrder; refunds: CanonicalRefund[] }> {
  const number = orderNumberOf(c);
  const source = c.source;
  let order: CanonicalOrder | undefined;
  const refunds: CanonicalRefund[] = [];
  if (source.shop === "shopify") {
    const handlers = shopifyConnector.source!;
    const parse = async (topic: string, body: object, apiVersion = SHOPIFY_API_VERSION) => {
      const delivery = await shopifyDelivery(topic, body, SECRET, { "X-Shopify-API-Version": apiVersion });
      expect(await handlers.verify(delivery, SECRET)).toEqual({ ok: true });
      const events = handlers.parse(delivery);
      if (!Array.isArray(events) || events.length !== 1) throw new Error(`expected one event for ${topic}`);
      return events[0]!.object;
    };
    const parsed = await parse("orders/paid", shopifyOrderPayload(source, number));
    if (parsed.type !== "order") throw new Error("orders/paid parsed into a refund");
    order = parsed.order;
    for (const [i, spec] of (source.refunds ?? []).entries()) {
      const refund = await parse("refunds/create", shopifyRefundPayload(spec, source, i), spec.apiVersion);
      if (refund.type !== "refund") throw new Error("refunds/create parsed into an order");
      refunds.push(refund.refund);
    }
  } else {
    const handlers = woocommerceConnector.source!;
    const delivery = await woocommerceDelivery("order.updated", wooOrderPayload(source, number), SECRET);
    expect(await handlers.verify(delivery, SECRET)).toEqual({ ok: true });
    const events = handlers.parse(delivery);
    if (!Array.isArray(events)) throw new Error("the WooCommerce delivery was ignored");
    for (const event of events) {
      if (event.object.type === "order") order = event.object.order;
      else refunds.push(event.object.refund);
    }
  }
  if (!order) throw new Error(`${c.id}: the delivery carried no order`);
  if (c.overlay) order = { ...order, exchange: c.overlay.exchange };
  return { order, refunds };
}

function economicSettings(c: AccountingCase) {
  const customer =
    c.customer === "vatNumber"
      ? { customerMatch: "vatNumber" }
      : c.customer === "shared"
        ? { customerMatch: "shared", sharedCustomerNumber: EXISTING.economicShared.customerNumber }
        : {};
  return { ...ECONOMIC_SETTINGS, ...c.settings, ...customer, ...c.economicSettings };
}

function billySettings(c: AccountingCase) {
  const customer =
    c.customer === "vatNumber"
      ? { customerMatch: "vatNumber" }
      : c.customer === "shared"
        ? { customerMatch: "shared", sharedContactId: EXISTING.billyShared.id }
        : {};
  return { ...BILLY_SETTINGS, ...c.settings, ...customer, ...c.billySettings };
}

/** Runs the case on both targets and checks every body and total against its expectations. */
export async function runCase(c: AccountingCase): Promise<void> {
  const { order, refunds } = await parseCase(c);
  const economic = createEconomicMock({
    products: ECONOMIC_PRODUCTS,
    productGroups: ECONOMIC_GROUPS,
    customers: [EXISTING.economicByVat, EXISTING.economicShared],
  });
  installEconomicMock(economic);
  const billy = createBillyMock({
    products: BILLY_PRODUCTS,
    taxRates: BILLY_TAX_RATES,
    contacts: [EXISTING.billyByVat, EXISTING.billyShared],
  });
  installBillyMock(billy);
  const p = person(c.source.buyer);
  const number = orderNumberOf(c);
  const date = c.source.date ?? "2026-03-02";
  const invoice = c.expect.invoice;
  const ecoReference = `orderly-${c.id}-invoice`;
  const billyReference = `orderly-${c.id}-billy-invoice`;

  // e-conomic
  const ecoRun = runEconomic(economicInvoice, order, economicSettings(c), { reference: ecoReference });
  let ecoResult: ActionResult | undefined;
  if (invoice.mismatch) expectMismatch(await economicFailure(ecoRun), invoice, c.expect.currency, /left as e-conomic draft 1/);
  else ecoResult = (await ecoRun).result;
  const customerNumber =
    c.customer === "vatNumber"
      ? EXISTING.economicByVat.customerNumber
      : c.customer === "shared"
        ? EXISTING.economicShared.customerNumber
        : EXISTING.economicShared.customerNumber + 1;
  const recipient = {
    name: invoiceName(p),
    address: p.line1,
    zip: p.postcode,
    city: p.city,
    country: p.countryName,
    vatZone: { vatZoneNumber: invoice.economic.zone },
  };
  const ecoHeader = {
    currency: c.expect.currency,
    customer: { customerNumber },
    // Business buyers get the B2B layout and terms of the shared settings.
    layout: { layoutNumber: p.kind === "business" ? 21 : 19 },
    paymentTerms: { paymentTermsNumber: p.kind === "business" ? 5 : 1 },
    recipient,
  };
  const drafts = () => economic.state.requests.filter((r) => r.method === "POST" && r.path === "/invoices/drafts");
  expect(drafts()[0]?.body).toEqual({
    date,
    ...ecoHeader,
    ...exchangeRate(invoice.economic),
    references: { other: ecoReference },
    ...(invoice.economic.notes ? { notes: { textLine1: invoice.economic.notes } } : {}),
    lines: economicDraftLines(invoice, 1),
  });
  expectEconomicTotals(economic, ecoReference, invoice, 1, Boolean(invoice.mismatch));
  if (ecoResult)
    expect(ecoResult.outputs).toMatchObject({ vatCase: c.expect.vatCase, currency: c.expect.currency, warnings: [] });

  // Billy
  const billyRun = runBilly(billyInvoice, order, billySettings(c), { reference: billyReference });
  let billyResult: ActionResult | undefined;
  if (invoice.mismatch) expectMismatch(await billyFailure(billyRun), invoice, c.expect.currency);
  else billyResult = (await billyRun).result;
  const contactId =
    c.customer === "vatNumber" ? EXISTING.billyByVat.id : c.customer === "shared" ? EXISTING.billyShared.id : "con-1";
  const posted = () => billy.requests.filter((r) => r.method === "POST" && r.path === "/invoices");
  expect(posted()[0]?.body).toEqual({
    invoice: {
      type: "invoice",
      contactId,
      entryDate: date,
      currencyId: c.expect.currency,
      ...exchangeRate(invoice.billy),
      taxMode: "excl",
      externalId: billyReference,
      state: "draft",
      paymentTermsDays: p.kind === "business" ? 8 : 0,
      contactMessage: `Order #${number}`,
      lines: billyInvoiceLines(invoice),
    },
  });
  const billyInvoiceRecord = billy.state.invoices.find((i) => i.externalId === billyReference);
  expectBillyTotals(billyInvoiceRecord, invoice);
  expect(billyInvoiceRecord?.state).toBe(invoice.mismatch ? "draft" : "approved");
  if (billyResult)
    expect(billyResult.outputs).toMatchObject({ vatCase: c.expect.vatCase, currency: c.expect.currency, warnings: [] });

  if (c.customer) {
    // An existing customer is used as it is: nothing is created in either system.
    expect(economic.state.requests.filter((r) => r.method === "POST" && r.path === "/customers")).toEqual([]);
    expect(billy.requests.filter((r) => r.method === "POST" && r.path === "/contacts")).toEqual([]);
  }

  // Credit notes, each linked to the booked invoice.
  for (const [n, note] of (c.expect.creditNotes ?? []).entries()) {
    const refund = refunds[note.refund];
    if (!refund || !ecoResult || !billyResult) throw new Error(`${c.id}: refund ${note.refund} or the invoice is missing`);
    // Shopify dates each refund; WooCommerce's refund is as of the delivery that lists it.
    const src = c.source;
    const refundDate = src.shop === "shopify" ? src.refunds?.[note.refund]?.date : (src.modified ?? date);
    const ecoNoteRef = `orderly-${c.id}-refund-${n}`;
    const ecoNote = await runEconomic(economicCreditNote, order, economicSettings(c), {
      reference: ecoNoteRef,
      refund,
      history: [done("createInvoice", ecoResult)],
    });
    const bookedInvoice = ecoResult.outputs.bookedInvoiceNumber;
    expect(drafts()[n + 1]?.body).toEqual({
      date: refundDate,
      ...ecoHeader,
      ...exchangeRate(note.economic),
      recipient: { ...recipient, vatZone: { vatZoneNumber: note.economic.zone } },
      references: { other: ecoNoteRef },
      notes: {
        heading: `Credit note for invoice ${bookedInvoice}`,
        ...(note.economic.notes ? { textLine1: note.economic.notes } : {}),
      },
      lines: economicDraftLines(note, -1),
    });
    expect(ecoNote.result.outputs).toMatchObject({ creditedInvoiceNumber: bookedInvoice, vatCase: c.expect.vatCase });
    expectEconomicTotals(economic, ecoNoteRef, note, -1, false);

    const billyNoteRef = `orderly-${c.id}-billy-refund-${n}`;
    const billyNote = await runBilly(billyCreditNote, order, billySettings(c), {
      reference: billyNoteRef,
      refund,
      history: [historyEntry("createInvoice", billyResult)],
    });
    expect(posted()[n + 1]?.body).toEqual({
      invoice: {
        type: "creditNote",
        contactId,
        entryDate: refundDate,
        currencyId: c.expect.currency,
        ...exchangeRate(note.billy),
        taxMode: "excl",
        externalId: billyNoteRef,
        state: "draft",
        contactMessage: `Refund of order #${number}`,
        lines: billyInvoiceLines(note),
        creditedInvoiceId: billyResult.outputs.invoiceId,
      },
    });
    expect(billyNote.result.outputs).toMatchObject({ creditedInvoiceId: billyResult.outputs.invoiceId, state: "approved" });
    expectBillyTotals(
      billy.state.invoices.find((i) => i.externalId === billyNoteRef),
      note,
    );
  }
}

/** The `exchangeRate` a document's body carries, when the case expects the webshop's rate to be sent. */
function exchangeRate(target: { exchangeRate?: number }): { exchangeRate?: number } {
  return target.exchangeRate === undefined ? {} : { exchangeRate: target.exchangeRate };
}

function expectMismatch(error: OrderlyError, doc: ExpectedDocument, currency: string, draft?: RegExp) {
  expect(error).toMatchObject({ errorClass: "validation", code: "invoice_totals_mismatch" });
  expect(error.message).toContain(`${doc.mismatch?.invoice} ${currency}`);
  expect(error.message).toContain(`${doc.mismatch?.paid} ${currency}`);
  if (draft) expect(error.message).toMatch(draft);
}

/** e-conomic's own figures for the document: booked (or, on a mismatch, the draft left behind). */
function expectEconomicTotals(
  mock: ReturnType<typeof createEconomicMock>,
  reference: string,
  doc: ExpectedDocument,
  sign: 1 | -1,
  draft: boolean,
) {
  const list = draft ? mock.state.drafts : mock.state.booked;
  const found = list.filter((d) => (d.references as { other?: string } | undefined)?.other === reference);
  expect(found, `${draft ? "draft" : "booked"} e-conomic document ${reference}`).toHaveLength(1);
  const total = doc.mismatch ? doc.mismatch.invoice : doc.economic.total;
  // `|| 0`: e-conomic answers 0, never -0, for a credit note without VAT.
  const signed = (a: string) => sign * major(a) || 0;
  expect(found[0]).toMatchObject({
    netAmount: signed(netOf(total, doc.economic.vat)),
    vatAmount: signed(doc.economic.vat),
    grossAmount: signed(total),
  });
}

function expectBillyTotals(record: Record<string, unknown> | undefined, doc: ExpectedDocument) {
  const total = doc.mismatch ? doc.mismatch.invoice : doc.billy.total;
  expect(record).toMatchObject({
    amount: major(netOf(total, doc.billy.vat)),
    tax: major(doc.billy.vat),
    grossAmount: major(total),
  });
}

function netOf(total: string, vat: string): string {
  return amount(cents(total) - cents(vat));
}
