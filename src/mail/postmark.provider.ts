/**
 * Sending through Postmark: `POST {baseUrl}/email` with the `X-Postmark-Server-Token` header,
 * PascalCase fields, recipients as one comma-separated string, and base64 attachments.
 *
 * Postmark has no idempotency key. If Orderly crashes, or the answer is lost, after Postmark
 * accepted the email but before the outbox row says "sent", a retry sends it a second time.
 * We accept that: a rare duplicate invoice email is better than one that never arrives. (A D1
 * error on that "sent" write is no such case: `sendMail` retries the write and never re-sends.)
 */
import type { PostmarkCredentials, PostmarkSettings } from "../connectors/postmark";
import { toBase64 } from "../connectors/signatures";
import { OrderlyError } from "../domain/errors";
import { normaliseMailbox } from "./mail.address";
import type { MailProvider, OutgoingEmail } from "./mail.types";

/** The JSON body of Postmark's single-email call (the fields Orderly uses). */
export interface PostmarkEmailBody {
  From: string;
  To: string;
  Subject: string;
  ReplyTo?: string;
  TextBody?: string;
  HtmlBody?: string;
  MessageStream: string;
  Attachments?: Array<{ Name: string; Content: string; ContentType: string }>;
}

interface PostmarkAnswer {
  MessageID?: unknown;
  ErrorCode?: unknown;
  Message?: unknown;
}

/**
 * Postmark's API error codes (the `ErrorCode` of its answer) that pass with time: 100 maintenance,
 * 429 rate limit exceeded (documented both as an HTTP status and as an ErrorCode).
 */
const MAINTENANCE = 100;
const RATE_LIMITED = 429;
const TRANSIENT_CODES: ReadonlySet<number> = new Set([MAINTENANCE, RATE_LIMITED]);

/** Postmark refuses (413) an email over 10 MB, counted after base64, attachments included. */
export const POSTMARK_MAX_EMAIL_BYTES = 10_000_000;

export function postmarkEmailBody(email: OutgoingEmail, settings: PostmarkSettings): PostmarkEmailBody {
  return {
    From: normaliseMailbox(email.from ?? settings.from),
    To: email.to.map(normaliseMailbox).join(", "),
    Subject: email.subject,
    ...(email.replyTo ? { ReplyTo: normaliseMailbox(email.replyTo) } : {}),
    ...(email.text ? { TextBody: email.text } : {}),
    ...(email.html ? { HtmlBody: email.html } : {}),
    MessageStream: settings.messageStream,
    ...(email.attachments?.length
      ? {
          Attachments: email.attachments.map((a) => ({
            Name: a.filename,
            Content: toBase64(a.content),
            ContentType: a.contentType,
          })),
        }
      : {}),
  };
}

/** Postmark's error body is `{ ErrorCode, Message }`; the code pins down the cause (300 invalid request, 406 inactive recipient ...). */
export function describePostmarkError(_status: number, body: unknown): string | undefined {
  if (!body || typeof body !== "object") return typeof body === "string" && body ? body.slice(0, 300) : undefined;
  const { Message, ErrorCode } = body as PostmarkAnswer;
  if (typeof Message !== "string" || !Message) return undefined;
  return typeof ErrorCode === "number" ? `${Message} (ErrorCode ${ErrorCode})` : Message;
}

export function postmarkProvider(settings: PostmarkSettings, credentials: PostmarkCredentials): MailProvider {
  const url = `${settings.baseUrl.replace(/\/+$/, "")}/email`;
  return {
    id: "postmark",
    vendor: "Postmark",
    defaultFrom: settings.from,
    maxEmailBytes: POSTMARK_MAX_EMAIL_BYTES,
    describeError: describePostmarkError,
    async send(email, ctx) {
      let answer: { body: PostmarkAnswer | null };
      try {
        answer = await ctx.http.request<PostmarkAnswer | null>({
          method: "POST",
          url,
          headers: { "x-postmark-server-token": credentials.serverToken },
          json: postmarkEmailBody(email, settings),
        });
      } catch (error) {
        throw transient(error) ?? error;
      }
      const body = answer.body ?? {};
      // A 200 carries ErrorCode 0; anything else means the email was not accepted.
      if (typeof body.ErrorCode === "number" && body.ErrorCode !== 0) {
        const rejected = new OrderlyError(
          `Postmark did not accept the email: ${describePostmarkError(200, body) ?? "no reason given"}`,
          { errorClass: "validation", code: "outbound_rejected", details: body },
        );
        throw transient(rejected) ?? rejected;
      }
      if (typeof body.MessageID !== "string" || !body.MessageID)
        throw new OrderlyError("Postmark accepted the email but answered without a MessageID.", {
          errorClass: "internal",
          code: "mail_response_invalid",
          details: body,
        });
      return { providerId: body.MessageID };
    },
  };
}

/**
 * A refusal whose ErrorCode means "try later" is retryable, unlike other 422s: maintenance as
 * unavailable, the rate limit as rate_limited (so the connection's steps back off together).
 */
function transient(error: unknown): OrderlyError | undefined {
  if (!(error instanceof OrderlyError) || error.errorClass !== "validation") return undefined;
  const code = (error.details as PostmarkAnswer | undefined)?.ErrorCode;
  if (typeof code !== "number" || !TRANSIENT_CODES.has(code)) return undefined;
  const limited = code === RATE_LIMITED;
  return new OrderlyError(error.message, {
    errorClass: limited ? "rate_limited" : "unavailable",
    code: limited ? "outbound_rate_limited" : "outbound_unavailable",
    details: error.details,
    cause: error,
  });
}
