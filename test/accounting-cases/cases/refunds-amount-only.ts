/** Refunds without lines (WooCommerce lists an amount and a reason): spread over the order's VAT rates. */
import type { AccountingCase, ExpectedDocument, ExpectedLine, WooOrderSpec } from "../case-types";
import { germanEuroOrder } from "./shared";

/** A German consumer's mixed-rate EUR order: a cookbook at 7 %, mugs and DHL at 19 %. */
const mixedRates: Omit<WooOrderSpec, "refunds"> = {
  ...germanEuroOrder,
  lines: [
    { name: "Cookbook", quantity: 1, subtotal: "20.00", subtotalTax: "1.40", total: "20.00", totalTax: "1.40", rate: 7 },
    ...germanEuroOrder.lines,
  ],
  totalTax: "9.95",
  total: "74.95",
  modified: "2026-03-09",
};
const mixedInvoice: ExpectedDocument = {
  paid: "74.95",
  lines: [
    { text: "Cookbook", quantity: 1, unitNet: "20.00", rate: 7, economic: "oss-de-7", billy: ["prod-default", "tr-de-7"] },
    { text: "Mug", quantity: 2, unitNet: "20.00", rate: 19, economic: "oss-de", billy: ["prod-mug", "tr-de-19"] },
    { text: "DHL", quantity: 1, unitNet: "5.00", rate: 19, economic: "oss-de", billy: ["prod-shipping", "tr-de-19"] },
  ],
  vatByRate: [
    { rate: 7, net: "20.00", vat: "1.40" },
    { rate: 19, net: "45.00", vat: "8.55" },
  ],
  economic: { zone: 2, vat: "9.95", total: "74.95" },
  billy: { vat: "9.95", total: "74.95" },
};
const refundLine = (text: string, unitNet: string, rate: 7 | 19): ExpectedLine => ({
  text,
  quantity: 1,
  unitNet,
  rate,
  economic: rate === 7 ? "oss-de-7" : "oss-de",
  billy: ["prod-default", rate === 7 ? "tr-de-7" : "tr-de-19"],
});

