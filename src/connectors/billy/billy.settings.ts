/**
 * Settings and credentials of the Billy connector as zod schemas: the connection form, the step
 * forms and their API validation all come from here. Every Billy step that books a document extends
 * the shared accounting settings (VAT, rounding, threshold, draft or booked) with how the document
 * is mapped into Billy: contact, products and tax rates.
 */
import { z } from "zod";
import { accountingSettingsSchema } from "../../domain/accounting/accounting-settings";
import { validateTemplate } from "../../mail/templates";
import { baseUrlSetting } from "../base-url";

export const DEFAULT_BILLY_BASE_URL = "https://api.billysbilling.com/v2";

export const billyConnectionSettings = z.object({
  baseUrl: baseUrlSetting(DEFAULT_BILLY_BASE_URL, "Address of the Billy API (v2)."),
  organizationId: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Billy organization id, needed only when the token belongs to a user with several companies. A company access token (Settings → Access tokens) needs none.",
    ),
});
export type BillyConnectionSettings = z.infer<typeof billyConnectionSettings>;

export const billyCredentials = z.object({
  accessToken: z
    .string()
    .min(1)
    .describe(
      "Access token from Billy → Settings → Access tokens (sent as X-Access-Token). It belongs to one company and does not expire.",
    ),
});
export type BillyCredentials = z.infer<typeof billyCredentials>;

const billyId = z.string().min(1);
const country = z
  .string()
  .regex(/^[A-Z]{2}$/, "an ISO 3166-1 alpha-2 code such as DE")
  .describe("Destination country (ISO-2).");

/** How the document's lines become Billy lines: products and tax rates. Shared by invoices and credit notes. */
export const billyDocumentSettings = z.object({
  useSkuAsProduct: z
    .boolean()
    .default(true)
    .describe("Find each line's Billy product by the line's SKU (the product's product number)."),
  createMissingProducts: z
    .boolean()
    .default(false)
    .describe("Create a Billy product for a SKU Billy does not know, instead of booking the line on the default product."),
  products: z
    .object({
      default: billyId.optional().describe("Billy product for lines without a SKU, or whose SKU Billy does not know."),
      shipping: billyId.optional().describe("Billy product for shipping lines (falls back to the default product)."),
      fee: billyId.optional().describe("Billy product for fees charged on the order (falls back to the default product)."),
      giftCard: billyId.optional().describe("Billy product for gift cards sold (a voucher, booked on a liability account)."),
      rounding: billyId.optional().describe("Billy product for the cents-difference rounding line."),
      duties: billyId
        .optional()
        .describe(
          "Billy product for import duties passed on (Shopify's Duties line, without VAT), e.g. on a customs liability or duties account (falls back to the rounding product).",
        ),
    })
    .default({})
    .describe("Billy product ids for lines that are not looked up by SKU. Every Billy invoice line needs a product."),
  newProducts: z
    .object({
      accountId: billyId.optional().describe("Revenue account of products Orderly creates (Billy's default when empty)."),
      salesTaxRulesetId: billyId
        .optional()
        .describe("Sales tax ruleset of products Orderly creates (Billy's default when empty)."),
    })
    .default({})
    .describe("Account and sales tax ruleset given to products created for unknown SKUs."),
  taxRates: z
    .object({
      domestic: billyId.optional().describe("Billy tax rate for sales in the home country at its standard rate."),
      euHomeVat: billyId.optional().describe("Billy tax rate for EU consumer sales charged home VAT (not OSS registered)."),
      reverseCharge: billyId.optional().describe("Billy tax rate for EU business sales with a VAT number (reverse charge)."),
      export: billyId.optional().describe("Billy tax rate for sales outside the EU (zero-rated export)."),
      oss: z
        .record(country, billyId)
        .default({})
        .describe(
          "Billy tax rate per destination for One Stop Shop sales at the destination's standard rate, e.g. DE → its 19 % rate.",
        ),
      noVat: billyId.optional().describe("Billy tax rate without VAT for gift cards, rounding and duties lines."),
    })
    .default({ oss: {} })
    .describe(
      "Billy tax rate ids (taxRateId on each invoice line) for the VAT case Orderly decided. Billy keeps rates per line; its rulesets belong to products.",
    ),
  taxRatesByRate: z
    .record(z.string().regex(/^(?:[A-Z]{2}:)?\d{1,5}$/, 'basis points such as "1200", optionally by country: "DE:700"'), billyId)
    .default({})
    .describe(
      'Billy tax rates for reduced rates, by basis points ("1200" = 12 %), or by country and basis points for OSS ("DE:700").',
    ),
  exchangeRateFromShop: z
    .boolean()
    .default(true)
    .describe(
      "For invoices and credit notes in a foreign currency, send the exchange rate the webshop reported (Billy's exchangeRate) instead of letting Billy use the day's rate. Sent only when the shop's currency is the Billy company's base currency (read from Billy); otherwise Billy uses its day's rate.",
    ),
});
export type BillyDocumentSettings = z.infer<typeof billyDocumentSettings>;

