/**
 * `sendOrder`: POSTs the order (or its pick list) as signed JSON to the connection's endpoint.
 * An endpoint cannot be searched for what it received, so effectively-once rests on the
 * `Idempotency-Key` (the step's reference, the same on every attempt and re-run): the receiver
 * answers a key it has seen with 2xx, or 409 naming the key, and both count as done; when an
 * earlier attempt may have reached the receiver unanswered, a bare 409 (no words) counts as done
 * too (`isRepeat`). A re-run of a
 * step that already succeeded (`prior`) sends nothing at all; when the body it would send now
 * differs from the one sent (by its hash), it says so in `differences` for the alert sweep.
 *
 * Forward stages only: a cancelled or refunded flow would post the order again under a key of its
 * own, and the warehouse would pack a cancelled order, or the order once more per refund.
 *
 * The call goes through the project's HTTP client (deadline, classification, snapshots), built
 * here with the connection's own timeout and without following redirects: a redirect would send
 * the order to an address nobody checked. Its exchanges join the step's client, so they are kept
 * as snapshots and counted at the connection's gate like any other call.
 */
import { OrderlyError } from "../../domain/errors";
import type { CanonicalOrder } from "../../domain/order";
import { LADDER } from "../../domain/stage";
import { beforeUnpacedCall } from "../../mail/send-mail";
import { type ActionContext, type ActionResult, defineAction } from "../contract";
import { createHttpClient, type HttpResponse, parseRetryAfter } from "../http";
import { toHex } from "../signatures";
import { webhookBody } from "./webhook-out.body";
import {
  type SendOrderSettings,
  sendOrderSettings,
  type WebhookOutCredentials,
  type WebhookOutSettings,
} from "./webhook-out.settings";
import { EVENT_HEADER, signatureHeaders } from "./webhook-out.sign";

const USER_AGENT = "Orderly-Webhook/1";
/** How much of a refusal's body goes into the reason a person reads. */
const ANSWER_CHARS = 300;
const MAX_ID_CHARS = 200;
const REDIRECTS = [301, 302, 303, 307, 308];
/** Where a 409's JSON body names the key it refers to (docs/webhook-out.md, "The answers"). */
const KEY_FIELDS = ["idempotencyKey", "idempotency_key", "reference"];
/** A 409's whole text when it says nothing but the status (see `isBare`). */
const BARE_TEXTS = ["", "conflict", "409 conflict"];

type SendOrderContext = ActionContext<SendOrderSettings, WebhookOutCredentials, WebhookOutSettings>;

export const sendOrder = defineAction<typeof sendOrderSettings, WebhookOutCredentials, WebhookOutSettings>({
  description: "POST the order (or its pick list) as signed JSON to the endpoint, with the step's reference as Idempotency-Key.",
  settings: sendOrderSettings,
  stages: LADDER,
  stagesWhy:
    "the order is sent for an order going forward: a cancelled order must not be packed, and a refund's flow would send the order again for every refund",
  async run(ctx, { order }) {
    const { payload, event } = ctx.settings;
    if (sentBeforeUnder(ctx)) return sentBefore(ctx, order);
    const { body, text } = webhookBody(order, payload, ctx.reference, event);
    ctx.mapped(body);
    const response = await post(ctx, order, body, text, event);
    const adopted = response.status === 409;
    if (adopted && !isRepeat(response.body, ctx)) throw conflict(response, order, ctx.reference);
    const receiverId = idOf(response.body);
    return {
      externalId: receiverId ?? ctx.reference,
      created: !adopted,
      outputs: {
        payload,
        ...(event ? { event } : {}),
        idempotencyKey: ctx.reference,
        status: response.status,
        bodySha256: await sha256(text),
        ...(receiverId ? { receiverId } : {}),
        ...(adopted ? { adopted: true } : {}),
      },
    };
  },
});

async function sha256(text: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}

/** Whether this step succeeded before under the same key: the endpoint has the order already. */
function sentBeforeUnder(ctx: SendOrderContext): boolean {
  return ctx.prior?.outputs.idempotencyKey === ctx.reference;
}

/**
 * The earlier success again, nothing sent: the same key would only be answered as a repeat, so a
 * change to the order cannot reach the receiver this way. When the body this run would send differs
 * from the one sent (its hash kept in the outputs), `differences` says so and the alert sweep
 * (src/notifications/difference-alerts.ts) tells a person, who passes the change on by hand. The
 * step completes: what was sent stands, and no retry could send the change under this key.
 */
