/**
 * Pure mapping from an accounting document to Billy's invoice record. Lines carry net unit prices
 * (`taxMode: "excl"`) in major units, a product and a tax rate each; a credit note is an invoice of
 * `type: "creditNote"` linked by `creditedInvoiceId`, with positive amounts like the invoice it credits.
 * The step's reference goes into `externalId`, which Billy's invoice list can filter on.
 */
import { paidDifferences } from "../../domain/accounting/build-document";
import type { AccountingDocument } from "../../domain/accounting/document";
import { toDecimalString, toMajorNumber, toMinor } from "../../domain/money";
import type { CanonicalOrder } from "../../domain/order";
import type { BillyDocumentSettings } from "./billy.settings";

export interface BillyLine {
  productId: string;
  description: string;
  quantity: number;
  unitPrice: number;
  taxRateId: string;
}

export interface BillyInvoiceBody {
  type: "invoice" | "creditNote";
  contactId: string;
  entryDate: string;
  currencyId: string;
  /** Base-currency units per one unit of `currencyId`; left out, Billy uses the day's rate. */
  exchangeRate?: number;
  taxMode: "excl";
  externalId: string;
  state: "draft";
  paymentTermsDays?: number;
  creditedInvoiceId?: string;
  contactMessage?: string;
  lines: BillyLine[];
}

/** An invoice as Billy answers it (the fields Orderly reads). */
export interface BillyInvoice {
  id: string;
  type?: string;
  state?: string;
  sentState?: string;
  contactId?: string;
  currencyId?: string;
  exchangeRate?: number;
  externalId?: string | null;
  invoiceNo?: string | number | null;
  creditedInvoiceId?: string | null;
  amount?: number;
  tax?: number;
  grossAmount?: number;
  balance?: number;
  isPaid?: boolean;
  /** Embedded lines; `amount` (net) and `tax` are Billy's, `priority` their order. */
  lines?: Array<Partial<BillyLine> & { id?: string; amount?: number; tax?: number; priority?: number }>;
  /** What settled the invoice; `amount` is in the invoice's currency (its sign is not documented). */
  balanceModifiers?: Array<{ modifierReference?: string; amount?: number; isVoided?: boolean }>;
}

export function billyLines(
  document: AccountingDocument,
  productIds: readonly string[],
  taxRateIds: readonly string[],
): BillyLine[] {
  return document.lines.map((line, i) => ({
    productId: productIds[i] as string,
    description: line.description.trim() || line.kind,
    quantity: line.quantity,
    unitPrice: toMajorNumber(line.unitNet, document.currency),
    taxRateId: taxRateIds[i] as string,
  }));
}

export function invoiceBody(
  document: AccountingDocument,
  target: {
    contactId: string;
    reference: string;
    lines: BillyLine[];
    paymentTermsDays?: number;
    message?: string;
    exchangeRate?: number;
  },
): BillyInvoiceBody {
  return {
    type: document.type === "credit-note" ? "creditNote" : "invoice",
    contactId: target.contactId,
    entryDate: document.date,
    currencyId: document.currency,
    ...(target.exchangeRate === undefined ? {} : { exchangeRate: target.exchangeRate }),
    // Billy documents `taxMode` on bills; invoices carry the same property in public answers (unconfirmed as writable).
    taxMode: "excl",
    externalId: target.reference,
    state: "draft",
    ...(target.paymentTermsDays === undefined ? {} : { paymentTermsDays: target.paymentTermsDays }),
    ...(target.message ? { contactMessage: target.message } : {}),
    lines: target.lines,
  };
}

/**
 * Whether the webshop's rate could be Billy's `exchangeRate` for a document: the document is in the
 * customer's currency, the webshop reported a rate to the shop's currency, and `exchangeRateFromShop`
 * is on. Not for a document already converted into the shop's currency, nor with the setting off:
 * Billy then uses the day's rate.
 */
export function wantsShopRate(
  order: CanonicalOrder,
  document: AccountingDocument,
  settings: Pick<BillyDocumentSettings, "exchangeRateFromShop">,
): boolean {
  const shop = order.exchange;
  return !document.exchange && settings.exchangeRateFromShop && shop !== undefined && shop.shopCurrency !== document.currency;
}

