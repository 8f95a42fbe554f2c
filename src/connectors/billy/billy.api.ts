/**
 * Calls to the Billy API v2: the access-token header, the connection's base URL and organization,
 * Billy's envelopes (a write wraps one record in its singular name; an answer lists the records it
 * changed under their plural names) and a readable sentence for Billy's error bodies. Every call goes
 * through `ctx.http`, which owns the deadline and the retryable/permanent classification.
 */
import { OrderlyError } from "../../domain/errors";
import type { ActionContext } from "../contract";
import type { HttpRequest, HttpResponse } from "../http";
import type { BillyConnectionSettings, BillyCredentials } from "./billy.settings";

/** The part of an action's context a call needs. */
export type BillyContext = Pick<
  ActionContext<unknown, BillyCredentials, BillyConnectionSettings>,
  "connection" | "http" | "exclusive"
>;

export type Json = Record<string, unknown>;

export interface BillyRequest {
  method: HttpRequest["method"];
  /** Path below the base URL: "/invoices", "/invoices/abc/emails". */
  path: string;
  /** List filters and `include`; undefined values are left out. */
  query?: Record<string, string | undefined>;
  json?: unknown;
  accept?: number[];
}

export async function billyRequest<T = Json>(ctx: BillyContext, req: BillyRequest): Promise<HttpResponse<T>> {
  const { credentials, settings } = ctx.connection;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(req.query ?? {})) if (value !== undefined) query.set(key, value);
  // A user-bound token works for several companies; Billy then needs the organization on lists.
  if (req.method === "GET" && settings.organizationId && !/\/[^/]+\/[^/]+/.test(req.path))
    query.set("organizationId", settings.organizationId);
  const search = query.size > 0 ? `?${query.toString()}` : "";
  try {
    return await ctx.http.request<T>({
      method: req.method,
      url: `${settings.baseUrl.replace(/\/+$/, "")}${req.path}${search}`,
      headers: { "X-Access-Token": credentials.accessToken },
      ...(req.json === undefined ? {} : { json: req.json }),
      ...(req.accept ? { accept: req.accept } : {}),
    });
  } catch (error) {
    throw explain(error, req);
  }
}

/** Wraps one record in its singular name, with the organization when the connection names one. */
export function envelope(ctx: BillyContext, singular: string, record: Json): Json {
  const organizationId = ctx.connection.settings.organizationId;
  return { [singular]: organizationId ? { organizationId, ...record } : record };
}

/** The first record Billy lists under `plural` after a write (or, from older answers, under `singular`). */
export function changedRecord<T = Json>(body: unknown, plural: string, singular: string): T {
  if (isRecord(body)) {
    const list = body[plural];
    if (Array.isArray(list) && isRecord(list[0])) return list[0] as T;
    if (isRecord(body[singular])) return body[singular] as T;
  }
  throw new OrderlyError(`Billy's answer did not list the ${singular} it saved.`, {
    errorClass: "unavailable",
    code: "billy_unexpected_answer",
    details: body,
  });
}

/** The records of a list answer (`{"contacts": [...]}`), or none. */
export function listed<T = Json>(body: unknown, plural: string): T[] {
  const list = isRecord(body) ? body[plural] : undefined;
  return Array.isArray(list) ? (list.filter(isRecord) as T[]) : [];
}

/** Billy lists at most 1,000 records a page; a filter that works finds a few, so this many pages mean it was ignored. */
const MAX_PAGES = 10;

export interface ListLookup {
  /** Plural resource name, also the list's key in the answer: "contacts". */
  resource: string;
  filter: Record<string, string>;
  /** What a person can do about a duplicate made past MAX_PAGES, for the log line. */
  instead: string;
}

/**
 * The first record of a filtered list that `matches`, following `meta.paging` page by page. Billy
 * documents list filters for invoices, bills and daybook transactions only; one it ignores lists
 * every record, 1,000 a page, and the match may be on a later page. Past MAX_PAGES it answers "none"
 * (a second contact or product may then be made) and logs why: failing would fail every new buyer.
 */
