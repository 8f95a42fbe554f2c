/**
 * The e-conomic mock's agreement: its records and the reference data a test agreement starts with.
 * Product groups carry a mock-only `vatRateBp` and `vatZones` (the zones the group charges VAT in),
 * standing in for e-conomic's group accounts and their VAT codes, so booked invoices have VAT totals.
 */
import type { Json } from "./economic.mock.validate";

export interface MockProductGroup {
  productGroupNumber: number;
  name: string;
  vatRateBp: number;
  /** VAT zone numbers the group charges VAT in (default: only 1, domestic). */
  vatZones?: number[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The decoded query string, e.g. `filter=email$eq:ane@example.dk`. */
  query: string;
  body: unknown;
}

export interface MockState {
  customers: Json[];
  products: Json[];
  productGroups: MockProductGroup[];
  drafts: Json[];
  booked: Json[];
  orders: Json[];
  /** Orders a person registered as sent (`/orders/sent`). */
  sentOrders: Json[];
  journals: Json[];
  vouchers: Json[];
  /** `GET /payment-terms`: number, name and `paymentTermsType`, which decides what booking does. */
  paymentTerms: Json[];
  accountingYears: Json[];
  requests: RecordedRequest[];
  counters: { draft: number; order: number };
}

export interface MockRequest {
  method: string;
  path: string;
  /** Path segments without the leading empty one: `/invoices/booked/1` → ["invoices", "booked", "1"]. */
  segments: string[];
  url: URL;
  body: unknown;
}

export const DEFAULT_PRODUCT_GROUPS: MockProductGroup[] = [
  { productGroupNumber: 1, name: "Goods with VAT", vatRateBp: 2500 },
  { productGroupNumber: 2, name: "Without VAT", vatRateBp: 0 },
  { productGroupNumber: 3, name: "Reduced rate", vatRateBp: 1200 },
  { productGroupNumber: 10, name: "OSS Germany", vatRateBp: 1900, vatZones: [2] },
];

/** Products a merchant sets up for Orderly's defaults: "1", shipping, fee, gift card, adjustment, rounding. */
export const DEFAULT_PRODUCTS: Json[] = [
  { productNumber: "1", name: "Webshop sale", productGroup: { productGroupNumber: 1 } },
  { productNumber: "shipping", name: "Shipping", productGroup: { productGroupNumber: 1 } },
  { productNumber: "fee", name: "Fees", productGroup: { productGroupNumber: 1 } },
  { productNumber: "giftcard", name: "Gift cards", productGroup: { productGroupNumber: 2 } },
  { productNumber: "adjustment", name: "Refund adjustment", productGroup: { productGroupNumber: 2 } },
  { productNumber: "rounding", name: "Rounding", productGroup: { productGroupNumber: 2 } },
];

export function calendarYears(from: number, to: number): Json[] {
  const years: Json[] = [];
  for (let y = from; y <= to; y++) years.push({ year: String(y), fromDate: `${y}-01-01`, toDate: `${y}-12-31`, closed: false });
  return years;
}

/**
 * Payment terms a test agreement has. e-conomic's REST schema types them by `paymentTermsType`
 * (net, invoiceMonth, paidInCash, prepaid, dueDate, factoring, invoiceWeekStartingSunday,
 * invoiceWeekStartingMonday, creditcard); the name is only printed. 7 is the "paid" terms a merchant
 * sets up for card payments, as the docs recommend: of the type that settles on booking.
 */
export const DEFAULT_PAYMENT_TERMS: Json[] = [
  { paymentTermsNumber: 1, name: "Netto 8 dage", paymentTermsType: "net", daysOfCredit: 8 },
  { paymentTermsNumber: 2, name: "Netto 14 dage", paymentTermsType: "net", daysOfCredit: 14 },
  { paymentTermsNumber: 3, name: "Netto 30 dage", paymentTermsType: "net", daysOfCredit: 30 },
  { paymentTermsNumber: 5, name: "Løbende måned + 30 dage", paymentTermsType: "invoiceMonth", daysOfCredit: 30 },
  { paymentTermsNumber: 7, name: "Paid by card", paymentTermsType: "paidInCash", daysOfCredit: 0 },
  { paymentTermsNumber: 8, name: "Paid by gift card", paymentTermsType: "paidInCash", daysOfCredit: 0 },
];

/**
 * Types under which booking settles the document (remainder 0): e-conomic's help (e-copedia, "Terms
 * of payment") says "Paid in cash: already paid", a credit card type books the customer invoice as
 * paid, and factoring matches the payment at once. Every other type leaves the gross open. How the
 * REST API shows the remainder of such a booking is not confirmed by e-conomic's API documentation.
 */
export const SETTLED_ON_BOOKING: ReadonlySet<string> = new Set(["paidInCash", "creditcard", "factoring"]);
