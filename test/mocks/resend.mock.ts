/**
 * An in-memory Resend send-email API (POST /emails) that checks requests as strictly as the
 * documented one: `Authorization: Bearer <key>` (401 `missing_api_key` / `validation_error`),
 * JSON, the required from/to/subject, at most 50 recipients, address syntax, base64 attachment
 * content, and an `Idempotency-Key` of 1–256 characters that replays the first answer for the same
 * body and answers 409 `invalid_idempotent_request` for a different one. Errors have Resend's
 * `{ statusCode, name, message }` shape. Unlike Resend, unknown body fields are refused (422), so
 * a misspelt field (`replyTo` for `reply_to`) fails a test instead of being silently dropped.
 *
 * `installMailMocks` routes fetch to this mock and the Postmark one and composes with other fetch
 * spies (install `installEconomicMock` first, then this).
 */
import { onTestFinished, vi } from "vitest";
import type { PostmarkMock } from "./postmark.mock";

export const RESEND_BASE = "https://api.resend.com";

export interface MailFault {
  /** 422 stands for a refusal the mock cannot provoke itself (the vendor's own rules). */
  status: 422 | 429 | 500 | 502 | 503;
  /** The vendor's message in the error body. */
  message?: string;
  /** Seconds, sent as Retry-After. */
  retryAfter?: number;
  /** How many requests fail (default 1). */
  times?: number;
}

export interface ResendRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface ResendEmail {
  id: string;
  idempotencyKey: string | null;
  body: Record<string, unknown>;
}

const FIELDS = new Set([
  "from",
  "to",
  "subject",
  "bcc",
  "cc",
  "reply_to",
  "html",
  "text",
  "headers",
  "attachments",
  "tags",
  "scheduled_at",
]);
const ATTACHMENT_FIELDS = new Set(["filename", "content", "path", "content_type", "content_id"]);
const ADDRESS = /^(?:[^<>]*<\s*)?[^\s@<>]+@[^\s@<>]+\.[A-Za-z]{2,}(?:\s*>)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export type ResendMock = ReturnType<typeof createResendMock>;

export interface ResendOptions {
  apiKey?: string;
  baseUrl?: string;
  /** Verified sending domains; a `from` on another domain gets Resend's 403. Omitted = any domain. */
  domains?: string[];
}

export function createResendMock(options: ResendOptions = {}) {
  const apiKey = options.apiKey ?? "re_test_key";
  const state = { requests: [] as ResendRequest[], emails: [] as ResendEmail[] };
  const faults: Array<MailFault & { remaining: number }> = [];
  const replies = new Map<string, { text: string; response: { id: string } }>();

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const text = await request.text();
    let body: unknown;
    let parsed = true;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
      parsed = false;
    }
    state.requests.push({ method: request.method, path: url.pathname, headers: Object.fromEntries(request.headers), body });

    const auth = request.headers.get("authorization");
    if (!auth) return error(401, "missing_api_key", "Missing API key in the authorization header.");
    if (auth !== `Bearer ${apiKey}`) return error(401, "validation_error", "API key is invalid");
    if (url.pathname !== "/emails") return error(404, "not_found", "The requested endpoint does not exist.");
    if (request.method !== "POST") return error(405, "method_not_allowed", "Method is not allowed for the requested path.");
    const fault = faults.find((f) => f.remaining > 0);
    if (fault) {
      fault.remaining--;
      if (fault.status === 422) return error(422, "validation_error", fault.message ?? "The request could not be processed.");
      return fault.status === 429
        ? error(
            429,
            "rate_limit_exceeded",
            fault.message ?? "Too many requests. Please limit the number of requests per second.",
            fault.retryAfter,
          )
        : error(fault.status, "internal_server_error", fault.message ?? "An unexpected error occurred.", fault.retryAfter);
    }
    if (!request.headers.get("content-type")?.startsWith("application/json") || !parsed || !isObject(body))
      return error(400, "validation_error", "The body must be a JSON object.");

    const key = request.headers.get("idempotency-key");
    if (key !== null && (key.length < 1 || key.length > 256))
      return error(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
    if (key !== null) {
      const earlier = replies.get(key);
      if (earlier && earlier.text !== text)
        return error(409, "invalid_idempotent_request", "Same idempotency key used with a different request payload.");
      if (earlier) return json(200, earlier.response);
    }

    const problem = validate(body);
    if (problem) return error(422, problem.name, problem.message);
    const domain = /@([^\s@>]+)>?\s*$/.exec(String(body.from))?.[1]?.toLowerCase();
    if (options.domains && (!domain || !options.domains.includes(domain)))
      return error(403, "validation_error", `The ${domain} domain is not verified. Please, add and verify your domain.`);
    const response = { id: crypto.randomUUID() };
    state.emails.push({ id: response.id, idempotencyKey: key, body });
    if (key !== null) replies.set(key, { text, response });
    return json(200, response);
  }

  return {
    baseUrl: (options.baseUrl ?? RESEND_BASE).replace(/\/+$/, ""),
    handle,
    state,
    /** Makes the next request(s) that pass authentication fail with the given status. */
    failNext(spec: MailFault): void {
      faults.push({ ...spec, remaining: spec.times ?? 1 });
    },
  };
}

