/**
 * Postmark (postmarkapp.com): a mail connection. It has no source and no step actions of its own;
 * Orderly's mail module (`src/mail/`) sends through it for invoice emails and alerts.
 */
import { z } from "zod";
import { MAX_MAILBOX_LENGTH, parseMailbox } from "../../mail/mail.address";
import { baseUrlSetting } from "../base-url";
import type { Connector } from "../contract";

export const DEFAULT_POSTMARK_BASE_URL = "https://api.postmarkapp.com";

export const postmarkSettings = z.object({
  baseUrl: baseUrlSetting(DEFAULT_POSTMARK_BASE_URL, "Address of the Postmark API."),
  from: z
    .string()
    .max(MAX_MAILBOX_LENGTH, `is longer than ${MAX_MAILBOX_LENGTH} characters`)
    .refine((s) => parseMailbox(s) !== null, {
      message: "is not an email address (use shop@example.dk or Shop <shop@example.dk>)",
    })
    .describe(
      "Sender of Orderly's emails: a confirmed Sender Signature or an address on a verified domain in Postmark, optionally with a display name.",
    ),
  messageStream: z
    .string()
    .trim()
    .min(1)
    .default("outbound")
    .describe("Postmark message stream to send through; `outbound` is the default transactional stream."),
});
export type PostmarkSettings = z.infer<typeof postmarkSettings>;

export const postmarkCredentials = z.object({
  serverToken: z
    .string()
    .trim()
    .min(1, "is required")
    .describe("Server API token of the Postmark server (API Tokens tab); sent as X-Postmark-Server-Token."),
});
export type PostmarkCredentials = z.infer<typeof postmarkCredentials>;

/** The Postmark mail connector: settings and credentials only (category "mail"). */
export const postmarkConnector: Connector<typeof postmarkSettings, typeof postmarkCredentials> = {
  id: "postmark",
  name: "Postmark",
  category: "mail",
  settings: postmarkSettings,
  credentials: postmarkCredentials,
};
