/**
 * Finds the Billy invoice a step works on: from an earlier step of the same transfer (`previous`),
 * or from the order's other transfers (`history`), e.g. the invoice a paid-stage flow made that a
 * refund's credit note must credit. Only results of this connection's createInvoice count.
 */
import type { ActionResult, StepHistoryEntry } from "../contract";

/** The invoice id of the latest earlier createInvoice step of this transfer. */
export function invoiceFromPrevious(previous: ReadonlyArray<ActionResult | undefined>): string | undefined {
  for (let i = previous.length - 1; i >= 0; i--) {
    const outputs = previous[i]?.outputs;
    if (outputs?.documentType === "invoice" && typeof outputs.invoiceId === "string") return outputs.invoiceId;
  }
  return undefined;
}

/** The createInvoice steps this connection completed for the order, with the invoice each names, newest first. */
export function invoicesFromHistory(
  history: ReadonlyArray<StepHistoryEntry>,
  connectionId: string,
): Array<{ entry: StepHistoryEntry; invoiceId: string }> {
  const out: Array<{ entry: StepHistoryEntry; invoiceId: string }> = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i];
    if (!h || h.target !== connectionId || h.action !== "createInvoice") continue;
    const id = h.result.outputs.invoiceId ?? h.result.externalId;
    if (typeof id === "string" && id) out.push({ entry: h, invoiceId: id });
  }
  return out;
}

/** The invoice id of the latest createInvoice this connection completed for the order. */
export function invoiceFromHistory(history: ReadonlyArray<StepHistoryEntry>, connectionId: string): string | undefined {
  return invoicesFromHistory(history, connectionId)[0]?.invoiceId;
}

export function invoiceFor(ctx: {
  previous: ReadonlyArray<ActionResult | undefined>;
  history: ReadonlyArray<StepHistoryEntry>;
  connection: { id: string };
}): string | undefined {
  return invoiceFromPrevious(ctx.previous) ?? invoiceFromHistory(ctx.history, ctx.connection.id);
}

export interface EarlierCreditNote {
  creditNoteId: string;
  /** Refund ids already in that credit note. */
  refunds: string[];
}

/** The credit note an earlier refund of the order made for the invoice on this connection. */
export function earlierCreditNote(
  history: ReadonlyArray<StepHistoryEntry>,
  connectionId: string,
  invoiceId: string,
): EarlierCreditNote | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i];
    if (!h || h.target !== connectionId || h.action !== "createCreditNote") continue;
    const outputs = h.result.outputs;
    if (outputs.creditedInvoiceId !== invoiceId || typeof outputs.creditNoteId !== "string") continue;
    const merged = Array.isArray(outputs.mergedRefunds) ? outputs.mergedRefunds.filter((r) => typeof r === "string") : [];
    const own = typeof outputs.refundId === "string" ? outputs.refundId : h.occurrence;
    return { creditNoteId: outputs.creditNoteId, refunds: merged.length > 0 ? merged : [own] };
  }
  return undefined;
}
