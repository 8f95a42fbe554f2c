/**
 * `sendMail`: the one way Orderly sends an email. It validates the email, picks the provider (the
 * given mail connection or the system sender, else the dev outbox), keeps attachments in R2, and
 * records every email in `mail_outbox`, sent or failed: the row is written as failed before
 * anything can fail, so an email is never lost without a trace (the cron re-sends failed alert
 * rows). The same (tenant, idempotency key) is never sent twice once it was sent; a failed one may
 * be sent again with the same key, and the caller decides when.
 */

import { and, eq, ne } from "drizzle-orm";
import { createHttpClient } from "../connectors/http";
import { database } from "../db/client";
import { mailOutbox } from "../db/schema";
import { utcMinute } from "../domain/clock-text";
import { asOrderlyError, OrderlyError } from "../domain/errors";
import { devOutboxProvider, isLocalDevelopment } from "./dev-outbox.provider";
import {
  bareAddresses,
  checkProviderLimit,
  MAIL_IDEMPOTENCY_MISMATCH,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  type MailProvider,
  type MailProviderId,
  type MailSendContext,
  type OutgoingEmail,
  parseOutgoingEmail,
} from "./mail.types";
import { loadMailProvider } from "./mail-connection";
import { systemMailer } from "./system-mailer";

/** Deadline of one call to a mail provider (inside a queue step, no longer than the step's calls get). */
export const MAIL_TIMEOUT_MS = 15_000;
/**
 * Deadline of a retry's search for an earlier attempt (Postmark's message search): a read, short so
 * that search and send together stay well inside a step's time and the cron's re-send pass.
 */
export const MAIL_SEARCH_TIMEOUT_MS = 5_000;
/** Header values that never reach a recorded exchange (Authorization is always redacted). */
const SECRET_HEADERS = ["x-postmark-server-token"];

export interface SendMailInput {
  tenantId: string;
  /** Stable per logical email (e.g. `invoice/<transfer>/<step>`); at most 256 characters. */
  idempotencyKey: string;
  email: OutgoingEmail;
  /**
   * A Resend or Postmark connection of the tenant; `"system"` for the operator's own sender
   * (`systemMailer`), which account emails (resets, invitations) must use: a tenant's connection
   * is the tenant's to read. Without it, or with `"system"` where none is configured, the email
   * goes to the dev outbox (unless `requireDelivery`).
   */
  via?: { connectionId: string } | "system";
  /**
   * For an email someone must get (the tenant's alerts and reports): where, outside local
   * development, it would stop in the dev outbox, it is stored as failed with `reason` and the
   * error (`mail_no_provider`) thrown instead. Recorded as sent, it would never be sent again once
   * a provider is chosen, and no one would know it never left.
   */
  requireDelivery?: { reason: string };
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
  /** Something a person should know about how it was recorded (kept on the outbox row where it could be written). */
  note?: string;
}

type OutboxRow = typeof mailOutbox.$inferInsert;

/**
 * A queue step's time, for the calls it makes outside its connection's paced HTTP client (this
 * mail, an e-conomic PDF's bytes). The step's lease ends at `leaseUntil`; after it another dispatch
 * may run the step again, so a call that could outlast it is not started (or a re-sent step
 * e-mails the invoice twice). It travels on the env the step's action gets (`withStepTime`),
 * since the action passes only the env on to `sendMail`.
 */
export interface StepTime {
  leaseUntil: number;
  /** The deadline each call of the step gets. */
  callTimeoutMs: number;
  /** Waits for a call's slot at the target's gate and checks the lease: for calls to the target itself. */
  pace?: () => Promise<void>;
}

/** The code of the retryable error a step throws when its lease leaves no time for a call. */
export const STEP_OUT_OF_TIME = "step_out_of_time";

const stepTimes = new WeakMap<object, StepTime>();

/** The env for one step's action: the same bindings, carrying the step's time. */
export function withStepTime(env: Env, time: StepTime): Env {
  const stepEnv = Object.create(env) as Env;
  stepTimes.set(stepEnv, time);
  return stepEnv;
}

/**
 * Before a call made outside the paced client, with the deadline it would get: within a queue
 * step, the call's deadline shrinks to the step's per-call one, waits for its slot at the target's
 * gate when `target` (the call goes to the step's own connection), and is refused with
 * `step_out_of_time` (retryable) when it could end after the lease. Outside a step: `timeoutMs`.
 */
