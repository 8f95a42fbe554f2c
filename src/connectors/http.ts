/**
 * Outbound HTTP for connectors: every call has a deadline, every answer is classified into the
 * error model (429 and 5xx retryable, other 4xx permanent), and every request and response is
 * recorded as a snapshot with credentials redacted.
 */
import { OrderlyError } from "../domain/errors";

export interface RecordedExchange {
  request: { method: string; url: string; headers: Record<string, string>; body?: unknown };
  response?: { status: number; headers: Record<string, string>; body: unknown };
  error?: string;
  latencyMs: number;
}

export interface HttpRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  json?: unknown;
  /** Statuses the caller handles itself instead of them becoming errors (e.g. 404 on a lookup). */
  accept?: number[];
}

export interface HttpResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface HttpClient {
  request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>>;
  readonly exchanges: RecordedExchange[];
}

export interface HttpClientOptions {
  timeoutMs: number;
  /** Header names whose values never reach a snapshot. */
  redact?: string[];
  /** Names the vendor in error messages: "e-conomic answered 400: ...". */
  vendor: string;
  /** Turns a vendor error body into a sentence a person can act on. */
  describeError?: (status: number, body: unknown) => string | undefined;
  fetch?: typeof fetch;
  /** Paces every call through the target's gate; without one, calls go at once. */
  pacer?: CallPacer;
}

/**
 * The target's gate, seen from one step: each call waits for its slot, and a 429 holds every
 * step of the connection. A 429 means the vendor did not process the request, so the same
 * request is sent again in place (after its slot) instead of failing the step.
 */
export interface CallPacer {
  beforeCall(): Promise<void>;
  rateLimited(retryAfterSeconds: number | undefined): Promise<void>;
}

/** 429s answered to one call before the step gives up and is retried later as a whole. */
const RATE_LIMITED_RETRIES_IN_PLACE = 3;

const ALWAYS_REDACTED = [
  "authorization",
  "x-appsecrettoken",
  "x-agreementgranttoken",
  "x-access-token",
  "x-shopify-access-token",
];

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const redact = new Set([...ALWAYS_REDACTED, ...(options.redact ?? []).map((h) => h.toLowerCase())]);
  const exchanges: RecordedExchange[] = [];
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));

  return {
    exchanges,
    async request<T>(req: HttpRequest): Promise<HttpResponse<T>> {
      for (let limited = 0; ; limited++) {
        await options.pacer?.beforeCall();
        try {
          return await send<T>(req);
        } catch (error) {
          const rateLimited = error instanceof OrderlyError && error.errorClass === "rate_limited";
          if (!rateLimited || !options.pacer || limited >= RATE_LIMITED_RETRIES_IN_PLACE) throw error;
          await options.pacer.rateLimited(error.retryAfterSeconds);
        }
      }
    },
  };

  async function send<T>(req: HttpRequest): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = { accept: "application/json", ...req.headers };
    if (req.json !== undefined) headers["content-type"] = "application/json";
    const exchange: RecordedExchange = {
      request: { method: req.method, url: req.url, headers: redactHeaders(headers, redact), body: req.json },
      latencyMs: 0,
    };
    exchanges.push(exchange);
    const started = Date.now();
    let response: Response;
    try {
      response = await doFetch(req.url, {
        method: req.method,
        headers,
        body: req.json === undefined ? undefined : JSON.stringify(req.json),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      exchange.latencyMs = Date.now() - started;
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      exchange.error = timedOut ? `no answer within ${options.timeoutMs} ms` : String(error);
      throw new OrderlyError(
        timedOut
          ? `${options.vendor} did not answer within ${options.timeoutMs} ms; the outcome is checked before retrying.`
          : `${options.vendor} could not be reached (${error instanceof Error ? error.message : String(error)}).`,
        {
          errorClass: timedOut ? "timeout" : "unavailable",
          code: timedOut ? "outbound_timeout" : "outbound_network",
          cause: error,
        },
      );
    }
    const body = await readBody(response);
    exchange.latencyMs = Date.now() - started;
    exchange.response = { status: response.status, headers: Object.fromEntries(response.headers), body };
    if (response.ok || req.accept?.includes(response.status))
      return { status: response.status, headers: response.headers, body: body as T };
    throw classify(response, body, options);
  }
}

function classify(response: Response, body: unknown, options: HttpClientOptions): OrderlyError {
  const status = response.status;
  const detail = options.describeError?.(status, body) ?? summarise(body);
  const said = `${options.vendor} answered ${status}${detail ? `: ${detail}` : ""}`;
  if (status === 429) {
    const retryAfterSeconds = parseRetryAfter(response.headers.get("retry-after"));
    return new OrderlyError(`${said} (rate limited)`, {
      errorClass: "rate_limited",
      code: "outbound_rate_limited",
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    });
  }
  if (status >= 500 || status === 408) return new OrderlyError(said, { errorClass: "unavailable", code: "outbound_unavailable" });
  if (status === 401 || status === 403)
    return new OrderlyError(`${said}. Check the connection's credentials.`, {
      errorClass: "auth",
      code: "outbound_auth",
      details: body,
    });
  if (status === 404) return new OrderlyError(said, { errorClass: "not_found", code: "outbound_not_found", details: body });
  if (status === 409) return new OrderlyError(said, { errorClass: "conflict", code: "outbound_conflict", details: body });
  return new OrderlyError(said, { errorClass: "validation", code: "outbound_rejected", details: body });
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text.length === 0) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  }
}

function summarise(body: unknown): string | undefined {
  if (typeof body === "string") return body.slice(0, 300);
  if (body && typeof body === "object" && "message" in body && typeof body.message === "string") return body.message;
  return undefined;
}

function redactHeaders(headers: Record<string, string>, redact: Set<string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, redact.has(k.toLowerCase()) ? "[redacted]" : v]));
}
