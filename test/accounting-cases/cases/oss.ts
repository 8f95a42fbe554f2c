/** One Stop Shop sales at the destination's dated rate, and the same sale without OSS. */
import type { AccountingCase } from "../case-types";
import { OSS, oss } from "./shared";

export const ossCases: AccountingCase[] = [
  {
    id: "C24",
    title: "OSS sale to a German consumer (19 %)",
    topic: "eu",
    settings: OSS,
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: true,
      buyer: "kim",
      lines: [{ title: "T-shirt", sku: "TS-1", quantity: 1, price: "238.00", tax: "38.00", rate: 19 }],
      shipping: [{ title: "DHL", price: "59.50", tax: "9.50", rate: 19 }],
      totalTax: "47.50",
      total: "297.50",
    },
    expect: {
      vatCase: "oss",
      currency: "DKK",
      invoice: {
        paid: "297.50",
        lines: [
          oss("T-shirt", "200.00", 19, "oss-de", ["prod-ts1", "tr-de-19"]),
          oss("DHL", "50.00", 19, "oss-de", ["prod-shipping", "tr-de-19"]),
        ],
        vatByRate: [{ rate: 19, net: "250.00", vat: "47.50" }],
        economic: { zone: 2, vat: "47.50", total: "297.50" },
        billy: { vat: "47.50", total: "297.50" },
      },
    },
  },
  {
    id: "C25",
    title: "OSS sale to a Swedish consumer (25 %)",
    topic: "eu",
    settings: OSS,
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: true,
      buyer: "sven",
      lines: [{ title: "T-shirt", sku: "TS-1", quantity: 1, price: "250.00", tax: "50.00", rate: 25 }],
      shipping: [{ title: "PostNord", price: "62.50", tax: "12.50", rate: 25 }],
      totalTax: "62.50",
      total: "312.50",
    },
    expect: {
      vatCase: "oss",
      currency: "DKK",
      invoice: {
        paid: "312.50",
        lines: [
          oss("T-shirt", "200.00", 25, "oss-se", ["prod-ts1", "tr-se-25"]),
          oss("PostNord", "50.00", 25, "oss-se", ["prod-shipping", "tr-se-25"]),
        ],
        vatByRate: [{ rate: 25, net: "250.00", vat: "62.50" }],
        economic: { zone: 2, vat: "62.50", total: "312.50" },
        billy: { vat: "62.50", total: "312.50" },
      },
    },
  },
  {
    id: "C26",
    title: "OSS sale to a French consumer (20 %)",
    topic: "eu",
    settings: OSS,
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: true,
      buyer: "claire",
      lines: [{ title: "T-shirt", sku: "TS-1", quantity: 1, price: "240.00", tax: "40.00", rate: 20 }],
      shipping: [{ title: "Colissimo", price: "60.00", tax: "10.00", rate: 20 }],
      totalTax: "50.00",
      total: "300.00",
    },
    expect: {
      vatCase: "oss",
      currency: "DKK",
      invoice: {
        paid: "300.00",
        lines: [
          oss("T-shirt", "200.00", 20, "oss-fr", ["prod-ts1", "tr-fr-20"]),
          oss("Colissimo", "50.00", 20, "oss-fr", ["prod-shipping", "tr-fr-20"]),
        ],
        vatByRate: [{ rate: 20, net: "250.00", vat: "50.00" }],
        economic: { zone: 2, vat: "50.00", total: "300.00" },
        billy: { vat: "50.00", total: "300.00" },
      },
    },
  },
  {
    id: "C27",
    title: "The same sale to Germany without OSS: Danish VAT",
    topic: "eu",
    note: "e-conomic charges Danish VAT only in its domestic VAT zone; its EU zone is for sales without Danish VAT.",
    knownIssue: {
      where:
        "e-conomic connector: the VAT zone comes from the VAT decision's geographic zone (`vatZones[document.vat.zone]` in src/connectors/economic/economic.body.ts and economic.document-steps.ts), which is `eu` for an EU consumer charged home VAT",
      wrong:
        "the sale goes to e-conomic in VAT zone 2 (EU) on the ordinary products, which e-conomic books without VAT, exactly like the reverse-charge sale of C33: e-conomic's invoice comes to 250.00 DKK with 0.00 VAT against 312.50 DKK paid, 62.50 DKK of Danish VAT missing, and it is booked, since the e-conomic step does not compare e-conomic's own total (its output even says 312.50). Billy is right",
      right:
        "VAT zone 1 (domestic) for a buyer who pays Danish VAT, whatever the country: TS-1 200.00 × 1 and shipping 50.00 × 1, VAT 62.50, total 312.50 DKK = paid.",
    },
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: true,
      buyer: "kim",
      lines: [{ title: "T-shirt", sku: "TS-1", quantity: 1, price: "250.00", tax: "50.00", rate: 25 }],
      shipping: [{ title: "DHL", price: "62.50", tax: "12.50", rate: 25 }],
      totalTax: "62.50",
      total: "312.50",
    },
    expect: {
      vatCase: "eu-home-vat",
      currency: "DKK",
      invoice: {
        paid: "312.50",
        lines: [
          oss("T-shirt", "200.00", 25, "TS-1", ["prod-ts1", "tr-dk-25"]),
          oss("DHL", "50.00", 25, "shipping", ["prod-shipping", "tr-dk-25"]),
        ],
        vatByRate: [{ rate: 25, net: "250.00", vat: "62.50" }],
        economic: { zone: 1, vat: "62.50", total: "312.50" },
        billy: { vat: "62.50", total: "312.50" },
      },
    },
  },
  {
    id: "C28",
    title: "OSS to Germany with a reduced-rate line (a book at 7 %)",
    topic: "eu",
    settings: OSS,
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: true,
      buyer: "kim",
      lines: [
        { title: "Cookbook", quantity: 1, price: "107.00", tax: "7.00", rate: 7 },
        { title: "T-shirt", sku: "TS-1", quantity: 1, price: "238.00", tax: "38.00", rate: 19 },
      ],
      shipping: [{ title: "DHL", price: "59.50", tax: "9.50", rate: 19 }],
      totalTax: "54.50",
      total: "404.50",
    },
    expect: {
      vatCase: "oss",
      currency: "DKK",
      invoice: {
        paid: "404.50",
        lines: [
          oss("Cookbook", "100.00", 7, "oss-de-7", ["prod-default", "tr-de-7"]),
          oss("T-shirt", "200.00", 19, "oss-de", ["prod-ts1", "tr-de-19"]),
          oss("DHL", "50.00", 19, "oss-de", ["prod-shipping", "tr-de-19"]),
        ],
        vatByRate: [
          { rate: 7, net: "100.00", vat: "7.00" },
          { rate: 19, net: "250.00", vat: "47.50" },
        ],
        economic: { zone: 2, vat: "54.50", total: "404.50" },
        billy: { vat: "54.50", total: "404.50" },
      },
    },
  },
  {
    id: "C29",
    title: "OSS to Finland the day before its rate changed (24 %)",
    topic: "eu",
    settings: OSS,
    note: "The dated table gives FI 24 % until 2024-08-31 and 25.5 % from 2024-09-01; the shop charged 24 %.",
    knownIssue: {
      where:
        "e-conomic `planProduct` in src/connectors/economic/economic.products.ts, Billy `taxRateIdFor` in src/connectors/billy/billy.tax.ts",
      wrong:
        "a line at the destination's standard rate of the order's date is mapped by country alone (`FI` → `oss-fi` / `tr-fi-255`, today's 25.5 %), and the configured `FI:2400` is ignored: e-conomic books 200.00 + 51.00 VAT = 251.00 DKK against 248.00 DKK paid (silently: its step does not compare e-conomic's total); Billy computes 251.00 DKK and the transfer fails",
      right:
        "prefer the rate-specific mapping: e-conomic `oss-fi-24` 200.00 × 1, Billy `tr-fi-24`; VAT 48.00, total 248.00 DKK = paid.",
    },
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: true,
      date: "2024-08-31",
      buyer: "aino",
      lines: [{ title: "T-shirt", sku: "TS-1", quantity: 1, price: "248.00", tax: "48.00", rate: 24 }],
      totalTax: "48.00",
      total: "248.00",
    },
    expect: {
      vatCase: "oss",
      currency: "DKK",
      invoice: {
        paid: "248.00",
        lines: [oss("T-shirt", "200.00", 24, "oss-fi-24", ["prod-ts1", "tr-fi-24"])],
        vatByRate: [{ rate: 24, net: "200.00", vat: "48.00" }],
        economic: { zone: 2, vat: "48.00", total: "248.00" },
        billy: { vat: "48.00", total: "248.00" },
      },
    },
  },
  {
    id: "C30",
    title: "OSS to Finland on the day its new rate applies (25.5 %)",
    topic: "eu",
    settings: OSS,
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: true,
      date: "2024-09-01",
      buyer: "aino",
      lines: [{ title: "T-shirt", sku: "TS-1", quantity: 1, price: "251.00", tax: "51.00", rate: 25.5 }],
      totalTax: "51.00",
      total: "251.00",
    },
    expect: {
      vatCase: "oss",
      currency: "DKK",
      invoice: {
        paid: "251.00",
        lines: [oss("T-shirt", "200.00", 25.5, "oss-fi", ["prod-ts1", "tr-fi-255"])],
        vatByRate: [{ rate: 25.5, net: "200.00", vat: "51.00" }],
        economic: { zone: 2, vat: "51.00", total: "251.00" },
        billy: { vat: "51.00", total: "251.00" },
      },
    },
  },
];
