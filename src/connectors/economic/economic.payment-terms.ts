/**
 * Payment terms that say an invoice is paid ("Paid by card"): which terms createInvoice gives an
 * order paid at checkout, and the booked document's terms that registerPayment and registerRefund
 * check before they enter nothing on a gateway's word.
 */
import { z } from "zod";
import { OrderlyError } from "../../domain/errors";
import { toDecimalString } from "../../domain/money";
import type { CanonicalOrder } from "../../domain/order";
import { gatewaysOf, paidAsAWhole, receivedPayments } from "../../domain/payment";
import { type EconomicContext, economicRequest } from "./economic.api";

/**
 * Paid amount per gateway in the order's currency; `undefined` means "the whole invoice", or, with
 * several gateways, an unknown share of it.
 */
type PaidByGateway = Map<string, number | undefined>;

/** The gateways registerPayment enters (or skips) the order's payment by. */
export function paidByGateway(order: CanonicalOrder): PaidByGateway {
  const byGateway: PaidByGateway = new Map();
  for (const p of receivedPayments(order)) byGateway.set(p.gateway, (byGateway.get(p.gateway) ?? 0) + p.amount);
  if (byGateway.size === 0 && paidAsAWhole(order)) {
    const gateways = gatewaysOf(order);
    for (const gateway of gateways.length > 0 ? gateways : ["unknown"]) byGateway.set(gateway, undefined);
  }
  return byGateway;
}

/** The terms createInvoice takes from the order's gateways, and the gateways they came from. */
export interface GatewayTerms {
  paymentTermsNumber: number;
  gateways: string[];
}

/**
 * The terms of an order paid in full whose every gateway (as registerPayment counts them) maps to
 * the same terms; else none, and the buyer's kind decides. Terms saying "paid" on a deposit, or on
 * an order a gateway without terms paid part of, would show as paid what is still owed.
 */
export function termsFromGateways(order: CanonicalOrder, byGateway: Readonly<Record<string, number>>): GatewayTerms | undefined {
  const paid = paidByGateway(order);
  const gateways = [...paid.keys()];
  // Object.hasOwn: a gateway named like an object's own property ("constructor") maps to nothing.
  const terms = new Set(gateways.map((g) => (Object.hasOwn(byGateway, g) ? byGateway[g] : undefined)));
  const [only] = terms;
  if (gateways.length === 0 || terms.size !== 1 || only === undefined) return undefined;
  const amounts = [...paid.values()];
  const received = amounts.every((a) => a !== undefined) ? amounts.reduce((sum, a) => sum + a, 0) : undefined;
  const inFull = paidAsAWhole(order) || (received !== undefined && received >= order.totals.total);
  return inFull ? { paymentTermsNumber: only, gateways } : undefined;
}

/** The payment terms field of a booked invoice or credit note (`GET /invoices/booked/{n}`). */
const bookedTerms = z.object({ paymentTerms: z.object({ paymentTermsNumber: z.number().int() }).optional() });

/** The booked document's payment terms number; undefined when e-conomic shows none. */
export function bookedTermsNumber(booked: unknown): number | undefined {
  const read = bookedTerms.safeParse(booked);
  return read.success ? read.data.paymentTerms?.paymentTermsNumber : undefined;
}

/**
 * A payment through gateways mapped to payment terms the booked invoice does not carry (booked
 * before createInvoice took terms from gateways, with other createInvoice settings, or edited by
 * hand): nothing says the invoice is paid, so nothing is entered and the step does not claim it was.
 */
