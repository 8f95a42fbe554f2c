/**
 * The settings every case's steps share, and the e-conomic agreement and Billy company they run
 * against: products, product groups with their VAT, tax rates. A case adds only what it is about.
 */
import type { MockProductGroup } from "../mocks/economic.mock.state";
import { DEFAULT_PRODUCT_GROUPS } from "../mocks/economic.mock.state";

/** Both steps: book when the totals agree, a Danish merchant, a 1.00 cents threshold. */
export const SHARED_SETTINGS = {
  invoiceState: "booked",
  homeCountry: "DK",
  ossRegistered: false,
  roundingMode: "half-up",
  centsThreshold: "1.00",
  invoiceCurrency: "order",
} as const;

/** e-conomic adds VAT up over the whole invoice, so its step rounds per total. */
export const ECONOMIC_SETTINGS = {
  ...SHARED_SETTINGS,
  roundingBasis: "total",
  customerMatch: "email",
  vatZones: { domestic: 1, eu: 2, abroad: 3 },
  layoutNumber: 19,
  paymentTermsNumber: 1,
  customerGroups: { b2b: 2, b2c: 1 },
  paymentTerms: { b2b: 5 },
  layouts: { b2b: 21 },
  productNumber: "1",
  useSkuAsProductNumber: true,
  shippingProductNumber: "shipping",
  feeProductNumber: "fee",
  giftCardProductNumber: "giftcard",
  roundingProductNumber: "rounding",
  ossProducts: { DE: "oss-de", "DE:700": "oss-de-7", SE: "oss-se", FR: "oss-fr", FI: "oss-fi", "FI:2400": "oss-fi-24" },
  reducedRateProducts: {},
} as const;

/** Billy computes VAT on each line, so its step rounds per line. */
export const BILLY_SETTINGS = {
  ...SHARED_SETTINGS,
  roundingBasis: "line",
  customerMatch: "email",
  b2cPaymentTermsDays: 0,
  b2bPaymentTermsDays: 8,
  products: {
    default: "prod-default",
    shipping: "prod-shipping",
    fee: "prod-fee",
    giftCard: "prod-giftcard",
    rounding: "prod-rounding",
  },
  taxRates: {
    domestic: "tr-dk-25",
    euHomeVat: "tr-dk-25",
    reverseCharge: "tr-eu-rc",
    export: "tr-export",
    oss: { DE: "tr-de-19", SE: "tr-se-25", FR: "tr-fr-20", FI: "tr-fi-255" },
    noVat: "tr-none",
  },
  taxRatesByRate: { "DE:700": "tr-de-7", "FI:2400": "tr-fi-24" },
} as const;

/** Product groups of the e-conomic agreement: the mock books VAT at a group's rate in the zones listed. */
export const ECONOMIC_GROUPS: MockProductGroup[] = [
  ...DEFAULT_PRODUCT_GROUPS,
  { productGroupNumber: 11, name: "OSS Germany 7 %", vatRateBp: 700, vatZones: [2] },
  { productGroupNumber: 12, name: "OSS Sweden", vatRateBp: 2500, vatZones: [2] },
  { productGroupNumber: 13, name: "OSS France", vatRateBp: 2000, vatZones: [2] },
  { productGroupNumber: 14, name: "OSS Finland", vatRateBp: 2550, vatZones: [2] },
  { productGroupNumber: 15, name: "OSS Finland 24 %", vatRateBp: 2400, vatZones: [2] },
];

/** Products beside the defaults ("1", shipping, fee, giftcard, adjustment, rounding). */
export const ECONOMIC_PRODUCTS = [
  { productNumber: "TS-1", name: "T-shirt", productGroup: { productGroupNumber: 1 } },
  { productNumber: "MUG-1", name: "Mug", productGroup: { productGroupNumber: 1 } },
  { productNumber: "oss-de", name: "OSS Germany", productGroup: { productGroupNumber: 10 } },
  { productNumber: "oss-de-7", name: "OSS Germany 7 %", productGroup: { productGroupNumber: 11 } },
  { productNumber: "oss-se", name: "OSS Sweden", productGroup: { productGroupNumber: 12 } },
  { productNumber: "oss-fr", name: "OSS France", productGroup: { productGroupNumber: 13 } },
  { productNumber: "oss-fi", name: "OSS Finland", productGroup: { productGroupNumber: 14 } },
  { productNumber: "oss-fi-24", name: "OSS Finland 24 %", productGroup: { productGroupNumber: 15 } },
  // Shipping the shop charged no VAT on (Shopify's "charge tax on shipping" off), for reducedRateProducts["0"].
  { productNumber: "shipping-0", name: "Shipping without VAT", productGroup: { productGroupNumber: 2 } },
];

export const BILLY_PRODUCTS = [
  { id: "prod-default", name: "Webshop sale" },
  { id: "prod-shipping", name: "Shipping" },
  { id: "prod-fee", name: "Fees" },
  { id: "prod-giftcard", name: "Gift cards" },
  { id: "prod-rounding", name: "Rounding" },
  { id: "prod-ts1", name: "T-shirt", productNo: "TS-1" },
  { id: "prod-mug", name: "Mug", productNo: "MUG-1" },
];

/** Billy tax rate id → rate in basis points. */
export const BILLY_TAX_RATES: Record<string, number> = {
  "tr-dk-25": 2500,
  "tr-de-19": 1900,
  "tr-de-7": 700,
  "tr-se-25": 2500,
  "tr-fr-20": 2000,
  "tr-fi-255": 2550,
  "tr-fi-24": 2400,
  "tr-eu-rc": 0,
  "tr-export": 0,
  "tr-none": 0,
};

/** Customers that already exist: matched by VAT number, or the shared customer for consumers. */
export const EXISTING = {
  economicByVat: {
    customerNumber: 5001,
    name: "Nordisk Design ApS",
    corporateIdentificationNumber: "DK12345678",
    currency: "DKK",
    customerGroup: { customerGroupNumber: 2 },
    paymentTerms: { paymentTermsNumber: 5 },
    vatZone: { vatZoneNumber: 1 },
  },
  economicShared: {
    customerNumber: 9000,
    name: "Webshop customers",
    currency: "DKK",
    customerGroup: { customerGroupNumber: 1 },
    paymentTerms: { paymentTermsNumber: 1 },
    vatZone: { vatZoneNumber: 1 },
  },
  billyByVat: { id: "con-nordisk", type: "company", name: "Nordisk Design ApS", countryId: "DK", registrationNo: "DK12345678" },
  billyShared: { id: "con-webshop", type: "company", name: "Webshop customers", countryId: "DK" },
};
