/** Runtime knobs from wrangler.toml [vars]; tests compress the retry schedule through them. */
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
