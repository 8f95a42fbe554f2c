/**
 * The order's invoice an earlier transfer made on this connection, for createInvoice to adopt
 * instead of making a second one. Each transfer has its own reference, so a step in another flow
 * (invoicing moved from the paid flow to the fulfilled one, or a second flow on another stage
 * invoicing too) finds nothing by its own and would invoice the order again. An invoice a
 * cancellation's booked credit notes took back in full (a cancelled-stage flow that credited it) is
 * no longer the order's invoice: a new one is made then, as before. Refunds' credit notes do not
 * count: an order refunded in full and then fulfilled keeps its invoice, which those credit notes
 * already answer (a new invoice would stand uncredited). Credit notes made by hand in e-conomic are
 * not seen (e-conomic links no credit note to its invoice), so such an invoice is adopted.
 */
import { toMinor } from "../../domain/money";
import { type AdoptedOutputs, adoptedOutputs, creditedInFull } from "../adopted-invoice";
import type { StepHistoryEntry } from "../contract";
import { type CreditCtx, creditNoteHeld, earlierCreditNotes } from "./economic.credit-note";
import { invoiceHistoryEntries, invoiceTrace } from "./economic.history";
import { type FoundInvoice, findInvoiceByReference, getBookedInvoice } from "./economic.reference";

export interface EarlierInvoice {
  invoice: FoundInvoice;
  /** The reference the earlier step wrote into the invoice (absent in results of old releases). */
  reference?: string;
  /** What the step's outputs add: where the invoice came from, and why none was made. */
  outputs: AdoptedOutputs;
}

/**
 * The newest invoice of the order's other ladder-stage transfers on this connection, as e-conomic
 * holds it now, that credit notes have not taken back in full. A draft is looked up by its
 * reference (a person may have booked it since); one gone from e-conomic is passed over.
 */
export async function earlierInvoice(ctx: CreditCtx, currency: string, reference: string): Promise<EarlierInvoice | undefined> {
  const entries = invoiceHistoryEntries(ctx);
  const seen = new Set<string>();
  for (const entry of [...entries].reverse()) {
    const trace = invoiceTrace(entry.result.outputs);
    if (!trace) continue;
    // A bookInvoice result names no reference: its transfer's createInvoice wrote it.
    const ref = trace.reference ?? referenceOfTransfer(entries, entry.transferId);
    const invoice: FoundInvoice | undefined =
      trace.bookedInvoiceNumber !== undefined
        ? { kind: "booked", bookedInvoiceNumber: trace.bookedInvoiceNumber, customerNumber: trace.customerNumber }
        : trace.reference
          ? await findInvoiceByReference(ctx, trace.reference)
          : undefined;
    if (!invoice) continue;
    const key = invoice.kind === "booked" ? `booked:${invoice.bookedInvoiceNumber}` : `draft:${invoice.draftInvoiceNumber}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (invoice.kind === "booked" && (await fullyCredited(ctx, invoice.bookedInvoiceNumber, currency, reference))) continue;
    return { invoice, ...(ref ? { reference: ref } : {}), outputs: adoptedFromEarlier(entry, invoice) };
  }
  return undefined;
}

function referenceOfTransfer(entries: readonly StepHistoryEntry[], transferId: string): string | undefined {
  const ref = entries.find((e) => e.transferId === transferId && typeof e.result.outputs.reference === "string");
  return ref?.result.outputs.reference as string | undefined;
}

function adoptedFromEarlier(entry: StepHistoryEntry, invoice: FoundInvoice): AdoptedOutputs {
  const named =
    invoice.kind === "booked" ? `booked invoice ${invoice.bookedInvoiceNumber}` : `draft invoice ${invoice.draftInvoiceNumber}`;
  return adoptedOutputs("e-conomic", named, entry);
}

/**
 * The credit notes the order's cancelled-stage transfers made on this connection: a cancellation
 * that credited the invoice, by the credit note's reference or booked number.
 */
function cancelCreditKeys(ctx: CreditCtx): Set<string> {
  const keys = new Set<string>();
  for (const h of ctx.history) {
    if (h.target !== ctx.connection.id || h.stage !== "cancelled" || h.action !== "createCreditNote") continue;
    const { reference, bookedInvoiceNumber } = h.result.outputs;
    if (typeof reference === "string") keys.add(`ref:${reference}`);
    if (typeof bookedInvoiceNumber === "number") keys.add(`booked:${bookedInvoiceNumber}`);
  }
  return keys;
}

/**
 * Whether booked credit notes of the order's cancellation on this connection take the invoice back
 * in full, to within rounding: one minor unit per credit note (the step's cents threshold is for
 * totals to match, far too wide here: 1.00 short is not credited in full). Drafts do not count: a
 * person may still delete them.
 */
async function fullyCredited(ctx: CreditCtx, bookedInvoiceNumber: number, fallbackCurrency: string, reference: string) {
  const byCancel = cancelCreditKeys(ctx);
  const notes = earlierCreditNotes(ctx, bookedInvoiceNumber, reference).filter(
    (n) =>
      (n.reference !== undefined && byCancel.has(`ref:${n.reference}`)) ||
      (n.bookedInvoiceNumber !== undefined && byCancel.has(`booked:${n.bookedInvoiceNumber}`)),
  );
  if (notes.length === 0) return false;
  const invoice = await getBookedInvoice(ctx, bookedInvoiceNumber);
  if (typeof invoice.grossAmount !== "number") return false;
  const currency = invoice.currency ?? fallbackCurrency;
  let taken = 0;
  let counted = 0;
  for (const note of notes) {
    const held = await creditNoteHeld(ctx, note);
    if (!held?.booked || (held.currency ?? currency) !== currency || typeof held.grossAmount !== "number") continue;
    taken += Math.abs(toMinor(held.grossAmount, currency));
    counted += 1;
  }
  return creditedInFull(taken, toMinor(invoice.grossAmount, currency), counted);
}
