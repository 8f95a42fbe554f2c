import { isLadderStage } from "../../domain/stage";
import { type AdoptedOutputs, adoptedOutputs, creditedInFull } from "../adopted-invoice";
import type { ActionResult, StepHistoryEntry } from "../contract";
import { creditNotesOf, findInvoiceById, type LedgerInvoice } from "./ledger.books";

interface StepsContext {
  connection: { id: string };
  history: ReadonlyArray<StepHistoryEntry>;
  previous: ReadonlyArray<Pick<ActionResult, "outputs"> | undefined>;
}

/** This connection's completed createInvoice steps of the order's other transfers naming an invoice, newest first. */
function invoicesFromHistory(ctx: StepsContext): Array<{ entry: StepHistoryEntry; invoiceId: number }> {
  return [...ctx.history].reverse().flatMap((h) => {
    const id = h.result.outputs.invoiceId;
    return h.target === ctx.connection.id && h.action === "createInvoice" && typeof id === "number"
      ? [{ entry: h, invoiceId: id }]
      : [];
  });
}

/** The ledger invoice an earlier step of this order made (same connection). */
export function invoiceFromHistory(ctx: StepsContext): number | undefined {
  for (const result of [...ctx.previous].reverse())
    if (result && typeof result.outputs.invoiceId === "number") return result.outputs.invoiceId;
  return invoicesFromHistory(ctx)[0]?.invoiceId;
}

/** The credit notes the order's cancelled-stage transfers made on this connection (a cancel that credited). */
function cancelCreditNotes(ctx: StepsContext): Set<number> {
  return new Set(
    ctx.history.flatMap((h) => {
      const id = h.result.outputs.creditNoteId;
      return h.target === ctx.connection.id && h.stage === "cancelled" && typeof id === "number" ? [id] : [];
    }),
  );
}

export interface EarlierInvoice {
  invoice: LedgerInvoice;
  /** What the step's outputs add: where the invoice came from, and why none was made. */
  outputs: AdoptedOutputs;
}

/**
 * The order's invoice another of its ladder-stage transfers made on this connection, for
 * createInvoice to adopt instead of making a second one: each transfer has its own reference, so a
 * step in another flow (invoicing moved from the paid flow to the fulfilled one, or a second flow on
 * another stage invoicing too) finds nothing by its own. One a cancellation's booked credit notes
 * took back in full (a cancelled-stage flow that credited it; one minor unit per credit note for
 * rounding) is no longer the order's invoice: a new one is made then. Refunds' credit notes do not
 * count: an order refunded in full and then fulfilled keeps its invoice, which they already answer.
 */
export async function earlierInvoice(
  ctx: StepsContext & { env: Env; settings: { centsThreshold: string } },
): Promise<EarlierInvoice | undefined> {
  const seen = new Set<number>();
  const byCancel = cancelCreditNotes(ctx);
  for (const { entry, invoiceId } of invoicesFromHistory(ctx)) {
    // A refunded or cancelled flow's documents are no invoice of the order's.
    if (!isLadderStage(entry.stage) || seen.has(invoiceId)) continue;
    seen.add(invoiceId);
    const invoice = await findInvoiceById(ctx.env, ctx.connection.id, invoiceId);
    if (invoice?.type !== "invoice") continue;
    // Drafts do not count: only a booked credit note takes the invoice back.
    const notes = (await creditNotesOf(ctx.env, ctx.connection.id, invoice.id)).filter(
      (n) => byCancel.has(n.id) && n.state === "booked" && n.currency === invoice.currency,
    );
    const credited = notes.reduce((sum, n) => sum + Math.abs(n.total), 0);
    if (creditedInFull(credited, invoice.total, notes.length)) continue;
    const named = `${invoice.state === "booked" ? "invoice" : "draft invoice"} ${invoice.id}`;
    return { invoice, outputs: adoptedOutputs("sandbox ledger", named, entry) };
  }
  return undefined;
}
