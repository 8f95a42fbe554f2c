/** Asking a target connection's gate before a step calls it, and telling it how the step went. */
import type { Connector } from "../../connectors/contract";
import { getConnector } from "../../connectors/registry";
import type { StepMessage, StepOutcome } from "../../durable/order-types";
import type { AcquireResult, GateLimits, ReleaseResult } from "../../durable/target-gate";
import type { RuntimeConfig } from "../config";

const DEFAULT_LIMITS: GateLimits = { ratePerSecond: 10, burst: 10, concurrency: 4 };

export function limitsOf(connector: Connector | undefined): GateLimits | null {
  if (!connector?.limits) return connector ? null : DEFAULT_LIMITS;
  const { ratePerSecond, burst, concurrency } = connector.limits;
  return {
    ratePerSecond,
    burst: burst ?? Math.max(1, Math.ceil(ratePerSecond)),
    concurrency: concurrency ?? DEFAULT_LIMITS.concurrency,
  };
}

export function gateFor(env: Env, connectionId: string) {
  return env.GATES.get(env.GATES.idFromName(connectionId));
}

/** Null when the target needs no gate (a built-in target such as the sandbox ledger). */
export async function acquireGate(
  env: Env,
  message: StepMessage,
  connectorId: string,
  config: RuntimeConfig,
): Promise<AcquireResult | null> {
  const connector = getConnector(connectorId);
  const limits = limitsOf(connector);
  if (!limits || !message.target) return null;
  const cost = connector?.actions?.[message.action]?.estimatedCalls ?? 1;
  return gateFor(env, message.target).acquire({
    limits,
    priority: message.priority,
    cost,
    failureThreshold: config.circuitFailureThreshold,
    cooldownMs: config.circuitCooldownMs,
  });
}

export async function releaseGate(
  env: Env,
  message: StepMessage,
  ticket: string,
  calls: number,
  outcome: StepOutcome | "unused",
  config: RuntimeConfig,
): Promise<ReleaseResult> {
  // Only failures that say the target is down count toward pausing it; a 429 slows everyone down.
  const kind =
    outcome === "unused"
      ? "unused"
      : outcome.kind === "ok"
        ? "ok"
        : outcome.error.errorClass === "rate_limited"
          ? "rate-limited"
          : outcome.kind === "retry"
            ? "retryable"
            : "permanent";
  return gateFor(env, message.target).release({
    ticket,
    calls,
    outcome: kind,
    ...(outcome !== "unused" && outcome.kind === "retry" && outcome.retryAfterSeconds !== undefined
      ? { retryAfterSeconds: outcome.retryAfterSeconds }
      : {}),
    failureThreshold: config.circuitFailureThreshold,
    cooldownMs: config.circuitCooldownMs,
  });
}
