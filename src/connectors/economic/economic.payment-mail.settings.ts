/** Settings of the e-conomic steps that follow an invoice: registering its payment and emailing it. */
import { z } from "zod";
import { validateTemplate } from "../../mail/templates";

const accountNumber = z.number().int().min(1);

const gatewayTarget = z.union([
  z
    .object({
      contraAccountNumber: accountNumber.describe("Bank or clearing account the gateway's money lands on (the contra account)."),
    })
    .strict(),
  z
    .object({
      paymentTermsNumber: accountNumber.describe(
        "Payment terms that say the invoice is paid by this method (e.g. 'Paid by card'): nothing is registered when the booked invoice carries them (give createInvoice the same terms in its paymentTermsByGateway); with other terms the step fails.",
      ),
    })
    .strict(),
]);

export const registerPaymentSettings = z.object({
  journalNumber: accountNumber.describe("Journal (kassekladde) the customer payment is entered in as a draft entry."),
  byGateway: z
    .record(z.string().min(1), gatewayTarget)
    .default({})
    .describe(
      "Per payment gateway as the shop names it (shopify_payments, quickpay, gift_card ...): the contra account its money lands on, or the payment terms the invoice carries when it is paid that way (nothing to register).",
    ),
  defaultContraAccountNumber: accountNumber
    .optional()
    .describe("Contra account for gateways not listed above; without it an unlisted gateway fails the step."),
});
export type RegisterPaymentSettings = z.infer<typeof registerPaymentSettings>;

/** Placeholders the invoice email templates may use. */
export const INVOICE_EMAIL_PLACEHOLDERS = ["order.number", "invoice.number", "customer.name", "order.total"] as const;

function template(fallback: string, what: string, max: number) {
  return z
    .string()
    .min(1)
    .max(max)
    .default(fallback)
    .superRefine((value, ctx) => {
      try {
        validateTemplate(value, INVOICE_EMAIL_PLACEHOLDERS);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: error instanceof Error ? error.message : String(error) });
      }
    })
    .describe(`${what}; may use ${INVOICE_EMAIL_PLACEHOLDERS.map((p) => `{{${p}}}`).join(", ")}.`);
}

export const sendInvoiceEmailSettings = z.object({
  subject: template("Invoice {{invoice.number}} for order {{order.number}}", "Subject of the email", 998),
  body: template(
    "Dear {{customer.name}},\n\nThank you for your order {{order.number}}. Attached is invoice {{invoice.number}} of {{order.total}}.\n",
    "Text of the email",
    20_000,
  ),
  mailConnection: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Resend or Postmark connection that sends the email. Required: without one the step fails (only local development keeps the email in Orderly's dev outbox).",
    ),
  to: z.enum(["customer"]).default("customer").describe("Who receives the invoice: the order's customer e-mail."),
});
export type SendInvoiceEmailSettings = z.infer<typeof sendInvoiceEmailSettings>;
