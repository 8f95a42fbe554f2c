/**
 * Pure mapping from an accounting document to the body e-conomic takes for a draft invoice, a draft
 * order and (with negative quantities) a credit note: `POST /invoices/drafts` and `/orders/drafts`
 * share one shape. Prices are net unit prices as JSON numbers in major units with at most two
 * decimals; VAT follows from each line's product group and the recipient's VAT zone.
 */
import type { AccountingDocument } from "../../domain/accounting/document";
import { OrderlyError } from "../../domain/errors";
import { minorUnitExponent, toMajorNumber } from "../../domain/money";
import type { CanonicalOrder } from "../../domain/order";
import { compact, countryName, customerName, forBuyer, invoiceAddress, streetAddress } from "./economic.customer";
import type { EconomicDocumentSettings } from "./economic.settings";

/** `references.other` is a string of at most 250 characters. */
const REFERENCE_MAX = 250;
/** `notes.textLine1` (and textLine2) hold at most 1,000 characters each (the invoice schemas). */
const TEXT_LINE_MAX = 1000;
/** `recipient.ean` holds at most 13 characters (the invoice and order schemas); a GLN/EAN is 13 digits. */
const EAN_MAX = 13;

export interface EconomicLine {
  lineNumber: number;
  product: { productNumber: string };
  description: string;
  quantity: number;
  unitNetPrice: number;
}

export interface EconomicDocumentBody {
  date: string;
  currency: string;
  /** Base-currency units per 100 units of `currency`, as e-conomic's exchange rates are kept. */
  exchangeRate?: number;
  customer: { customerNumber: number };
  layout: { layoutNumber: number };
  paymentTerms: { paymentTermsNumber: number };
  recipient: {
    name: string;
    address?: string;
    zip?: string;
    city?: string;
    country?: string;
    ean?: string;
    vatZone: { vatZoneNumber: number };
  };
  references: { other: string };
  notes?: { heading?: string; textLine1?: string };
  lines: EconomicLine[];
}

export type BodyWithoutCustomer = Omit<EconomicDocumentBody, "customer">;

export interface BodyOptions {
  reference: string;
  /** Product number per document line (see economic.products). */
  productNumbers: readonly string[];
  b2b: boolean;
  /** -1 turns every quantity negative: e-conomic's credit note is an invoice with negative quantities. */
  sign?: 1 | -1;
  heading?: string;
  /** Printed one a line in notes.textLine1; shortened to fit (see notesText). */
  notes?: readonly string[];
  /** Terms that replace those of the buyer's kind (an invoice paid at checkout: createInvoice's paymentTermsByGateway). */
  paymentTermsNumber?: number;
}

/** The text written to (and searched for in) `references.other`. */
export function economicReference(settings: Pick<EconomicDocumentSettings, "referencePrefix">, reference: string): string {
  const value = `${settings.referencePrefix ?? ""}${reference}`;
  if (value.length > REFERENCE_MAX)
    throw new OrderlyError(`The reference is ${value.length} characters; e-conomic keeps at most ${REFERENCE_MAX}.`, {
      errorClass: "validation",
      code: "economic_reference_too_long",
    });
  return value;
}

/** The document's lines as e-conomic lines; free non-product lines are left out (they would only need their product to exist). */
export function economicLines(document: AccountingDocument, productNumbers: readonly string[], sign: 1 | -1 = 1): EconomicLine[] {
  if (minorUnitExponent(document.currency) > 2)
    throw new OrderlyError(
      `e-conomic prices have at most two decimals, so ${document.currency} amounts cannot be sent exactly.`,
      {
        errorClass: "validation",
        code: "economic_currency_unsupported",
      },
    );
  const lines = document.lines.flatMap((line, i) =>
    line.kind !== "product" && line.net === 0
      ? []
      : [
          {
            product: { productNumber: productNumbers[i] ?? "" },
            description: line.description,
            quantity: sign * line.quantity,
            unitNetPrice: toMajorNumber(line.unitNet, document.currency),
          },
        ],
  );
  if (lines.length === 0)
    throw new OrderlyError("The order has no lines with a quantity to invoice.", {
      errorClass: "validation",
      code: "economic_no_lines",
    });
  return lines.map((l, i) => ({ lineNumber: i + 1, ...l }));
}

/**
 * The printed notes as `notes.textLine1`, one a line. A list longer than e-conomic's 1,000
 * characters (a refund restocking many lines) would be refused for good, so lines are left out from
 * its end and counted in a last line that says so; `kept` (the exchange-rate note) is always
 * printed. textLine2 is not used for the rest: it prints as the footer, where layouts keep theirs.
 */
export function notesText(listed: readonly string[], kept: readonly string[] = []): string {
  const join = (lines: readonly string[]) => [...lines, ...kept].join("\n");
  const whole = join(listed);
  if (whole.length <= TEXT_LINE_MAX) return whole;
  const fits = (shown: number) => join([...listed.slice(0, shown), omitted(listed.length - shown)]).length <= TEXT_LINE_MAX;
  let shown = 0;
  while (shown < listed.length && fits(shown + 1)) shown++;
  // Only a `kept` note over the limit is cut; e-conomic would refuse it whole.
  return join([...listed.slice(0, shown), omitted(listed.length - shown)]).slice(0, TEXT_LINE_MAX);
}

