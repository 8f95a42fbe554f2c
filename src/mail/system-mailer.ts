/**
 * The operator's own sender, for Orderly's account emails: password resets and invitations. Their
 * links sign in as, or join a tenant as, whoever reads them, so they never go through a tenant's
 * mail connection: a tenant's admins choose that connection's provider account and its `baseUrl`,
 * and would read the link of anyone whose email they asked for (another tenant's owner included).
 * The system sender is built from the Worker's own configuration and always calls the vendor's
 * official API address; nothing a tenant can edit takes part in it.
 */
import { z } from "zod";
import { DEFAULT_POSTMARK_BASE_URL } from "../connectors/postmark";
import { DEFAULT_RESEND_BASE_URL } from "../connectors/resend";
import { OrderlyError } from "../domain/errors";
import { parseMailbox } from "./mail.address";
import type { MailProvider } from "./mail.types";
import { postmarkProvider } from "./postmark.provider";
import { resendProvider } from "./resend.provider";

/**
 * `SYSTEM_MAIL_PROVIDER` and `SYSTEM_MAIL_FROM` are [vars] in wrangler.toml; `SYSTEM_MAIL_TOKEN` is
 * a secret (`wrangler secret put`), optional, so it is not among wrangler.toml's required secrets
 * and not in the generated `Env`.
 */
export interface SystemMailEnv {
  SYSTEM_MAIL_PROVIDER?: string;
  SYSTEM_MAIL_FROM?: string;
  SYSTEM_MAIL_TOKEN?: string;
}

const systemMailConfig = z.object({
  SYSTEM_MAIL_PROVIDER: z.enum(["postmark", "resend"], { message: "must be postmark or resend" }),
  SYSTEM_MAIL_FROM: z.string().refine((s) => parseMailbox(s) !== null, {
    message: "is not an email address (use Orderly <no-reply@example.com>)",
  }),
  SYSTEM_MAIL_TOKEN: z.string().min(1, "is not set (wrangler secret put SYSTEM_MAIL_TOKEN)"),
});

/**
 * The system sender, or null when the operator configured none (local development: the dev
 * outbox stands in). Any of the three settings given means the operator meant to configure one,
 * so a missing or wrong one throws, naming it, instead of falling back to the dev outbox in
 * silence (every reset and invitation would then reach no one).
 */
export function systemMailer(env: Env): MailProvider | null {
  const given = env as Env & SystemMailEnv;
  const values = {
    SYSTEM_MAIL_PROVIDER: (given.SYSTEM_MAIL_PROVIDER ?? "").trim().toLowerCase(),
    SYSTEM_MAIL_FROM: (given.SYSTEM_MAIL_FROM ?? "").trim(),
    SYSTEM_MAIL_TOKEN: (given.SYSTEM_MAIL_TOKEN ?? "").trim(),
  };
  if (!values.SYSTEM_MAIL_PROVIDER && !values.SYSTEM_MAIL_FROM && !values.SYSTEM_MAIL_TOKEN) return null;
  const parsed = systemMailConfig.safeParse(values);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ");
    throw new OrderlyError(
      `The system mail sender (for password resets and invitations) is not configured right: ${problems}. The operator sets it in the Worker's configuration.`,
      { errorClass: "validation", code: "system_mail_invalid" },
    );
  }
  const { SYSTEM_MAIL_PROVIDER: provider, SYSTEM_MAIL_FROM: from, SYSTEM_MAIL_TOKEN: token } = parsed.data;
  if (provider === "postmark")
    return postmarkProvider({ baseUrl: DEFAULT_POSTMARK_BASE_URL, from, messageStream: "outbound" }, { serverToken: token });
  return resendProvider({ baseUrl: DEFAULT_RESEND_BASE_URL, from }, { apiKey: token });
}
