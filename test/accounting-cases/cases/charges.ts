/** Fees, a gift card and a free order: what else ends up on the invoice. */
import type { AccountingCase } from "../case-types";
import { mug, shipping, tshirt } from "./shared";

export const chargeCases: AccountingCase[] = [
  {
    id: "C13",
    title: "A fee line: payment surcharge (WooCommerce)",
    topic: "charges",
    source: {
      shop: "woocommerce",
      currency: "DKK",
      pricesIncludeTax: false,
      buyer: "ane",
      lines: [
        {
          name: "Mug",
          sku: "MUG-1",
          quantity: 1,
          subtotal: "80.00",
          subtotalTax: "20.00",
          total: "80.00",
          totalTax: "20.00",
          rate: 25,
        },
      ],
      shipping: [{ name: "PostNord", total: "40.00", totalTax: "10.00", rate: 25 }],
      fees: [{ name: "Payment surcharge", total: "10.00", totalTax: "2.50", rate: 25 }],
      totalTax: "32.50",
      total: "162.50",
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: {
        paid: "162.50",
        lines: [
          mug("80.00"),
          shipping("PostNord", "40.00"),
          {
            text: "Payment surcharge",
            quantity: 1,
            unitNet: "10.00",
            rate: 25,
            economic: "fee",
            billy: ["prod-fee", "tr-dk-25"],
          },
        ],
        vatByRate: [{ rate: 25, net: "130.00", vat: "32.50" }],
        economic: { zone: 1, vat: "32.50", total: "162.50" },
        billy: { vat: "32.50", total: "162.50" },
      },
    },
  },
  {
    id: "C14",
    title: "A negative fee used as a discount (WooCommerce)",
    topic: "charges",
    source: {
      shop: "woocommerce",
      currency: "DKK",
      pricesIncludeTax: true,
      buyer: "ane",
      lines: [
        {
          name: "Mug",
          sku: "MUG-1",
          quantity: 1,
          subtotal: "80.00",
          subtotalTax: "20.00",
          total: "80.00",
          totalTax: "20.00",
          rate: 25,
        },
      ],
      fees: [{ name: "Loyalty discount", total: "-8.00", totalTax: "-2.00", rate: 25 }],
      totalTax: "18.00",
      total: "90.00",
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: {
        paid: "90.00",
        lines: [
          mug("80.00"),
          { text: "Loyalty discount", quantity: 1, unitNet: "-8.00", rate: 25, economic: "fee", billy: ["prod-fee", "tr-dk-25"] },
        ],
        vatByRate: [{ rate: 25, net: "72.00", vat: "18.00" }],
        economic: { zone: 1, vat: "18.00", total: "90.00" },
        billy: { vat: "18.00", total: "90.00" },
      },
    },
  },
  {
    id: "C15",
    title: "A gift card sold",
    topic: "charges",
    note: "A gift card is a voucher: no VAT when sold, on the gift card product/account.",
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: true,
      buyer: "ane",
      lines: [
        { title: "Gift card", quantity: 1, price: "500.00", tax: "0.00", giftCard: true },
        { title: "T-shirt", sku: "TS-1", quantity: 1, price: "199.00", tax: "39.80", rate: 25 },
      ],
      totalTax: "39.80",
      total: "699.00",
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: {
        paid: "699.00",
        lines: [
          {
            text: "Gift card",
            quantity: 1,
            unitNet: "500.00",
            rate: 0,
            economic: "giftcard",
            billy: ["prod-giftcard", "tr-none"],
          },
          tshirt("159.20"),
        ],
        vatByRate: [
          { rate: 0, net: "500.00", vat: "0.00" },
          { rate: 25, net: "159.20", vat: "39.80" },
        ],
        economic: { zone: 1, vat: "39.80", total: "699.00" },
        billy: { vat: "39.80", total: "699.00" },
      },
    },
  },
  {
    id: "C16",
    title: "A zero-total order (100 % discount)",
    topic: "charges",
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: true,
      buyer: "ane",
      discounts: [
        { kind: "order", code: "FREEBIE" },
        { kind: "shipping", code: "FREESHIP" },
      ],
      lines: [{ title: "T-shirt", sku: "TS-1", quantity: 1, price: "199.00", discount: "199.00", tax: "0.00", rate: 25 }],
      shipping: [{ title: "GLS", price: "49.00", discounted: "0.00", discountIndex: 1, tax: "0.00", rate: 25 }],
      totalTax: "0.00",
      total: "0.00",
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: {
        paid: "0.00",
        lines: [tshirt("0.00"), shipping("GLS", "0.00", false)],
        vatByRate: [{ rate: 25, net: "0.00", vat: "0.00" }],
        economic: { zone: 1, vat: "0.00", total: "0.00" },
        billy: { vat: "0.00", total: "0.00" },
      },
    },
  },
];