function omitted(count: number): string {
  return `… ${count} more ${count === 1 ? "line" : "lines"} not shown: e-conomic prints at most 1,000 characters here.`;
}

/** `exchangeRate` and a printed note about the rate, when the amounts involve a webshop-reported rate. */
export function exchangeFields(
  order: CanonicalOrder,
  document: AccountingDocument,
  settings: Pick<EconomicDocumentSettings, "exchangeRateFromShop">,
): { exchangeRate?: number; note?: string } {
  if (document.exchange) {
    // Converted into the shop's own currency: the invoice is in base currency, so no rate is sent.
    const { from, to, rate } = document.exchange;
    return { note: `Amounts converted from ${from} at ${rate} ${to} per ${from}, the rate the webshop reported.` };
  }
  const shop = order.exchange;
  if (!settings.exchangeRateFromShop || !shop || shop.shopCurrency === document.currency) return {};
  const exchangeRate = per100(shop.rate);
  return {
    exchangeRate,
    note: `Exchange rate ${shop.rate} ${shop.shopCurrency} per ${document.currency} as the webshop reported it.`,
  };
}

/** "7.4561" → 745.61, exactly: e-conomic keeps exchange rates per 100 units of the foreign currency. */
export function per100(rate: string): number {
  const [whole = "0", fraction = ""] = rate.split(".");
  const digits = `${whole}${fraction.padEnd(2, "0").slice(0, 2)}`.replace(/^0+(?=\d)/, "");
  const rest = fraction.slice(2);
  return Number(rest ? `${digits}.${rest}` : digits);
}

/** The body for a document, all but its customer: mapped before anything is created, so a document e-conomic cannot take fails first. */
export function documentBody(
  order: CanonicalOrder,
  document: AccountingDocument,
  settings: EconomicDocumentSettings,
  options: BodyOptions,
): BodyWithoutCustomer {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(document.date))
    throw new OrderlyError(`The document date "${document.date}" is not a YYYY-MM-DD date.`, {
      errorClass: "validation",
      code: "economic_date_invalid",
    });
  const name = customerName(order);
  if (!name)
    throw new OrderlyError("The order has no customer name, company or address name, which e-conomic needs on an invoice.", {
      errorClass: "validation",
      code: "economic_customer_name_missing",
    });
  const ean = recipientEan(order);
  const lines = economicLines(document, options.productNumbers, options.sign ?? 1);
  const address = invoiceAddress(order);
  const exchange = exchangeFields(order, document, settings);
  const textLine1 = notesText(options.notes ?? [], exchange.note ? [exchange.note] : []);
  const notes = compact({ heading: options.heading, textLine1 });
  return {
    date: document.date,
    currency: document.currency,
    ...(exchange.exchangeRate === undefined ? {} : { exchangeRate: exchange.exchangeRate }),
    layout: { layoutNumber: forBuyer(settings.layouts, settings.layoutNumber, options.b2b) },
    paymentTerms: {
      paymentTermsNumber: options.paymentTermsNumber ?? forBuyer(settings.paymentTerms, settings.paymentTermsNumber, options.b2b),
    },
    recipient: {
      ...compact({
        name,
        address: streetAddress(address),
        zip: address?.postcode,
        city: address?.city,
        country: address?.country ? countryName(address.country) : undefined,
        ean,
      }),
      vatZone: { vatZoneNumber: settings.vatZones[document.vat.zone] },
    },
    references: { other: options.reference },
    ...(Object.keys(notes).length > 0 ? { notes } : {}),
    lines,
  };
}

/**
 * The buyer's EAN for `recipient.ean`. A longer one e-conomic refuses on every retry, and cutting it
 * would address the e-invoice to another institution, so the step fails before it makes anything.
 */
function recipientEan(order: CanonicalOrder): string | undefined {
  const ean = order.customer?.ean?.trim() || undefined;
  if (ean !== undefined && ean.length > EAN_MAX)
    throw new OrderlyError(
      `The buyer's EAN "${ean}" is ${ean.length} characters; e-conomic's recipient.ean holds at most ${EAN_MAX} (a 13-digit EAN/GLN location number). Correct the buyer's EAN where the order takes it from, then retry.`,
      {
        errorClass: "validation",
        code: "economic_ean_too_long",
        details: { field: "recipient.ean", length: ean.length, max: EAN_MAX },
        // Checked while mapping, before any write (prepareDocument maps before it calls): nothing was made.
        madeNothing: true,
      },
    );
  return ean;
}

/** Puts the customer into a mapped body, where e-conomic's examples have it: after date and currency. */
export function withCustomer(body: BodyWithoutCustomer, customerNumber: number): EconomicDocumentBody {
  const { date, currency, exchangeRate, ...rest } = body;
  return {
    date,
    currency,
    ...(exchangeRate === undefined ? {} : { exchangeRate }),
    customer: { customerNumber },
    ...rest,
  };
}