async function sentBefore(ctx: SendOrderContext, order: CanonicalOrder): Promise<ActionResult> {
  const prior = ctx.prior as ActionResult;
  const { payload, event } = ctx.settings;
  const sent = typeof prior.outputs.bodySha256 === "string" ? prior.outputs.bodySha256 : undefined;
  let now: string | undefined;
  let nothingToSend = "";
  try {
    now = await sha256(webhookBody(order, payload, ctx.reference, event).text);
  } catch (error) {
    // No body at all now (nothing left to pick, too large): different from the one sent.
    nothingToSend = error instanceof OrderlyError ? ` (${error.message})` : "";
  }
  // Unknown (null) for a body sent before its hash was kept.
  const changed = sent === undefined ? null : now !== sent;
  return {
    externalId: prior.externalId,
    created: false,
    outputs: {
      ...prior.outputs,
      deduplicated: true,
      changedSinceSent: changed,
      reason: `This step sent the order to the endpoint before (Idempotency-Key ${ctx.reference}); it is not sent again.`,
      ...(changed
        ? {
            differences: [
              `the order changed after it was sent to the endpoint (Idempotency-Key ${ctx.reference})${nothingToSend}: Orderly does not send it again under the same key, so send the change to the warehouse by hand.`,
            ],
          }
        : {}),
    },
  };
}

async function post(
  ctx: SendOrderContext,
  order: CanonicalOrder,
  body: unknown,
  text: string,
  event: string | undefined,
): Promise<HttpResponse> {
  const { settings, credentials } = ctx.connection;
  const timeoutMs = await beforeUnpacedCall(ctx.env, settings.timeoutSeconds * 1000, true);
  const extra = Object.fromEntries(Object.entries(settings.headers).map(([name, value]) => [name.toLowerCase(), value]));
  const http = createHttpClient({
    timeoutMs,
    vendor: `The endpoint (${new URL(settings.baseUrl).host})`,
    describeError: (_status, answer) => firstChars(answer),
    // Static headers may carry a warehouse's key; the settings show them, the snapshots need not.
    redact: Object.keys(extra),
    fetch: (input, init) => fetch(input, { ...init, redirect: "manual" }),
  });
  const token = credentials.bearerToken?.trim();
  // Signed last, after any wait for the gate: the timestamp is the moment of sending.
  const headers = {
    ...extra,
    "user-agent": USER_AGENT,
    "idempotency-key": ctx.reference,
    ...(event ? { [EVENT_HEADER]: event } : {}),
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(await signatureHeaders(credentials.signingSecret, text)),
  };
  try {
    const response = await http.request({
      method: "POST",
      url: settings.baseUrl,
      headers,
      json: body,
      accept: [409, 425, ...REDIRECTS],
    });
    if (response.status === 425)
      throw new OrderlyError("The endpoint answered 425 (Too Early); the order is sent again later.", {
        errorClass: "unavailable",
        code: "outbound_unavailable",
        ...retryAfter(response.headers),
      });
    if (REDIRECTS.includes(response.status)) throw redirected(response, order);
    return response;
  } catch (error) {
    const last = http.exchanges.at(-1)?.response;
    throw refusal(withRetryAfter(error, last?.headers), last?.status, order);
  } finally {
    ctx.http.exchanges.push(...http.exchanges);
  }
}

function retryAfter(headers: Headers): { retryAfterSeconds?: number } {
  const seconds = parseRetryAfter(headers.get("retry-after"));
  return seconds === undefined ? {} : { retryAfterSeconds: seconds };
}

/**
 * A retried answer (503, any 5xx, 408) with the Retry-After the receiver gave: the HTTP client reads
 * it on 429 only, and a receiver that is down for maintenance says when to come back.
 */
function withRetryAfter(error: unknown, headers: Record<string, string> | undefined): unknown {
  if (!(error instanceof OrderlyError) || error.errorClass !== "unavailable" || error.retryAfterSeconds !== undefined)
    return error;
  const seconds = parseRetryAfter(headers?.["retry-after"] ?? null);
  if (seconds === undefined) return error;
  return new OrderlyError(error.message, {
    errorClass: error.errorClass,
    code: error.code,
    retryAfterSeconds: seconds,
    details: error.details,
    cause: error,
  });
}

