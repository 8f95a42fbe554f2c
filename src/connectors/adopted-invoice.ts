/**
 * What an invoice step says when it adopts the invoice another flow of the order made on the same
 * connection (each connector's `earlierInvoice`), and when a cancellation's credit notes count as
 * having taken that invoice back: one rule and one wording for e-conomic, Billy and the ledger.
 */
import type { StepHistoryEntry } from "./contract";

export interface AdoptedOutputs {
  adoptedFrom: { transferId: string; stage: string; stepIndex: number };
  reason: string;
}

/** `named`: the invoice as the target calls it ("booked invoice 12", "draft invoice 7"). */
export function adoptedOutputs(system: string, named: string, entry: StepHistoryEntry): AdoptedOutputs {
  return {
    adoptedFrom: { transferId: entry.transferId, stage: entry.stage, stepIndex: entry.stepIndex },
    reason: `The order's ${system} ${named} was made earlier by another flow (step ${entry.stepIndex + 1} of the order's ${entry.stage}-stage transfer ${entry.transferId}); Orderly adopted it instead of making a second invoice.`,
  };
}

/**
 * Whether `notes` credit notes taking back `takenMinor` in all took back an invoice of `grossMinor`
 * in full: to within one minor unit per note (rounding), not the step's cents threshold, which is
 * for totals to match and far too wide here.
 */
export function creditedInFull(takenMinor: number, grossMinor: number, notes: number): boolean {
  return notes > 0 && takenMinor >= Math.abs(grossMinor) - notes;
}
