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
