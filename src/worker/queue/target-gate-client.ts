/** Asking a target connection's gate before a step calls it, and telling it how the step went. */
import type { Connector } from "../../connectors/contract";
import type { CallPacer } from "../../connectors/http";
import { getConnector } from "../../connectors/registry";
import { OrderlyError } from "../../domain/errors";
import type { StepMessage, StepOutcome } from "../../durable/order-types";
import type { AcquireResult, GateLimits, ReleaseResult } from "../../durable/target-gate";
import { STEP_OUT_OF_TIME } from "../../mail/send-mail";
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

/**
 * When the lease of a claim made now ends (as OrderDO.leaseEnd sets it): a step asks its gate
 * before it claims, and its ticket should not outlive the lease by much (its first call tells the
 * gate the lease as the claim has it).
 */
export function expectedLeaseEnd(config: RuntimeConfig, now = Date.now()): number {
  return now + Math.max(10_000, 4 * config.outboundTimeoutMs);
}

/**
 * Null when the target needs no gate (a built-in target such as the sandbox ledger). `leaseUntil`:
 * when the step's lease ends; a ticket never released (its consumer died) is given up soon after.
 */
export async function acquireGate(
  env: Env,
  message: StepMessage,
  connectorId: string,
  config: RuntimeConfig,
  leaseUntil: number,
): Promise<{ result: AcquireResult; limits: GateLimits } | null> {
  const limits = limitsOf(getConnector(connectorId));
  if (!limits || !message.target) return null;
  const result = await gateFor(env, message.target).acquire({
    limits,
    priority: message.priority,
    failureThreshold: config.circuitFailureThreshold,
    cooldownMs: config.circuitCooldownMs,
    leaseUntil,
  });
  return { result, limits };
}

/** Later than this after its slot, a call tells the gate (the window's margin absorbs less). */
const LATE_REPORT_MS = 15;

/** Each call of a granted step waits for its slot at the gate, within the step's lease. */
export function gatePacer(
  env: Env,
  message: StepMessage,
  ticket: string,
  limits: GateLimits,
  leaseUntil: number,
  config: RuntimeConfig,
): CallPacer {
  const gate = gateFor(env, message.target);
  return {
    async beforeCall() {
      const asked = Date.now();
      const { waitMs, slot } = await gate.call(ticket, limits, leaseUntil);
      // A call that could outlast the lease is not started: another dispatch may own the step by then.
      if (Date.now() + waitMs + config.outboundTimeoutMs > leaseUntil) {
        throw new OrderlyError("The step ran out of its time slot waiting for the target's rate limit; it runs again shortly.", {
          errorClass: "rate_limited",
          code: STEP_OUT_OF_TIME,
        });
      }
      if (waitMs > 0) await scheduler.wait(waitMs);
      // Counted from before the ask, so the ask's own round trip counts as late too (the safe side).
      const lateMs = Date.now() - asked - waitMs;
      // Not awaited: the call goes now, the gate hears of it alongside.
      if (lateMs > LATE_REPORT_MS) void gate.sentLate(slot, lateMs).catch(() => {});
    },
    async rateLimited(retryAfterSeconds) {
      await gate.rateLimited(retryAfterSeconds);
    },
  };
}

/**
 * Errors born on our side, not the target's: another step holds the record (`record_busy`), or the
 * step's own lease left no time for a call (`step_out_of_time`, thrown here and in send-mail.ts).
 * They say nothing of the target's health: no failure toward pausing it, no hold for everyone.
 */
const OUR_OWN = new Set(["record_busy", STEP_OUT_OF_TIME]);

export async function releaseGate(
  env: Env,
  message: StepMessage,
  ticket: string,
  calls: number,
  outcome: StepOutcome | "unused",
  config: RuntimeConfig,
): Promise<ReleaseResult> {
  // Only failures that say the target is down count toward pausing it; a 429 slows everyone down.
  // A step that made no call, or stopped on our side, only gives its slot back.
  const kind =
    outcome === "unused" || calls === 0 || (outcome.kind !== "ok" && OUR_OWN.has(outcome.error.code))
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
    ...(kind !== "unused" && outcome !== "unused" && outcome.kind === "retry" && outcome.retryAfterSeconds !== undefined
      ? { retryAfterSeconds: outcome.retryAfterSeconds }
      : {}),
    failureThreshold: config.circuitFailureThreshold,
    cooldownMs: config.circuitCooldownMs,
  });
}

/**
 * The step's `exclusive` (see ActionContext): waits for the key at the gate, for as long as the
 * step's lease leaves room for the work, then runs it and lets go. A key it cannot get in time
 * is a retry, not a failure: the other step will have made the record by then.
 *
 * Work that failed without knowing whether its call landed (no answer in time, the connection
 * lost) keeps the key until the hold lapses with the lease: the target may still be making the
 * record, and a step let in now would miss it and make a second one.
 */
export function gateExclusive(env: Env, message: StepMessage, ticket: string, leaseUntil: number, config: RuntimeConfig) {
  const gate = gateFor(env, message.target);
  return async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const giveUpAt = leaseUntil - 2 * config.outboundTimeoutMs;
    for (;;) {
      const answer = await gate.hold(key, ticket, leaseUntil);
      if (answer.held) break;
      if (Date.now() + answer.retryAfterMs > giveUpAt)
        throw new OrderlyError("Another step of this connection is creating the same record; this step will run again shortly.", {
          errorClass: "unavailable",
          code: "record_busy",
          // Given up before `work` ran. What the step made before asking (a product or customer
          // under another key) is found by that key, not by the step's reference.
          madeNothing: true,
        });
      await new Promise((resolve) => setTimeout(resolve, answer.retryAfterMs));
    }
    let result: T;
    try {
      result = await work();
    } catch (error) {
      if (!outcomeUnknown(error)) await gate.letGo(key, ticket).catch(() => {});
      throw error;
    }
    await gate.letGo(key, ticket).catch(() => {});
    return result;
  };
}

/**
 * A call that may have landed though the step saw it fail: no answer within the timeout, or the
 * connection lost (how http.ts classes them). An answer, a 5xx too, comes once the target is done
 * with the request, so whatever it made is there for the next step to find (a gateway's 504 aside,
 * which the error does not tell apart from another 5xx).
 */
function outcomeUnknown(error: unknown): boolean {
  return error instanceof OrderlyError && (error.errorClass === "timeout" || error.code === "outbound_network");
}
