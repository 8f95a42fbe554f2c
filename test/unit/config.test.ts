import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type RuntimeConfig, retryDelaySeconds, runtimeConfig } from "../../src/worker/config";

type Var =
  | "RETRY_BASE_SECONDS"
  | "RETRY_MAX_SECONDS"
  | "STEP_MAX_ATTEMPTS"
  | "STEP_RESEND_AFTER_SECONDS"
  | "OUTBOUND_TIMEOUT_MS"
  | "INLINE_BODY_LIMIT"
  | "DEDUPE_RETENTION_DAYS"
  | "CIRCUIT_FAILURE_THRESHOLD"
  | "CIRCUIT_COOLDOWN_SECONDS"
  | "INBOX_SHARDS"
  | "INBOX_MAX_HOLD_SECONDS"
  | "PROJECTION_HOLD_SECONDS";

/** An env holding only the given vars, as strings the way wrangler passes them. */
function envWith(vars: Partial<Record<Var, string>>): Env {
  return vars as unknown as Env;
}

const defaults = runtimeConfig(envWith({}));

function schedule(retryBaseSeconds: number, retryMaxSeconds: number): RuntimeConfig {
  return { ...defaults, retryBaseSeconds, retryMaxSeconds };
}

describe("runtimeConfig", () => {
  it("falls back to the production defaults when no vars are set", () => {
    expect(defaults).toEqual({
      retryBaseSeconds: 30,
      retryMaxSeconds: 21_600,
      stepMaxAttempts: 8,
      stepResendAfterMs: 900_000,
      outboundTimeoutMs: 30_000,
      inlineBodyLimit: 102_400,
      dedupeRetentionDays: 30,
      circuitFailureThreshold: 20,
      circuitCooldownMs: 30_000,
      inboxShards: 4,
      inboxMaxHoldMs: 30_000,
      projectionHoldMs: 5000,
    });
  });

  it("parses every knob from its env string", () => {
    expect(
      runtimeConfig(
        envWith({
          RETRY_BASE_SECONDS: "5",
          RETRY_MAX_SECONDS: "600",
          STEP_MAX_ATTEMPTS: "3",
          STEP_RESEND_AFTER_SECONDS: "60",
          OUTBOUND_TIMEOUT_MS: "1500",
          INLINE_BODY_LIMIT: "2048",
          DEDUPE_RETENTION_DAYS: "14",
          CIRCUIT_FAILURE_THRESHOLD: "5",
          CIRCUIT_COOLDOWN_SECONDS: "2",
          INBOX_SHARDS: "8",
          INBOX_MAX_HOLD_SECONDS: "2",
          PROJECTION_HOLD_SECONDS: "0",
        }),
      ),
    ).toEqual({
      retryBaseSeconds: 5,
      retryMaxSeconds: 600,
      stepMaxAttempts: 3,
      stepResendAfterMs: 60_000,
      outboundTimeoutMs: 1500,
      inlineBodyLimit: 2048,
      dedupeRetentionDays: 14,
      circuitFailureThreshold: 5,
      circuitCooldownMs: 2000,
      inboxShards: 8,
      inboxMaxHoldMs: 2000,
      projectionHoldMs: 0,
    });
  });

  it("reads the compressed test schedule from the test bindings", () => {
    const config = runtimeConfig(env);
    expect(config.retryBaseSeconds).toBe(0);
    expect(config.retryMaxSeconds).toBe(0);
    expect(config.stepMaxAttempts).toBe(4);
    expect(config.stepResendAfterMs).toBe(2000);
    expect(config.outboundTimeoutMs).toBe(2000);
  });

  it("accepts zero for the retry schedule", () => {
    const config = runtimeConfig(envWith({ RETRY_BASE_SECONDS: "0", RETRY_MAX_SECONDS: "0" }));
    expect(config.retryBaseSeconds).toBe(0);
    expect(config.retryMaxSeconds).toBe(0);
  });

  it("ignores values that are not numbers", () => {
    const config = runtimeConfig(
      envWith({ RETRY_BASE_SECONDS: "abc", STEP_MAX_ATTEMPTS: "eight", OUTBOUND_TIMEOUT_MS: "Infinity" }),
    );
    expect(config.retryBaseSeconds).toBe(30);
    expect(config.stepMaxAttempts).toBe(8);
    expect(config.outboundTimeoutMs).toBe(30_000);
  });

  it("ignores values below each knob's minimum", () => {
    const config = runtimeConfig(
      envWith({
        RETRY_BASE_SECONDS: "-1",
        STEP_MAX_ATTEMPTS: "0",
        STEP_RESEND_AFTER_SECONDS: "0",
        OUTBOUND_TIMEOUT_MS: "99",
        INLINE_BODY_LIMIT: "0",
      }),
    );
    expect(config.retryBaseSeconds).toBe(30);
    expect(config.stepMaxAttempts).toBe(8);
    expect(config.stepResendAfterMs).toBe(900_000);
    expect(config.outboundTimeoutMs).toBe(30_000);
    expect(config.inlineBodyLimit).toBe(102_400);
  });

  it("accepts each knob's minimum itself", () => {
    const config = runtimeConfig(envWith({ STEP_MAX_ATTEMPTS: "1", OUTBOUND_TIMEOUT_MS: "100", STEP_RESEND_AFTER_SECONDS: "1" }));
    expect(config.stepMaxAttempts).toBe(1);
    expect(config.outboundTimeoutMs).toBe(100);
    expect(config.stepResendAfterMs).toBe(1000);
  });

  it("never keeps dedupe keys for less than seven days", () => {
    expect(runtimeConfig(envWith({ DEDUPE_RETENTION_DAYS: "3" })).dedupeRetentionDays).toBe(7);
    expect(runtimeConfig(envWith({ DEDUPE_RETENTION_DAYS: "0" })).dedupeRetentionDays).toBe(7);
    expect(runtimeConfig(envWith({ DEDUPE_RETENTION_DAYS: "7" })).dedupeRetentionDays).toBe(7);
    expect(runtimeConfig(envWith({ DEDUPE_RETENTION_DAYS: "10" })).dedupeRetentionDays).toBe(10);
    expect(runtimeConfig(envWith({ DEDUPE_RETENTION_DAYS: "-5" })).dedupeRetentionDays).toBe(30);
  });
});

