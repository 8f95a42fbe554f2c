/**
 * The shape of one worked accounting case: what the webshop sends (a Shopify or WooCommerce
 * payload, described compactly), the settings of the e-conomic and Billy steps, and what a
 * bookkeeper expects to see booked. The same data renders docs/accounting-cases.md and drives the
 * tests, so the table and the tests cannot disagree.
 */
import type { VatCase } from "../../src/domain/vat/vat-decision";
import type { PersonKey } from "./people";

/** An amount as a bookkeeper writes it, in the case's currency: "249.00", "-2.00". */
export type Amount = string;

export interface ShopifyLineSpec {
  title: string;
  sku?: string;
  quantity: number;
  /** Unit price as the shop shows it: incl. VAT when the shop's prices include VAT. */
  price: Amount;
  /** Discount allocated to the whole line, on the same basis as the price. */
  discount?: Amount;
  /** Which discount application the discount belongs to (default 0). */
  discountIndex?: number;
  /** The line's VAT after discounts, as Shopify computed it. */
  tax: Amount;
  /** VAT rate in percent; left out when Shopify sends no tax line. */
  rate?: number;
  /** A gift card sold (Shopify's `gift_card: true`). */
  giftCard?: boolean;
}

export interface ShopifyShippingSpec {
  title: string;
  price: Amount;
  /** Price after shipping discounts (`discounted_price`). */
  discounted?: Amount;
  discountIndex?: number;
  tax: Amount;
  rate?: number;
}

export interface DiscountSpec {
  kind: "order" | "line" | "shipping";
  code?: string;
  title?: string;
}

export interface ShopifyRefundSpec {
  /** YYYY-MM-DD */
  date: string;
  /**
   * The webhook's API version (default 2026-01). Before 2024-10 a shipping refund came as an order
   * adjustment of kind `shipping_refund`; from 2024-10 refunds/create carries no shipping refund and
   * no adjustment kind at all (Shopify changelog, "Exposing the order adjustments connection on a Refund").
   */
  apiVersion?: string;
  lines: Array<{ line: number; quantity: number; subtotal: Amount; tax: Amount; restock?: boolean }>;
  /** Shipping refunded, as Shopify's shipping_refund adjustment states it (positive here). */
  shipping?: Amount;
  shippingTax?: Amount;
  /** A refund discrepancy (more money returned than the lines and shipping). */
  discrepancy?: Amount;
  /** What went back to the customer: the successful refund transaction. */
  amount: Amount;
  note?: string;
}

export interface ShopifyOrderSpec {
  shop: "shopify";
  /** The currency the customer paid in: Shopify's presentment currency; the spec's amounts are in it. */
  currency: string;
  /**
   * A shop keeping its books in another currency: the payload's plain fields and `shop_money` are
   * each of the spec's amounts converted at `rate` and rounded, as Shopify shows them.
   */
  shopCurrency?: { currency: string; rate: string };
  pricesIncludeTax: boolean;
  /** YYYY-MM-DD (default 2026-03-02). */
  date?: string;
  buyer: PersonKey;
  lines: ShopifyLineSpec[];
  shipping?: ShopifyShippingSpec[];
  discounts?: DiscountSpec[];
  totalTax: Amount;
  /** What the customer paid (`total_price`). */
  total: Amount;
  refunds?: ShopifyRefundSpec[];
}

export interface WooLineSpec {
  name: string;
  sku?: string;
  quantity: number;
  /** WooCommerce keeps item amounts excl. VAT: the whole line before coupons and its VAT. */
  subtotal: Amount;
  subtotalTax: Amount;
  /** After coupons. */
  total: Amount;
  totalTax: Amount;
  /** VAT rate in percent; left out for an untaxed (exempt or zero-rated) line. */
  rate?: number;
}

export interface WooChargeSpec {
  name: string;
  /** Excl. VAT, as WooCommerce keeps it. */
  total: Amount;
  totalTax: Amount;
  rate?: number;
}

