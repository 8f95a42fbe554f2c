/**
 * Finds an invoice that already carries a step's reference, so a retried or re-run step adopts it.
 *
 * The reference is written to `references.other` (a free-text "other reference" of up to 250
 * characters): e-conomic's REST documentation lists `references.other` as filterable on both
 * `GET /invoices/drafts` and `GET /invoices/booked`, and the booked invoice has the same field,
 * filled from the draft when it is booked, so one field is searched before and after booking.
 * `notes.heading`/`notes.textLine*` are filterable too, but they are printed text a bookkeeper edits.
 */
import { type EconomicCollection, type EconomicContext, economicRequest, eqFilter } from "./economic.api";

interface InvoiceSummary {
  customer?: { customerNumber?: number };
}

export type FoundInvoice =
  | { kind: "draft"; draftInvoiceNumber: number; customerNumber: number | undefined }
  | { kind: "booked"; bookedInvoiceNumber: number; customerNumber: number | undefined };

export async function findDraftByReference(ctx: EconomicContext, reference: string): Promise<FoundInvoice | undefined> {
  const page = await economicRequest<EconomicCollection<InvoiceSummary & { draftInvoiceNumber: number }>>(ctx, {
    method: "GET",
    path: `/invoices/drafts?${eqFilter("references.other", reference)}`,
  });
  const draft = page.body.collection[0];
  return draft
    ? { kind: "draft", draftInvoiceNumber: draft.draftInvoiceNumber, customerNumber: draft.customer?.customerNumber }
    : undefined;
}

export async function findBookedByReference(ctx: EconomicContext, reference: string): Promise<FoundInvoice | undefined> {
  const page = await economicRequest<EconomicCollection<InvoiceSummary & { bookedInvoiceNumber: number }>>(ctx, {
    method: "GET",
    path: `/invoices/booked?${eqFilter("references.other", reference)}`,
  });
  const booked = page.body.collection[0];
  return booked
    ? { kind: "booked", bookedInvoiceNumber: booked.bookedInvoiceNumber, customerNumber: booked.customer?.customerNumber }
    : undefined;
}

/** The draft or, once booked, the booked invoice carrying the reference. */
export async function findInvoiceByReference(ctx: EconomicContext, reference: string): Promise<FoundInvoice | undefined> {
  return (await findDraftByReference(ctx, reference)) ?? (await findBookedByReference(ctx, reference));
}
