/**
 * Settings every accounting step shares, whatever the target (e-conomic, Billy, the sandbox
 * ledger): how the invoice is booked, VAT, rounding and the cents-difference threshold, and the
 * currency. Each connector extends this schema with how it maps the result into its system.
 */
import { z } from "zod";

export const accountingSettingsSchema = z.object({
  invoiceState: z
    .enum(["draft", "booked"])
    .default("draft")
    .describe("Leave the invoice as a draft for a person to check, or book it at once (only when its totals match the order)."),
  homeCountry: z
    .string()
    .length(2)
    .toUpperCase()
    .default("DK")
    .describe("The merchant's country (ISO-2): sales here are domestic."),
  ossRegistered: z
    .boolean()
    .default(false)
    .describe("Registered for the EU One Stop Shop: B2C sales to other EU countries carry the destination's VAT."),
  roundingBasis: z
    .enum(["line", "total"])
    .default("total")
    .describe("How the target rounds VAT: on each line, or once per VAT rate on the invoice total."),
  roundingMode: z
    .enum(["half-up", "half-even"])
    .default("half-up")
    .describe("Rounding rule of the target's VAT and unit prices."),
  centsThreshold: z
    .string()
    .regex(/^\d+(\.\d+)?$/, "a decimal amount such as 1.00")
    .default("1.00")
    .describe(
      "A difference up to this amount (order currency) between the invoice and what the customer paid becomes a rounding line; above it the invoice stays a draft and the transfer fails.",
    ),
  invoiceCurrency: z
    .enum(["order", "shop"])
    .default("order")
    .describe(
      "Invoice in the currency the customer paid in, or converted to the shop's currency at the rate the webshop reported.",
    ),
});

export type AccountingSettings = z.infer<typeof accountingSettingsSchema>;
