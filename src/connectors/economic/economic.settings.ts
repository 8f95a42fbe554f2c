/**
 * Settings and credentials of the e-conomic connector, as zod schemas: the connection form, the
 * step forms and their API validation all come from here. The document steps (createInvoice,
 * createOrder, createCreditNote) share Orderly's accounting settings and add how the result is
 * mapped into e-conomic: customers, groups, terms, layouts, products and VAT zones.
 */
import { z } from "zod";
import { accountingSettingsSchema } from "../../domain/accounting/accounting-settings";
import { baseUrlSetting } from "../base-url";

export const DEFAULT_ECONOMIC_BASE_URL = "https://restapi.e-conomic.com";

export const economicConnectionSettings = z.object({
  baseUrl: baseUrlSetting(DEFAULT_ECONOMIC_BASE_URL, "Address of the e-conomic REST API."),
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

export const CUSTOMER_MATCH = ["email", "phone", "vatNumber", "customerNumber", "name", "ean", "namePostcode", "shared"] as const;
export type CustomerMatch = (typeof CUSTOMER_MATCH)[number];

const positiveInt = z.number().int().min(1);
/** e-conomic product numbers are strings of at most 25 characters. */
export const productNumberSchema = z.string().min(1).max(25);

/** A number that may differ for business and consumer buyers; the single-number setting is the fallback. */
function byBuyerKind(what: string) {
  return z
    .object({
      b2b: positiveInt.optional().describe(`${what} for business buyers (a VAT number or a company name).`),
      b2c: positiveInt.optional().describe(`${what} for consumers.`),
    })
    .optional()
    .describe(`${what} per kind of buyer; a kind left empty uses the single number above.`);
}

function productFor(what: string, fallback: string) {
  return productNumberSchema
    .default(fallback)
    .describe(`e-conomic product for ${what} (it must exist; its product group decides the account and VAT).`);
}

export const economicDocumentSettings = accountingSettingsSchema.extend({
  customerMatch: z
    .enum(CUSTOMER_MATCH)
    .default("email")
    .describe(
      "How an existing e-conomic customer is recognised: e-mail, phone, VAT/CVR number, customer number (numeric shop customer id), name, EAN, name and postcode together, or 'shared' (every order on one customer). A new customer is created when none matches.",
    ),
  sharedCustomerNumber: positiveInt
    .optional()
    .describe("The customer every order goes on when customer matching is 'shared' (e.g. a 'Webshop customers' account)."),
  customerGroupNumber: positiveInt.default(1).describe("Customer group new customers are created in."),
  customerGroups: byBuyerKind("Customer group of new customers"),
  paymentTermsNumber: positiveInt.default(1).describe("Payment terms of new customers and of the invoice."),
  paymentTerms: byBuyerKind("Payment terms"),
  layoutNumber: positiveInt.default(19).describe("Invoice layout (see Settings → Layouts in e-conomic)."),
  layouts: byBuyerKind("Layout"),
  vatZones: z
    .object({
      domestic: positiveInt.default(1).describe("VAT zone for buyers in the home country."),
      eu: positiveInt.default(2).describe("VAT zone for buyers in another EU member state (OSS, reverse charge)."),
      abroad: positiveInt.default(3).describe("VAT zone for buyers outside the EU (export)."),
    })
    .default({ domestic: 1, eu: 2, abroad: 3 })
    .describe("e-conomic VAT zone numbers of the agreement (read them from /vat-zones; 1, 2 and 3 are the usual ones)."),
  productNumber: productFor("order lines without a usable SKU", "1"),
  useSkuAsProductNumber: z
    .boolean()
    .default(true)
    .describe("Use a line's SKU as its e-conomic product number when it has one of at most 25 characters."),
  unknownSkuProductNumber: productNumberSchema
    .optional()
    .describe("Product used when a line's SKU is not a product in e-conomic (empty: the product for lines without a SKU)."),
  createMissingProducts: z
    .boolean()
    .default(false)
    .describe(
      "Create a product for a SKU e-conomic does not know, in the product group below, instead of using the default product.",
    ),
  productGroupNumber: positiveInt.optional().describe("Product group of products Orderly creates (needed to create products)."),
  shippingProductNumber: productFor("shipping lines", "shipping"),
  feeProductNumber: productFor("fees (handling, payment surcharges)", "fee"),
  giftCardProductNumber: productFor("gift cards sold (in a group without VAT: VAT is due on redemption)", "giftcard"),
  roundingProductNumber: productFor("the rounding line (the cents difference, without VAT)", "rounding"),
  dutiesProductNumber: productNumberSchema
    .optional()
    .describe(
      "e-conomic product for import duties passed on (Shopify's Duties line, without VAT), e.g. in a group booking to a customs liability or duties account (empty: the rounding product).",
    ),
  ossProducts: z
    .record(
      z.string().regex(/^[A-Z]{2}(:\d{1,5})?$/, "a country code such as DE, or DE:700 for a reduced rate"),
      productNumberSchema,
    )
    .default({})
    .describe(
      "One Stop Shop sales: the product per destination country whose group books that country's VAT, e.g. { DE: 'oss-de' }; 'DE:700' maps a 7% line.",
    ),
  reducedRateProducts: z
    .record(z.string().regex(/^\d{1,5}$/, "a rate in basis points such as 1200"), productNumberSchema)
    .default({})
    .describe(
      "Lines at another rate than the standard one: the product whose group books that rate, by basis points (e.g. { '0': 'exempt' }).",
    ),
  exchangeRateFromShop: z
    .boolean()
    .default(true)
    .describe(
      "For invoices in a foreign currency, write the exchange rate the webshop reported into the invoice instead of e-conomic's daily rate.",
    ),
  referencePrefix: z
    .string()
    .max(100)
    .optional()
    .describe(
      "Text written before Orderly's reference in the document's 'Other reference' field. Changing it while transfers are in flight makes them create a new document instead of finding the earlier one; a retry with the flow's current settings is refused for a step that already ran with another prefix.",
    ),
});
export type EconomicDocumentSettings = z.infer<typeof economicDocumentSettings>;

/**
 * createInvoice: the document settings, invoiceState included, and the payment terms that say an
 * invoice paid at checkout is paid. Kept here beside registerPayment's byGateway, as a step sees only
 * its own settings; registerPayment checks the booked invoice carries the terms it maps a gateway to.
 */
export const createInvoiceSettings = economicDocumentSettings.extend({
  paymentTermsByGateway: z
    .record(z.string().min(1), positiveInt)
    .default({})
    .describe(
      "Payment terms of the invoice per payment gateway as the shop names it (shopify_payments, mobilepay ...), e.g. 'Paid by card': used when the order is paid in full and every gateway that paid it is listed here with the same terms; otherwise the terms above. Match the gateways registerPayment maps to payment terms.",
    ),
});
export type CreateInvoiceSettings = z.infer<typeof createInvoiceSettings>;

/** createOrder: an order is never booked, so invoiceState does not apply. */
export const createOrderSettings = economicDocumentSettings.omit({ invoiceState: true });

export const bookInvoiceSettings = z.object({
  bookWithNumber: z
    .boolean()
    .default(false)
    .describe(
      "Book the invoice with the shop's order number as its invoice number (its digits: #1001 → 1001). Off lets e-conomic number it.",
    ),
});
export type BookInvoiceSettings = z.infer<typeof bookInvoiceSettings>;

export const cancelOrderSettings = z.object({});
