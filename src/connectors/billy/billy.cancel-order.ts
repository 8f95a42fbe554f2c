/**
 * `cancelOrder` (flows on `cancelled`): deletes the Billy invoice earlier steps made for the order
 * while it is still a draft. An approved invoice is never deleted (Billy's approval is final, and
 * the books keep it): the step fails and says to credit it. Every invoice is looked up in Billy
 * (found by the reference its step wrote into `externalId`) and checked before anything is deleted,
 * so a refusal leaves everything as it was. Billy's DELETE is idempotent, and a re-run finds nothing
 * left to delete and says so.
 *
 * Besides the invoices completed createInvoice steps made (`history`), the order's createInvoice
 * steps on this connection that ran but did not complete are looked up by their reference in the
 * transfer log (order-steps.ts): a totals mismatch leaves its draft in Billy and fails the step.
 */
import { z } from "zod";
import { OrderlyError } from "../../domain/errors";
import { stepReference } from "../../domain/reference";
import { type ActionResult, defineAction, type StepHistoryEntry } from "../contract";
import { type LoggedStep, unfinishedSteps } from "../order-steps";
import { type BillyContext, billyRequest } from "./billy.api";
import { findByReference, getInvoice } from "./billy.documents";
import type { BillyInvoice } from "./billy.invoice";
import { type BillyConnectionSettings, type BillyCredentials, cancelOrderSettings } from "./billy.settings";

/** An invoice a createInvoice step of this connection made for the order. */
export interface InvoiceMade {
  invoiceId?: string;
  /** The step's reference, which Billy holds in the invoice's `externalId`. */
  reference: string;
}

/** The invoices this connection's completed createInvoice steps made for the order, newest first. */
export function invoicesMade(history: ReadonlyArray<StepHistoryEntry>, connectionId: string): InvoiceMade[] {
  const out: InvoiceMade[] = [];
  for (const h of [...history].reverse()) {
    if (h.target !== connectionId || h.action !== "createInvoice") continue;
    const id = h.result.outputs.invoiceId ?? h.result.externalId;
    out.push({
      ...(typeof id === "string" && id ? { invoiceId: id } : {}),
      reference: stepReference(h.transferId, h.stepIndex),
    });
  }
  return out;
}

/** Billy's answer to a DELETE: the ids it deleted, under `meta.deletedRecords` by plural name. */
const deleteAnswer = z.object({
  meta: z.object({ deletedRecords: z.object({ invoices: z.array(z.string()).optional() }).optional() }).optional(),
});

export const cancelOrder = defineAction<typeof cancelOrderSettings, BillyCredentials, BillyConnectionSettings>({
  description: "Delete the Billy draft invoice made for a cancelled order; an approved invoice must be credited.",
  settings: cancelOrderSettings,
  async run(ctx, { order }) {
    const made = invoicesMade(ctx.history, ctx.connection.id);
    const known = new Set(made.map((m) => m.reference));
    // Drafts of createInvoice steps that failed (or are still being retried) after writing.
    const leftover = (await unfinishedSteps(ctx, ["createInvoice"])).filter((s) => !known.has(s.reference));
    const drafts = new Map<string, BillyInvoice>();
    const leftoverReferences: string[] = [];
    const candidates = [
      ...made.map((m) => ({ made: m, leftover: false })),
      ...leftover.map((s) => ({ made: { reference: s.reference }, leftover: true })),
    ];
    for (const candidate of candidates) {
      // A person may have approved, voided or deleted it since the step ran: ask Billy how it is now.
      const now = await currentInvoice(ctx, candidate.made);
      if (!now || now.state === "voided" || now.type === "creditNote") continue;
      if (now.state === "approved")
        throw new OrderlyError(
          `Billy invoice ${now.invoiceNo ?? now.id} for order ${order.source.orderNumber} is approved and cannot be deleted: credit it instead (a createCreditNote step on the refunded stage, or a credit note in Billy).`,
          {
            errorClass: "validation",
            code: "billy_invoice_approved",
            details: { invoiceId: now.id, invoiceNo: now.invoiceNo ?? null },
          },
        );
      if (candidate.leftover && !drafts.has(now.id)) leftoverReferences.push(candidate.made.reference);
      drafts.set(now.id, now);
    }
    const deletedDraftInvoices: string[] = [];
    for (const id of drafts.keys()) {
      const res = await billyRequest(ctx, { method: "DELETE", path: `/invoices/${encodeURIComponent(id)}` });
      const answer = deleteAnswer.safeParse(res.body);
      const deleted = answer.success ? answer.data.meta?.deletedRecords : undefined;
      // DELETE answers 200 for an id that is already gone too; the ids it deleted are listed. An
      // answer without the list counts as deleted: the invoice was a draft a moment ago.
      if (deleted === undefined || (deleted.invoices ?? []).includes(id)) deletedDraftInvoices.push(id);
    }
    return result(deletedDraftInvoices, leftoverReferences, {
      nothingMade: made.length === 0,
      unfinished: leftover.length,
    });
  },
});

