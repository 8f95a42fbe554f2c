/**
 * Finds a document that already carries a step's reference, so a retried or re-run step adopts it.
 *
 * The reference is written to `references.other` (a free-text "other reference" of up to 250
 * characters): e-conomic's REST documentation lists `references.other` as filterable on both
 * `GET /invoices/drafts` and `GET /invoices/booked`, and the booked invoice has the same field,
 * filled from the draft when it is booked, so one field is searched before and after booking.
 * `notes.heading`/`notes.textLine*` are filterable too, but they are printed text a bookkeeper edits.
 * Draft orders have the same `references.other`; that it is filterable on `/orders/drafts` is
 * [unconfirmed] (the orders endpoint is documented as shaped like /invoices).
 */
import { type EconomicCollection, type EconomicContext, economicRequest, eqFilter } from "./economic.api";

interface DocumentSummary {
  customer?: { customerNumber?: number };
  references?: { other?: string };
}

/**
 * The first document that carries the reference. The server's filter is not trusted alone (the
 * one on /orders/drafts is unconfirmed): a filter it ignored would hand back another order's
 * document, which would then be adopted and overwritten. A summary without `references` can only
 * be taken on the filter's word.
 */
function carrying<T extends DocumentSummary>(collection: T[], reference: string): T | undefined {
  return collection.find((document) => document.references === undefined || document.references.other === reference);
}

export type FoundInvoice =
  | { kind: "draft"; draftInvoiceNumber: number; customerNumber: number | undefined }
  | { kind: "booked"; bookedInvoiceNumber: number; customerNumber: number | undefined };

/** The parts of a booked invoice Orderly reads (`GET /invoices/booked/{n}`). */
export interface BookedInvoice {
  bookedInvoiceNumber: number;
  currency?: string;
  grossAmount?: number;
  vatAmount?: number;
  netAmount?: number;
  /** What the customer still owes; 0 once payments are booked against it. */
  remainder?: number;
  customer?: { customerNumber?: number };
  lines?: unknown[];
}

export async function findDraftByReference(ctx: EconomicContext, reference: string): Promise<FoundInvoice | undefined> {
  const page = await economicRequest<EconomicCollection<DocumentSummary & { draftInvoiceNumber: number }>>(ctx, {
    method: "GET",
    path: `/invoices/drafts?${eqFilter("references.other", reference)}`,
  });
  const draft = carrying(page.body.collection, reference);
  return draft
    ? { kind: "draft", draftInvoiceNumber: draft.draftInvoiceNumber, customerNumber: draft.customer?.customerNumber }
    : undefined;
}

export async function findBookedByReference(ctx: EconomicContext, reference: string): Promise<FoundInvoice | undefined> {
  const page = await economicRequest<EconomicCollection<DocumentSummary & { bookedInvoiceNumber: number }>>(ctx, {
    method: "GET",
    path: `/invoices/booked?${eqFilter("references.other", reference)}`,
  });
  const booked = carrying(page.body.collection, reference);
  return booked
    ? { kind: "booked", bookedInvoiceNumber: booked.bookedInvoiceNumber, customerNumber: booked.customer?.customerNumber }
    : undefined;
}

/** The draft or, once booked, the booked invoice carrying the reference. */
export async function findInvoiceByReference(ctx: EconomicContext, reference: string): Promise<FoundInvoice | undefined> {
  return (await findDraftByReference(ctx, reference)) ?? (await findBookedByReference(ctx, reference));
}

export async function findDraftOrderByReference(
  ctx: EconomicContext,
  reference: string,
): Promise<{ orderNumber: number; customerNumber: number | undefined } | undefined> {
  const page = await economicRequest<EconomicCollection<DocumentSummary & { orderNumber: number }>>(ctx, {
    method: "GET",
    path: `/orders/drafts?${eqFilter("references.other", reference)}`,
  });
  const order = carrying(page.body.collection, reference);
  return order ? { orderNumber: order.orderNumber, customerNumber: order.customer?.customerNumber } : undefined;
}

export async function getBookedInvoice(ctx: EconomicContext, bookedInvoiceNumber: number): Promise<BookedInvoice> {
  const found = await economicRequest<BookedInvoice>(ctx, { method: "GET", path: `/invoices/booked/${bookedInvoiceNumber}` });
  return found.body;
}