export function paymentTermsDiffer(
  order: CanonicalOrder,
  invoiceNumber: number,
  differing: ReadonlyArray<{ gateway: string; terms: number }>,
  invoiceTerms: number | undefined,
): OrderlyError {
  const mapped = differing.map((d) => `"${d.gateway}" to payment terms ${d.terms}`).join(" and ");
  const has = invoiceTerms === undefined ? "no payment terms e-conomic shows" : `payment terms ${invoiceTerms}`;
  const settings = differing.map((d) => `byGateway.${d.gateway}`).join(" and ");
  const createInvoice = differing.map((d) => `paymentTermsByGateway.${d.gateway} = ${d.terms}`).join(", ");
  return new OrderlyError(
    `The payment of order ${order.source.orderNumber} was not registered: this step maps ${mapped}, but booked invoice ${invoiceNumber} has ${has}, so nothing says it was paid and it would fall due unpaid. Either map ${settings} in this step's settings to the contra account the money landed on and retry, or enter the payment by hand in e-conomic, book it, and retry. So that later invoices carry the terms, set ${createInvoice} in the createInvoice step's settings.`,
    {
      errorClass: "validation",
      code: "economic_payment_terms_differ",
      details: {
        bookedInvoiceNumber: invoiceNumber,
        invoiceTerms: invoiceTerms ?? null,
        gatewayTerms: Object.fromEntries(differing.map((d) => [d.gateway, d.terms])),
      },
      madeNothing: true,
    },
  );
}

/** The terms record (`GET /payment-terms/{n}`): its name and type, as e-conomic's REST schema names them. */
const termsRecord = z.object({ name: z.string().optional(), paymentTermsType: z.string().optional() });
export type TermsRecord = z.infer<typeof termsRecord>;

/**
 * The terms' name and type, for an error to name them; undefined when e-conomic does not answer
 * them (read only to explain a failure, so a failed read does not hide the failure itself).
 */
export async function describeTerms(ctx: EconomicContext, termsNumber: number): Promise<TermsRecord | undefined> {
  try {
    const found = await economicRequest<unknown>(ctx, { method: "GET", path: `/payment-terms/${termsNumber}`, accept: [404] });
    if (found.status === 404) return undefined;
    const read = termsRecord.safeParse(found.body);
    return read.success ? read.data : undefined;
  } catch {
    return undefined;
  }
}

/** `payment terms 7 "Paid by card" (type net)`, as much of it as is known. */
export function termsInWords(termsNumber: number, record: TermsRecord | undefined): string {
  const name = record?.name ? ` "${record.name}"` : "";
  const type = record?.paymentTermsType ? ` (type ${record.paymentTermsType})` : "";
  return `payment terms ${termsNumber}${name}${type}`;
}

/**
 * Gateways on payment terms the booked document carries, yet e-conomic still shows it open: whether
 * booking settles a document depends on the terms' type (e-conomic's own help: "paid in cash" means
 * already paid; a "net" record named "Paid by card" settles nothing), not on their name. Nothing is
 * entered, and the step does not claim the money was registered.
 */
export function paymentTermsOpen(what: {
  subject: string;
  document: string;
  documentNumber: number;
  gateways: readonly string[];
  termsNumber: number;
  terms: TermsRecord | undefined;
  open: number | undefined;
  currency: string;
  code: string;
  moneyWent: string;
}): OrderlyError {
  const { gateways, termsNumber, terms, open, currency } = what;
  const named = gateways.map((g) => `"${g}"`).join(" and ");
  const settings = gateways.map((g) => `byGateway.${g}`).join(" and ");
  const shown =
    open === undefined
      ? "shows no remainder, so nothing says it is settled"
      : `still shows ${toDecimalString(open, currency)} ${currency} open`;
  return new OrderlyError(
    `${what.subject} was not registered: this step maps ${named} to ${termsInWords(termsNumber, terms)}, meant to say it is paid, and ${what.document} ${what.documentNumber} carries them, but it ${shown}. e-conomic settles a document when it is booked only under terms of a type that does so (such as paid in cash, with the terms' contra account); terms of another type only print their name. Either give those terms a type that settles on booking in e-conomic (for documents booked later) and settle this one by hand, or map ${settings} in this step's settings to the contra account the money ${what.moneyWent} and retry.`,
    {
      errorClass: "validation",
      code: what.code,
      details: {
        [`${what.document === "invoice" ? "bookedInvoiceNumber" : "creditNoteNumber"}`]: what.documentNumber,
        paymentTermsNumber: termsNumber,
        paymentTermsName: terms?.name ?? null,
        paymentTermsType: terms?.paymentTermsType ?? null,
        remainder: open === undefined ? null : toDecimalString(open, currency),
        currency,
        gateways: [...gateways],
      },
      madeNothing: true,
    },
  );
}