export interface WooOrderSpec {
  shop: "woocommerce";
  currency: string;
  pricesIncludeTax: boolean;
  date?: string;
  buyer: PersonKey;
  lines: WooLineSpec[];
  shipping?: WooChargeSpec[];
  fees?: WooChargeSpec[];
  coupons?: Array<{ code: string; discount: Amount; discountTax: Amount }>;
  totalTax: Amount;
  total: Amount;
  /** YYYY-MM-DD of the delivery that lists the refunds (the order's last change); default: the order date. */
  modified?: string;
  /** Refunds as WooCommerce lists them on the order: an amount and a reason, no lines. */
  refunds?: Array<{ amount: Amount; reason?: string }>;
}

export type OrderSpec = ShopifyOrderSpec | WooOrderSpec;

/** One invoice or credit note line as both targets book it (quantities positive, also on credit notes). */
export interface ExpectedLine {
  text: string;
  quantity: number;
  unitNet: Amount;
  /** VAT rate in percent. */
  rate: number;
  /** e-conomic product number; null when e-conomic is sent no line (a free shipping line). */
  economic: string | null;
  /** Billy product id and tax rate id. */
  billy: [product: string, taxRate: string];
}

export interface TargetTotals {
  /** The rounding line (VAT-free), when the target needs one to reach what was paid. */
  rounding?: Amount;
  /** The VAT and total as the target computes them from what it was sent. */
  vat: Amount;
  total: Amount;
}

export interface ExpectedDocument {
  /** What the customer paid (or got back), in the document's currency. */
  paid: Amount;
  lines: ExpectedLine[];
  /** Net and VAT per rate as the books show them (e-conomic's totals when the targets differ). */
  vatByRate: Array<{ rate: number; net: Amount; vat: Amount }>;
  economic: TargetTotals & {
    zone: number;
    /** The document's printed note (textLine1), when Orderly writes one. */
    notes?: string;
    /** `exchangeRate` (base currency per 100 units), when the step sends the webshop's rate. */
    exchangeRate?: number;
  };
  billy: TargetTotals & {
    /** `exchangeRate` (base currency per unit), when the step sends the webshop's rate. */
    exchangeRate?: number;
  };
  /** Above the threshold: the document stays a draft and the transfer fails naming both totals. */
  mismatch?: { invoice: Amount; paid: Amount };
}

/** What a refund becomes: a credit note linked to the booked invoice. */
export interface ExpectedCreditNote extends ExpectedDocument {
  /** The refund it books (index into the source's refunds). */
  refund: number;
}

/** A case the code gets wrong today: the test asserts the right figures and is marked as failing. */
export interface KnownIssue {
  where: string;
  wrong: string;
  right: string;
}

/** A bug this case found that was fixed: what the code booked before. */
export interface FixedIssue {
  where: string;
  before: string;
}

export interface AccountingCase {
  id: string;
  title: string;
  /** Which test file runs it. */
  topic: "domestic" | "discounts" | "charges" | "rounding" | "eu" | "abroad" | "refunds" | "currency";
  source: OrderSpec;
  /** Applied to the parsed order when a source cannot say it (rendered in the table). */
  overlay?: { exchange: { shopCurrency: string; rate: string }; why: string };
  /** Settings of both steps beyond the shared ones (settings.ts). */
  settings?: Record<string, unknown>;
  economicSettings?: Record<string, unknown>;
  billySettings?: Record<string, unknown>;
  /** Customer matching beyond the default (new customer by e-mail). */
  customer?: "vatNumber" | "shared";
  expect: {
    vatCase: VatCase;
    currency: string;
    invoice: ExpectedDocument;
    creditNotes?: ExpectedCreditNote[];
  };
  /** Something a bookkeeper should know about the row. */
  note?: string;
  knownIssue?: KnownIssue;
  fixed?: FixedIssue;
}
