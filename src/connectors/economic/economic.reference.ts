/**
 * Finds a document that already carries a step's reference, so a retried or re-run step adopts it.
 *
 * The reference is written to `references.other` (a free-text "other reference" of up to 250
 * characters): e-conomic's REST documentation lists `references.other` as filterable on both
 * `GET /invoices/drafts` and `GET /invoices/booked`, and the booked invoice has the same field,
 * filled from the draft when it is booked, so one field is searched before and after booking.
 * `notes.heading`/`notes.textLine*` are filterable too, but they are printed text a bookkeeper edits.
 * Draft and sent orders have the same `references.other`, documented filterable on `/orders/drafts`
 * and `/orders/sent` as well.
 */
import { OrderlyError } from "../../domain/errors";
import { type EconomicCollection, type EconomicContext, economicRequest, eqFilter } from "./economic.api";

interface DocumentSummary {
  customer?: { customerNumber?: number };
  references?: { other?: string };
}

/** e-conomic's largest page (the default is 20). */
const PAGE_SIZE = 1000;
/** A reference filter that works finds one document; this many full pages mean it was ignored. */
const MAX_PAGES = 10;

/**
 * The document of `path`'s collection that carries the reference. The server's filter is not
 * trusted alone, documented or not: a filter it ignored would hand back
 * every document, another order's first, which would then be adopted and overwritten, while the
 * one carrying the reference may be on a later page. So every page is read until a document
 * carries the reference. A summary without `references` can only be taken on the filter's word,
 * and only when it is the filter's single result: several mean the filter narrowed nothing.
 * `read` checks each page's body (a caller that validates the answer); without it the body is taken as it is.
 */
export async function findCarrying<T extends DocumentSummary>(
  ctx: EconomicContext,
  path: string,
  reference: string,
  read: (body: unknown) => EconomicCollection<T> = (body) => body as EconomicCollection<T>,
): Promise<T | undefined> {
  let results = 0;
  let first: T | undefined;
  for (let skip = 0; skip < MAX_PAGES; skip++) {
    const page = await economicRequest<unknown>(ctx, {
      method: "GET",
      path: `${path}?${eqFilter("references.other", reference)}&skippages=${skip}&pagesize=${PAGE_SIZE}`,
    });
    const { collection, pagination } = read(page.body);
    const carrying = collection.find((document) => document.references?.other === reference);
    if (carrying) return carrying;
    first ??= collection[0];
    results += collection.length;
    // `nextPage` says another page follows; it is asked with the same filter and the next `skippages`,
    // as whether e-conomic's nextPage link keeps the filter is not documented.
    if (!pagination?.nextPage) return results === 1 && first?.references === undefined ? first : undefined;
  }
  // Not knowing whether the document exists, making it could make it twice.
  throw new OrderlyError(
    `e-conomic answered more than ${MAX_PAGES * PAGE_SIZE} documents on ${path} for the reference ${reference}, so it seems to ignore the reference filter there; check in e-conomic whether the document exists before retrying.`,
    { errorClass: "validation", code: "economic_reference_filter_ignored", details: { path, reference } },
  );
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
  const draft = await findCarrying<DocumentSummary & { draftInvoiceNumber: number }>(ctx, "/invoices/drafts", reference);
  return draft
    ? { kind: "draft", draftInvoiceNumber: draft.draftInvoiceNumber, customerNumber: draft.customer?.customerNumber }
    : undefined;
}

export async function findBookedByReference(ctx: EconomicContext, reference: string): Promise<FoundInvoice | undefined> {
  const booked = await findCarrying<DocumentSummary & { bookedInvoiceNumber: number }>(ctx, "/invoices/booked", reference);
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
  const order = await findCarrying<DocumentSummary & { orderNumber: number }>(ctx, "/orders/drafts", reference);
  return order ? { orderNumber: order.orderNumber, customerNumber: order.customer?.customerNumber } : undefined;
}

export async function getBookedInvoice(ctx: EconomicContext, bookedInvoiceNumber: number): Promise<BookedInvoice> {
  const found = await economicRequest<BookedInvoice>(ctx, { method: "GET", path: `/invoices/booked/${bookedInvoiceNumber}` });
  return found.body;
}