describe("retryDelaySeconds", () => {
  // random = 0.5 puts the jitter factor at exactly 1.
  const noJitter = 0.5;

  it("doubles the delay with each attempt", () => {
    const config = schedule(30, 21_600);
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelaySeconds(config, attempt, undefined, noJitter))).toEqual([
      30, 60, 120, 240, 480,
    ]);
  });

  it("treats attempt zero and below as the first attempt", () => {
    const config = schedule(30, 21_600);
    expect(retryDelaySeconds(config, 0, undefined, noJitter)).toBe(30);
    expect(retryDelaySeconds(config, -3, undefined, noJitter)).toBe(30);
  });

  it("stops growing at the maximum", () => {
    const config = schedule(30, 100);
    expect(retryDelaySeconds(config, 3, undefined, noJitter)).toBe(100);
    expect(retryDelaySeconds(config, 50, undefined, noJitter)).toBe(100);
  });

  it("jitters down to 80% with random 0 and up to 120% with random 1", () => {
    const config = schedule(30, 21_600);
    expect(retryDelaySeconds(config, 1, undefined, 0)).toBe(24);
    expect(retryDelaySeconds(config, 1, undefined, 1)).toBe(36);
    expect(retryDelaySeconds(config, 3, undefined, 0)).toBe(96);
    expect(retryDelaySeconds(config, 3, undefined, 1)).toBe(144);
  });

  it("jitters below the cap but never above it", () => {
    const config = schedule(30, 100);
    expect(retryDelaySeconds(config, 20, undefined, 0)).toBe(80);
    expect(retryDelaySeconds(config, 20, undefined, 1)).toBe(100);
  });

  it("takes an empty setting as unset", () => {
    expect(runtimeConfig({ ...env, RETRY_BASE_SECONDS: "", DEDUPE_RETENTION_DAYS: " " } as Env)).toMatchObject({
      retryBaseSeconds: 30,
      dedupeRetentionDays: 30,
    });
  });

  it("always answers whole seconds within the jitter bounds", () => {
    const config = schedule(7, 21_600);
    for (let i = 0; i <= 20; i++) {
      const random = i / 20;
      const delay = retryDelaySeconds(config, 2, undefined, random);
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(Math.round(14 * 0.8));
      expect(delay).toBeLessThanOrEqual(Math.round(14 * 1.2));
    }
  });

  it("is never shorter than the vendor's Retry-After", () => {
    const config = schedule(30, 21_600);
    expect(retryDelaySeconds(config, 1, 100, 0)).toBe(100);
    expect(retryDelaySeconds(config, 1, 5, noJitter)).toBe(30);
  });

  it("honours a Retry-After longer than the maximum", () => {
    expect(retryDelaySeconds(schedule(30, 100), 10, 500, 1)).toBe(500);
  });

  it("gives zero when the base is zero, whatever the attempt and jitter", () => {
    const config = schedule(0, 21_600);
    for (const attempt of [1, 2, 10]) {
      for (const random of [0, 0.5, 1]) expect(retryDelaySeconds(config, attempt, undefined, random)).toBe(0);
    }
  });

  it("still waits for Retry-After when the base is zero", () => {
    expect(retryDelaySeconds(schedule(0, 0), 3, 4, 1)).toBe(4);
  });

  it("uses Math.random for jitter when no random is given", () => {
    const config = schedule(30, 21_600);
    for (let i = 0; i < 20; i++) {
      const delay = retryDelaySeconds(config, 1);
      expect(delay).toBeGreaterThanOrEqual(24);
      expect(delay).toBeLessThanOrEqual(36);
    }
  });
});