/**
 * Billy computes VAT on each invoice line (each line carries its own `tax`), so its documents are
 * predicted per line; the shared default, once per rate on the total, is e-conomic's way.
 */
const billyRounding = {
  roundingBasis: z
    .enum(["line", "total"])
    .default("line")
    .describe("How the target rounds VAT: Billy rounds it on each line; use `total` only if Billy's totals show otherwise."),
};

export const CUSTOMER_MATCH = ["email", "phone", "vatNumber", "ean", "customerNumber", "namePostcode", "shared"] as const;
export type BillyCustomerMatch = (typeof CUSTOMER_MATCH)[number];

const termsDays = z.number().int().min(0).max(365);

export const createInvoiceSettings = accountingSettingsSchema.extend(billyDocumentSettings.shape).extend({
  ...billyRounding,
  customerMatch: z
    .enum(CUSTOMER_MATCH)
    .default("email")
    .describe(
      "How an existing Billy contact is recognised: e-mail (of its contact persons), phone, VAT/CVR number (registrationNo), EAN, the shop's customer number (contactNo), name and postcode, or one shared contact for every consumer order. A new contact is created when none matches.",
    ),
  sharedContactId: billyId
    .optional()
    .describe("With customer match 'shared': the Billy contact that receives every order without a company or VAT number."),
  b2bPaymentTermsDays: termsDays
    .default(8)
    .describe("Payment terms (days) of invoices to businesses and of new business contacts."),
  b2cPaymentTermsDays: termsDays.default(0).describe("Payment terms (days) of invoices to consumers, usually paid at checkout."),
});
export type CreateInvoiceSettings = z.infer<typeof createInvoiceSettings>;

export const createCreditNoteSettings = accountingSettingsSchema.extend(billyDocumentSettings.shape).extend({
  ...billyRounding,
  oneCreditNotePerInvoice: z
    .boolean()
    .default(false)
    .describe(
      "Keep one credit note per invoice: a later refund is added to the earlier credit note while it is a draft, and fails once that credit note is approved.",
    ),
});
export type CreateCreditNoteSettings = z.infer<typeof createCreditNoteSettings>;

export const registerPaymentSettings = z.object({
  byGateway: z
    .record(
      z.string().min(1),
      z.object({
        cashAccountId: billyId.describe("Billy account (payment-enabled) the gateway's money arrives in."),
        feeAccountId: billyId
          .optional()
          .describe(
            "Expense account for the gateway's fees, for payments that report a fee (sources do not report it per payment yet).",
          ),
      }),
    )
    .default({})
    .describe("Billy cash account per payment gateway as the shop names it (shopify_payments, quickpay, stripe, gift_card ...)."),
  defaultCashAccountId: billyId.optional().describe("Billy cash account for gateways without their own entry."),
  onlyWhenPaid: z
    .boolean()
    .default(true)
    .describe("Register nothing (and succeed) while the order has no paid payment, instead of failing."),
});
export type RegisterPaymentSettings = z.infer<typeof registerPaymentSettings>;

/** The placeholders an invoice e-mail may use. */
export const EMAIL_PLACEHOLDERS = ["order.number", "order.total", "customer.name", "invoice.number", "invoice.id"] as const;

const emailTemplate = (fallback: string, what: string) =>
  z
    .string()
    .min(1)
    .default(fallback)
    .superRefine((template, issue) => {
      try {
        validateTemplate(template, EMAIL_PLACEHOLDERS);
      } catch (error) {
        issue.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
      }
    })
    .describe(`${what}; placeholders: ${EMAIL_PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ")}.`);

export const sendInvoiceEmailSettings = z.object({
  subject: emailTemplate("Invoice {{invoice.number}} for order {{order.number}}", "Subject of the e-mail Billy sends"),
  body: emailTemplate(
    "Dear {{customer.name}},\n\nThank you for your order {{order.number}}. Your invoice {{invoice.number}} of {{order.total}} is attached.\n\nKind regards",
    "Text of the e-mail Billy sends with the invoice",
  ),
  contactPersonId: billyId
    .optional()
    .describe(
      "For flows whose invoices all go to one Billy contact: the contact person of that contact who receives every e-mail (an invoice of another contact fails). Empty sends each invoice to its contact's person with the order's e-mail.",
    ),
});
export type SendInvoiceEmailSettings = z.infer<typeof sendInvoiceEmailSettings>;

/** cancelOrder has nothing to set: it deletes the drafts earlier steps made and refuses approved invoices. */
export const cancelOrderSettings = z.object({});
export type CancelOrderSettings = z.infer<typeof cancelOrderSettings>;
