/**
 * An in-memory Postmark Email API (POST /email) that checks requests as strictly as the documented
 * one: the X-Postmark-Server-Token header (401, ErrorCode 10), JSON in and out, From and To
 * (comma-separated, at most 50 recipients), a TextBody or HtmlBody, attachments as
 * `{ Name, Content (base64), ContentType (a MIME type) }`, an existing MessageStream, and — when
 * `senders` is given — a From that is a confirmed sender signature. Refusals are 422 with
 * Postmark's `{ ErrorCode, Message }` body; codes 10, 300, 400, 402, 406, 409, 411 and 429 are the
 * documented ones, 1235 (unknown stream) is a stand-in. Unknown fields are refused (Postmark would
 * ignore them) so a misspelt field fails a test.
 */
import type { MailFault } from "./resend.mock";

/** Installs this mock and/or the Resend one on fetch (defined beside the Resend mock). */
export { installMailMocks } from "./resend.mock";

export const POSTMARK_BASE = "https://api.postmarkapp.com";

export interface PostmarkOptions {
  serverToken?: string;
  baseUrl?: string;
  /** Message streams of the server (default `outbound`). */
  streams?: string[];
  /** Confirmed sender signatures (addresses, or `@domain` for a whole domain); omitted = any sender. */
  senders?: string[];
  /** Recipients marked inactive after a hard bounce (ErrorCode 406). */
  inactive?: string[];
}

export interface PostmarkRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface PostmarkEmail {
  MessageID: string;
  body: Record<string, unknown>;
}

const FIELDS = new Set([
  "From",
  "To",
  "Cc",
  "Bcc",
  "Subject",
  "Tag",
  "HtmlBody",
  "TextBody",
  "ReplyTo",
  "Headers",
  "TrackOpens",
  "TrackLinks",
  "Metadata",
  "Attachments",
  "MessageStream",
]);
const ATTACHMENT_FIELDS = new Set(["Name", "Content", "ContentType", "ContentID"]);
const FORBIDDEN_EXTENSIONS = /\.(exe|bat|cmd|com|scr|vbs|js|jar|msi|dll|pif|cpl)$/i;
const MIME = /^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*(?:\s*;.*)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAILBOX =
  /^(?:(?:"(?:[^"\\]|\\.)*"|[^<>",]*)\s*<\s*([^\s@<>]+@[^\s@<>]+\.[A-Za-z]{2,})\s*>|([^\s@<>",]+@[^\s@<>",]+\.[A-Za-z]{2,}))$/;

export type PostmarkMock = ReturnType<typeof createPostmarkMock>;

export function createPostmarkMock(options: PostmarkOptions = {}) {
  const token = options.serverToken ?? "pm-server-token";
  const streams = new Set(options.streams ?? ["outbound"]);
  const state = { requests: [] as PostmarkRequest[], emails: [] as PostmarkEmail[] };
  const faults: Array<MailFault & { remaining: number }> = [];

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

    const given = request.headers.get("x-postmark-server-token");
    if (given !== token)
      return error(
        401,
        10,
        given
          ? "The Server API token you provided is not valid. Check the token on the server's API Tokens tab."
          : "No Server API token was supplied. Add the X-Postmark-Server-Token header.",
      );
    if (url.pathname !== "/email" || request.method !== "POST")
      return error(404, 0, `No endpoint at ${request.method} ${url.pathname}.`);
    const fault = faults.find((f) => f.remaining > 0);
    if (fault) {
      fault.remaining--;
      if (fault.status === 422) return error(422, 300, fault.message ?? "Invalid email request.");
      return fault.status === 429
        ? error(429, 429, fault.message ?? "Rate limit exceeded: too many requests for this server.", fault.retryAfter)
        : error(fault.status, 0, fault.message ?? "An internal server error occurred.", fault.retryAfter);
    }
    if (
      !request.headers.get("content-type")?.startsWith("application/json") ||
      !request.headers.get("accept")?.includes("application/json")
    )
      return error(422, 409, "JSON required: send Content-Type and Accept headers of application/json.");
    if (!parsed || !isObject(body)) return error(422, 402, "Invalid JSON: the request body could not be parsed.");

    const problem = validate(body, streams, options);
    if (problem) return error(422, problem.code, problem.message);
    const MessageID = crypto.randomUUID();
    state.emails.push({ MessageID, body });
    return json(200, { To: body.To, SubmittedAt: new Date().toISOString(), MessageID, ErrorCode: 0, Message: "OK" });
  }

  return {
    baseUrl: (options.baseUrl ?? POSTMARK_BASE).replace(/\/+$/, ""),
    handle,
    state,
    /** Makes the next authenticated request(s) fail with the given status. */
    failNext(spec: MailFault): void {
      faults.push({ ...spec, remaining: spec.times ?? 1 });
    },
  };
}

