/**
 * Sending through Resend: `POST {baseUrl}/emails` with `Authorization: Bearer <key>` and an
 * `Idempotency-Key` header, so a retried send within Resend's 24-hour window returns the first
 * answer instead of delivering twice. Attachments travel as base64 `content` with their type.
 */
import type { ResendCredentials, ResendSettings } from "../connectors/resend";
import { toBase64 } from "../connectors/signatures";
import { OrderlyError } from "../domain/errors";
import { normaliseMailbox } from "./mail.address";
import { MAIL_IDEMPOTENCY_MISMATCH, type MailProvider, type OutgoingEmail } from "./mail.types";

/** Resend's documented limit: 40 MB per email, after base64 encoding of the attachments. */
export const RESEND_MAX_EMAIL_BYTES = 40_000_000;

/** The JSON body of Resend's send-email call (the fields Orderly uses). */
export interface ResendEmailBody {
  from: string;
  to: string[];
  subject: string;
  reply_to?: string;
  text?: string;
  html?: string;
  attachments?: Array<{ filename: string; content: string; content_type: string }>;
}

export function resendEmailBody(email: OutgoingEmail, defaultFrom: string): ResendEmailBody {
  return {
    from: normaliseMailbox(email.from ?? defaultFrom),
    to: email.to.map(normaliseMailbox),
    subject: email.subject,
    ...(email.replyTo ? { reply_to: normaliseMailbox(email.replyTo) } : {}),
    ...(email.text ? { text: email.text } : {}),
    ...(email.html ? { html: email.html } : {}),
    ...(email.attachments?.length
      ? {
          attachments: email.attachments.map((a) => ({
            filename: a.filename,
            content: toBase64(a.content),
            content_type: a.contentType,
          })),
        }
      : {}),
  };
}

/** Resend's error body is `{ statusCode, name, message }`; the message says which field is wrong. */
export function describeResendError(_status: number, body: unknown): string | undefined {
  if (!body || typeof body !== "object") return typeof body === "string" && body ? body.slice(0, 300) : undefined;
  const { message, name } = body as { message?: unknown; name?: unknown };
  if (typeof message !== "string" || !message) return undefined;
  return typeof name === "string" && name ? `${message} (${name})` : message;
}

export function resendProvider(settings: ResendSettings, credentials: ResendCredentials): MailProvider {
  const url = `${settings.baseUrl.replace(/\/+$/, "")}/emails`;
  return {
    id: "resend",
    vendor: "Resend",
    defaultFrom: settings.from,
    maxEmailBytes: RESEND_MAX_EMAIL_BYTES,
    describeError: describeResendError,
    async send(email, ctx) {
      let answer: { body: { id?: unknown } };
      try {
        answer = await ctx.http.request<{ id?: unknown }>({
          method: "POST",
          url,
          headers: { authorization: `Bearer ${credentials.apiKey}`, "idempotency-key": ctx.idempotencyKey },
          json: resendEmailBody(email, settings.from),
        });
      } catch (error) {
        throw idempotencyConflict(error) ?? error;
      }
      const id = answer.body?.id;
      if (typeof id !== "string" || !id)
        throw new OrderlyError("Resend accepted the email but answered without a message id.", {
          errorClass: "internal",
          code: "mail_response_invalid",
          details: answer.body,
        });
      return { providerId: id };
    },
  };
}

/**
 * Resend answers 409 in two cases that need opposite handling: the key is still being processed
 * (`concurrent_idempotent_requests`: wait and retry), or the key was used within 24 hours for an
 * email with other content (`invalid_idempotent_request`). The latter means an earlier attempt
 * under this key reached Resend (a retry after a timeout, the PDF's bytes or the template changed
 * since): sendMail records it as sent when that attempt's outcome was unknown and went to the same
 * recipients, and fails it as a conflict otherwise.
 */
function idempotencyConflict(error: unknown): OrderlyError | undefined {
  if (!(error instanceof OrderlyError) || error.errorClass !== "conflict") return undefined;
  const name = (error.details as { name?: unknown } | undefined)?.name;
  if (name === "concurrent_idempotent_requests")
    return new OrderlyError("Resend is still sending an email with this idempotency key; the send is retried shortly.", {
      errorClass: "unavailable",
      code: "mail_in_progress",
      retryAfterSeconds: 1,
      details: error.details,
      cause: error,
    });
  if (name === "invalid_idempotent_request")
    return new OrderlyError("Resend already accepted an email with this idempotency key, with other content than this one.", {
      errorClass: "conflict",
      code: MAIL_IDEMPOTENCY_MISMATCH,
      details: error.details,
      cause: error,
    });
  return undefined;
}