export async function findInList<T = Json>(
  ctx: BillyContext,
  lookup: ListLookup,
  matches: (record: T) => boolean,
): Promise<T | undefined> {
  let total: unknown;
  for (let page = 1; page <= MAX_PAGES; page++) {
    const res = await billyRequest(ctx, {
      method: "GET",
      path: `/${lookup.resource}`,
      // Page 1 is asked without `page`; the page size is Billy's default and largest, 1,000.
      query: page === 1 ? lookup.filter : { ...lookup.filter, page: String(page) },
    });
    const records = listed<T>(res.body, lookup.resource);
    const found = records.find(matches);
    if (found) return found;
    const paging = isRecord(res.body) && isRecord(res.body.meta) ? res.body.meta.paging : undefined;
    const pageCount = isRecord(paging) && typeof paging.pageCount === "number" ? paging.pageCount : 1;
    total = isRecord(paging) ? paging.total : undefined;
    if (records.length === 0 || page >= pageCount) return undefined;
  }
  const filter = Object.entries(lookup.filter)
    .map(([key, value]) => `${key}=${value}`)
    .join(" and ");
  // Failing here would fail every order of a new buyer (or a new SKU) in such a company, for good;
  // it is read as "none", as before paging, and logged for the operator.
  console.warn(
    `Billy listed more than ${MAX_PAGES} pages of ${lookup.resource} for ${filter}${typeof total === "number" ? ` (${total} in all)` : ""} without one that matches; it seems to ignore that filter, so a record past page ${MAX_PAGES} may be made again. ${lookup.instead}`,
  );
  return undefined;
}

/**
 * Billy's error body carries `errorMessage` (and `errorCode`, `meta.statusCode`); field problems
 * may come as `validationErrors`. The exact shape of the latter is not documented (unconfirmed), so
 * both an object of messages and a list are read.
 */
export function describeBillyError(body: unknown): string | undefined {
  if (typeof body === "string") return body.trim() ? body.slice(0, 300) : undefined;
  if (!isRecord(body)) return undefined;
  const message = typeof body.errorMessage === "string" ? body.errorMessage.trim() : "";
  const fields: Array<[string, string]> = [];
  collect(body.validationErrors, "", fields);
  // Field problems the message already names are not repeated.
  const extra = fields
    .filter(([at, text]) => !(message.includes(text) && (!at || message.includes(at))))
    .map(([at, text]) => (at ? `${at}: ${text}` : text));
  if (!message && extra.length === 0) return typeof body.errorCode === "string" ? body.errorCode : undefined;
  return [message.replace(/\.$/, ""), ...extra].filter(Boolean).join("; ");
}

function collect(node: unknown, path: string, out: Array<[string, string]>): void {
  if (typeof node === "string") out.push([path, node]);
  else if (Array.isArray(node)) for (const item of node) collect(item, path, out);
  else if (isRecord(node)) {
    if (typeof node.message === "string") {
      out.push([typeof node.property === "string" ? node.property : path, node.message]);
      return;
    }
    for (const [key, value] of Object.entries(node)) collect(value, path ? `${path}.${key}` : key, out);
  }
}

function explain(error: unknown, req: BillyRequest): unknown {
  if (!(error instanceof OrderlyError) || error.details === undefined) return error;
  const detail = describeBillyError(error.details);
  if (!detail) return error;
  const where = `${req.method} ${req.path}`;
  const message =
    error.errorClass === "auth"
      ? `Billy refused the access token (${detail}). Check the connection's credentials.`
      : error.errorClass === "validation"
        ? `Billy rejected ${where}: ${detail}.`
        : `Billy answered ${where}: ${detail}.`;
  return new OrderlyError(message, {
    errorClass: error.errorClass,
    code: error.code,
    details: error.details,
    internal: error.message,
    cause: error,
    ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
  });
}

export function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A permanent error a person fixes in the step's settings or in Billy. */
export function settingsError(message: string, code: string, details?: unknown): OrderlyError {
  return new OrderlyError(message, { errorClass: "validation", code, ...(details === undefined ? {} : { details }) });
}
