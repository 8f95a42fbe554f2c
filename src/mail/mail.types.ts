/**
 * The shape of an email Orderly sends, validated once at the edge of `sendMail`, and the provider
 * interface the dev outbox, Resend and Postmark implement.
 */
import { z } from "zod";
import type { HttpClient } from "../connectors/http";
import { OrderlyError } from "../domain/errors";
import { MAX_MAILBOX_LENGTH, parseMailbox } from "./mail.address";

export const MAX_RECIPIENTS = 50;
/** RFC 5322 caps a header line at 998 characters. */
export const MAX_SUBJECT_LENGTH = 998;
/**
 * Raw bytes over all attachments, whatever the provider. Base64 adds a third, so a provider whose
 * limit counts the encoded message (Postmark: 10 MB) is checked on its own (`checkProviderLimit`).
 */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
/** Resend's limit on an Idempotency-Key, applied to every provider so a key works everywhere. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/**
 * A subject built from words Orderly does not control (a connection's name may hold a newline):
 * every run of whitespace or control characters becomes one space and it is cut to the limit, so
 * the one-line rule below never refuses, for good, an alert that only quoted a name.
 */
export function oneLineSubject(subject: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes.
  const line = subject.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, " ").trim();
  if (line.length <= MAX_SUBJECT_LENGTH) return line;
  const cut = line.slice(0, MAX_SUBJECT_LENGTH);
  // Never end on half of a surrogate pair (an emoji in the name).
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut;
}

const mailbox = z
  .string()
  .max(MAX_MAILBOX_LENGTH, `is longer than ${MAX_MAILBOX_LENGTH} characters, so it is no email address`)
  .refine((s) => parseMailbox(s) !== null, {
    message: "is not an email address (use ane@example.dk or Ane Lund <ane@example.dk>)",
  });

/** Slashes would add R2 key segments; control characters break MIME headers. */
function unsafeInFileName(ch: string): boolean {
  const code = ch.charCodeAt(0);
  return ch === "/" || ch === "\\" || code < 32 || code === 127;
}

const attachmentSchema = z.object({
  filename: z
    .string()
    .min(1, "needs a file name")
    .max(255, "is longer than 255 characters")
    .refine((s) => s !== "." && s !== ".." && ![...s].some(unsafeInFileName), {
      message: "may not contain slashes or control characters",
    }),
  contentType: z
    .string()
    .regex(/^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*(?:\s*;.*)?$/, "is not a MIME type such as application/pdf"),
  // z.custom keeps the type `Uint8Array` (any backing buffer); z.instanceof would narrow it to ArrayBuffer.
  content: z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: "must be a Uint8Array of the file's bytes" }),
});

export const outgoingEmailSchema = z
  .object({
    from: mailbox.optional(),
    to: z.array(mailbox).min(1, "needs at least one recipient").max(MAX_RECIPIENTS, `has more than ${MAX_RECIPIENTS} recipients`),
    replyTo: mailbox.optional(),
    subject: z
      .string()
      .min(1, "is empty")
      .max(MAX_SUBJECT_LENGTH, `is longer than ${MAX_SUBJECT_LENGTH} characters`)
      .refine((s) => !/[\r\n]/.test(s), { message: "must be one line" }),
    text: z.string().optional(),
    html: z.string().optional(),
    attachments: z.array(attachmentSchema).optional(),
  })
  .superRefine((email, ctx) => {
    if (!email.text && !email.html)
      ctx.addIssue({ code: "custom", path: ["text"], message: "give a text or an html body (or both)" });
    const files = email.attachments ?? [];
    const bytes = files.reduce((sum, a) => sum + a.content.byteLength, 0);
    if (bytes > MAX_ATTACHMENT_BYTES)
      ctx.addIssue({
        code: "custom",
        path: ["attachments"],
        message: `total ${(bytes / 1048576).toFixed(1)} MiB, above the ${MAX_ATTACHMENT_BYTES / 1048576} MiB limit`,
      });
    const names = files.map((a) => a.filename);
    const repeated = names.filter((n, i) => names.indexOf(n) !== i);
    if (repeated.length > 0)
      ctx.addIssue({
        code: "custom",
        path: ["attachments"],
        message: `file names must differ (${[...new Set(repeated)].join(", ")})`,
      });
  });

/** An email to send: at least one of `text` and `html`; `from` defaults to the provider's sender. */
export type OutgoingEmail = z.infer<typeof outgoingEmailSchema>;
export type MailAttachment = z.infer<typeof attachmentSchema>;

