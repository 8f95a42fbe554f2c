/**
 * Resend (resend.com): a mail connection. It has no source and no step actions of its own; Orderly's
 * mail module (`src/mail/`) sends through it for invoice emails and alerts.
 */
import { z } from "zod";
import { MAX_MAILBOX_LENGTH, parseMailbox } from "../../mail/mail.address";
import { baseUrlSetting } from "../base-url";
import type { Connector } from "../contract";

export const DEFAULT_RESEND_BASE_URL = "https://api.resend.com";

export const resendSettings = z.object({
  baseUrl: baseUrlSetting(DEFAULT_RESEND_BASE_URL, "Address of the Resend API."),
  from: z
    .string()
    .max(MAX_MAILBOX_LENGTH, `is longer than ${MAX_MAILBOX_LENGTH} characters`)
    .refine((s) => parseMailbox(s) !== null, {
      message: "is not an email address (use shop@example.dk or Shop <shop@example.dk>)",
    })
    .describe(
      "Sender of Orderly's emails, on a domain verified in Resend, optionally with a display name: Shop <invoices@shop.dk>.",
    ),
});
export type ResendSettings = z.infer<typeof resendSettings>;

export const resendCredentials = z.object({
  apiKey: z
    .string()
    .trim()
    .min(1, "is required")
    .describe("Resend API key (re_…) with sending access; sent as `Authorization: Bearer`."),
});
export type ResendCredentials = z.infer<typeof resendCredentials>;

/** The Resend mail connector: settings and credentials only (category "mail"). */
export const resendConnector: Connector<typeof resendSettings, typeof resendCredentials> = {
  id: "resend",
  name: "Resend",
  category: "mail",
  settings: resendSettings,
  credentials: resendCredentials,
};