export async function beforeUnpacedCall(env: Env, timeoutMs: number, target = false): Promise<number> {
  const time = stepTimes.get(env);
  if (!time) return timeoutMs;
  const deadline = Math.min(timeoutMs, time.callTimeoutMs);
  if (target && time.pace) await time.pace();
  if (Date.now() + deadline > time.leaseUntil)
    throw new OrderlyError("The step ran out of its time slot before its last call; it runs again shortly.", {
      errorClass: "rate_limited",
      code: STEP_OUT_OF_TIME,
    });
  return deadline;
}

/** The code of the error `requireDelivery` throws: no provider would deliver the email. */
export const MAIL_NO_PROVIDER = "mail_no_provider";

/** The error a row carries from its first write until the provider answers; seen only if the send died in between. */
const NOT_SENT_YET = "Not sent yet: the attempt stopped before the mail provider answered; the next attempt sends it.";
/**
 * Ends the error of a failed row whose attempt may have reached the provider (no answer, a lost
 * connection, a 5xx, an answer without a message id): only such a row lets the provider's
 * "key already used" answer count as sent on a retry (earlierAttempt).
 */
const OUTCOME_UNKNOWN = "The mail provider may have accepted it before this error.";
const UNKNOWN_OUTCOME_CODES: ReadonlySet<string> = new Set([
  "outbound_timeout",
  "outbound_network",
  "outbound_unavailable",
  "mail_response_invalid",
]);
/**
 * The code of the retryable error when a provider without an idempotency key (Postmark) could not
 * say whether an earlier attempt went out: nothing was sent, and the row keeps its unknown outcome.
 */
export const MAIL_OUTCOME_UNCHECKED = "mail_outcome_unchecked";
const HOUR_MS = 3_600_000;
/**
 * Resend forgets an idempotency key after 24 hours; a retry after that sends again whatever the
 * first attempt did. A Postmark retry whose search keeps failing does the same from then on
 * (counted from the attempt that may have reached it, `attemptedAt`), rather than never send.
 */
export const UNCHECKED_SEND_AFTER_MS = 24 * HOUR_MS;
/**
 * ... but for the tenant's alerts and status reports, one hour: their retries stop six hours on
 * (TENANT_MAIL_RETRIED_FOR_MS), so a longer wait would lose them for good, and a duplicate alert
 * harms far less than a lost one.
 */
export const UNCHECKED_TENANT_MAIL_SEND_AFTER_MS = HOUR_MS;
/**
 * How long the tenant's alerts and status reports are tried again: resendFailedAlerts takes a
 * failed alert row for this long after its creation, the status report pass a report for this long
 * after its period ends (REPORT_CATCH_UP_MS). Kept here, as sendAnywayAt must end its wait inside it.
 */
export const TENANT_MAIL_RETRIED_FOR_MS = 6 * HOUR_MS;
/** The notification cron's interval (NOTIFY_CRON, every five minutes): the gap between two re-sends. */
export const NOTIFY_CRON_INTERVAL_MS = 5 * 60_000;
/**
 * A held alert or report is sent anyway this long before its retries end: with two cron runs still
 * inside the window, its last try is never the one that starts just after the window closed.
 */
const LAST_TRIES_MS = 2 * NOTIFY_CRON_INTERVAL_MS;
/** Keys of the tenant's alerts (whose failed rows the cron sends again) and status reports. */
const ALERT_KEY_PREFIX = "alert/";
const REPORT_KEY_PREFIX = "report/";

function isTenantMail(idempotencyKey: string): boolean {
  return idempotencyKey.startsWith(ALERT_KEY_PREFIX) || idempotencyKey.startsWith(REPORT_KEY_PREFIX);
}

/** How long after its attempt a retry whose search cannot tell sends anyway (see sendAnywayAt). */
export function uncheckedSendAfterMs(idempotencyKey: string): number {
  return isTenantMail(idempotencyKey) ? UNCHECKED_TENANT_MAIL_SEND_AFTER_MS : UNCHECKED_SEND_AFTER_MS;
}

/**
 * When a retry whose search cannot tell (it fails, or an empty answer is too fresh to believe)
 * sends anyway: the one place that decides it. uncheckedSendAfterMs after the attempt that may have
 * reached the provider; for an alert or report at the latest LAST_TRIES_MS before its retries end,
 * counted from the row's creation (an alert) or its period's end (a report, read from its key): an
 * alert failing for hours for a known reason whose attempt at 5h55m timed out is otherwise never
 * tried again.
 */