/**
 * Billy's `exchangeRate` for a document: units of the company's base currency per one unit of the
 * document's currency (Billy's definition: currency / base currency). The webshop's rate is shop
 * currency per order currency, so it is that only when the shop's currency is the company's base
 * currency; otherwise (books in DKK, a EUR shop, a customer paying SEK) none is sent and Billy uses
 * its day's rate, rather than booking SEK at the EUR rate.
 */
export function exchangeRateFor(
  order: CanonicalOrder,
  document: AccountingDocument,
  settings: Pick<BillyDocumentSettings, "exchangeRateFromShop">,
  baseCurrency: string,
): number | undefined {
  if (!wantsShopRate(order, document, settings) || order.exchange?.shopCurrency !== baseCurrency) return undefined;
  return Number(order.exchange.rate);
}

/** Whether a draft already holds exactly these lines (so a re-run changes nothing). */
export function sameLines(existing: BillyInvoice["lines"], wanted: readonly BillyLine[]): boolean {
  if (!existing || existing.length !== wanted.length) return false;
  return wanted.every((w, i) => {
    const e = existing[i];
    return (
      e !== undefined &&
      e.productId === w.productId &&
      (e.description ?? "") === w.description &&
      Number(e.quantity) === w.quantity &&
      Number(e.unitPrice) === w.unitPrice &&
      (e.taxRateId ?? undefined) === w.taxRateId
    );
  });
}

/** What an approved invoice would change to, as "field: was → now", for a person to act on. */
export function invoiceDifferences(existing: BillyInvoice, document: AccountingDocument, orderNumber: string): string[] {
  const currency = document.currency;
  const out: string[] = [];
  const money = (major: number | undefined) => (major === undefined ? undefined : toMinor(major, currency));
  const was = { total: money(existing.grossAmount), vat: money(existing.tax), lines: existing.lines?.length };
  const fmt = (minor: number | undefined) => (minor === undefined ? "?" : `${toDecimalString(minor, currency)} ${currency}`);
  if (document.mismatch) out.push(...approvedMismatch(existing, document, orderNumber));
  else {
    if (was.total !== document.totals.total) out.push(`total: ${fmt(was.total)} → ${fmt(document.totals.total)}`);
    if (was.vat !== document.totals.vat) out.push(`VAT: ${fmt(was.vat)} → ${fmt(document.totals.vat)}`);
  }
  if (was.lines !== document.lines.length) out.push(`lines: ${was.lines ?? "?"} → ${document.lines.length}`);
  if (existing.currencyId && existing.currencyId !== currency) out.push(`currency: ${existing.currencyId} → ${currency}`);
  return out;
}

/**
 * A document with a totals mismatch that a person approved anyway: its amounts against what was
 * paid (or refunded), not against the document, which is then not that.
 */
export function approvedMismatch(existing: BillyInvoice, document: AccountingDocument, orderNumber: string): string[] {
  const money = (major: number | undefined) => (major === undefined ? undefined : toMinor(major, document.currency));
  const record = `approved ${document.type === "invoice" ? "invoice" : "credit note"} ${existing.invoiceNo ?? existing.id}`;
  return paidDifferences(
    document,
    { record, booked: true, total: money(existing.grossAmount), vat: money(existing.tax) },
    orderNumber,
  );
}

/** The lines of a Billy answer as they would be sent again (for merging into a draft). */
export function linesAsSent(lines: BillyInvoice["lines"]): BillyLine[] {
  return (lines ?? []).map((l) => ({
    productId: String(l.productId),
    description: String(l.description ?? ""),
    quantity: Number(l.quantity),
    unitPrice: Number(l.unitPrice),
    taxRateId: String(l.taxRateId),
  }));
}

/** Billy's total in minor units, when its answer has one. */
export function grossMinor(invoice: BillyInvoice, currency: string): number | undefined {
  return typeof invoice.grossAmount === "number" ? toMinor(invoice.grossAmount, currency) : undefined;
}

/** `externalId` may hold several references (a credit note that merged refunds), comma-separated. */
export function referencesOf(invoice: Pick<BillyInvoice, "externalId">): string[] {
  return (invoice.externalId ?? "")
    .split(",")
    .map((r) => r.trim())
    .filter(Boolean);
}
