/** The accounting document: an invoice or credit note as the target will hold it, before mapping. */
import type { VatDecision } from "../vat/vat-decision";

/**
 * `duties`: import duties passed on (Shopify's), not a sale: booked without VAT like `rounding`, on
 * a product of their own when the target has one set (else the rounding product).
 */
export type DocumentLineKind = "product" | "shipping" | "fee" | "giftcard" | "rounding" | "duties";

export interface DocumentLine {
  kind: DocumentLineKind;
  description: string;
  sku?: string;
  /** Source line id, to link a credit note line to the invoice line it credits. */
  sourceLineId?: string;
  quantity: number;
  /** Net unit price in minor units, at the target's precision. */
  unitNet: number;
  /** unitNet × quantity: the net the target will book for the line. */
  net: number;
  vatRateBp: number;
  /** The line's VAT as the target computes it on a per-line basis. */
  vat: number;
}

export interface AccountingDocument {
  type: "invoice" | "credit-note";
  currency: string;
  /** Set when amounts were converted from the order currency: the rate used and where it came from. */
  exchange?: { from: string; to: string; rate: string };
  /** YYYY-MM-DD */
  date: string;
  vat: VatDecision;
  lines: DocumentLine[];
  /** Totals as the target will compute them (rounding line included). */
  totals: { net: number; vat: number; total: number };
  /** What the customer paid (invoice) or got back (credit note), and the VAT the source charged. */
  expected: { total: number; vat: number };
  /** expected.total − target total before any rounding line. */
  difference: number;
  /** A sentence with both totals when the difference is above the threshold; the document must not be booked. */
  mismatch?: string;
  /** Things a bookkeeper should know (VAT charged on a reverse-charge sale ...). */
  warnings: string[];
  /**
   * Money refunded without lines that was spread over more than one VAT rate (not a refund of the
   * whole order): the share per rate is a guess a person should check. `gross` is in minor units of
   * `currency`.
   */
  spreadOverRates?: { gross: number; ratesBp: number[] };
  /**
   * Money refunded without lines, short of the whole order, on an order that charged duties: it is
   * credited at the rates of what was sold, so if it (with the order's other refunds, which the
   * credit note does not see) gave the duties back, VAT was credited on them. `duties` is the
   * order's duties in minor units of `currency`, for a person to check.
   */
  lumpBesideDuties?: { gross: number; duties: number };
}
