/**
 * `createCreditNote` (flows on `refunded`): the refund's credit note document as an e-conomic
 * credit note. e-conomic has no credit note entity: a credit note is an invoice with negative
 * quantities, printed with the credit note layout because its total is negative (e-conomic's API
 * forum, 2011/2012). It goes on the customer of the booked invoice it credits with that invoice's
 * payment terms, names that invoice in its heading, and is booked when the step says so and its totals match. Restocking is noted per
 * line; it moves no stock. A draft carrying the step's reference is updated; a booked one is kept.
 */
import { buildCreditNoteDocument, spreadChecks } from "../../domain/accounting/build-document";
import { checkCreditCurrency, checkOverCredit, type EarlierCredit } from "../../domain/accounting/credit-checks";
import type { AccountingDocument } from "../../domain/accounting/document";
import { OrderlyError } from "../../domain/errors";
import { toMinor } from "../../domain/money";
import type { CanonicalOrder, CanonicalRefund } from "../../domain/order";
import { defineAction } from "../contract";
import { type EconomicContext, economicRequest } from "./economic.api";
import { economicReference, withCustomer } from "./economic.body";
import { bookDraft } from "./economic.book-invoice";
import {
  bookedDifferences,
  checkComputedTotal,
  documentOutputs,
  mismatchError,
  prepareDocument,
} from "./economic.document-steps";
import {
  asInt,
  bookedInvoiceFromSteps,
  historyResults,
  invoiceHistory,
  invoiceTraces,
  type StepsContext,
} from "./economic.history";
import { bookedTermsNumber } from "./economic.payment-terms";
import { type BookedInvoice, findInvoiceByReference, getBookedInvoice } from "./economic.reference";
import { type EconomicConnectionSettings, type EconomicCredentials, economicDocumentSettings } from "./economic.settings";

export const createCreditNoteSettings = economicDocumentSettings;

export const createCreditNote = defineAction<typeof createCreditNoteSettings, EconomicCredentials, EconomicConnectionSettings>({
  stages: ["refunded"],
  description: "Credit a refund in e-conomic: an invoice with negative quantities against the order's booked invoice.",
  settings: createCreditNoteSettings,
  // The prefix is part of the reference written into the document and searched for by a re-run.
  identitySettings: ["referencePrefix"],
  async run(ctx, { order, refund }) {
    if (!refund)
      throw new OrderlyError("createCreditNote runs in flows on the refunded stage, whose input carries the refund.", {
        errorClass: "validation",
        code: "economic_no_refund",
      });
    const reference = economicReference(ctx.settings, ctx.reference);
    const document = buildCreditNoteDocument(order, refund, ctx.settings);
    const existing = ctx.firstAttempt ? undefined : await findInvoiceByReference(ctx, reference);
    if (existing?.kind === "booked") {
      const booked = await getBookedInvoice(ctx, existing.bookedInvoiceNumber);
      // Read only, as on the path below: a later refund's over-credit check counts this credit note by it.
      const credited = (await bookedInvoiceFromSteps({ ...ctx, previous: [] }))?.bookedInvoiceNumber;
      return {
        externalId: String(existing.bookedInvoiceNumber),
        created: false,
        outputs: {
          bookedInvoiceNumber: existing.bookedInvoiceNumber,
          ...(credited === undefined ? {} : { creditedInvoiceNumber: credited }),
          reference,
          ...documentOutputs(document),
          differences: bookedDifferences(booked, document, order.source.orderNumber),
          ...checksOutput(spreadChecks(document, `credit note ${existing.bookedInvoiceNumber}`, order.source.orderNumber)),
        },
      };
    }
    const original = await bookedInvoiceFromSteps({ ...ctx, previous: [] });
    if (original?.bookedInvoiceNumber === undefined)
      throw new OrderlyError(
        invoiceHistory(ctx).length > 0
          ? "The order's e-conomic invoice is still a draft: correct or delete the draft instead of crediting it, or book it first."
          : "There is no booked e-conomic invoice for this order on this connection to credit.",
        { errorClass: "validation", code: "economic_no_invoice_to_credit" },
      );
    const credited = original.bookedInvoiceNumber;
    const invoice = await getBookedInvoice(ctx, credited);
    // Checked before anything is written: e-conomic itself takes a credit note in any currency and for any amount.
    await checkAgainstInvoice(ctx, order, document, { ...invoice, bookedInvoiceNumber: credited }, reference);
    // The invoice's payment terms (a gateway's "paid" terms from createInvoice, or the buyer kind's):
    // registerRefund skips a gateway on terms only when the credit note carries the same ones.
    const invoiceTerms = bookedTermsNumber(invoice);
    const prepared = await prepareDocument(ctx, order, document, ctx.settings, {
      reference,
      sign: -1,
      heading: `Credit note for invoice ${credited}`,
      notes: restockNotes(document, refund),
      ...(invoiceTerms === undefined ? {} : { paymentTermsNumber: invoiceTerms }),
    });
    const customerNumber =
      existing?.customerNumber ?? original.customerNumber ?? invoice.customer?.customerNumber ?? missingCustomer(credited);
    const body = withCustomer(prepared.header, customerNumber);
    ctx.mapped({ document, draft: body, creditedInvoiceNumber: credited });
    let draftInvoiceNumber: number;
    let grossAmount: number | undefined;
    if (existing) {
      const put = await economicRequest<{ grossAmount?: number }>(ctx, {
        method: "PUT",
        path: `/invoices/drafts/${existing.draftInvoiceNumber}`,
        json: body,
      });
      draftInvoiceNumber = existing.draftInvoiceNumber;
      grossAmount = put.body?.grossAmount;
    } else {
      const made = await economicRequest<{ draftInvoiceNumber: number; grossAmount?: number }>(ctx, {
        method: "POST",
        path: "/invoices/drafts",
        json: body,
      });
      draftInvoiceNumber = made.body.draftInvoiceNumber;
      grossAmount = made.body.grossAmount;
    }
    if (document.mismatch) throw mismatchError(document, draftInvoiceNumber);
    checkComputedTotal(typeof grossAmount === "number" ? grossAmount : undefined, document, draftInvoiceNumber);
    const bookedInvoiceNumber = ctx.settings.invoiceState === "booked" ? await bookDraft(ctx, draftInvoiceNumber) : undefined;
    const record =
      bookedInvoiceNumber === undefined ? `draft credit note ${draftInvoiceNumber}` : `credit note ${bookedInvoiceNumber}`;
    const checks = spreadChecks(document, record, order.source.orderNumber);
    return {
      externalId: String(bookedInvoiceNumber ?? draftInvoiceNumber),
      created: !existing,
      outputs: {
        draftInvoiceNumber,
        ...(bookedInvoiceNumber === undefined ? {} : { bookedInvoiceNumber }),
        creditedInvoiceNumber: credited,
        customerNumber,
        reference,
        ...documentOutputs(document, prepared.products),
        ...(existing ? { updated: true } : {}),
        ...checksOutput(checks),
      },
    };
  },
});

