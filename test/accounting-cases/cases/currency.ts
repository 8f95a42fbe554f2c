/**
 * A Shopify order paid in EUR in a shop that keeps its books in DKK: the webhook carries each amount
 * in both monies, Orderly maps the customer's (EUR) and records the rate the totals imply. Invoiced
 * in EUR with that rate, or converted into DKK at it; and a partial refund of the same order each way.
 */
import type { AccountingCase, ExpectedDocument, ShopifyOrderSpec } from "../case-types";
import { OSS, oss } from "./shared";

/** Kim in Berlin pays 53.55 EUR; the shop shows 399.50 DKK (each amount at 7.4603). */
const paidInEuro: ShopifyOrderSpec = {
  shop: "shopify",
  currency: "EUR",
  shopCurrency: { currency: "DKK", rate: "7.4603" },
  pricesIncludeTax: true,
  buyer: "kim",
  lines: [{ title: "Mug", sku: "MUG-1", quantity: 2, price: "23.80", tax: "7.60", rate: 19 }],
  shipping: [{ title: "DHL", price: "5.95", tax: "0.95", rate: 19 }],
  totalTax: "8.55",
  total: "53.55",
};

/** One mug back, 23.80 EUR refunded in EUR. */
const withRefund: ShopifyOrderSpec = {
  ...paidInEuro,
  refunds: [
    {
      date: "2026-03-10",
      lines: [{ line: 0, quantity: 1, subtotal: "23.80", tax: "3.80", restock: true }],
      amount: "23.80",
    },
  ],
};

const RATE_NOTE = "Exchange rate 7.4603 DKK per EUR as the webshop reported it.";
const CONVERTED_NOTE = "Amounts converted from EUR at 7.4603 DKK per EUR, the rate the webshop reported.";
const RETURNED = "Returned to stock: Mug × 1";

/** The invoice in EUR, with the webshop's rate: e-conomic per 100 EUR, Billy per EUR. */
const invoiceInEuro: ExpectedDocument = {
  paid: "53.55",
  lines: [
    oss("Mug", "20.00", 19, "oss-de", ["prod-mug", "tr-de-19"], 2),
    oss("DHL", "5.00", 19, "oss-de", ["prod-shipping", "tr-de-19"]),
  ],
  vatByRate: [{ rate: 19, net: "45.00", vat: "8.55" }],
  economic: { zone: 2, vat: "8.55", total: "53.55", notes: RATE_NOTE, exchangeRate: 746.03 },
  billy: { vat: "8.55", total: "53.55", exchangeRate: 7.4603 },
};

/** The invoice converted into DKK: 40.00 EUR of mugs → 298.41 DKK, 149.205 a mug sent as 149.21. */
const invoiceInKroner: ExpectedDocument = {
  paid: "399.50",
  lines: [
    oss("Mug", "149.21", 19, "oss-de", ["prod-mug", "tr-de-19"], 2),
    oss("DHL", "37.30", 19, "oss-de", ["prod-shipping", "tr-de-19"]),
  ],
  vatByRate: [{ rate: 19, net: "335.72", vat: "63.79" }],
  economic: { zone: 2, rounding: "-0.01", vat: "63.79", total: "399.50", notes: CONVERTED_NOTE },
  billy: { rounding: "-0.01", vat: "63.79", total: "399.50" },
};

export const currencyCases: AccountingCase[] = [
  {
    id: "C46",
    title: "A Shopify order paid in EUR in a DKK shop, invoiced in EUR with the webshop's rate",
    topic: "currency",
    settings: OSS,
    note: "The rate is what the order's totals imply (399.50 DKK / 53.55 EUR, the shortest decimal that converts back exactly): 7.4603. Both targets get it instead of their own daily rate.",
    source: paidInEuro,
    expect: { vatCase: "oss", currency: "EUR", invoice: invoiceInEuro },
  },
  {
    id: "C47",
    title: "The same EUR order invoiced in the shop's DKK at the webshop's rate",
    topic: "currency",
    settings: { ...OSS, invoiceCurrency: "shop" },
    note: "Every line is converted at 7.4603 and the invoice must equal the 399.50 DKK the shop shows: the rounding line takes back the 0.01 the per-unit conversion added. An invoice in the base currency carries no rate.",
    source: paidInEuro,
    expect: { vatCase: "oss", currency: "DKK", invoice: invoiceInKroner },
  },
  {
    id: "C48",
    title: "A partial refund of the EUR order, credited in EUR with the webshop's rate",
    topic: "currency",
    settings: OSS,
    note: "Shopify keeps the refund's amounts in both monies and its transaction in EUR; the credit note is in the invoice's currency, at the order's rate.",
    source: withRefund,
    expect: {
      vatCase: "oss",
      currency: "EUR",
      invoice: invoiceInEuro,
      creditNotes: [
        {
          refund: 0,
          paid: "23.80",
          lines: [oss("Mug", "20.00", 19, "oss-de", ["prod-mug", "tr-de-19"])],
          vatByRate: [{ rate: 19, net: "20.00", vat: "3.80" }],
          economic: { zone: 2, vat: "3.80", total: "23.80", notes: `${RETURNED}\n${RATE_NOTE}`, exchangeRate: 746.03 },
          billy: { vat: "3.80", total: "23.80", exchangeRate: 7.4603 },
        },
      ],
    },
  },
  {
    id: "C49",
    title: "The same partial refund credited in DKK, converted at the order's rate",
    topic: "currency",
    settings: { ...OSS, invoiceCurrency: "shop" },
    note: "23.80 EUR refunded is 177.56 DKK at 7.4603 (20.00 EUR net → 149.21 DKK, VAT 28.35): the credit note is in the DKK of the invoice it credits.",
    source: withRefund,
    expect: {
      vatCase: "oss",
      currency: "DKK",
      invoice: invoiceInKroner,
      creditNotes: [
        {
          refund: 0,
          paid: "177.56",
          lines: [oss("Mug", "149.21", 19, "oss-de", ["prod-mug", "tr-de-19"])],
          vatByRate: [{ rate: 19, net: "149.21", vat: "28.35" }],
          economic: { zone: 2, vat: "28.35", total: "177.56", notes: `${RETURNED}\n${CONVERTED_NOTE}` },
          billy: { vat: "28.35", total: "177.56" },
        },
      ],
    },
  },
];
