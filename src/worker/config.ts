/** Runtime knobs from wrangler.toml [vars]; tests compress the retry schedule through them. */
import { z } from "zod";

export interface RuntimeConfig {
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  stepMaxAttempts: number;
  stepResendAfterMs: number;
  outboundTimeoutMs: number;
  inlineBodyLimit: number;
  dedupeRetentionDays: number;
  circuitFailureThreshold: number;
  circuitCooldownMs: number;
  inboxShards: number;
  inboxMaxHoldMs: number;
  projectionHoldMs: number;
}

function num(value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined || value.trim() === "") return fallback;
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed >= min ? parsed : fallback;
}

export function runtimeConfig(env: Env): RuntimeConfig {
  return {
    retryBaseSeconds: num(env.RETRY_BASE_SECONDS, 30),
    retryMaxSeconds: num(env.RETRY_MAX_SECONDS, 21_600),
    stepMaxAttempts: num(env.STEP_MAX_ATTEMPTS, 8, 1),
    stepResendAfterMs: num(env.STEP_RESEND_AFTER_SECONDS, 900, 1) * 1000,
    outboundTimeoutMs: num(env.OUTBOUND_TIMEOUT_MS, 30_000, 100),
    inlineBodyLimit: num(env.INLINE_BODY_LIMIT, 102_400, 1),
    // Senders retry for days (Stripe: 3); dedupe keys are never kept for less than a week.
    dedupeRetentionDays: Math.max(7, num(env.DEDUPE_RETENTION_DAYS, 30)),
    circuitFailureThreshold: num(env.CIRCUIT_FAILURE_THRESHOLD, 20, 1),
    circuitCooldownMs: num(env.CIRCUIT_COOLDOWN_SECONDS, 30, 0) * 1000,
    inboxShards: Math.floor(num(env.INBOX_SHARDS, 4, 1)),
    inboxMaxHoldMs: num(env.INBOX_MAX_HOLD_SECONDS, 30, 0) * 1000,
    projectionHoldMs: num(env.PROJECTION_HOLD_SECONDS, 5, 0) * 1000,
  };
}

/**
 * ALLOW_PRIVATE_BASE_URLS: "true" lets a connection's base URL be http, an IP address or a local
 * host name, so the bench, chaos runs and a developer's mocks on 127.0.0.1 can stand in for a
 * vendor. Anything else, and the production default "false", keeps the rule of
 * src/connectors/base-url.ts: the tenant reads every answer, so a private address would be theirs
 * to browse from Orderly's network.
 */
export function allowPrivateBaseUrls(env: Pick<Env, "ALLOW_PRIVATE_BASE_URLS">): boolean {
  return env.ALLOW_PRIVATE_BASE_URLS?.trim() === "true";
}

/** An absolute http(s) address with no query, fragment or user name: a page's path is appended to it. */
const publicUrlSchema = z
  .url({ protocol: /^https?$/, hostname: z.regexes.hostname })
  .transform((value) => new URL(value))
  .refine((url) => !url.search && !url.hash && !url.username && !url.password, {
    message: "must not carry a query, fragment, user name or password",
  })
  .transform((url) => `${url.origin}${url.pathname}`.replace(/\/+$/, ""));

const warnedPublicUrls = new Set<string>();

/**
 * PUBLIC_URL: the address people open Orderly at (`https://orderly.example.com`), which alert and
 * report emails put before their links; the cron and queues have no request to read it from. Null
 * when it is empty or not a usable address: emails then say where to click instead, and a bad value
 * is warned about once per isolate rather than failing every alert that would carry it.
 */
export function publicUrl(env: Partial<Pick<Env, "PUBLIC_URL">>): string | null {
  const value = env.PUBLIC_URL?.trim() ?? "";
  if (value === "") return null;
  const parsed = publicUrlSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  if (!warnedPublicUrls.has(value)) {
    warnedPublicUrls.add(value);
    console.warn(
      `PUBLIC_URL "${value}" is ignored: it must be an absolute http(s) address such as https://orderly.example.com (${parsed.error.issues[0]?.message}). Emails name Orderly's pages without links until it is fixed.`,
    );
  }
  return null;
}

/**
 * Where the links of an email a request sends (a password reset, an invitation) point: PUBLIC_URL
 * when set, else the request's own origin. The request's Host is the caller's to choose wherever
 * more than one host name reaches the Worker (a wildcard route, self-hosted workerd behind a proxy
 * that passes Host on): a reset link built from it could carry the token to another site.
 */
export function linkOrigin(env: Partial<Pick<Env, "PUBLIC_URL">>, requestUrl: string): string {
  return publicUrl(env) ?? new URL(requestUrl).origin;
}

/** Exponential backoff with jitter, in whole seconds, never shorter than the vendor's Retry-After. */
export function retryDelaySeconds(
  config: RuntimeConfig,
  attempt: number,
  retryAfterSeconds?: number,
  random = Math.random(),
): number {
  const exponential = Math.min(config.retryMaxSeconds, config.retryBaseSeconds * 2 ** Math.max(0, attempt - 1));
  // The cap holds after jitter; only the vendor's own Retry-After may ask for longer.
  const jittered = Math.min(config.retryMaxSeconds, Math.round(exponential * (0.8 + 0.4 * random)));
  return Math.max(jittered, retryAfterSeconds ?? 0);
}
