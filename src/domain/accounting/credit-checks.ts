/**
 * What a credit note must pass against the invoice it credits before a target step writes
 * anything: the invoice's currency, and, with the credit notes the invoice already has, no more
 * than the invoice's amount. Shared by the targets' createCreditNote steps; both errors are
 * validation errors that made nothing, their reasons naming the amounts and what to do.
 */
import { OrderlyError } from "../errors";
import { toDecimalString } from "../money";
import type { CanonicalOrder } from "../order";

/** The invoice a credit note credits, as its target holds it. */
export interface CreditedInvoice {
  /** How a person finds it: "e-conomic invoice 17", "Billy invoice 1002". */
  label: string;
  currency: string;
  /** Gross, in minor units of `currency`, positive. */
  gross: number;
}

/** A credit note the invoice already has: its name and gross (minor units, positive). */
export interface EarlierCredit {
  label: string;
  gross: number;
}

/**
 * A credit note in another currency than its invoice credits amounts the invoice never held:
 * the credit-note step's `invoiceCurrency` must be the invoice step's. Refused with which value
 * gives the invoice's currency, when the order tells.
 */
export function checkCreditCurrency(
  invoice: { label: string; currency: string },
  creditCurrency: string,
  order: CanonicalOrder,
  code: string,
): void {
  if (invoice.currency === creditCurrency) return;
  const setting =
    invoice.currency === order.currency ? "order" : invoice.currency === order.exchange?.shopCurrency ? "shop" : undefined;
  throw new OrderlyError(
    `${invoice.label} is in ${invoice.currency}, but this credit note for it would be in ${creditCurrency}: a credit note must be in the currency of the invoice it credits. Set the credit-note step's invoiceCurrency like the invoice step's${setting ? ` ("${setting}")` : ""} and retry. Nothing was created.`,
    {
      errorClass: "validation",
      code,
      details: { invoiceCurrency: invoice.currency, creditNoteCurrency: creditCurrency },
      madeNothing: true,
    },
  );
}

/**
 * Refuses a credit note that, with the credit notes already made for the invoice, would take back
 * more than the invoice's amount (a refund deleted in the webshop and made again, or credited by
 * two flows). Up to `tolerance` (the step's cents threshold) is let through: credit notes
 * converted one by one at the order's rate may sum to a cent more than the converted invoice.
 */
export function checkOverCredit(
  invoice: CreditedInvoice,
  earlier: readonly EarlierCredit[],
  thisGross: number,
  tolerance: number,
  code: string,
): void {
  const taken = earlier.reduce((sum, e) => sum + e.gross, 0);
  const excess = taken + thisGross - invoice.gross;
  if (excess <= tolerance) return;
  const fmt = (minor: number) => `${toDecimalString(minor, invoice.currency)} ${invoice.currency}`;
  const listed = earlier.map((e) => `${e.label}: ${fmt(e.gross)}`).join(", ");
  throw new OrderlyError(
    `${invoice.label} is ${fmt(invoice.gross)} and its credit notes already take back ${fmt(taken)}${listed ? ` (${listed})` : ""}: this credit note of ${fmt(thisGross)} would credit ${fmt(excess)} more than was invoiced. Check whether this refund was already credited (a refund deleted and made again in the webshop, or credited by another flow); if so, nothing is left to do, else correct the earlier credit notes and retry. Nothing was created.`,
    {
      errorClass: "validation",
      code,
      details: {
        invoice: invoice.label,
        currency: invoice.currency,
        invoiceGross: invoice.gross,
        alreadyCredited: taken,
        creditNote: thisGross,
        earlier,
      },
      madeNothing: true,
    },
  );
}
