/**
 * Operations on Billy invoices and credit notes shared by the actions: find the one carrying a
 * step's reference, read one with its lines, map a document's lines (tax rates first, so nothing is
 * written for a document Billy cannot take), save lines into a draft, approve, and the error that
 * keeps a draft whose totals do not match what the customer paid.
 */
import type { AccountingDocument } from "../../domain/accounting/document";
import { OrderlyError } from "../../domain/errors";
import { toDecimalString } from "../../domain/money";
import { type BillyContext, billyRequest, changedRecord, envelope, listed } from "./billy.api";
import { type BillyInvoice, type BillyInvoiceBody, type BillyLine, billyLines, grossMinor, referencesOf } from "./billy.invoice";
import { resolveProducts } from "./billy.products";
import type { BillyDocumentSettings } from "./billy.settings";
import { taxRateIds } from "./billy.tax";

/**
 * The invoice (or credit note) whose `externalId` carries the reference. `externalId` is among the
 * documented filters of `GET /invoices`; the answer is still checked locally.
 */
export async function findByReference(ctx: BillyContext, reference: string): Promise<BillyInvoice | undefined> {
  const res = await billyRequest(ctx, { method: "GET", path: "/invoices", query: { externalId: reference } });
  return listed<BillyInvoice>(res.body, "invoices").find((i) => referencesOf(i).includes(reference) && i.state !== "voided");
}

/** Credit notes of an invoice (`creditedInvoiceId` is a documented filter of `GET /invoices`). */
export async function creditNotesOf(ctx: BillyContext, invoiceId: string): Promise<BillyInvoice[]> {
  const res = await billyRequest(ctx, { method: "GET", path: "/invoices", query: { creditedInvoiceId: invoiceId } });
  return listed<BillyInvoice>(res.body, "invoices").filter((i) => i.creditedInvoiceId === invoiceId && i.state !== "voided");
}

/** One invoice; `include` embeds related records (`invoice.lines:embed`, `invoice.balanceModifiers:embed`). */
export async function getInvoice(ctx: BillyContext, id: string, include?: string): Promise<BillyInvoice | undefined> {
  const res = await billyRequest(ctx, {
    method: "GET",
    path: `/invoices/${encodeURIComponent(id)}`,
    ...(include ? { query: { include } } : {}),
    accept: [404],
  });
  if (res.status === 404) return undefined;
  return changedRecord<BillyInvoice>(res.body, "invoices", "invoice");
}

export interface MappedLines {
  lines: BillyLine[];
  productsCreated: string[];
  warnings: string[];
}

/** Tax rates (pure, may refuse) and then products (looked up, maybe created) for every document line. */
export async function mapLines(
  ctx: BillyContext,
  document: AccountingDocument,
  settings: BillyDocumentSettings,
): Promise<MappedLines> {
  const rates = taxRateIds(document.lines, document.vat, settings);
  const products = await resolveProducts(ctx, document.lines, document.currency, settings);
  return {
    lines: billyLines(document, products.ids, rates),
    productsCreated: products.created,
    warnings: [...document.warnings, ...products.warnings],
  };
}

export async function createDraft(ctx: BillyContext, body: BillyInvoiceBody): Promise<BillyInvoice> {
  const res = await billyRequest(ctx, { method: "POST", path: "/invoices", json: envelope(ctx, "invoice", { ...body }) });
  return changedRecord<BillyInvoice>(res.body, "invoices", "invoice");
}

/** PUT updates only what it names; embedded `lines` replace the draft's lines as one save. */
export async function updateDraft(ctx: BillyContext, id: string, fields: Record<string, unknown>): Promise<BillyInvoice> {
  const res = await billyRequest(ctx, {
    method: "PUT",
    path: `/invoices/${encodeURIComponent(id)}`,
    json: { invoice: fields },
  });
  return changedRecord<BillyInvoice>(res.body, "invoices", "invoice");
}

/** Approving is irreversible in Billy: an approved invoice is corrected by a credit note. */
export async function approve(ctx: BillyContext, id: string): Promise<BillyInvoice> {
  return updateDraft(ctx, id, { state: "approved" });
}

/**
 * The document must not be approved: its totals are off by more than the threshold, or Billy's own
 * total differs from what the customer paid. The draft is kept for a person; the transfer fails.
 */
export function totalsProblem(document: AccountingDocument, saved: BillyInvoice): string | undefined {
  if (document.mismatch) return document.mismatch;
  const billyTotal = grossMinor(saved, document.currency);
  if (billyTotal === undefined || billyTotal === document.expected.total) return undefined;
  const fmt = (minor: number) => `${toDecimalString(minor, document.currency)} ${document.currency}`;
  const what = document.type === "invoice" ? "the customer paid" : "the refund was";
  return `Billy computed a total of ${fmt(billyTotal)} for the ${document.type === "invoice" ? "invoice" : "credit note"}, but ${what} ${fmt(document.expected.total)}: check the tax rates of its lines.`;
}

export function mismatchError(problem: string, draftId: string): OrderlyError {
  // The reason names both totals; the draft stays in Billy for a person to correct.
  return new OrderlyError(problem, {
    errorClass: "validation",
    code: "invoice_totals_mismatch",
    details: { draftId },
  });
}
