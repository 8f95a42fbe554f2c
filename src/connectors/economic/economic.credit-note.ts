/**
 * `createCreditNote` (flows on `refunded`): the refund's credit note document as an e-conomic
 * credit note. e-conomic has no credit note entity: a credit note is an invoice with negative
 * quantities, printed with the credit note layout because its total is negative (e-conomic's API
 * forum, 2011/2012). It goes on the customer of the booked invoice it credits, names that invoice in
 * its heading, and is booked when the step says so and its totals match. Restocking is noted per
 * line; it moves no stock. A draft carrying the step's reference is updated; a booked one is kept.
 */
import { buildCreditNoteDocument, spreadChecks } from "../../domain/accounting/build-document";
import type { AccountingDocument } from "../../domain/accounting/document";
import { OrderlyError } from "../../domain/errors";
import type { CanonicalRefund } from "../../domain/order";
import { defineAction } from "../contract";
import { economicRequest } from "./economic.api";
import { economicReference, withCustomer } from "./economic.body";
import { bookDraft } from "./economic.book-invoice";
import {
  bookedDifferences,
  checkComputedTotal,
  documentOutputs,
  mismatchError,
  prepareDocument,
} from "./economic.document-steps";
import { bookedInvoiceFromSteps, historyResults, INVOICE_ACTIONS } from "./economic.history";
import { findInvoiceByReference, getBookedInvoice } from "./economic.reference";
import { createInvoiceSettings, type EconomicConnectionSettings, type EconomicCredentials } from "./economic.settings";

export const createCreditNoteSettings = createInvoiceSettings;

export const createCreditNote = defineAction<typeof createCreditNoteSettings, EconomicCredentials, EconomicConnectionSettings>({
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
    const existing = await findInvoiceByReference(ctx, reference);
    if (existing?.kind === "booked") {
      const booked = await getBookedInvoice(ctx, existing.bookedInvoiceNumber);
      return {
        externalId: String(existing.bookedInvoiceNumber),
        created: false,
        outputs: {
          bookedInvoiceNumber: existing.bookedInvoiceNumber,
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
        historyResults(ctx, INVOICE_ACTIONS).length > 0
          ? "The order's e-conomic invoice is still a draft: correct or delete the draft instead of crediting it, or book it first."
          : "There is no booked e-conomic invoice for this order on this connection to credit.",
        { errorClass: "validation", code: "economic_no_invoice_to_credit" },
      );
    const credited = original.bookedInvoiceNumber;
    const prepared = await prepareDocument(ctx, order, document, ctx.settings, {
      reference,
      sign: -1,
      heading: `Credit note for invoice ${credited}`,
      notes: restockNotes(document, refund),
    });
    const customerNumber =
      existing?.customerNumber ??
      original.customerNumber ??
      (await getBookedInvoice(ctx, credited)).customer?.customerNumber ??
      missingCustomer(credited);
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