export function sendAnywayAt(idempotencyKey: string, earlier: { attemptedAt: number; createdAt: number }): number {
  const afterAttempt = earlier.attemptedAt + uncheckedSendAfterMs(idempotencyKey);
  if (!isTenantMail(idempotencyKey)) return afterAttempt;
  const retriedFrom = Math.min(earlier.createdAt, reportPeriodEnd(idempotencyKey) ?? earlier.createdAt);
  return Math.min(afterAttempt, retriedFrom + TENANT_MAIL_RETRIED_FOR_MS - LAST_TRIES_MS);
}

/** The period end a status report's key ends with (reportMailKey: `report/<tenant>/<schedule>/<ISO end>`). */
function reportPeriodEnd(idempotencyKey: string): number | undefined {
  if (!idempotencyKey.startsWith(REPORT_KEY_PREFIX)) return undefined;
  const end = idempotencyKey.slice(idempotencyKey.lastIndexOf("/") + 1);
  const at = /^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(end) ? Date.parse(end) : Number.NaN;
  return Number.isFinite(at) ? at : undefined;
}
/**
 * A search that finds nothing is believed only this long after the attempt it looks for: sooner,
 * the attempt (a timeout's) may still be on its way in, or not yet listed by the search.
 */
export const SEARCH_SETTLE_MS = 2 * 60_000;

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

  const earlier = earlierAttempt(existing, email.to);
  const id = existing?.id ?? `mail_${crypto.randomUUID()}`;
  const files = (email.attachments ?? []).map((a) => ({ ...a, blobKey: `mail/${tenantId}/${id}/${a.filename}` }));
  const row: OutboxRow = {
    id,
    tenantId,
    idempotencyKey,
    provider: existing?.provider ?? (input.via ? "unknown" : "dev"),
    fromAddress: email.from ?? existing?.fromAddress ?? "",
    toAddresses: email.to,
    subject: email.subject,
    // Hidden until the provider is known: only the dev outbox under local development shows it.
    text: input.sensitive ? input.sensitive.summary : (email.text ?? null),
    html: input.sensitive ? null : (email.html ?? null),
    attachments:
      files.length > 0
        ? files.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.content.byteLength, blobKey: a.blobKey }))
        : null,
    status: "failed",
    providerId: null,
    error: NOT_SENT_YET,
    createdAt: existing?.createdAt ?? Date.now(),
    // Should the Worker die from here on, the attempt may have reached the provider: counted as one.
    attemptedAt: Date.now(),
  };
  // The attempt that may have handed this email over before, as a retry's search sees it.
  const earlierAt = existing?.attemptedAt ?? existing?.createdAt ?? Date.now();
  // Until this attempt calls the provider's send, the row keeps the earlier attempt's time.
  const keptAttemptedAt = existing?.attemptedAt ?? null;
  // The row comes first: whatever fails below (the mail connection, R2, the provider), the email
  // is on record as failed with the reason, where the UI shows it and the cron can send it again.
  await record(env, row);

  let provider: MailProvider;
  let providerId: string;
  let reached = false;
  // The provider can be asked whether an earlier attempt went out (Postmark's search): see mayHold.
  let searchable = false;
  try {
    provider =
      input.via === "system"
        ? (systemMailer(env) ?? devOutboxProvider())
        : input.via
          ? await loadMailProvider(env, tenantId, input.via.connectionId)
          : devOutboxProvider();
    if (provider.id === "dev" && input.requireDelivery && !isLocalDevelopment(env)) {
      row.provider = "none";
      throw new OrderlyError(input.requireDelivery.reason, { errorClass: "validation", code: MAIL_NO_PROVIDER });
    }
    row.provider = provider.id;
    searchable = provider.findSent !== undefined;
    row.fromAddress = email.from ?? provider.defaultFrom;
    if (input.sensitive && provider.id === "dev" && isLocalDevelopment(env)) {
      row.text = email.text ?? null;
      row.html = email.html ?? null;
    }
    checkProviderLimit(email, provider);
    for (const a of files) await env.BLOBS.put(a.blobKey, a.content, { httpMetadata: { contentType: a.contentType } });
    // The dev outbox calls nothing; a provider's call must end inside a queue step's lease.
    const timeoutMs = provider.id === "dev" ? MAIL_TIMEOUT_MS : await beforeUnpacedCall(env, MAIL_TIMEOUT_MS);
    const http = createHttpClient({
      timeoutMs,
      vendor: provider.vendor,
      redact: SECRET_HEADERS,
      ...(provider.describeError ? { describeError: provider.describeError } : {}),
    });
    const ctx = { idempotencyKey, http };
    // Only a retry after an unknown outcome pays for the search (Resend's key makes it needless),
    // and only when that attempt went to everyone this one goes to: one to other addresses (since
    // corrected) cannot have delivered this email.
    if (earlier !== "none" && provider.findSent && existing && reachedAll(existing.toAddresses, email.to)) {
      const search = createHttpClient({
        timeoutMs: Math.min(timeoutMs, MAIL_SEARCH_TIMEOUT_MS),
        vendor: provider.vendor,
        redact: SECRET_HEADERS,
        ...(provider.describeError ? { describeError: provider.describeError } : {}),
      });
      const sendAnyway = sendAnywayAt(idempotencyKey, { attemptedAt: earlierAt, createdAt: row.createdAt ?? earlierAt });
      const found = await sentEarlier(
        provider,
        { ...email, from: row.fromAddress },
        { idempotencyKey, http: search },
        { since: earlierAt, sendAnyway },
      );
      if (found) {
        const note = `${provider.vendor} already accepted this email from an earlier attempt whose answer was lost (message ${found.providerId}); it was not sent again.${found.note ? ` ${found.note}` : ""}`;
        const id = await recordSent(env, {
          ...row,
          status: "sent",
          providerId: found.providerId,
          error: note,
          attemptedAt: keptAttemptedAt,
        });
        return { id, providerId: found.providerId, provider: provider.id, deduplicated: true, note };
      }
      // The search took part of the step's time: the send must still end inside the lease.
      await beforeUnpacedCall(env, MAIL_TIMEOUT_MS);
    }
    row.attemptedAt = Date.now();
    reached = true;
    ({ providerId } = await provider.send({ ...email, from: row.fromAddress }, ctx));
  } catch (cause) {
    let error = asOrderlyError(cause);
    if (error.code === MAIL_IDEMPOTENCY_MISMATCH) {
      if (earlier === "same") {
        // The provider holds this email as an earlier attempt sent it: it went out, and a failure
        // here would only be retried after the provider forgets the key, into a second copy.
        const note = `${error.message} That one counts as sent under this key; this version was not sent.`;
        const id = await recordSent(env, { ...row, status: "sent", providerId: null, error: note });
        return { id, providerId: "", provider: row.provider as MailProviderId, deduplicated: true, note };
      }
      error = unconfirmedEarlier(error, existing, earlier);
    }
    // The provider may hold this email (to these recipients) after this attempt, or still from an
    // earlier one. After an unknown outcome the row is marked so, unless an earlier attempt went to
    // others through a provider with a key (Resend): that one would refuse this attempt, and a later
    // "key used" would wrongly count as sent. A provider that is searched instead (Postmark) may
    // well hold this attempt: unmarked, the next retry would send to these recipients unchecked.
    // MAIL_NO_PROVIDER's text stays as it is: the status report compares it.
    const unknown = error.errorClass === "timeout" || UNKNOWN_OUTCOME_CODES.has(error.code ?? "");
    const mayHold =
      (earlier === "same" && error.code !== MAIL_NO_PROVIDER) ||
      (unknown && (earlier !== "other" || searchable)) ||
      error.code === MAIL_OUTCOME_UNCHECKED;
    await record(env, {
      ...row,
      status: "failed",
      error: mayHold ? `${error.message} ${OUTCOME_UNKNOWN}` : error.message,
      attemptedAt: reached ? row.attemptedAt : keptAttemptedAt,
    });
    throw error;
  }
  const recordedId = await recordSent(env, { ...row, status: "sent", providerId, error: null });
  return { id: recordedId, providerId, provider: provider.id, deduplicated: false };
}