export const amountOnlyRefundCases: AccountingCase[] = [
  {
    id: "C41",
    title: "A refund without lines (WooCommerce, amount only)",
    topic: "refunds",
    settings: { ossRegistered: true },
    note: "WooCommerce's order webhook lists a refund's amount and reason only; it is credited at the order's VAT rates in proportion, here all at 19 %.",
    source: { ...germanEuroOrder, modified: "2026-03-09", refunds: [{ amount: "10.00", reason: "One mug arrived chipped" }] },
    expect: {
      vatCase: "oss",
      currency: "EUR",
      invoice: {
        paid: "53.55",
        lines: mixedInvoice.lines.slice(1),
        vatByRate: [{ rate: 19, net: "45.00", vat: "8.55" }],
        economic: { zone: 2, vat: "8.55", total: "53.55" },
        billy: { vat: "8.55", total: "53.55" },
      },
      creditNotes: [
        {
          refund: 0,
          paid: "10.00",
          lines: [refundLine("Refund: One mug arrived chipped", "8.40", 19)],
          vatByRate: [{ rate: 19, net: "8.40", vat: "1.60" }],
          economic: { zone: 2, vat: "1.60", total: "10.00" },
          billy: { vat: "1.60", total: "10.00" },
        },
      ],
    },
  },
  {
    id: "C42",
    title: "A full refund without lines on a mixed-rate order (WooCommerce)",
    topic: "refunds",
    settings: { ossRegistered: true },
    note: "The refund is spread over the order's rates in proportion to what was sold at each: 53.55 at 19 %, 21.40 at 7 %.",
    fixed: {
      where: "src/domain/accounting/build-document.ts",
      before:
        "the whole 74.95 EUR was credited at the order's main rate, 19 %: one line of 62.98 net with 11.97 VAT, where 9.95 VAT had been charged (45.00 at 19 % = 8.55 and 20.00 at 7 % = 1.40), so the credit note took back 2.02 EUR more VAT than the invoice booked.",
    },
    source: { ...mixedRates, refunds: [{ amount: "74.95", reason: "Order returned" }] },
    expect: {
      vatCase: "oss",
      currency: "EUR",
      invoice: mixedInvoice,
      creditNotes: [
        {
          refund: 0,
          paid: "74.95",
          lines: [
            refundLine("Refund: Order returned (19 %)", "45.00", 19),
            refundLine("Refund: Order returned (7 %)", "20.00", 7),
          ],
          vatByRate: [
            { rate: 19, net: "45.00", vat: "8.55" },
            { rate: 7, net: "20.00", vat: "1.40" },
          ],
          economic: { zone: 2, vat: "9.95", total: "74.95" },
          billy: { vat: "9.95", total: "74.95" },
        },
      ],
    },
  },
  {
    id: "C43",
    title: "A partial refund without lines on a mixed-rate order (WooCommerce)",
    topic: "refunds",
    settings: { ossRegistered: true },
    note: "10.00 × 53.55 / 74.95 = 7.14 at 19 % (6.00 + 1.14 VAT), the other 2.86 at 7 % (2.67 + 0.19 VAT).",
    fixed: {
      where: "src/domain/accounting/build-document.ts",
      before:
        "the 10.00 EUR was credited at 19 % only: 8.40 net with 1.60 VAT, where the order's mix of rates puts 1.33 VAT in it.",
    },
    source: { ...mixedRates, refunds: [{ amount: "10.00", reason: "Late delivery" }] },
    expect: {
      vatCase: "oss",
      currency: "EUR",
      invoice: mixedInvoice,
      creditNotes: [
        {
          refund: 0,
          paid: "10.00",
          lines: [refundLine("Refund: Late delivery (19 %)", "6.00", 19), refundLine("Refund: Late delivery (7 %)", "2.67", 7)],
          vatByRate: [
            { rate: 19, net: "6.00", vat: "1.14" },
            { rate: 7, net: "2.67", vat: "0.19" },
          ],
          economic: { zone: 2, vat: "1.33", total: "10.00" },
          billy: { vat: "1.33", total: "10.00" },
        },
      ],
    },
  },
  {
    id: "C44",
    title: "A refund on a reverse-charge sale: a credit note without VAT",
    topic: "refunds",
    settings: { ossRegistered: true },
    source: {
      shop: "woocommerce",
      currency: "EUR",
      pricesIncludeTax: false,
      buyer: "mueller",
      lines: [
        { name: "Workshop tools", quantity: 2, subtotal: "1000.00", subtotalTax: "0.00", total: "1000.00", totalTax: "0.00" },
      ],
      shipping: [{ name: "Freight", total: "100.00", totalTax: "0.00" }],
      totalTax: "0.00",
      total: "1100.00",
      modified: "2026-03-09",
      refunds: [{ amount: "100.00", reason: "Freight overcharged" }],
    },
    expect: {
      vatCase: "reverse-charge",
      currency: "EUR",
      invoice: {
        paid: "1100.00",
        lines: [
          { text: "Workshop tools", quantity: 2, unitNet: "500.00", rate: 0, economic: "1", billy: ["prod-default", "tr-eu-rc"] },
          {
            text: "Freight",
            quantity: 1,
            unitNet: "100.00",
            rate: 0,
            economic: "shipping",
            billy: ["prod-shipping", "tr-eu-rc"],
          },
        ],
        vatByRate: [{ rate: 0, net: "1100.00", vat: "0.00" }],
        economic: { zone: 2, vat: "0.00", total: "1100.00" },
        billy: { vat: "0.00", total: "1100.00" },
      },
      creditNotes: [
        {
          refund: 0,
          paid: "100.00",
          lines: [
            {
              text: "Refund: Freight overcharged",
              quantity: 1,
              unitNet: "100.00",
              rate: 0,
              economic: "1",
              billy: ["prod-default", "tr-eu-rc"],
            },
          ],
          vatByRate: [{ rate: 0, net: "100.00", vat: "0.00" }],
          economic: { zone: 2, vat: "0.00", total: "100.00" },
          billy: { vat: "0.00", total: "100.00" },
        },
      ],
    },
  },
];