/**
 * Whether a 409 is the receiver's "I have this key already": its body names this step's key, or it
 * is bare and an earlier attempt of this step may have reached the receiver unanswered (timed out,
 * a network error or 5xx after sending, or never reported; a receiver that answers a repeat with a
 * bare 409 would otherwise fail the step for good although it has the order). After a refusal, or
 * on a first attempt, a bare 409 cannot be a repeat of ours.
 */
function isRepeat(answer: unknown, ctx: SendOrderContext): boolean {
  return namesKey(answer, ctx.reference) || (ctx.earlierAttemptUnsettled === true && isBare(answer));
}

/**
 * A 409 that says nothing but its status: no body, `{}`, or the reason phrase alone (what
 * `res.sendStatus(409)` sends). Any other words are the receiver's, and may name a refusal.
 */
function isBare(answer: unknown): boolean {
  if (answer === null || answer === undefined) return true;
  if (typeof answer === "string") return BARE_TEXTS.includes(answer.trim().toLowerCase());
  return typeof answer === "object" && !Array.isArray(answer) && Object.keys(answer).length === 0;
}

/**
 * Whether a 409's JSON body names this step's key. The key is this step's alone, so a receiver that
 * knows it got it from an earlier attempt of the step (one whose answer was lost). A 409 with words
 * that do not name it is a business conflict (a receiver answers 409 for those too), on any attempt:
 * taken as done, the order would never arrive.
 */
function namesKey(answer: unknown, key: string): boolean {
  if (!answer || typeof answer !== "object" || Array.isArray(answer)) return false;
  const fields = answer as Record<string, unknown>;
  return KEY_FIELDS.some((field) => fields[field] === key);
}

function conflict(response: HttpResponse, order: CanonicalOrder, key: string): OrderlyError {
  const answer = firstChars(response.body);
  return new OrderlyError(
    `The endpoint refused order ${order.source.orderNumber} (409)${answer ? `: ${answer}` : ""}. A 409 counts as "already received" only when its JSON body names this step's Idempotency-Key (${key}) as "idempotencyKey", or when it is bare (no words) after an attempt of the step that may have reached the receiver unanswered; this one is neither, so it is the receiver's refusal. Fix what it names (in the shop's order or in the receiver), then retry the transfer.`,
    { errorClass: "conflict", code: "webhook_out_conflict", details: response.body },
  );
}

function redirected(response: HttpResponse, order: CanonicalOrder): OrderlyError {
  const location = response.headers.get("location");
  return new OrderlyError(
    `The endpoint redirected order ${order.source.orderNumber} (${response.status})${location ? ` to ${location.slice(0, ANSWER_CHARS)}` : ""}. Orderly does not follow redirects: set the connection's endpoint URL to the final address, then retry the transfer.`,
    { errorClass: "validation", code: "webhook_out_redirected" },
  );
}

/**
 * A permanent answer in words a merchant can act on; a retryable one (408, 425, 429, 5xx, the
 * network) and the checks before sending stay as they are.
 */
function refusal(error: unknown, status: number | undefined, order: CanonicalOrder): unknown {
  if (!(error instanceof OrderlyError) || error.retryable || status === undefined || status < 400) return error;
  const answer = firstChars(error.details);
  const hint =
    error.errorClass === "auth"
      ? "Check the connection's bearer token and signing secret against what the receiver expects"
      : error.errorClass === "not_found"
        ? "Check the connection's endpoint URL"
        : "Fix what it names (in the shop's order or in the receiver), then retry the transfer";
  return new OrderlyError(
    `The endpoint refused order ${order.source.orderNumber} (${status})${answer ? `: ${answer}` : ""}. ${hint}.`,
    { errorClass: error.errorClass, code: error.code, details: error.details, cause: error },
  );
}

/** The start of an answer's body as text, or undefined for none. */
function firstChars(answer: unknown): string | undefined {
  if (answer === null || answer === undefined || answer === "") return undefined;
  const text = typeof answer === "string" ? answer : JSON.stringify(answer);
  return text.length > ANSWER_CHARS ? `${text.slice(0, ANSWER_CHARS)}…` : text;
}

/** The receiver's id for the order: a JSON answer's `id`, when it is a short string or number. */
function idOf(answer: unknown): string | undefined {
  if (!answer || typeof answer !== "object" || !("id" in answer)) return undefined;
  const id = answer.id;
  const text = typeof id === "number" && Number.isFinite(id) ? String(id) : typeof id === "string" ? id.trim() : "";
  return text.length > 0 && text.length <= MAX_ID_CHARS ? text : undefined;
}
