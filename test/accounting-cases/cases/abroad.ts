/** Exports outside the EU: zero-rated, in the abroad VAT zone. */
import type { AccountingCase } from "../case-types";

export const abroadCases: AccountingCase[] = [
  {
    id: "C35",
    title: "Export to the United States: zero-rated",
    topic: "abroad",
    note: "The shop took the VAT out of its incl.-VAT prices for a buyer outside the EU.",
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: true,
      buyer: "sam",
      lines: [{ title: "T-shirt", sku: "TS-1", quantity: 1, price: "159.20", tax: "0.00" }],
      shipping: [{ title: "UPS", price: "80.00", tax: "0.00" }],
      totalTax: "0.00",
      total: "239.20",
    },
    expect: {
      vatCase: "export",
      currency: "DKK",
      invoice: {
        paid: "239.20",
        lines: [
          { text: "T-shirt", quantity: 1, unitNet: "159.20", rate: 0, economic: "TS-1", billy: ["prod-ts1", "tr-export"] },
          { text: "UPS", quantity: 1, unitNet: "80.00", rate: 0, economic: "shipping", billy: ["prod-shipping", "tr-export"] },
        ],
        vatByRate: [{ rate: 0, net: "239.20", vat: "0.00" }],
        economic: { zone: 3, vat: "0.00", total: "239.20" },
        billy: { vat: "0.00", total: "239.20" },
      },
    },
  },
  {
    id: "C36",
    title: "Export to Norway in NOK: zero-rated (WooCommerce)",
    topic: "abroad",
    source: {
      shop: "woocommerce",
      currency: "NOK",
      pricesIncludeTax: false,
      buyer: "ola",
      lines: [
        { name: "Wool blanket", quantity: 1, subtotal: "1200.00", subtotalTax: "0.00", total: "1200.00", totalTax: "0.00" },
      ],
      shipping: [{ name: "Posten", total: "150.00", totalTax: "0.00" }],
      totalTax: "0.00",
      total: "1350.00",
    },
    expect: {
      vatCase: "export",
      currency: "NOK",
      invoice: {
        paid: "1350.00",
        lines: [
          { text: "Wool blanket", quantity: 1, unitNet: "1200.00", rate: 0, economic: "1", billy: ["prod-default", "tr-export"] },
          {
            text: "Posten",
            quantity: 1,
            unitNet: "150.00",
            rate: 0,
            economic: "shipping",
            billy: ["prod-shipping", "tr-export"],
          },
        ],
        vatByRate: [{ rate: 0, net: "1350.00", vat: "0.00" }],
        economic: { zone: 3, vat: "0.00", total: "1350.00" },
        billy: { vat: "0.00", total: "1350.00" },
      },
    },
  },
];