function validate(
  body: Record<string, unknown>,
  streams: Set<string>,
  options: PostmarkOptions,
): { code: number; message: string } | undefined {
  const unknown = Object.keys(body).find((k) => !FIELDS.has(k));
  if (unknown) return { code: 300, message: `Invalid email request: unknown field '${unknown}'.` };
  for (const f of ["From", "To", "Cc", "Bcc", "Subject", "HtmlBody", "TextBody", "ReplyTo", "MessageStream", "Tag"])
    if (body[f] !== undefined && typeof body[f] !== "string")
      return { code: 300, message: `Invalid email request: '${f}' must be a string.` };
  const from = typeof body.From === "string" ? addressOf(body.From) : null;
  if (!from) return { code: 300, message: `Invalid 'From' address: '${String(body.From ?? "")}'.` };
  const to = splitList(body.To);
  if (to.length === 0) return { code: 300, message: "Zero recipients specified." };
  const all = [...to, ...splitList(body.Cc), ...splitList(body.Bcc)];
  if (all.length > 50) return { code: 300, message: "Maximum of 50 recipients allowed per email message." };
  const bad = all.find((a) => addressOf(a) === null);
  if (bad)
    return {
      code: 300,
      message: `Error parsing 'To': Illegal email address '${bad}'. It must be in the format 'Name <address>' or 'address'.`,
    };
  if (body.ReplyTo !== undefined && splitList(body.ReplyTo).some((a) => addressOf(a) === null))
    return { code: 300, message: `Invalid 'ReplyTo' address: '${String(body.ReplyTo)}'.` };
  if (!body.TextBody && !body.HtmlBody) return { code: 300, message: "Provide either email TextBody or HtmlBody or both." };
  if (
    options.senders &&
    !options.senders.some((s) => (s.startsWith("@") ? from.endsWith(s.toLowerCase()) : s.toLowerCase() === from))
  )
    return {
      code: 400,
      message: `The 'From' address you supplied (${from}) is not a Sender Signature on your account. Add and confirm this address or its domain.`,
    };
  const stream = body.MessageStream ?? "outbound";
  if (!streams.has(String(stream)))
    return { code: 1235, message: `The message stream '${String(stream)}' was not found on this server.` };
  const inactive = to.map(addressOf).find((a) => a && options.inactive?.includes(a));
  if (inactive)
    return { code: 406, message: `You tried to send to recipient(s) that have been marked as inactive: ${inactive}.` };
  if (body.Attachments !== undefined) {
    if (!Array.isArray(body.Attachments)) return { code: 300, message: "Invalid email request: 'Attachments' must be an array." };
    for (const [i, a] of body.Attachments.entries()) {
      if (!isObject(a)) return { code: 300, message: `Invalid attachment ${i}: expected an object.` };
      const extra = Object.keys(a).find((k) => !ATTACHMENT_FIELDS.has(k));
      if (extra) return { code: 300, message: `Invalid attachment ${i}: unknown field '${extra}'.` };
      if (typeof a.Name !== "string" || !a.Name) return { code: 300, message: `Invalid attachment ${i}: 'Name' is required.` };
      if (typeof a.Content !== "string" || !BASE64.test(a.Content))
        return { code: 300, message: `Invalid attachment '${a.Name}': 'Content' must be base64.` };
      if (typeof a.ContentType !== "string" || !MIME.test(a.ContentType))
        return { code: 300, message: `Invalid attachment '${a.Name}': 'ContentType' must be a valid MIME type.` };
      if (FORBIDDEN_EXTENSIONS.test(a.Name)) return { code: 411, message: `Forbidden attachment type: '${a.Name}'.` };
    }
  }
  return undefined;
}

/** Splits a comma-separated address list, keeping commas inside quoted display names. */
function splitList(value: unknown): string[] {
  if (typeof value !== "string" || !value.trim()) return [];
  return (value.match(/(?:"(?:[^"\\]|\\.)*"|[^,])+/g) ?? []).map((s) => s.trim()).filter(Boolean);
}

function addressOf(mailbox: string): string | null {
  const match = MAILBOX.exec(mailbox.trim());
  return match ? (match[1] ?? match[2] ?? "").toLowerCase() : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function error(status: number, code: number, message: string, retryAfter?: number): Response {
  return json(
    status,
    { ErrorCode: code, Message: message },
    retryAfter === undefined ? {} : { "retry-after": String(retryAfter) },
  );
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}
