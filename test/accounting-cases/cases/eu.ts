/** Other EU sales: a EUR order in EUR and converted to DKK, reverse charge, and a business without VAT number. */
import type { AccountingCase } from "../case-types";
import { germanEuroOrder, OSS, oss } from "./shared";

export const euCases: AccountingCase[] = [
  {
    id: "C31",
    title: "A EUR order invoiced in EUR (WooCommerce, OSS)",
    topic: "eu",
    settings: OSS,
    note: "No exchange rate is sent: e-conomic and Billy convert at their own daily rate.",
    source: germanEuroOrder,
    expect: {
      vatCase: "oss",
      currency: "EUR",
      invoice: {
        paid: "53.55",
        lines: [
          oss("Mug", "20.00", 19, "oss-de", ["prod-mug", "tr-de-19"], 2),
          oss("DHL", "5.00", 19, "oss-de", ["prod-shipping", "tr-de-19"]),
        ],
        vatByRate: [{ rate: 19, net: "45.00", vat: "8.55" }],
        economic: { zone: 2, vat: "8.55", total: "53.55" },
        billy: { vat: "8.55", total: "53.55" },
      },
    },
  },
  {
    id: "C32",
    title: "A EUR order converted to DKK at the shop's rate",
    topic: "eu",
    settings: { ...OSS, invoiceCurrency: "shop" },
    overlay: {
      exchange: { shopCurrency: "DKK", rate: "7.4603" },
      why: "WooCommerce's core is single-currency and reports no rate, so the case adds the rate a multi-currency plugin would report (Shopify orders carry their own: C46–C49).",
    },
    note: "53.55 EUR × 7.4603 = 399.50 DKK paid. Each line is converted (40.00 EUR → 298.41 DKK, 149.205 a mug, sent as 149.21); the rounding line takes back the 0.01.",
    source: germanEuroOrder,
    expect: {
      vatCase: "oss",
      currency: "DKK",
      invoice: {
        paid: "399.50",
        lines: [
          oss("Mug", "149.21", 19, "oss-de", ["prod-mug", "tr-de-19"], 2),
          oss("DHL", "37.30", 19, "oss-de", ["prod-shipping", "tr-de-19"]),
        ],
        vatByRate: [{ rate: 19, net: "335.72", vat: "63.79" }],
        economic: {
          zone: 2,
          rounding: "-0.01",
          vat: "63.79",
          total: "399.50",
          notes: "Amounts converted from EUR at 7.4603 DKK per EUR, the rate the webshop reported.",
        },
        billy: { rounding: "-0.01", vat: "63.79", total: "399.50" },
      },
    },
  },
  {
    id: "C33",
    title: "EU business with a VAT number: reverse charge (WooCommerce)",
    topic: "eu",
    settings: OSS,
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
    },
    expect: {
      vatCase: "reverse-charge",
      currency: "EUR",
      invoice: {
        paid: "1100.00",
        lines: [
          oss("Workshop tools", "500.00", 0, "1", ["prod-default", "tr-eu-rc"], 2),
          oss("Freight", "100.00", 0, "shipping", ["prod-shipping", "tr-eu-rc"]),
        ],
        vatByRate: [{ rate: 0, net: "1100.00", vat: "0.00" }],
        economic: { zone: 2, vat: "0.00", total: "1100.00" },
        billy: { vat: "0.00", total: "1100.00" },
      },
    },
  },
  {
    id: "C34",
    title: "A business buyer whose VAT number Shopify does not pass on: OSS like a consumer",
    topic: "eu",
    settings: OSS,
    note: "Shopify orders carry no VAT number, so the sale is OSS at 19 % as the shop charged it; B2B layout, terms and a company contact.",
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: true,
      buyer: "mueller",
      lines: [{ title: "T-shirt", sku: "TS-1", quantity: 10, price: "238.00", tax: "380.00", rate: 19 }],
      shipping: [{ title: "DHL", price: "59.50", tax: "9.50", rate: 19 }],
      totalTax: "389.50",
      total: "2439.50",
    },
    expect: {
      vatCase: "oss",
      currency: "DKK",
      invoice: {
        paid: "2439.50",
        lines: [
          oss("T-shirt", "200.00", 19, "oss-de", ["prod-ts1", "tr-de-19"], 10),
          oss("DHL", "50.00", 19, "oss-de", ["prod-shipping", "tr-de-19"]),
        ],
        vatByRate: [{ rate: 19, net: "2050.00", vat: "389.50" }],
        economic: { zone: 2, vat: "389.50", total: "2439.50" },
        billy: { vat: "389.50", total: "2439.50" },
      },
    },
  },
];
