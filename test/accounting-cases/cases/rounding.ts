/** Cents: uneven quantities, the threshold, VAT rounded per line or per total, half-up and half-even. */
import type { AccountingCase, ExpectedLine, WooOrderSpec } from "../case-types";

const noSku = (text: string, quantity: number, unitNet: string): ExpectedLine => ({
  text,
  quantity,
  unitNet,
  rate: 25,
  economic: "1",
  billy: ["prod-default", "tr-dk-25"],
});

/** Three pens at 10.01 excl. VAT: 2.5025 VAT each, 7.5075 on the total. */
const pens = (taxes: [string, string, string]) =>
  (["Pen, blue", "Pen, red", "Pen, green"] as const).map((title, i) => ({
    title,
    quantity: 1,
    price: "10.01",
    tax: taxes[i] as string,
    rate: 25,
  }));
const penLines = [noSku("Pen, blue", 1, "10.01"), noSku("Pen, red", 1, "10.01"), noSku("Pen, green", 1, "10.01")];

/** 4 tealights sold for 40.02 excl. VAT: a net unit price of 10.005, exactly half a cent. */
const tealights: WooOrderSpec = {
  shop: "woocommerce",
  currency: "DKK",
  pricesIncludeTax: false,
  buyer: "ane",
  lines: [
    { name: "Tealight", quantity: 4, subtotal: "40.02", subtotalTax: "10.01", total: "40.02", totalTax: "10.01", rate: 25 },
  ],
  totalTax: "10.01",
  total: "50.03",
};

