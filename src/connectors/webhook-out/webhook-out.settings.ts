/**
 * Settings and credentials of the outbound webhook target as zod schemas (the connection form, the
 * step form and their API validation come from here). The endpoint is the connection's `baseUrl`:
 * that name is what the connections API guards (moving it requires the credentials again, so an
 * editor cannot aim the bearer token at their own server) and what a stored connection is refused
 * on when the outbound rule changes (src/connectors/base-url.ts).
 */
import { env } from "cloudflare:workers";
import { z } from "zod";
import { allowPrivateBaseUrls } from "../../worker/config";
import { type BaseUrlPolicy, baseUrlProblem } from "../base-url";

export const EXAMPLE_ENDPOINT = "https://wms.example.com/orderly/orders";

/** Why `value` cannot be the endpoint, or null: the same rule as every connector's base URL. */
export function endpointProblem(value: string, policy: BaseUrlPolicy): string | null {
  return baseUrlProblem(value, EXAMPLE_ENDPOINT, policy);
}

export const MAX_EXTRA_HEADERS = 10;
const MAX_HEADER_NAME = 64;
const MAX_HEADER_VALUE = 1024;
/** RFC 9110 token characters: anything else is not a header name. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: exactly the characters a header value must not hold (CR/LF split headers).
const CONTROL = /[\u0000-\u001F\u007F]/;

/**
 * Headers Orderly sets itself: the signature, the key and the body's framing must be what was
 * signed and sent, and a bearer token belongs in the credentials (encrypted, never shown again).
 */
const RESERVED_HEADERS = new Set([
  "host",
  "content-length",
  "content-type",
  "content-encoding",
  "transfer-encoding",
  "connection",
  "authorization",
  "idempotency-key",
  "cookie",
]);
const RESERVED_PREFIX = "x-orderly-";

/** Why a static header cannot be sent, or null. */
export function headerProblem(name: string, value: string): string | null {
  const lower = name.toLowerCase();
  if (!HEADER_NAME.test(name) || name.length > MAX_HEADER_NAME)
    return `"${name.slice(0, MAX_HEADER_NAME)}" is not a header name (letters, digits and - only, at most ${MAX_HEADER_NAME} characters)`;
  if (RESERVED_HEADERS.has(lower) || lower.startsWith(RESERVED_PREFIX))
    return lower === "authorization"
      ? `"${name}" cannot be set here: put the token in the connection's Bearer token credential, which is encrypted and never shown again`
      : `"${name}" is set by Orderly itself and cannot be overridden`;
  if (value.length > MAX_HEADER_VALUE) return `the value of "${name}" is longer than ${MAX_HEADER_VALUE} characters`;
  if (CONTROL.test(value)) return `the value of "${name}" contains a line break or control character`;
  return null;
}

export const webhookOutSettings = z.object({
  baseUrl: z
    .string()
    .trim()
    .min(1, "is required")
    .superRefine((value, ctx) => {
      const problem = endpointProblem(value, { allowPrivate: allowPrivateBaseUrls(env) });
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .describe(
      `Endpoint URL: the https address Orderly POSTs each order to, exactly as given (e.g. ${EXAMPLE_ENDPOINT}), on a public host name, without a query or fragment.`,
    ),
  headers: z
    .record(z.string(), z.string())
    .superRefine((headers, ctx) => {
      const names = Object.keys(headers);
      if (names.length > MAX_EXTRA_HEADERS)
        ctx.addIssue({ code: "custom", message: `at most ${MAX_EXTRA_HEADERS} extra headers (${names.length} given)` });
      const seen = new Set<string>();
      for (const [name, value] of Object.entries(headers)) {
        const problem = headerProblem(name, value);
        if (problem) ctx.addIssue({ code: "custom", message: problem, path: [name] });
        if (seen.has(name.toLowerCase()))
          ctx.addIssue({ code: "custom", message: `"${name}" is given twice (header names ignore case)`, path: [name] });
        seen.add(name.toLowerCase());
      }
    })
    .default({})
    .describe(
      `Extra static headers sent with every request (at most ${MAX_EXTRA_HEADERS}), such as X-Warehouse-Id = 42. They are not secret: use the Bearer token credential for a token. Content-Type, Authorization, Idempotency-Key and X-Orderly-* are set by Orderly.`,
    ),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(30)
    .default(30)
    .describe("Seconds to wait for the endpoint's answer (1–30; never more than Orderly's own outbound deadline)."),
});
export type WebhookOutSettings = z.infer<typeof webhookOutSettings>;

// biome-ignore lint/suspicious/noControlCharactersInRegex: a token with a line break would split the Authorization header.
const NO_CONTROL = /^[^\u0000-\u001F\u007F]*$/;

export const webhookOutCredentials = z.object({
  signingSecret: z
    .string()
    .trim()
    .min(24, "must be at least 24 characters (generate one, e.g. `openssl rand -hex 32`)")
    .max(256, "must be at most 256 characters")
    .regex(NO_CONTROL, "must not contain line breaks or control characters")
    .describe(
      "Shared secret the receiver verifies the X-Orderly-Signature header with (HMAC-SHA256). At least 24 characters; generate one with `openssl rand -hex 32` and give the receiver the same value.",
    ),
  bearerToken: z
    .string()
    .trim()
    .max(4096, "must be at most 4096 characters")
    .regex(NO_CONTROL, "must not contain line breaks or control characters")
    .optional()
    .describe(
      "Optional token sent as `Authorization: Bearer <token>`, for endpoints behind an API gateway. Leave empty for none.",
    ),
});
export type WebhookOutCredentials = z.infer<typeof webhookOutCredentials>;

export const PAYLOADS = ["order", "pickList"] as const;
export type PayloadKind = (typeof PAYLOADS)[number];

export const sendOrderSettings = z.object({
  payload: z
    .enum(PAYLOADS)
    .default("order")
    .describe(
      "What is sent: `order` (the whole order: customer, addresses, lines, shipping, totals in minor units with the currency) or `pickList` (order number, ship-to, shipping method and the lines' SKU, name and quantity).",
    ),
  event: z
    .string()
    .trim()
    .max(100, "must be at most 100 characters")
    .regex(/^[A-Za-z0-9._:/-]*$/, "may hold letters, digits and . _ : / - only")
    .optional()
    .describe(
      "Optional event name sent in the X-Orderly-Event header and the body's `event` field, so one endpoint can tell its flows apart (e.g. order.approved).",
    ),
});
export type SendOrderSettings = z.infer<typeof sendOrderSettings>;