async function currentInvoice(ctx: BillyContext, made: InvoiceMade): Promise<BillyInvoice | undefined> {
  const byReference = await findByReference(ctx, made.reference);
  if (byReference) return byReference;
  // The reference may have been edited away in Billy; the id the step recorded still names the invoice.
  return made.invoiceId ? getInvoice(ctx, made.invoiceId) : undefined;
}

function result(
  deletedDraftInvoices: string[],
  leftoverReferences: string[],
  seen: { nothingMade: boolean; unfinished: number },
): ActionResult {
  return {
    externalId: deletedDraftInvoices.length > 0 ? deletedDraftInvoices.map((id) => `draft ${id}`).join(", ") : "nothing deleted",
    created: false,
    outputs: {
      deletedDraftInvoices,
      // Drafts that unfinished createInvoice steps left, found by their reference.
      ...(leftoverReferences.length > 0 ? { leftoverReferences } : {}),
      ...(deletedDraftInvoices.length === 0 ? { reason: nothingReason(seen) } : {}),
    },
  };
}

function nothingReason(seen: { nothingMade: boolean; unfinished: number }): string {
  if (!seen.nothingMade) return "the invoice made for this order is already gone (deleted or voided in Billy)";
  if (seen.unfinished === 0) return "no Billy invoice was made for this order on this connection";
  return `no Billy invoice carries the reference of this order's unfinished createInvoice step${seen.unfinished === 1 ? "" : "s"} (${seen.unfinished}): none was left, or it is already gone`;
}

/**
 * What cancelOrder would do for an order, from its steps on this connection in the transfer log
 * (`orderSteps`), for the flow dry run. Nothing is asked of Billy, so it says what the log last
 * saw; the step itself asks Billy first.
 */
export function cancelPreview(steps: readonly LoggedStep[]): string {
  const approved: string[] = [];
  const drafts: string[] = [];
  for (const step of steps) {
    if (step.action !== "createInvoice") continue;
    const out = step.output ?? {};
    if (step.status === "completed" && typeof out.invoiceId === "string") {
      if (out.state === "approved") approved.push(String(out.invoiceNo ?? out.invoiceId));
      else drafts.push(`draft invoice ${out.invoiceId}`);
    } else if (step.status !== "completed" && step.attempts > 0)
      drafts.push(`the draft its ${step.status} createInvoice step may have left (reference ${step.reference})`);
  }
  if (approved.length > 0)
    return `Would fail and delete nothing: Billy ${approved.length === 1 ? "invoice" : "invoices"} ${approved.join(", ")} for this order ${approved.length === 1 ? "is" : "are"} approved and cannot be deleted; credit instead (a createCreditNote step, or a credit note in Billy).`;
  if (drafts.length === 0) return "Would delete nothing: no Billy invoice was made for this order on this connection.";
  return `Would delete the Billy draft made for this order: ${[...new Set(drafts)].join("; ")}. This is what the transfer log last saw; the step asks Billy first and refuses an invoice approved since.`;
}
