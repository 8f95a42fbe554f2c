/**
 * `sendOrder`: POSTs the order (or its pick list) as signed JSON to the connection's endpoint.
 * An endpoint cannot be searched for what it received, so effectively-once rests on the
 * `Idempotency-Key` (the step's reference, the same on every attempt and re-run): the receiver
 * answers a key it has seen with 2xx or 409, and both count as done. A re-run of a step that
 * already succeeded (`prior`) sends nothing at all.
 *
 * The call goes through the project's HTTP client (deadline, classification, snapshots), built
 * here with the connection's own timeout and without following redirects: a redirect would send
 * the order to an address nobody checked. Its exchanges join the step's client, so they are kept
 * as snapshots and counted at the connection's gate like any other call.
 */
import { OrderlyError } from "../../domain/errors";
import type { CanonicalOrder } from "../../domain/order";
import { beforeUnpacedCall } from "../../mail/send-mail";
import { type ActionContext, type ActionResult, defineAction } from "../contract";
import { createHttpClient, type HttpResponse, parseRetryAfter } from "../http";
import { webhookBody } from "./webhook-out.body";
import { sendOrderSettings, type WebhookOutCredentials, type WebhookOutSettings } from "./webhook-out.settings";
import { EVENT_HEADER, signatureHeaders } from "./webhook-out.sign";

const USER_AGENT = "Orderly-Webhook/1";
/** How much of a refusal's body goes into the reason a person reads. */
const ANSWER_CHARS = 300;
const MAX_ID_CHARS = 200;
const REDIRECTS = [301, 302, 303, 307, 308];

type SendOrderContext = ActionContext<unknown, WebhookOutCredentials, WebhookOutSettings>;

export const sendOrder = defineAction<typeof sendOrderSettings, WebhookOutCredentials, WebhookOutSettings>({
  description: "POST the order (or its pick list) as signed JSON to the endpoint, with the step's reference as Idempotency-Key.",
  settings: sendOrderSettings,
  async run(ctx, { order }) {
    const earlier = sentBefore(ctx);
    if (earlier) return earlier;
    const { payload, event } = ctx.settings;
    const { body, text } = webhookBody(order, payload, ctx.reference, event);
    ctx.mapped(body);
    const response = await post(ctx, order, body, text, event);
    const receiverId = idOf(response.body);
    return {
      externalId: receiverId ?? ctx.reference,
      created: response.status !== 409,
      outputs: {
        payload,
        ...(event ? { event } : {}),
        idempotencyKey: ctx.reference,
        status: response.status,
        ...(receiverId ? { receiverId } : {}),
        ...(response.status === 409 ? { adopted: true } : {}),
      },
    };
  },
});

/** This step's own earlier success for the same key: the endpoint has the order already. */
function sentBefore(ctx: SendOrderContext): ActionResult | undefined {
  const prior = ctx.prior;
  if (!prior || prior.outputs.idempotencyKey !== ctx.reference) return undefined;
  return {
    externalId: prior.externalId,
    created: false,
    outputs: {
      ...prior.outputs,
      deduplicated: true,
      reason: `This step sent the order to the endpoint before (Idempotency-Key ${ctx.reference}); it is not sent again.`,
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
    throw refusal(error, http.exchanges.at(-1)?.response?.status, order);
  } finally {
    ctx.http.exchanges.push(...http.exchanges);
  }
}

function retryAfter(headers: Headers): { retryAfterSeconds?: number } {
  const seconds = parseRetryAfter(headers.get("retry-after"));
  return seconds === undefined ? {} : { retryAfterSeconds: seconds };
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