/** Validates an email, throwing OrderlyError(validation) that names every problem. */
export function parseOutgoingEmail(input: unknown): OutgoingEmail {
  const result = outgoingEmailSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join(".") || "email"} ${issue.message}`);
  throw new OrderlyError(`The email cannot be sent: ${problems.join("; ")}.`, {
    errorClass: "validation",
    code: "mail_invalid",
    details: result.error.issues.map((i) => ({ path: i.path, message: i.message })),
  });
}

export type MailProviderId = "dev" | "resend" | "postmark";

/** The bare addresses, lower-cased, sorted and without repeats: a display name or order changes nothing. */
export function bareAddresses(to: readonly string[]): string[] {
  const addresses = to.map((mailbox) => (parseMailbox(mailbox)?.address ?? mailbox).trim().toLowerCase());
  return [...new Set(addresses)].sort();
}

/**
 * The code of the error a provider throws when its idempotency key was used before for an email
 * with other content (Resend's 409 `invalid_idempotent_request`): the first one was accepted, so
 * `sendMail` records the key as sent instead of failing it for good.
 */
export const MAIL_IDEMPOTENCY_MISMATCH = "mail_idempotency_mismatch";

/** Base64 length of `bytes` bytes (4 characters per 3 bytes, padded). */
function base64Length(bytes: number): number {
  return 4 * Math.ceil(bytes / 3);
}

/**
 * The email's size as a provider counts it: subject, bodies (UTF-8) and attachments after base64.
 * Headers and JSON punctuation are left out; they are a few hundred bytes.
 */
export function encodedEmailBytes(email: OutgoingEmail): number {
  const utf8 = new TextEncoder();
  const text = [email.subject, email.text ?? "", email.html ?? ""].reduce((sum, s) => sum + utf8.encode(s).byteLength, 0);
  return (email.attachments ?? []).reduce((sum, a) => sum + base64Length(a.content.byteLength), text);
}

const mb = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;

/**
 * Refuses, before anything is stored or sent, an email larger than the provider takes: sent, it
 * would only come back refused (Postmark's 413) after the attachment was kept.
 */
export function checkProviderLimit(email: OutgoingEmail, provider: Pick<MailProvider, "vendor" | "maxEmailBytes">): void {
  const limit = provider.maxEmailBytes;
  if (limit === undefined) return;
  const size = encodedEmailBytes(email);
  if (size <= limit) return;
  const files = (email.attachments ?? []).map((a) => `${a.filename} ${mb(a.content.byteLength)}`);
  throw new OrderlyError(
    `The email is ${mb(size)} once its attachments are base64-encoded, above ${provider.vendor}'s limit of ${mb(limit)} per email${files.length > 0 ? ` (attachments: ${files.join(", ")})` : ""}. Make the attachment smaller, or send through a mail connection whose provider takes more.`,
    { errorClass: "validation", code: "mail_too_large", details: { size, limit } },
  );
}

export interface MailSendContext {
  /** Stable for one logical email; Resend dedupes on it, Orderly's outbox does for every provider. */
  idempotencyKey: string;
  /** Outbound HTTP with a deadline and the error model (429/5xx retryable, other 4xx permanent). */
  http: HttpClient;
}

/** Something that delivers an email: the dev outbox, or a vendor behind a mail connection. */
export interface MailProvider {
  id: MailProviderId;
  /** Names the vendor in error messages ("Resend answered 422: ..."). */
  vendor: string;
  /** Sender used when the email names none (the connection's `from`). */
  defaultFrom: string;
  /** The vendor's limit on one email, counted after base64 (`encodedEmailBytes`); none if absent. */
  maxEmailBytes?: number;
  /** Turns the vendor's error body into a sentence a person can act on. */
  describeError?(status: number, body: unknown): string | undefined;
  /** Hands the email to the vendor; throws an OrderlyError classified as retryable or permanent. */
  send(email: OutgoingEmail, ctx: MailSendContext): Promise<{ providerId: string }>;
  /**
   * For a vendor without an idempotency key (Postmark): the id of an email it accepted earlier
   * under `ctx.idempotencyKey` to all of `email.to`, or undefined when it holds none; `note` says
   * how that one differs (another subject). `sendMail` asks only before re-sending after an
   * unknown outcome; throws when the vendor cannot tell.
   */
  findSent?(email: OutgoingEmail, ctx: MailSendContext): Promise<{ providerId: string; note?: string } | undefined>;
}
