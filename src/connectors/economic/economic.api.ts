/**
 * Calls to the e-conomic REST API: token headers, the connection's base URL, the filter syntax and
 * a readable sentence for e-conomic's annotated 400 errors. Every call goes through `ctx.http`,
 * which owns the deadline and the retryable/permanent classification.
 */
import { OrderlyError } from "../../domain/errors";
import type { ActionContext } from "../contract";
import type { HttpRequest, HttpResponse } from "../http";
import type { EconomicConnectionSettings, EconomicCredentials } from "./economic.settings";

/** The part of an action's context a call needs. */
export type EconomicContext = Pick<
  ActionContext<unknown, EconomicCredentials, EconomicConnectionSettings>,
  "connection" | "http" | "exclusive"
>;

export interface EconomicRequest {
  method: HttpRequest["method"];
  /** Path below the base URL, with its query string: "/customers?filter=...". */
  path: string;
  json?: unknown;
  accept?: number[];
}

/** A page of an e-conomic collection (`GET /customers`, `/invoices/drafts` ...). */
export interface EconomicCollection<T> {
  collection: T[];
  /** `nextPage` is there only when another page follows. */
  pagination?: { results?: number; nextPage?: string };
}

export async function economicRequest<T>(ctx: EconomicContext, req: EconomicRequest): Promise<HttpResponse<T>> {
  const { credentials, settings } = ctx.connection;
  try {
    return await ctx.http.request<T>({
      method: req.method,
      url: `${settings.baseUrl.replace(/\/+$/, "")}${req.path}`,
      headers: {
        "X-AppSecretToken": credentials.appSecretToken,
        "X-AgreementGrantToken": credentials.agreementGrantToken,
        // e-conomic's documentation sends Content-Type: application/json on every call, DELETE included.
        ...(req.method === "DELETE" ? { "Content-Type": "application/json" } : {}),
      },
      ...(req.json === undefined ? {} : { json: req.json }),
      ...(req.accept ? { accept: req.accept } : {}),
    });
  } catch (error) {
    if (error instanceof OrderlyError && error.errorClass === "validation" && error.details !== undefined) {
      const detail = describeEconomicError(error.details);
      if (detail)
        throw new OrderlyError(`e-conomic rejected ${req.method} ${req.path.split("?")[0]}: ${detail}`, {
          errorClass: error.errorClass,
          code: error.code,
          details: error.details,
          internal: error.message,
          cause: error,
        });
    }
    throw error;
  }
}

/** e-conomic's "custom resource self-link encoding" (REST introduction): each of these becomes `_n_`. */
const SELF_LINK_ESCAPES: Readonly<Record<string, string>> = {
  "<": "_0_",
  ">": "_1_",
  "*": "_2_",
  "%": "_3_",
  ":": "_4_",
  "&": "_5_",
  "/": "_6_",
  "\\": "_7_",
  _: "_8_",
  " ": "_9_",
  "?": "_10_",
  ".": "_11_",
  "#": "_12_",
  "+": "_13_",
};

/**
 * A text id (a product number) as a path segment: e-conomic replaces `< > * % : & / \ _ space ? . # +`
 * with its own `_n_` codes and URL-encodes only the rest, so `/products/TS%2F1` does not find "TS/1"
 * (`/products/TS_6_1` does).
 */
export function resourceId(id: string): string {
  return encodeURIComponent(id.replace(/[<>*%:&/\\_ ?.#+]/g, (c) => SELF_LINK_ESCAPES[c] ?? c));
}

/** Escapes a value for e-conomic's filter syntax: `$ ( ) * , [ ]` are each prefixed with `$`. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[$()*,[\]]/g, (c) => `$${c}`);
}

/** `?filter=<property>$eq:<value>`, escaped and URL-encoded as e-conomic asks. */
export function eqFilter(property: string, value: string | number): string {
  return allEqFilter([{ property, value }]);
}

/** Several `$eq` conditions joined with `$and:` (e.g. name and zip together). */
export function allEqFilter(predicates: ReadonlyArray<{ property: string; value: string | number }>): string {
  const parts = predicates.map(
    ({ property, value }) => `${property}$eq:${typeof value === "number" ? String(value) : escapeFilterValue(value)}`,
  );
  return `filter=${encodeURIComponent(parts.join("$and:"))}`;
}

/**
 * Turns e-conomic's annotated error body into one sentence naming each rejected field. The body
 * mirrors the request: `errors.<prop>.errors[]`, and arrays carry `arrayIndex` (`lines[0].unitNetPrice`).
 */
export function describeEconomicError(body: unknown): string | undefined {
  if (!isRecord(body)) return typeof body === "string" && body ? body.slice(0, 300) : undefined;
  const problems: string[] = [];
  collectFieldErrors(body.errors, "", problems);
  const message = typeof body.message === "string" ? body.message.trim() : "";
  if (problems.length === 0) return message || undefined;
  return `${message ? `${message} ` : ""}${problems.join("; ")}.`;
}

function collectFieldErrors(node: unknown, path: string, out: string[]): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => {
      const index = isRecord(item) && typeof item.arrayIndex === "number" ? item.arrayIndex : i;
      collectFieldErrors(item, `${path}[${index}]`, out);
    });
    return;
  }
  if (!isRecord(node)) return;
  const own = Array.isArray(node.errors)
    ? node.errors.flatMap((e) => (isRecord(e) && typeof e.message === "string" ? [e.message.replace(/\.$/, "")] : []))
    : [];
  if (own.length > 0) out.push(`${path || "request"}: ${own.join(", ")}`);
  for (const [key, value] of Object.entries(node)) {
    if (key === "errors" || key === "arrayIndex") continue;
    collectFieldErrors(value, path ? `${path}.${key}` : key, out);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
