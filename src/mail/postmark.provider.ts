/**
 * Sending through Postmark: `POST {baseUrl}/email` with the `X-Postmark-Server-Token` header,
 * PascalCase fields, recipients as one comma-separated string, and base64 attachments.
 *
 * Postmark has no idempotency key. Every email carries Orderly's key as Postmark metadata instead,
 * so that before re-sending one whose first attempt's outcome is unknown (a timeout, a dropped
 * connection, a 5xx), `sendMail` asks Postmark's message search whether that attempt went out
 * (`findSent`) rather than deliver a second copy. (A D1 error on the "sent" write is no such case:
 * `sendMail` retries the write and never re-sends.)
 */

import { z } from "zod";
import type { PostmarkCredentials, PostmarkSettings } from "../connectors/postmark";
import { toBase64, toHex } from "../connectors/signatures";
import { OrderlyError } from "../domain/errors";
import { normaliseMailbox } from "./mail.address";
import { bareAddresses, type MailProvider, type MailSendContext, type OutgoingEmail } from "./mail.types";

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
  Metadata?: Record<string, string>;
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

/** The metadata field that carries Orderly's idempotency key; the message search filters on it. */
export const POSTMARK_KEY_FIELD = "orderly-key";
/**
 * Kept under Postmark's limit on a metadata value (80 characters, as we read it; the search did
 * not turn up the number): a metadata refusal would stop the email itself, for good.
 */
const MAX_METADATA_VALUE = 80;
/** Messages one search asks for: more than one only if an earlier duplicate already went out. */
const SEARCH_COUNT = 10;
/**
 * Postmark's test token: its sends are accepted but not kept, so a search could never find one;
 * with it a retry sends as before, without asking.
 */
export const POSTMARK_TEST_TOKEN = "POSTMARK_API_TEST";
/** The code of the retryable error when Postmark refuses the message search (401/403). */
export const MAIL_SEARCH_REFUSED = "mail_search_refused";

/**
 * The key as Postmark keeps it: itself when short and plain (readable in Postmark's activity
 * view), else `sha256-<hex>` (71 characters). Deterministic, so the search finds what the send set.
 */
export async function postmarkKeyValue(idempotencyKey: string): Promise<string> {
  if (idempotencyKey.length <= MAX_METADATA_VALUE && /^[\x21-\x7e]+$/.test(idempotencyKey)) return idempotencyKey;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(idempotencyKey));
  return `sha256-${toHex(new Uint8Array(digest))}`;
}

export function postmarkEmailBody(email: OutgoingEmail, settings: PostmarkSettings, keyValue?: string): PostmarkEmailBody {
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
    ...(keyValue ? { Metadata: { [POSTMARK_KEY_FIELD]: keyValue } } : {}),
  };
}

/**
 * The fields of Postmark's outbound message search (`GET /messages/outbound`) that tell whether a
 * message is the one sought. A hit counts only with the key in its `Metadata` and all recipients in
 * its `Recipients`; `MessageStream` and `Subject` are compared when present.
 */
const searchAnswer = z.object({
  TotalCount: z.number().optional(),
  Messages: z.array(
    z.object({
      MessageID: z.string().min(1),
      Recipients: z.array(z.string()).nullish(),
      Metadata: z.record(z.string(), z.unknown()).nullish(),
      MessageStream: z.string().nullish(),
      Subject: z.string().nullish(),
    }),
  ),
});

/** Postmark's error body is `{ ErrorCode, Message }`; the code pins down the cause (300 invalid request, 406 inactive recipient ...). */
export function describePostmarkError(_status: number, body: unknown): string | undefined {
  if (!body || typeof body !== "object") return typeof body === "string" && body ? body.slice(0, 300) : undefined;
  const { Message, ErrorCode } = body as PostmarkAnswer;
  if (typeof Message !== "string" || !Message) return undefined;
  return typeof ErrorCode === "number" ? `${Message} (ErrorCode ${ErrorCode})` : Message;
}

export function postmarkProvider(settings: PostmarkSettings, credentials: PostmarkCredentials): MailProvider {
  const base = settings.baseUrl.replace(/\/+$/, "");
  const url = `${base}/email`;
  const headers = { "x-postmark-server-token": credentials.serverToken };
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
          headers,
          json: postmarkEmailBody(email, settings, await postmarkKeyValue(ctx.idempotencyKey)),
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
    // The test token's sends are not kept: nothing to search.
    ...(credentials.serverToken === POSTMARK_TEST_TOKEN
      ? {}
      : { findSent: (email, ctx) => findSent(base, headers, settings.messageStream, email, ctx) }),
  };
}

/**
 * Asks Postmark's message search for an email under this key, in the connection's message stream
 * (the search covers only `outbound` without one), to all of `email.to`. Throws, as the HTTP client
 * classifies it, when the search fails; MAIL_SEARCH_REFUSED (retryable) on a 401/403, as the same
 * token sends; `mail_search_invalid` when its answer is not the documented shape.
 */
async function findSent(
  base: string,
  headers: Record<string, string>,
  messageStream: string,
  email: OutgoingEmail,
  ctx: MailSendContext,
): Promise<{ providerId: string; note?: string } | undefined> {
  const keyValue = await postmarkKeyValue(ctx.idempotencyKey);
  // No `recipient` filter: the key's metadata picks the message out alone, and the recipients are
  // compared below, case-insensitively (how the filter treats case is not documented).
  const query = new URLSearchParams({
    count: String(SEARCH_COUNT),
    offset: "0",
    messagestream: messageStream,
    [`metadata_${POSTMARK_KEY_FIELD}`]: keyValue,
  });
  const answer = await ctx.http.request<unknown>({
    method: "GET",
    url: `${base}/messages/outbound?${query}`,
    headers,
    accept: [401, 403],
  });
  if (answer.status === 401 || answer.status === 403)
    throw new OrderlyError(`Postmark refused the message search, answering ${answer.status}${describeRefusal(answer.body)}`, {
      errorClass: "unavailable",
      code: MAIL_SEARCH_REFUSED,
      details: answer.body,
    });
  const parsed = searchAnswer.safeParse(answer.body);
  if (!parsed.success)
    throw new OrderlyError("Postmark's message search answered without a list of messages with their MessageID.", {
      errorClass: "unavailable",
      code: "mail_search_invalid",
      details: parsed.error.issues.map((i) => ({ path: i.path, message: i.message })),
    });
  const wanted = bareAddresses(email.to);
  const hits = parsed.data.Messages.filter((message) => {
    if (message.Metadata?.[POSTMARK_KEY_FIELD] !== keyValue) return false;
    if (message.MessageStream && message.MessageStream !== messageStream) return false;
    if (!message.Recipients) return false;
    const got = new Set(bareAddresses(message.Recipients));
    // An earlier attempt to other recipients (the address corrected since) is no copy of this one.
    return wanted.every((address) => got.has(address));
  });
  const match = hits.find((message) => !message.Subject || message.Subject === email.subject) ?? hits[0];
  if (!match) return undefined;
  // Accepted under this key, it went out: only the words differ (the counts of a status report).
  return match.Subject && match.Subject !== email.subject
    ? {
        providerId: match.MessageID,
        note: `It went out with the subject "${match.Subject}" rather than "${email.subject}"; that one counts as sent under this key.`,
      }
    : { providerId: match.MessageID };
}

/** ": <Postmark's reason>" of a refused search, or nothing. */
function describeRefusal(body: unknown): string {
  const reason = describePostmarkError(401, body);
  return reason ? `: ${reason}` : "";
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
