/** Refunds with their lines (Shopify): credit notes linked to the booked invoice. */
import type { AccountingCase, ExpectedDocument, ExpectedLine, ShopifyOrderSpec } from "../case-types";
import { gls, mug, tshirt } from "./shared";

const RETURNED = "Returned to stock: T-shirt × 1";

/** A domestic document at 25 % that adds up without rounding. */
function dk(paid: string, lines: ExpectedLine[], net: string, vat: string, notes?: string): ExpectedDocument {
  return {
    paid,
    lines,
    vatByRate: [{ rate: 25, net, vat }],
    economic: { zone: 1, vat, total: paid, ...(notes ? { notes } : {}) },
    billy: { vat, total: paid },
  };
}

const tshirtAndShipping: Omit<ShopifyOrderSpec, "refunds"> = {
  shop: "shopify",
  currency: "DKK",
  pricesIncludeTax: true,
  buyer: "ane",
  lines: [{ title: "T-shirt", sku: "TS-1", quantity: 1, price: "199.00", tax: "39.80", rate: 25 }],
  shipping: [{ title: "GLS", price: "49.00", tax: "9.80", rate: 25 }],
  totalTax: "49.60",
  total: "248.00",
};

/** The T-shirt order with shipping the shop charged no VAT on ("charge tax on shipping" off). */
const untaxedShipping: Omit<ShopifyOrderSpec, "refunds"> = {
  ...tshirtAndShipping,
  shipping: [{ title: "GLS", price: "49.00", tax: "0.00" }],
  totalTax: "39.80",
};

/** Shipping without VAT on a domestic sale: e-conomic's VAT-free shipping product, Billy's no-VAT rate. */
const untaxedShippingSettings = {
  economicSettings: { reducedRateProducts: { "0": "shipping-0" } },
  billySettings: { taxRatesByRate: { "0": "tr-none" } },
};

const untaxedLine = (text: string): ExpectedLine => ({
  text,
  quantity: 1,
  unitNet: "49.00",
  rate: 0,
  economic: "shipping-0",
  billy: ["prod-shipping", "tr-none"],
});

/** A document of untaxed shipping (49.00 at 0 %), with the T-shirt at 25 % beside it when `tshirtToo`. */
function dkUntaxed(paid: string, lines: ExpectedLine[], tshirtToo: boolean, notes?: string): ExpectedDocument {
  const vat = tshirtToo ? "39.80" : "0.00";
  return {
    paid,
    lines,
    vatByRate: [...(tshirtToo ? [{ rate: 25, net: "159.20", vat: "39.80" }] : []), { rate: 0, net: "49.00", vat: "0.00" }],
    economic: { zone: 1, vat, total: paid, ...(notes ? { notes } : {}) },
    billy: { vat, total: paid },
  };
}

const UNTAXED_BEFORE =
  "refunded shipping was credited at the order's main rate (25 %) when the shipping carried no VAT and the invoice had booked it at 0 %:";

