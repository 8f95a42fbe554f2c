/**
 * What the document steps (createInvoice, createOrder, createCreditNote) share: mapping a document
 * into an e-conomic body with its products resolved, the customer, the totals check that keeps a
 * mismatching document a draft, and the differences shown when a booked invoice cannot be changed.
 */
import { paidDifferences } from "../../domain/accounting/build-document";
import type { AccountingDocument } from "../../domain/accounting/document";
import { OrderlyError } from "../../domain/errors";
import { toDecimalString, toMinor } from "../../domain/money";
import type { CanonicalOrder } from "../../domain/order";
import type { EconomicContext } from "./economic.api";
import { type BodyOptions, type BodyWithoutCustomer, documentBody } from "./economic.body";
import { type EconomicCustomerRef, findOrCreateCustomer, isBusinessBuyer } from "./economic.customer";
import { type ResolvedProducts, resolveProducts } from "./economic.products";
import type { BookedInvoice } from "./economic.reference";
import type { EconomicDocumentSettings } from "./economic.settings";

export interface PreparedDocument {
  header: BodyWithoutCustomer;
  products: ResolvedProducts;
  b2b: boolean;
}

/**
 * Maps the document. The body is first mapped without products, so an order e-conomic cannot take
 * fails before any call; then SKUs are checked (and created when allowed) and the body is final.
 */
export async function prepareDocument(
  ctx: EconomicContext,
  order: CanonicalOrder,
  document: AccountingDocument,
  settings: EconomicDocumentSettings,
  options: Omit<BodyOptions, "productNumbers" | "b2b">,
): Promise<PreparedDocument> {
  const b2b = isBusinessBuyer(order, document.vat.b2b);
  documentBody(order, document, settings, { ...options, b2b, productNumbers: [] });
  const products = await resolveProducts(ctx, document, settings);
  const header = documentBody(order, document, settings, { ...options, b2b, productNumbers: products.numbers });
  return { header, products, b2b };
}

/** The order's customer in e-conomic, with the group, terms and VAT zone of its kind of buyer. */
export function documentCustomer(
  ctx: EconomicContext,
  order: CanonicalOrder,
  document: AccountingDocument,
  settings: EconomicDocumentSettings,
  prepared: PreparedDocument,
): Promise<EconomicCustomerRef> {
  return findOrCreateCustomer(ctx, order, settings, {
    b2b: prepared.b2b,
    vatZoneNumber: settings.vatZones[document.vat.zone],
    currency: document.currency,
  });
}

/** Outputs every document step reports, so the transfer log shows what was decided. */
export function documentOutputs(document: AccountingDocument, products?: ResolvedProducts): Record<string, unknown> {
  return {
    total: toDecimalString(document.totals.total, document.currency),
    currency: document.currency,
    vatCase: document.vat.case,
    warnings: [
      ...document.warnings,
      ...(products?.defaulted ?? []).map((sku) => `SKU ${sku} is not a product in e-conomic; its line uses the default product.`),
    ],
    ...(products && products.created.length > 0 ? { productsCreated: products.created } : {}),
  };
}

/** A document whose totals differ from what was paid beyond the threshold stays a draft and fails the step. */
export function mismatchError(document: AccountingDocument, draftInvoiceNumber: number): OrderlyError {
  const what = document.type === "invoice" ? "invoice" : "credit note";
  return new OrderlyError(`${document.mismatch} The ${what} was left as e-conomic draft ${draftInvoiceNumber}.`, {
    errorClass: "validation",
    code: document.type === "invoice" ? "invoice_totals_mismatch" : "credit_note_totals_mismatch",
    details: { draftInvoiceNumber, expected: document.expected, totals: document.totals },
  });
}

/**
 * e-conomic computes VAT itself (zone and product group). The document's rounding line already made
 * its total exactly what was paid or refunded, so any difference in e-conomic's total, even a cent,
 * means a VAT mapping is wrong: the document stays a draft and the step fails with both totals.
 * A credit note's total is negative in e-conomic (negative quantities).
 */
export function checkComputedTotal(
  grossAmount: number | undefined,
  document: AccountingDocument,
  draftInvoiceNumber: number,
): void {
  if (grossAmount === undefined) return;
  const sign = document.type === "credit-note" ? -1 : 1;
  const computed = sign * toMinor(grossAmount, document.currency);
  if (computed === document.expected.total) return;
  const fmt = (minor: number) => `${toDecimalString(minor, document.currency)} ${document.currency}`;
  const [what, paid] = document.type === "invoice" ? ["invoice", "the customer paid"] : ["credit note", "the refund was"];
  throw new OrderlyError(
    `e-conomic computed the ${what} at ${fmt(computed)} but ${paid} ${fmt(document.expected.total)}; check the VAT zones, the products' VAT settings and the step's roundingBasis (e-conomic must round VAT as it says). The ${what} was left as e-conomic draft ${draftInvoiceNumber}.`,
    {
      errorClass: "validation",
      code: document.type === "invoice" ? "invoice_totals_mismatch" : "credit_note_totals_mismatch",
      details: { draftInvoiceNumber, computed, expected: document.expected.total },
    },
  );
}

/**
 * "total: 249.00 → 299.00"-style lines comparing a booked invoice with the document it would now be.
 * A document with a totals mismatch is not what it should be: the booked amounts are compared with
 * what was paid (or refunded) instead, so a mismatch a person booked anyway is alerted.
 */
export function bookedDifferences(booked: BookedInvoice, document: AccountingDocument, orderNumber: string): string[] {
  const currency = booked.currency ?? document.currency;
  const out: string[] = [];
  if (booked.currency && booked.currency !== document.currency) out.push(`currency: ${booked.currency} → ${document.currency}`);
  const sign = document.type === "credit-note" ? -1 : 1;
  if (document.mismatch) {
    const minor = (amount: number | undefined) => (amount === undefined ? undefined : sign * toMinor(amount, currency));
    const record = `booked ${document.type === "invoice" ? "invoice" : "credit note"} ${booked.bookedInvoiceNumber}`;
    const held = { record, booked: true, total: minor(booked.grossAmount), vat: minor(booked.vatAmount) };
    out.push(...paidDifferences(document, held, orderNumber));
  } else {
    const compare = (label: string, bookedAmount: number | undefined, now: number) => {
      if (bookedAmount === undefined) return;
      const was = toMinor(bookedAmount, currency);
      if (was !== now) out.push(`${label}: ${toDecimalString(was, currency)} → ${toDecimalString(now, document.currency)}`);
    };
    compare("total", booked.grossAmount, sign * document.totals.total);
    compare("VAT", booked.vatAmount, sign * document.totals.vat);
  }
  const lineCount = document.lines.filter((l) => l.kind === "product" || l.net !== 0).length;
  if (booked.lines && booked.lines.length !== lineCount) out.push(`lines: ${booked.lines.length} → ${lineCount}`);
  return out;
}
