/**
 * `sendMail`: the one way Orderly sends an email. It validates the email, picks the provider (the
 * given mail connection, else the dev outbox), keeps attachments in R2, and records every email in
 * `mail_outbox`, sent or failed. The same (tenant, idempotency key) is never sent twice once it
 * was sent; a failed one may be sent again with the same key, and the caller decides when.
 */
import { and, eq, ne } from "drizzle-orm";
import { createHttpClient } from "../connectors/http";
import { database } from "../db/client";
import { mailOutbox } from "../db/schema";
import { asOrderlyError, OrderlyError } from "../domain/errors";
import { devOutboxProvider, isLocalDevelopment } from "./dev-outbox.provider";
import { MAX_IDEMPOTENCY_KEY_LENGTH, type MailProviderId, type OutgoingEmail, parseOutgoingEmail } from "./mail.types";
import { loadMailProvider } from "./mail-connection";

/** Deadline of one call to a mail provider. */
export const MAIL_TIMEOUT_MS = 15_000;
/** Header values that never reach a recorded exchange (Authorization is always redacted). */
const SECRET_HEADERS = ["x-postmark-server-token"];

export interface SendMailInput {
  tenantId: string;
  /** Stable per logical email (e.g. `invoice/<transfer>/<step>`); at most 256 characters. */
  idempotencyKey: string;
  email: OutgoingEmail;
  /** A Resend or Postmark connection of the tenant; without it the email goes to the dev outbox. */
  via?: { connectionId: string };
  /**
   * For an email that carries a one-time secret (a password-reset or invitation link). The outbox
   * row is read by every member and API token of the tenant, so it keeps only `summary` as its
   * text (and no HTML); the provider still gets the real email. In local development the dev
   * outbox keeps the real text, since there reading it is the only way to follow the link.
   */
  sensitive?: { summary: string };
}

export interface SendMailResult {
  /** The outbox row's id. */
  id: string;
  providerId: string;
  provider: MailProviderId;
  /** True when this key was already sent and nothing was sent now. */
  deduplicated: boolean;
}

type OutboxRow = typeof mailOutbox.$inferInsert;

export async function sendMail(env: Env, input: SendMailInput): Promise<SendMailResult> {
  const email = parseOutgoingEmail(input.email);
  const { tenantId, idempotencyKey } = input;
  if (!tenantId) throw invalid("A tenant is required to send email.");
  if (!idempotencyKey || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    throw invalid(`The idempotency key must have 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters.`);

  const db = database(env);
  const byKey = and(eq(mailOutbox.tenantId, tenantId), eq(mailOutbox.idempotencyKey, idempotencyKey));
  const existing = await db.select().from(mailOutbox).where(byKey).get();
  if (existing?.status === "sent") return deduplicated(existing);

  const provider = input.via ? await loadMailProvider(env, tenantId, input.via.connectionId) : devOutboxProvider();
  const id = existing?.id ?? `mail_${crypto.randomUUID()}`;
  const from = email.from ?? provider.defaultFrom;
  const attachments = await Promise.all(
    (email.attachments ?? []).map(async (a) => {
      const blobKey = `mail/${tenantId}/${id}/${a.filename}`;
      await env.BLOBS.put(blobKey, a.content, { httpMetadata: { contentType: a.contentType } });
      return { filename: a.filename, contentType: a.contentType, size: a.content.byteLength, blobKey };
    }),
  );
  const hidden = input.sensitive && !(provider.id === "dev" && isLocalDevelopment(env));
  const row: OutboxRow = {
    id,
    tenantId,
    idempotencyKey,
    provider: provider.id,
    fromAddress: from,
    toAddresses: email.to,
    subject: email.subject,
    text: hidden ? (input.sensitive?.summary ?? null) : (email.text ?? null),
    html: hidden ? null : (email.html ?? null),
    attachments: attachments.length > 0 ? attachments : null,
    status: "failed",
    providerId: null,
    error: null,
    createdAt: existing?.createdAt ?? Date.now(),
  };

  const http = createHttpClient({
    timeoutMs: MAIL_TIMEOUT_MS,
    vendor: provider.vendor,
    redact: SECRET_HEADERS,
    ...(provider.describeError ? { describeError: provider.describeError } : {}),
  });
  let providerId: string;
  try {
    ({ providerId } = await provider.send({ ...email, from }, { idempotencyKey, http }));
  } catch (cause) {
    const error = asOrderlyError(cause);
    await record({ ...row, status: "failed", error: error.message });
    throw error;
  }
  const recordedId = await record({ ...row, status: "sent", providerId });
  return { id: recordedId, providerId, provider: provider.id, deduplicated: false };

  /** Writes the row; never turns a row another attempt already marked sent back into failed. */
  async function record(values: OutboxRow): Promise<string> {
    const { id: _id, tenantId: _t, idempotencyKey: _k, createdAt: _c, ...changes } = values;
    const [written] = await db
      .insert(mailOutbox)
      .values(values)
      .onConflictDoUpdate({
        target: [mailOutbox.tenantId, mailOutbox.idempotencyKey],
        set: changes,
        setWhere: ne(mailOutbox.status, "sent"),
      })
      .returning({ id: mailOutbox.id });
    if (written) return written.id;
    const current = await db.select({ id: mailOutbox.id }).from(mailOutbox).where(byKey).get();
    return current?.id ?? values.id;
  }
}

function deduplicated(row: typeof mailOutbox.$inferSelect): SendMailResult {
  return { id: row.id, providerId: row.providerId ?? "", provider: row.provider as MailProviderId, deduplicated: true };
}

function invalid(message: string): OrderlyError {
  return new OrderlyError(message, { errorClass: "validation", code: "mail_invalid" });
}