function validate(body: Record<string, unknown>): { name: string; message: string } | undefined {
  const missing = ["from", "to", "subject"].filter((f) => body[f] === undefined || body[f] === "");
  if (missing.length > 0) return { name: "missing_required_field", message: `Missing \`${missing.join("`, `")}\` field.` };
  const unknown = Object.keys(body).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) return invalid(`Unknown field \`${unknown[0]}\`.`);
  if (typeof body.from !== "string" || !ADDRESS.test(body.from))
    return invalid(
      "Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.",
    );
  for (const field of ["to", "cc", "bcc", "reply_to"]) {
    const value = body[field];
    if (value === undefined) continue;
    const list = Array.isArray(value) ? value : [value];
    if (field === "to" && list.length === 0) return { name: "missing_required_field", message: "Missing `to` field." };
    if (list.length > 50) return invalid(`Too many recipients in \`${field}\`; the maximum is 50.`);
    if (!list.every((a) => typeof a === "string" && ADDRESS.test(a)))
      return invalid(`Invalid \`${field}\` field. The email address needs to follow the \`email@example.com\` format.`);
  }
  if (typeof body.subject !== "string") return invalid("The `subject` field must be a string.");
  for (const field of ["html", "text"])
    if (body[field] !== undefined && typeof body[field] !== "string") return invalid(`The \`${field}\` field must be a string.`);
  if (body.html === undefined && body.text === undefined) return invalid("Provide an `html` or a `text` body.");
  if (body.attachments !== undefined) {
    if (!Array.isArray(body.attachments)) return invalid("The `attachments` field must be an array.");
    for (const [i, a] of body.attachments.entries()) {
      if (!isObject(a)) return invalid(`attachments[${i}] must be an object.`);
      const extra = Object.keys(a).find((k) => !ATTACHMENT_FIELDS.has(k));
      if (extra) return invalid(`Unknown field \`${extra}\` in attachments[${i}].`);
      if (a.content === undefined && a.path === undefined)
        return { name: "invalid_attachment", message: "Attachment must have either a `content` or `path`." };
      if (typeof a.filename !== "string" || !a.filename) return invalid(`attachments[${i}].filename must be a non-empty string.`);
      if (a.content !== undefined && (typeof a.content !== "string" || !BASE64.test(a.content)))
        return { name: "invalid_attachment", message: `attachments[${i}].content is not valid base64.` };
      if (a.content_type !== undefined && (typeof a.content_type !== "string" || !/^[\w.+-]+\/[\w.+-]+/.test(a.content_type)))
        return invalid(`attachments[${i}].content_type is not a MIME type.`);
    }
  }
  return undefined;
}

function invalid(message: string) {
  return { name: "validation_error", message };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function error(status: number, name: string, message: string, retryAfter?: number): Response {
  return json(
    status,
    { statusCode: status, name, message },
    retryAfter === undefined ? {} : { "retry-after": String(retryAfter) },
  );
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

/** Decodes base64 the way the vendor would, for assertions on attachment bytes. */
export function decodeBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

interface RoutedMock {
  baseUrl: string;
  handle(request: Request): Promise<Response>;
}

/**
 * Routes fetches to the mocks' base URLs (by default https://api.resend.com and
 * https://api.postmarkapp.com). When fetch is already a spy (e.g. `installEconomicMock`), other
 * URLs go to its implementation; otherwise they fail the test. Undone when the test finishes.
 */
export function installMailMocks(mocks: { resend?: ResendMock; postmark?: PostmarkMock }) {
  const routed: RoutedMock[] = [];
  if (mocks.resend) routed.push(mocks.resend);
  if (mocks.postmark) routed.push(mocks.postmark);
  const unexpected: string[] = [];
  const alreadySpied = vi.isMockFunction(globalThis.fetch);
  const spy = alreadySpied ? vi.mocked(globalThis.fetch) : vi.spyOn(globalThis, "fetch");
  const previous = alreadySpied ? spy.getMockImplementation() : undefined;

  spy.mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const mock = routed.find((m) => request.url === m.baseUrl || request.url.startsWith(`${m.baseUrl}/`));
    if (!mock) {
      if (previous) return previous(input, init);
      unexpected.push(`${request.method} ${request.url}`);
      throw new Error(`test network is closed: unexpected ${request.method} ${request.url}`);
    }
    const url = new URL(request.url);
    url.pathname = url.pathname.slice(new URL(mock.baseUrl).pathname.replace(/\/+$/, "").length) || "/";
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text();
    return mock.handle(new Request(url, { method: request.method, headers: request.headers, body }));
  });

  const uninstall = () => {
    if (alreadySpied) {
      if (previous) spy.mockImplementation(previous);
    } else spy.mockRestore();
  };
  try {
    onTestFinished(() => {
      uninstall();
      if (unexpected.length > 0) throw new Error(`unexpected outbound requests: ${unexpected.join(", ")}`);
    });
  } catch {
    // Installed outside a test (beforeAll): the caller undoes it with `uninstall` or vi.restoreAllMocks().
  }
  return { spy, unexpected, uninstall };
}
