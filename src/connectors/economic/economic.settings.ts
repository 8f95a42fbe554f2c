/**
 * Settings and credentials of the e-conomic connector, as zod schemas: the connection form, the
 * step forms and their API validation all come from here.
 */
import { z } from "zod";

export const DEFAULT_ECONOMIC_BASE_URL = "https://restapi.e-conomic.com";

export const economicConnectionSettings = z.object({
  baseUrl: z
    .string()
    .url()
    .default(DEFAULT_ECONOMIC_BASE_URL)
    .describe("Address of the e-conomic REST API. Leave the default unless a sandbox, proxy or local mock stands in for it."),
});
export type EconomicConnectionSettings = z.infer<typeof economicConnectionSettings>;

export const economicCredentials = z.object({
  appSecretToken: z
    .string()
    .min(1)
    .describe("App secret token of the Orderly app in e-conomic's developer portal (sent as X-AppSecretToken)."),
  agreementGrantToken: z
    .string()
    .min(1)
    .describe(
      "Agreement grant token issued when the merchant approved the app for their e-conomic agreement (sent as X-AgreementGrantToken).",
    ),
});
export type EconomicCredentials = z.infer<typeof economicCredentials>;

export const CUSTOMER_MATCH = ["email", "phone", "vatNumber", "customerNumber", "name"] as const;
export type CustomerMatch = (typeof CUSTOMER_MATCH)[number];

const vatZoneNumber = z.number().int().min(1);

export const createInvoiceSettings = z.object({
  customerMatch: z
    .enum(CUSTOMER_MATCH)
    .default("email")
    .describe(
      "How an existing e-conomic customer is recognised: by e-mail, phone, VAT/CVR number, customer number (the shop's customer id must be numeric) or name. A new customer is created when none matches.",
    ),
  customerGroupNumber: z.number().int().min(1).default(1).describe("Customer group new customers are created in."),
  paymentTermsNumber: z.number().int().min(1).default(1).describe("Payment terms of new customers and of the invoice."),
  layoutNumber: z.number().int().min(1).default(19).describe("Invoice layout (see Settings → Layouts in e-conomic)."),
  vatZones: z
    .object({
      domestic: vatZoneNumber.default(1).describe("VAT zone for buyers in the home country."),
      eu: vatZoneNumber.default(2).describe("VAT zone for buyers in another EU member state."),
      abroad: vatZoneNumber.default(3).describe("VAT zone for buyers outside the EU."),
    })
    .default({ domestic: 1, eu: 2, abroad: 3 })
    .describe("e-conomic VAT zone numbers of the agreement (read them from /vat-zones; 1, 2 and 3 are the usual ones)."),
  homeCountry: z
    .string()
    .regex(/^[A-Z]{2}$/, "an ISO 3166-1 alpha-2 code such as DK")
    .default("DK")
    .describe("Country of the merchant's e-conomic agreement (ISO code), which decides the domestic VAT zone."),
  productNumber: z
    .string()
    .min(1)
    .max(25)
    .default("1")
    .describe("e-conomic product used for order lines without a usable SKU (the product must exist in e-conomic)."),
  useSkuAsProductNumber: z
    .boolean()
    .default(true)
    .describe("Use a line's SKU as its e-conomic product number when it has one of at most 25 characters."),
  shippingProductNumber: z
    .string()
    .min(1)
    .max(25)
    .default("shipping")
    .describe("e-conomic product used for shipping lines (the product must exist in e-conomic)."),
  referencePrefix: z
    .string()
    .max(100)
    .optional()
    .describe(
      "Text written before Orderly's reference in the invoice's 'Other reference' field. Changing it while transfers are in flight makes them create a new invoice instead of finding the earlier one.",
    ),
});
export type CreateInvoiceSettings = z.infer<typeof createInvoiceSettings>;

export const bookInvoiceSettings = z.object({
  bookWithNumber: z
    .boolean()
    .default(false)
    .describe(
      "Book the invoice with the shop's order number as its invoice number (its digits: #1001 → 1001). Off lets e-conomic number it.",
    ),
});
export type BookInvoiceSettings = z.infer<typeof bookInvoiceSettings>;