/**
 * Whether the provider may hold an email under this key from an earlier attempt (its row left
 * mid-send, or failed without knowing the outcome), to the same recipients as this one or to
 * others. Only "same" lets the provider's "key used with other content" count as sent: a retry
 * whose `to` changed since (the customer's address corrected in the shop) would otherwise be
 * recorded as sent while the corrected address never got it.
 */
function earlierAttempt(existing: typeof mailOutbox.$inferSelect | undefined, to: readonly string[]): "same" | "other" | "none" {
  if (!existing?.error || (existing.error !== NOT_SENT_YET && !existing.error.endsWith(OUTCOME_UNKNOWN))) return "none";
  const before = bareAddresses(existing.toAddresses);
  const now = bareAddresses(to);
  return before.length === now.length && before.every((address, i) => address === now[i]) ? "same" : "other";
}

/** Whether an earlier attempt went to every recipient of this one (the same ones, or more). */
function reachedAll(before: readonly string[], now: readonly string[]): boolean {
  const earlier = new Set(bareAddresses(before));
  return bareAddresses(now).every((address) => earlier.has(address));
}

/**
 * Asks a provider without an idempotency key whether an earlier attempt (begun at `since`) reached
 * it. Nothing is sent blind before `sendAnyway` (sendAnywayAt): while the search fails, a retryable
 * MAIL_OUTCOME_UNCHECKED, and an empty answer counts only SEARCH_SETTLE_MS after that attempt
 * (before, MAIL_OUTCOME_UNCHECKED too); from then on the email is sent, as a Resend retry would be.
 */
