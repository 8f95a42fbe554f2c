import { isLadderStage } from "../../domain/stage";
import { type AdoptedOutputs, adoptedOutputs, creditedInFull } from "../adopted-invoice";
import type { ActionContext } from "../contract";
import type { BillyContext } from "./billy.api";
import { creditNotesOf, getInvoice } from "./billy.documents";
import { invoicesFromHistory } from "./billy.history";
import { type BillyInvoice, grossMinor } from "./billy.invoice";

type Ctx = BillyContext &
  Pick<ActionContext<{ centsThreshold: string }, unknown, unknown>, "history" | "settings"> & { connection: { id: string } };

export interface EarlierInvoice {
  /** As Billy holds it now, lines embedded. */
  invoice: BillyInvoice;
  /** What the step's outputs add: where the invoice came from, and why none was made. */
  outputs: AdoptedOutputs;
}

/** The newest invoice of the order's other ladder-stage transfers on this connection that still stands. */
export async function earlierInvoice(ctx: Ctx): Promise<EarlierInvoice | undefined> {
  const seen = new Set<string>();
  for (const { entry, invoiceId } of invoicesFromHistory(ctx.history, ctx.connection.id)) {
    // A refunded or cancelled flow's documents are no invoice of the order's.
    if (!isLadderStage(entry.stage) || seen.has(invoiceId)) continue;
    seen.add(invoiceId);
    const invoice = await getInvoice(ctx, invoiceId, "invoice.lines:embed");
    if (!invoice || invoice.state === "voided" || (await fullyCredited(ctx, invoice))) continue;
    const named = `${invoice.state === "approved" ? "invoice" : "draft invoice"} ${invoice.invoiceNo ?? invoice.id}`;
    return { invoice, outputs: adoptedOutputs("Billy", named, entry) };
  }
  return undefined;
}

/**
 * Whether approved credit notes the order's cancelled-stage createCreditNote steps made on this
 * connection take the invoice back in full, to within rounding (one minor unit per credit note;
 * the step's cents threshold is for totals to match, far too wide here), as Billy holds them now
 * (a voided one counts nothing). Drafts do not count: a person may still delete them.
 */
async function fullyCredited(ctx: Ctx, invoice: BillyInvoice): Promise<boolean> {
  const ours = new Set(
    ctx.history.flatMap((h) =>
      h.target === ctx.connection.id &&
      h.stage === "cancelled" &&
      h.action === "createCreditNote" &&
      h.result.outputs.creditedInvoiceId === invoice.id &&
      typeof h.result.outputs.creditNoteId === "string"
        ? [h.result.outputs.creditNoteId]
        : [],
    ),
  );
  if (ours.size === 0) return false;
  const currency = invoice.currencyId;
  const gross = currency ? grossMinor(invoice, currency) : undefined;
  if (!currency || gross === undefined) return false;
  const notes = (await creditNotesOf(ctx, invoice.id)).filter(
    (n) => ours.has(n.id) && n.state === "approved" && (n.currencyId ?? currency) === currency,
  );
  const taken = notes.reduce((sum, n) => sum + Math.abs(grossMinor(n, currency) ?? 0), 0);
  return creditedInFull(taken, gross, notes.length);
}