export type CreditCtx = StepsContext & EconomicContext & { settings: { centsThreshold: string } };

/**
 * The credit note against the booked invoice it credits: the same currency, and with the credit
 * notes Orderly already made for that invoice (this order's earlier steps on this connection, each
 * read again from e-conomic, a deleted draft counting nothing), no more than the invoice's amount.
 * e-conomic links no credit note to its invoice (the booked invoice's `remainder` moves only with
 * matched entries), so credit notes made by hand in e-conomic are not seen.
 */
async function checkAgainstInvoice(
  ctx: CreditCtx,
  order: CanonicalOrder,
  document: AccountingDocument,
  invoice: BookedInvoice,
  reference: string,
): Promise<void> {
  const label = `e-conomic invoice ${invoice.bookedInvoiceNumber}`;
  const currency = invoice.currency ?? document.currency;
  checkCreditCurrency({ label, currency }, document.currency, order, "economic_credit_currency");
  if (typeof invoice.grossAmount !== "number") return;
  const earlier: EarlierCredit[] = [];
  for (const trace of earlierCreditNotes(ctx, invoice.bookedInvoiceNumber, reference)) {
    const held = await creditNoteHeld(ctx, trace);
    if (held && (held.currency ?? currency) === currency && typeof held.grossAmount === "number")
      earlier.push({ label: held.label, gross: Math.abs(toMinor(held.grossAmount, currency)) });
  }
  checkOverCredit(
    { label, currency, gross: Math.abs(toMinor(invoice.grossAmount, currency)) },
    earlier,
    document.totals.total,
    toMinor(ctx.settings.centsThreshold, currency),
    "economic_credit_exceeds_invoice",
  );
}

export interface CreditTrace {
  bookedInvoiceNumber?: number;
  reference?: string;
}