export const refundCases: AccountingCase[] = [
  {
    id: "C37",
    title: "A partial refund: one of two T-shirts",
    topic: "refunds",
    source: {
      ...tshirtAndShipping,
      lines: [{ title: "T-shirt", sku: "TS-1", quantity: 2, price: "199.00", tax: "79.60", rate: 25 }],
      totalTax: "89.40",
      total: "447.00",
      refunds: [
        {
          date: "2026-03-10",
          lines: [{ line: 0, quantity: 1, subtotal: "199.00", tax: "39.80", restock: true }],
          amount: "199.00",
        },
      ],
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: dk("447.00", [tshirt("159.20", 2), gls], "357.60", "89.40"),
      creditNotes: [{ refund: 0, ...dk("199.00", [tshirt("159.20")], "159.20", "39.80", RETURNED) }],
    },
  },
  {
    id: "C38",
    title: "Two refunds on one order: two credit notes on the same invoice",
    topic: "refunds",
    source: {
      ...tshirtAndShipping,
      lines: [
        { title: "T-shirt", sku: "TS-1", quantity: 1, price: "199.00", tax: "39.80", rate: 25 },
        { title: "Mug", sku: "MUG-1", quantity: 1, price: "100.00", tax: "20.00", rate: 25 },
      ],
      totalTax: "69.60",
      total: "348.00",
      refunds: [
        {
          date: "2026-03-09",
          lines: [{ line: 1, quantity: 1, subtotal: "100.00", tax: "20.00", restock: true }],
          amount: "100.00",
        },
        { date: "2026-03-12", lines: [{ line: 0, quantity: 1, subtotal: "199.00", tax: "39.80" }], amount: "199.00" },
      ],
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: dk("348.00", [tshirt("159.20"), mug("80.00"), gls], "278.40", "69.60"),
      creditNotes: [
        { refund: 0, ...dk("100.00", [mug("80.00")], "80.00", "20.00", "Returned to stock: Mug × 1") },
        { refund: 1, ...dk("199.00", [tshirt("159.20")], "159.20", "39.80") },
      ],
    },
  },
  {
    id: "C39",
    title: "A full refund including shipping (Shopify webhook before API 2024-10)",
    topic: "refunds",
    note: "The webhook states the shipping refund as an order adjustment of kind shipping_refund.",
    source: {
      ...tshirtAndShipping,
      refunds: [
        {
          date: "2026-03-10",
          apiVersion: "2024-07",
          lines: [{ line: 0, quantity: 1, subtotal: "199.00", tax: "39.80", restock: true }],
          shipping: "49.00",
          shippingTax: "9.80",
          amount: "248.00",
        },
      ],
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: dk("248.00", [tshirt("159.20"), gls], "198.40", "49.60"),
      creditNotes: [
        {
          refund: 0,
          ...dk("248.00", [tshirt("159.20"), { ...gls, text: "Shipping refund" }], "198.40", "49.60", RETURNED),
        },
      ],
    },
  },
  {
    id: "C40",
    title: "A refund of a discounted line credits what was paid for it",
    topic: "refunds",
    source: {
      ...tshirtAndShipping,
      discounts: [{ kind: "order", code: "WELCOME10" }],
      lines: [{ title: "T-shirt", sku: "TS-1", quantity: 1, price: "199.00", discount: "19.90", tax: "35.82", rate: 25 }],
      totalTax: "45.62",
      total: "228.10",
      refunds: [
        {
          date: "2026-03-10",
          lines: [{ line: 0, quantity: 1, subtotal: "179.10", tax: "35.82", restock: true }],
          amount: "179.10",
        },
      ],
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: dk("228.10", [tshirt("143.28"), gls], "182.48", "45.62"),
      creditNotes: [{ refund: 0, ...dk("179.10", [tshirt("143.28")], "143.28", "35.82", RETURNED) }],
    },
  },
  {
    id: "C45",
    title: "A full refund including shipping (Shopify webhook, API 2024-10 and later)",
    topic: "refunds",
    note: "Since 2024-10 refunds/create carries no shipping refund: the 49.00 is only in the 248.00 refund transaction.",
    source: {
      ...tshirtAndShipping,
      refunds: [
        {
          date: "2026-03-10",
          lines: [{ line: 0, quantity: 1, subtotal: "199.00", tax: "39.80", restock: true }],
          shipping: "49.00",
          shippingTax: "9.80",
          amount: "248.00",
        },
      ],
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: dk("248.00", [tshirt("159.20"), gls], "198.40", "49.60"),
      creditNotes: [
        {
          refund: 0,
          ...dk("248.00", [tshirt("159.20"), { ...gls, text: "Shipping refund" }], "198.40", "49.60", RETURNED),
        },
      ],
    },
  },
  {
    id: "C50",
    title: "A goodwill refund without lines (Shopify refund discrepancy) credits VAT",
    topic: "refunds",
    note: "Shopify states money refunded beyond the lines as a refund discrepancy; like an amount-only refund (C41) it is spread over the order's VAT rates: 50.00 at 25 % is 40.00 + 10.00 VAT.",
    fixed: {
      where: "src/domain/accounting/build-document.ts",
      before:
        "the 50.00 DKK was credited as a VAT-free adjustment line (50.00 net, 0.00 VAT), so the credit note took back 10.00 DKK less VAT than was charged on it.",
    },
    source: {
      ...tshirtAndShipping,
      refunds: [{ date: "2026-03-10", lines: [], discrepancy: "50.00", note: "Late delivery", amount: "50.00" }],
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: dk("248.00", [tshirt("159.20"), gls], "198.40", "49.60"),
      creditNotes: [
        {
          refund: 0,
          ...dk(
            "50.00",
            [
              {
                text: "Refund adjustment",
                quantity: 1,
                unitNet: "40.00",
                rate: 25,
                economic: "1",
                billy: ["prod-default", "tr-dk-25"],
              },
            ],
            "40.00",
            "10.00",
          ),
        },
      ],
    },
  },
  {
    id: "C51",
    title: "A shipping refund in a shop with prices excl. VAT (Shopify webhook before API 2024-10)",
    topic: "refunds",
    note: "The shipping_refund adjustment states the shipping net (39.20) and its VAT beside it (tax_amount 9.80); the credit note refunds both.",
    fixed: {
      where: "src/connectors/shopify/shopify.refund.ts, src/domain/accounting/build-document.ts",
      before:
        "tax_amount was not read and the net 39.20 was taken as shipping incl. VAT (31.36 + 7.84 VAT): the credit note came to 238.20 DKK against 248.00 DKK refunded, and the step failed with its draft left.",
    },
    source: {
      ...tshirtAndShipping,
      pricesIncludeTax: false,
      lines: [{ title: "T-shirt", sku: "TS-1", quantity: 1, price: "159.20", tax: "39.80", rate: 25 }],
      shipping: [{ title: "GLS", price: "39.20", tax: "9.80", rate: 25 }],
      refunds: [
        {
          date: "2026-03-10",
          apiVersion: "2024-07",
          lines: [{ line: 0, quantity: 1, subtotal: "159.20", tax: "39.80", restock: true }],
          shipping: "39.20",
          shippingTax: "9.80",
          amount: "248.00",
        },
      ],
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: dk("248.00", [tshirt("159.20"), gls], "198.40", "49.60"),
      creditNotes: [
        {
          refund: 0,
          ...dk("248.00", [tshirt("159.20"), { ...gls, text: "Shipping refund" }], "198.40", "49.60", RETURNED),
        },
      ],
    },
  },
  {
    id: "C52",
    title: "A shipping refund of shipping sold without VAT (Shopify webhook before API 2024-10)",
    topic: "refunds",
    ...untaxedShippingSettings,
    note: "No VAT on shipping (no tax line on it): the invoice booked the 49.00 at 0 %, and so does the credit note.",
    fixed: {
      where: "src/domain/accounting/build-document.ts",
      before: `${UNTAXED_BEFORE} 39.20 + 9.80 VAT, taking back 9.80 DKK of VAT that was never charged.`,
    },
    source: {
      ...untaxedShipping,
      refunds: [
        { date: "2026-03-10", apiVersion: "2024-07", lines: [], shipping: "49.00", shippingTax: "0.00", amount: "49.00" },
      ],
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: dkUntaxed("248.00", [tshirt("159.20"), untaxedLine("GLS")], true),
      creditNotes: [{ refund: 0, ...dkUntaxed("49.00", [untaxedLine("Shipping refund")], false) }],
    },
  },
  {
    id: "C53",
    title: "A full refund, shipping sold without VAT (Shopify webhook, API 2024-10 on)",
    topic: "refunds",
    ...untaxedShippingSettings,
    note: "The 49.00 beyond the T-shirt is the shipping, credited at its invoiced 0 %: VAT 39.80 as on the invoice.",
    fixed: {
      where: "src/domain/accounting/build-document.ts",
      before: `${UNTAXED_BEFORE} the full refund credited 49.60 DKK of VAT against 39.80 DKK invoiced, with no mismatch raised.`,
    },
    source: {
      ...untaxedShipping,
      refunds: [
        {
          date: "2026-03-10",
          lines: [{ line: 0, quantity: 1, subtotal: "199.00", tax: "39.80", restock: true }],
          amount: "248.00",
        },
      ],
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: dkUntaxed("248.00", [tshirt("159.20"), untaxedLine("GLS")], true),
      creditNotes: [{ refund: 0, ...dkUntaxed("248.00", [tshirt("159.20"), untaxedLine("Shipping refund")], true, RETURNED) }],
    },
  },
];