async function sentEarlier(
  provider: MailProvider,
  email: OutgoingEmail,
  ctx: MailSendContext,
  times: { since: number; sendAnyway: number },
): Promise<{ providerId: string; note?: string } | undefined> {
  const { since, sendAnyway } = times;
  let found: { providerId: string; note?: string } | undefined;
  try {
    found = await provider.findSent?.(email, ctx);
  } catch (cause) {
    const error = asOrderlyError(cause);
    if (Date.now() >= sendAnyway) {
      console.warn("mail provider's search failed past the window; sending again, a duplicate is possible", {
        vendor: provider.vendor,
        idempotencyKey: ctx.idempotencyKey,
        error: error.message,
      });
      return undefined;
    }
    // Retryable whatever the search's error (a refused search too: the same token sends): only
    // time ends the wait, never a dead letter for a search.
    throw new OrderlyError(
      `An earlier attempt may have reached ${provider.vendor}, and its message search could not say whether it went out: ${error.message.replace(/\.$/, "")}. So it was not sent again; ${whatHappensNext(ctx.idempotencyKey, since, sendAnyway)}`,
      {
        errorClass: error.errorClass === "rate_limited" ? "rate_limited" : "unavailable",
        code: MAIL_OUTCOME_UNCHECKED,
        ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
        details: error.details,
        cause: error,
      },
    );
  }
  const waitMs = since + SEARCH_SETTLE_MS - Date.now();
  // Past sendAnyway an alert's last tries are running out: a fresh empty answer is taken as it is.
  if (!found && waitMs > 0 && Date.now() < sendAnyway)
    throw new OrderlyError(
      `An earlier attempt may have reached ${provider.vendor} moments ago, and its message search does not list it yet, so nothing was sent now; the search is repeated shortly, and the email is sent if it still finds nothing.`,
      { errorClass: "unavailable", code: MAIL_OUTCOME_UNCHECKED, retryAfterSeconds: Math.ceil(waitMs / 1000) },
    );
  return found;
}

/**
 * What becomes of an email held back because the search cannot tell, as it really goes: the
 * tenant's alerts and reports are tried again by the cron and sent anyway at `sendAnyway`; any other
 * email is a queue step's (the invoice e-mail), whose retries end in a failed transfer long before
 * 24 hours, so only a person's retry of it can reach that time.
 */
function whatHappensNext(idempotencyKey: string, since: number, sendAnyway: number): string {
  const at = `${utcMinute(sendAnyway)} UTC`;
  const hours = uncheckedSendAfterMs(idempotencyKey) / HOUR_MS;
  const afterAttempt = `${hours} ${hours === 1 ? "hour" : "hours"} after that attempt`;
  if (isTenantMail(idempotencyKey)) {
    const why =
      sendAnyway < since + uncheckedSendAfterMs(idempotencyKey) ? "shortly before Orderly stops re-sending it" : afterAttempt;
    return `Orderly tries again at its next cron runs, and if the search still cannot tell, sends it anyway from ${at} (${why}), as a duplicate is better than a lost alert.`;
  }
  return `the step is retried with backoff and, if the search still cannot tell, ends as a failed transfer for a person to retry. A retry from ${at} on (${afterAttempt}) sends it even if the search still cannot tell; a retry before then sends it only if the search finds nothing.`;
}