export const roundingCases: AccountingCase[] = [
  {
    id: "C17",
    title: "A quantity that does not divide the line's amount (WooCommerce)",
    topic: "rounding",
    note: "100.00 for 3 is 33.333… a unit; 3 × 33.33 is 99.99, so a rounding line of 0.01 makes up the total.",
    source: {
      shop: "woocommerce",
      currency: "DKK",
      pricesIncludeTax: false,
      buyer: "ane",
      lines: [
        {
          name: "Tea sampler",
          quantity: 3,
          subtotal: "100.00",
          subtotalTax: "25.00",
          total: "100.00",
          totalTax: "25.00",
          rate: 25,
        },
      ],
      shipping: [{ name: "PostNord", total: "40.00", totalTax: "10.00", rate: 25 }],
      totalTax: "35.00",
      total: "175.00",
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: {
        paid: "175.00",
        lines: [
          noSku("Tea sampler", 3, "33.33"),
          {
            text: "PostNord",
            quantity: 1,
            unitNet: "40.00",
            rate: 25,
            economic: "shipping",
            billy: ["prod-shipping", "tr-dk-25"],
          },
        ],
        vatByRate: [{ rate: 25, net: "139.99", vat: "35.00" }],
        economic: { zone: 1, rounding: "0.01", vat: "35.00", total: "175.00" },
        billy: { rounding: "0.01", vat: "35.00", total: "175.00" },
      },
    },
  },
  {
    id: "C18",
    title: "A cents difference under the threshold becomes a rounding line",
    topic: "rounding",
    note: "7 × 14.99 incl. VAT is 83.94 net, 11.9914 a unit; 7 × 11.99 books 83.93 + 20.98 VAT. The 0.02 goes on the rounding line; the VAT booked is 0.01 below the 20.99 charged.",
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: true,
      buyer: "ane",
      lines: [{ title: "Candle", quantity: 7, price: "14.99", tax: "20.99", rate: 25 }],
      totalTax: "20.99",
      total: "104.93",
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: {
        paid: "104.93",
        lines: [noSku("Candle", 7, "11.99")],
        vatByRate: [{ rate: 25, net: "83.93", vat: "20.98" }],
        economic: { zone: 1, rounding: "0.02", vat: "20.98", total: "104.93" },
        billy: { rounding: "0.02", vat: "20.98", total: "104.93" },
      },
    },
  },
  {
    id: "C19",
    title: "A difference over the threshold: draft kept, transfer fails with both totals",
    topic: "rounding",
    note: "The shop's total is 5.00 above its lines (a charge outside the lines, such as a tip).",
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: true,
      buyer: "ane",
      lines: [{ title: "T-shirt", sku: "TS-1", quantity: 1, price: "199.00", tax: "39.80", rate: 25 }],
      shipping: [{ title: "GLS", price: "49.00", tax: "9.80", rate: 25 }],
      totalTax: "49.60",
      total: "253.00",
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: {
        paid: "253.00",
        lines: [
          { text: "T-shirt", quantity: 1, unitNet: "159.20", rate: 25, economic: "TS-1", billy: ["prod-ts1", "tr-dk-25"] },
          { text: "GLS", quantity: 1, unitNet: "39.20", rate: 25, economic: "shipping", billy: ["prod-shipping", "tr-dk-25"] },
        ],
        vatByRate: [{ rate: 25, net: "198.40", vat: "49.60" }],
        economic: { zone: 1, vat: "49.60", total: "248.00" },
        billy: { vat: "49.60", total: "248.00" },
        mismatch: { invoice: "248.00", paid: "253.00" },
      },
    },
  },
  {
    id: "C20",
    title: "The shop rounded VAT per line: e-conomic (per total) needs a rounding line, Billy (per line) none",
    topic: "rounding",
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: false,
      buyer: "ane",
      lines: pens(["2.50", "2.50", "2.50"]),
      totalTax: "7.50",
      total: "37.53",
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: {
        paid: "37.53",
        lines: penLines,
        vatByRate: [{ rate: 25, net: "30.03", vat: "7.51" }],
        economic: { zone: 1, rounding: "-0.01", vat: "7.51", total: "37.53" },
        billy: { vat: "7.50", total: "37.53" },
      },
    },
  },
  {
    id: "C21",
    title: "The shop rounded VAT per total: Billy (per line) needs a rounding line, e-conomic none",
    topic: "rounding",
    source: {
      shop: "shopify",
      currency: "DKK",
      pricesIncludeTax: false,
      buyer: "ane",
      lines: pens(["2.50", "2.50", "2.51"]),
      totalTax: "7.51",
      total: "37.54",
    },
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: {
        paid: "37.54",
        lines: penLines,
        vatByRate: [{ rate: 25, net: "30.03", vat: "7.51" }],
        economic: { zone: 1, vat: "7.51", total: "37.54" },
        billy: { rounding: "0.01", vat: "7.50", total: "37.54" },
      },
    },
  },
  {
    id: "C22",
    title: "Half a cent in a unit price, rounded half-up",
    topic: "rounding",
    note: "10.005 rounds up to 10.01: 4 × 10.01 = 40.04 books 0.02 too much net, taken back by the rounding line.",
    source: tealights,
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: {
        paid: "50.03",
        lines: [noSku("Tealight", 4, "10.01")],
        vatByRate: [{ rate: 25, net: "40.04", vat: "10.01" }],
        economic: { zone: 1, rounding: "-0.02", vat: "10.01", total: "50.03" },
        billy: { rounding: "-0.02", vat: "10.01", total: "50.03" },
      },
    },
  },
  {
    id: "C23",
    title: "Half a cent in a unit price, rounded half-even",
    topic: "rounding",
    settings: { roundingMode: "half-even" },
    note: "10.005 rounds to the even 10.00: 4 × 10.00 = 40.00 with 10.00 VAT, 0.03 on the rounding line; the VAT booked is 0.01 below the 10.01 charged.",
    source: tealights,
    expect: {
      vatCase: "domestic",
      currency: "DKK",
      invoice: {
        paid: "50.03",
        lines: [noSku("Tealight", 4, "10.00")],
        vatByRate: [{ rate: 25, net: "40.00", vat: "10.00" }],
        economic: { zone: 1, rounding: "0.03", vat: "10.00", total: "50.03" },
        billy: { rounding: "0.03", vat: "10.00", total: "50.03" },
      },
    },
  },
];