/**
 * Credit notes earlier steps made for the invoice: this transfer's steps and the order's history
 * on this connection, once each. A result carrying this step's reference is this credit note
 * (a retry, or a re-run found it), never an earlier one. A createCreditNote of the order's history
 * that does not name the invoice it credited (one that adopted its booked credit note, before
 * releases recorded it there) is counted when the order has no other invoice it could have credited.
 */
export function earlierCreditNotes(ctx: CreditCtx, credited: number, reference: string): CreditTrace[] {
  const history = historyResults(ctx, CREDIT_ACTIONS);
  const unnamed = onlyInvoice(ctx, credited) ? history.filter((r) => r.outputs.creditedInvoiceNumber === undefined) : [];
  const results = [...ctx.previous, ...history];
  const seen = new Set<string>();
  const traces: CreditTrace[] = [];
  for (const r of results) {
    if (!r || (asInt(r.outputs.creditedInvoiceNumber) !== credited && !unnamed.includes(r))) continue;
    const ref = typeof r.outputs.reference === "string" ? r.outputs.reference : undefined;
    const booked = asInt(r.outputs.bookedInvoiceNumber);
    if (ref === reference) continue;
    const key = ref ?? `booked:${booked}`;
    if (seen.has(key) || (ref === undefined && booked === undefined)) continue;
    seen.add(key);
    traces.push({ ...(booked === undefined ? {} : { bookedInvoiceNumber: booked }), ...(ref ? { reference: ref } : {}) });
  }
  return traces;
}

/**
 * Whether `credited` is the only invoice the order's steps on this connection name: one invoice step
 * reference at most, no other booked invoice, and no credit note naming another invoice.
 */
function onlyInvoice(ctx: CreditCtx, credited: number): boolean {
  const invoices = invoiceTraces({ ...ctx, previous: [] });
  const references = new Set(invoices.flatMap((t) => (t.reference ? [t.reference] : [])));
  const credits = historyResults(ctx, CREDIT_ACTIONS).map((r) => asInt(r.outputs.creditedInvoiceNumber));
  return (
    references.size <= 1 &&
    invoices.every((t) => t.bookedInvoiceNumber === undefined || t.bookedInvoiceNumber === credited) &&
    credits.every((n) => n === undefined || n === credited)
  );
}

const CREDIT_ACTIONS: ReadonlySet<string> = new Set(["createCreditNote"]);

/** The earlier credit note as e-conomic holds it now: booked, still a draft, or gone (undefined). */
export async function creditNoteHeld(
  ctx: CreditCtx,
  trace: CreditTrace,
): Promise<{ label: string; booked: boolean; currency?: string; grossAmount?: number } | undefined> {
  const found =
    trace.bookedInvoiceNumber === undefined
      ? trace.reference
        ? await findInvoiceByReference(ctx, trace.reference)
        : undefined
      : { kind: "booked" as const, bookedInvoiceNumber: trace.bookedInvoiceNumber };
  if (!found) return undefined;
  if (found.kind === "booked") {
    const booked = await getBookedInvoice(ctx, found.bookedInvoiceNumber);
    return { label: `credit note ${found.bookedInvoiceNumber}`, booked: true, ...booked };
  }
  const draft = await economicRequest<{ currency?: string; grossAmount?: number }>(ctx, {
    method: "GET",
    path: `/invoices/drafts/${found.draftInvoiceNumber}`,
    accept: [404],
  });
  return draft.status === 404
    ? undefined
    : { label: `draft credit note ${found.draftInvoiceNumber}`, booked: false, ...draft.body };
}

/**
 * `checks`, not `differences`: the credit note holds what Orderly decided, so the alert asks for a
 * look at its VAT rather than a correction of the booked document. Left out when empty.
 */
function checksOutput(checks: string[]): { checks?: string[] } {
  return checks.length > 0 ? { checks } : {};
}

/** "Returned to stock: T-shirt × 1" for each refunded line the shop put back in stock. */
export function restockNotes(document: AccountingDocument, refund: CanonicalRefund): string[] {
  const restocked = new Set(refund.lines.filter((l) => l.restock).map((l) => l.lineId));
  return document.lines
    .filter((l) => l.sourceLineId !== undefined && restocked.has(l.sourceLineId))
    .map((l) => `Returned to stock: ${l.description} × ${l.quantity}`);
}

function missingCustomer(invoice: number): never {
  throw new OrderlyError(`Booked invoice ${invoice} names no customer in e-conomic; the credit note cannot be placed.`, {
    errorClass: "validation",
    code: "economic_customer_missing",
  });
}
