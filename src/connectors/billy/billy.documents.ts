/**
 * Operations on Billy invoices and credit notes shared by the actions: find the one carrying a
 * step's reference, read one with its lines, map a document's lines (tax rates first, so nothing is
 * written for a document Billy cannot take), save lines into a draft, approve, and the error that
 * keeps a draft whose totals do not match what the customer paid.
 */
import type { AccountingDocument } from "../../domain/accounting/document";
import { OrderlyError } from "../../domain/errors";
import { toDecimalString, toMinor } from "../../domain/money";
import { type BillyContext, billyRequest, changedRecord, envelope, listed } from "./billy.api";
import { type BillyInvoice, type BillyInvoiceBody, type BillyLine, billyLines, grossMinor, referencesOf } from "./billy.invoice";
import { resolveProducts } from "./billy.products";
import type { BillyDocumentSettings } from "./billy.settings";
import { describeCase, percent, taxRateIds } from "./billy.tax";

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

/** A line Billy saved with another tax rate than Orderly chose for it. */
export interface TaxRateProblem {
  /** 1-based, in Billy's order. */
  line: number;
  description: string;
  productId: string | undefined;
  expected: string;
  applied: string;
  text: string;
}

/**
 * The lines Billy saved with another tax rate than the one chosen for them (`chosen`, one per
 * document line). Billy documents an invoice line's `taxRate` as readonly and keeps a sales tax
 * ruleset on each product, so it may apply the product's rate instead of the one sent; when both
 * are 0 % (reverse charge and export) the totals agree, so only the rate itself tells. A line is
 * compared by its `taxRateId`; one Billy answers without it, by the rate its `amount` and `tax` show
 * (which cannot tell two 0 % rates apart).
 */
export function taxRateProblems(
  document: AccountingDocument,
  chosen: readonly string[],
  saved: BillyInvoice["lines"],
): TaxRateProblem[] {
  const lines = [...(saved ?? [])].sort((a, b) => (a.priority ?? 0) - (b.priority ?? 0));
  if (lines.length !== chosen.length) {
    const text = `Billy saved ${lines.length} line(s), not the ${chosen.length} Orderly sent`;
    const counts = { expected: `${chosen.length} lines`, applied: `${lines.length} lines` };
    return [{ line: 0, description: "", productId: undefined, ...counts, text }];
  }
  const problems: TaxRateProblem[] = [];
  lines.forEach((line, i) => {
    const expected = chosen[i] as string;
    const description = line.description || (document.lines[i]?.description ?? "");
    const where = `line ${i + 1} "${description}" (product ${line.productId ?? "?"})`;
    const base = { line: i + 1, description, productId: line.productId, expected };
    // A rounding, duties, gift-card, shipping or fee line Orderly books without VAT may carry another 0 %
    // rate than the one id a setting can name ("no VAT" against "exempt", goods against services):
    // charged no VAT, it books nothing wrong. A product line's rate is what decides the VAT return box.
    const docLine = document.lines[i];
    const zeroRatedCharge = docLine !== undefined && docLine.kind !== "product" && docLine.vatRateBp === 0;
    if (zeroRatedCharge && (typeof line.tax !== "number" || line.tax === 0)) return;
    if (line.taxRateId) {
      if (line.taxRateId !== expected)
        problems.push({
          ...base,
          applied: line.taxRateId,
          text: `${where} has tax rate ${line.taxRateId} instead of ${expected}`,
        });
      return;
    }
    const bp = document.lines[i]?.vatRateBp ?? 0;
    if (typeof line.amount !== "number" || typeof line.tax !== "number") {
      problems.push({ ...base, applied: "none", text: `${where} shows no tax rate` });
      return;
    }
    const net = toMinor(line.amount, document.currency);
    const tax = toMinor(line.tax, document.currency);
    // One minor unit either way is Billy's rounding of the line's VAT.
    if (Math.abs(tax - Math.round((net * bp) / 10_000)) <= 1) return;
    const shown = net === 0 ? "VAT" : `VAT at ${percent(Math.round((tax / net) * 10_000))}`;
    problems.push({ ...base, applied: shown, text: `${where} has ${shown} instead of ${percent(bp)} (${expected})` });
  });
  return problems;
}

/**
 * Reads the draft's lines as Billy saved them and fails, keeping the draft, when a line's tax rate
 * is not the one Orderly chose: approving would book the sale under a VAT treatment Orderly did not
 * decide. `retry` says how to go on once the products are fixed.
 */
export async function checkTaxRates(
  ctx: BillyContext,
  document: AccountingDocument,
  draftId: string,
  chosen: readonly string[],
  retry: string,
): Promise<void> {
  const saved = await getInvoice(ctx, draftId, "invoice.lines:embed");
  const problems = taxRateProblems(document, chosen, saved?.lines);
  if (problems.length === 0) return;
  const what = document.type === "invoice" ? "invoice" : "credit note";
  throw new OrderlyError(
    `Billy put other tax rates on ${what} ${draftId} than Orderly chose for this ${describeCase(document.vat)} sale: ${problems.map((p) => p.text).join("; ")}. Billy takes a line's tax rate from its product's sales tax ruleset: in Billy, give these products a ruleset that gives the chosen rate for this customer (or set the step's products to ones that do), then ${retry} The ${what} is kept as a draft.`,
    {
      errorClass: "validation",
      code: "billy_tax_rate_mismatch",
      details: { draftId, lines: problems.map(({ text: _text, ...line }) => line) },
    },
  );
}