/** The provider's "key used with other content", when this attempt cannot count it as sent. */
function unconfirmedEarlier(
  error: OrderlyError,
  existing: typeof mailOutbox.$inferSelect | undefined,
  earlier: "other" | "none",
): OrderlyError {
  const why =
    earlier === "other" && existing
      ? `It may have gone to other recipients (an earlier attempt was to ${existing.toAddresses.join(", ")})`
      : "Orderly has no earlier attempt on record that may have sent it";
  return new OrderlyError(
    `${error.message} ${why}, so this email was not sent and is not counted as sent: its recipients may never have got it. Send it to them by hand, or retry after about 24 hours, when the provider has forgotten the key.`,
    { errorClass: "conflict", code: MAIL_IDEMPOTENCY_MISMATCH, details: error.details, cause: error },
  );
}

/** Tries of the "sent" write after the provider accepted, and the wait before each further one. */
const SENT_WRITE_TRIES = 3;
const SENT_WRITE_BACKOFF_MS = 100;

/**
 * Writes the row as sent once the provider has the email, retrying in place: thrown, the write's
 * failure would make the caller send again, a certain duplicate through Postmark (no idempotency
 * key). Still failing, an alert throws as before (the cron sends failed alerts again anyway); any
 * other email is reported sent with a warning, its row left unsent: the cron re-sends only alert
 * rows, and a step keeps its result (`prior`), so the email is not sent twice. (The status-report
 * pass does send a report again whose row is not sent, within its catch-up window.)
 */
async function recordSent(env: Env, values: OutboxRow): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await record(env, values);
    } catch (error) {
      if (attempt < SENT_WRITE_TRIES) {
        await new Promise((resolve) => setTimeout(resolve, SENT_WRITE_BACKOFF_MS * attempt));
        continue;
      }
      if (values.idempotencyKey.startsWith(ALERT_KEY_PREFIX)) throw error;
      console.warn("mail sent, but the outbox could not record it as sent; it is not sent again", {
        tenantId: values.tenantId,
        idempotencyKey: values.idempotencyKey,
        providerId: values.providerId,
        error: String(error),
      });
      return values.id;
    }
  }
}

/** Writes the row; never turns a row another attempt already marked sent back into failed. */
async function record(env: Env, values: OutboxRow): Promise<string> {
  const db = database(env);
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
  const current = await db
    .select({ id: mailOutbox.id })
    .from(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, values.tenantId), eq(mailOutbox.idempotencyKey, values.idempotencyKey)))
    .get();
  return current?.id ?? values.id;
}

/**
 * Records an email that could not even be handed to `sendMail` (the tenant has no alert address,
 * or its settings could not be read) as a failed outbox row with the reason, so the failure is
 * visible in the outbox and a failed alert is tried again by the cron. A sent row is left alone.
 * With `ifAbsent`, any row under the key is left alone: a failed row `sendMail` wrote keeps its
 * own words and error, and only an email that left no row at all is recorded.
 */
export async function recordUnsentMail(
  env: Env,
  input: {
    tenantId: string;
    idempotencyKey: string;
    to: string[];
    subject: string;
    text?: string;
    html?: string;
    reason: string;
  },
  options: { ifAbsent?: boolean } = {},
): Promise<void> {
  const row: OutboxRow = {
    id: `mail_${crypto.randomUUID()}`,
    tenantId: input.tenantId,
    idempotencyKey: input.idempotencyKey.slice(0, MAX_IDEMPOTENCY_KEY_LENGTH),
    provider: "none",
    fromAddress: "",
    toAddresses: input.to,
    subject: input.subject,
    text: input.text ?? null,
    html: input.html ?? null,
    attachments: null,
    status: "failed",
    providerId: null,
    error: input.reason,
    createdAt: Date.now(),
  };
  if (options.ifAbsent) {
    await database(env).insert(mailOutbox).values(row).onConflictDoNothing();
    return;
  }
  // An earlier attempt that may have reached the provider keeps its mark: a provider without an
  // idempotency key (Postmark) is searched before the next send only while the row carries it.
  const earlier = await database(env)
    .select({ error: mailOutbox.error })
    .from(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, row.tenantId), eq(mailOutbox.idempotencyKey, row.idempotencyKey)))
    .get();
  const marked = earlier?.error === NOT_SENT_YET || earlier?.error?.endsWith(OUTCOME_UNKNOWN) === true;
  await record(env, marked ? { ...row, error: `${input.reason} ${OUTCOME_UNKNOWN}` } : row);
}

function deduplicated(row: typeof mailOutbox.$inferSelect): SendMailResult {
  return { id: row.id, providerId: row.providerId ?? "", provider: row.provider as MailProviderId, deduplicated: true };
}

function invalid(message: string): OrderlyError {
  return new OrderlyError(message, { errorClass: "validation", code: "mail_invalid" });
}
