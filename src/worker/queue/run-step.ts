/**
 * Runs one released step: asks the target's gate (rate, concurrency, pause), claims the step
 * from its order's object, calls the connector action with a deadline, records what was sent
 * and received as snapshots, and reports the outcome back. The order's object decides what
 * happens next (next step, retry with backoff, or failed).
 */
import type { ActionContext, ActionResult } from "../../connectors/contract";
import { type CallPacer, createHttpClient } from "../../connectors/http";
import { type LoadedConnection, loadConnection } from "../../db/connections";
import {
  attemptBundle,
  inlineSnapshot,
  prepareSnapshot,
  SNAPSHOT_INLINE_LIMIT,
  type SnapshotData,
  type SnapshotPart,
  type SnapshotRecord,
} from "../../db/snapshots";
import { asOrderlyError, OrderlyError } from "../../domain/errors";
import type { TransferInput } from "../../domain/order";
import { applyMapping, mappingFailure, mappingSnapshot } from "../../domain/step-mapping";
import {
  type HandedStep,
  orderStub,
  type StepClaim,
  type StepMessage,
  type StepOutcome,
  type StepReport,
  type StepVerdict,
} from "../../durable/order-types";
import { withStepTime } from "../../mail/send-mail";
import { type RuntimeConfig, runtimeConfig } from "../config";
import { onCircuitChange } from "./circuit-alerts";
import { acquireGate, expectedLeaseEnd, gateExclusive, gatePacer, releaseGate } from "./target-gate-client";

/**
 * `takeNext`: the caller runs the transfer's next step itself if the object hands it over.
 * `handed`: this step was handed over, already claimed.
 */
export async function runStep(env: Env, message: StepMessage, takeNext = false, handed?: HandedStep): Promise<StepVerdict> {
  const config = runtimeConfig(env);
  const order = orderStub(env, message.order);
  // A hand-over held too long (its consumer stalled) is not run: its lease could end mid-call and
  // another dispatch take the step. Its claim goes back (it was no attempt), and the object sends
  // the step again at once instead of after the lease.
  if (handed && Date.now() + config.outboundTimeoutMs > handed.claim.leaseUntil) {
    await order.deferStep(message, Date.now(), "the consumer it was handed to was held up; it is sent again", handed.token);
    return { next: "ack" };
  }
  const connection = message.target ? await loadConnection(env, message.target, message.tenantId) : null;
  const leaseUntil = handed?.claim.leaseUntil ?? expectedLeaseEnd(config);
  const gate = connection ? await acquireGate(env, message, connection.connector.id, config, leaseUntil) : null;
  if (gate && !gate.result.granted) {
    const busy = await order.deferStep(message, Date.now() + gate.result.retryAfterMs, gate.result.reason, handed?.token);
    // A live lease holds the step (this message came back after its consumer died holding it): it
    // comes back when the lease is over, and is deferred then if the gate still says no.
    return busy && !handed ? { next: "retry", delaySeconds: busy.retryAfterSeconds } : { next: "ack" };
  }
  const ticket = gate?.result.granted ? gate.result.ticket : undefined;
  const token = handed?.token ?? crypto.randomUUID();
  // The RPC layer cannot type `unknown` fields; both sides are ours, so the declared type holds.
  let claim: StepClaim;
  try {
    claim = handed?.claim ?? ((await order.claimStep(message, token, { orderInClaim: true })) as StepClaim);
  } catch (error) {
    // The gate's slot (or its only probe) goes back at once, not when its ticket expires.
    if (ticket) await releaseGate(env, message, ticket, 0, "unused", config).catch(() => {});
    throw error;
  }
  if (claim.action !== "run") {
    if (ticket) await releaseGate(env, message, ticket, 0, "unused", config);
    return claim.action === "drop" ? { next: "ack" } : { next: "retry", delaySeconds: claim.retryAfterSeconds };
  }

  const started = Date.now();
  const parts: SnapshotPart[] = [];
  const base = { transferId: claim.transferId, tenantId: claim.tenantId, stepIndex: claim.stepIndex, attempt: claim.attempt };
  const pacer: CallPacer | undefined =
    gate && ticket ? gatePacer(env, message, ticket, gate.limits, claim.leaseUntil, config) : undefined;
  const http = createHttpClient({
    timeoutMs: config.outboundTimeoutMs,
    vendor: connection?.connector.name ?? "target",
    ...(pacer ? { pacer } : {}),
  });
  // Calls the action makes outside `http` (a mail provider, a PDF's bytes) keep the lease too.
  const stepEnv = withStepTime(env, {
    leaseUntil: claim.leaseUntil,
    callTimeoutMs: config.outboundTimeoutMs,
    ...(pacer ? { pace: () => pacer.beforeCall() } : {}),
  });
  let outcome: StepOutcome;
  try {
    const exclusive = gate && ticket ? gateExclusive(env, message, ticket, claim.leaseUntil, config) : undefined;
    const result = await runAction(stepEnv, claim, connection, http, (data) => parts.push({ kind: "mapped", data }), exclusive);
    outcome = { kind: "ok", result };
  } catch (thrown) {
    const error = asOrderlyError(thrown);
    const stepError = {
      message: error.message,
      code: error.code,
      errorClass: error.errorClass,
      ...(error.madeNothing ? { madeNothing: true } : {}),
    };
    parts.push({ kind: "error", data: { ...stepError, internal: error.internal, details: error.details } });
    outcome = error.retryable
      ? {
          kind: "retry",
          error: stepError,
          ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
        }
      : { kind: "failed", error: stepError };
  }
  // From here on the outcome is known: nothing that fails below may lose it, or the step runs
  // again (a second document where adoption is imperfect, a second e-mail).
  if (ticket && connection) await settleGate(env, message, ticket, http.exchanges.length, outcome, connection, config);
  for (const exchange of http.exchanges) {
    parts.push({ kind: "request", data: exchange.request });
    parts.push({
      kind: "response",
      data: exchange.response ?? { error: exchange.error, latencyMs: exchange.latencyMs },
    });
  }
  const bundle = attemptBundle(base, parts);
  const snapshots: SnapshotRecord[] = bundle ? [await keepSnapshot(env, bundle)] : [];
  return report(env, message.order, {
    transferId: claim.transferId,
    stepIndex: claim.stepIndex,
    token,
    outcome,
    snapshots,
    latencyMs: Date.now() - started,
    ...(takeNext ? { takeNext } : {}),
  });
}

/**
 * Gives the gate its slot back and tells it how the step went. Neither a release nor a circuit
 * write that fails loses the outcome: an unreleased ticket expires with the step's lease, and a
 * circuit that opened is still open at the gate (only its mark in D1 and the alert are missed).
 */
async function settleGate(
  env: Env,
  message: StepMessage,
  ticket: string,
  calls: number,
  outcome: StepOutcome,
  connection: LoadedConnection,
  config: RuntimeConfig,
): Promise<void> {
  const where = { transferId: message.transferId, stepIndex: message.stepIndex, connectionId: connection.id };
  let change: Awaited<ReturnType<typeof releaseGate>>;
  try {
    change = await releaseGate(env, message, ticket, calls, outcome, config);
  } catch (error) {
    console.error("step: the gate's slot was not released; it expires with the step's lease", { ...where, error: String(error) });
    return;
  }
  try {
    await onCircuitChange(env, connection, change, outcome);
  } catch (error) {
    console.error("step: the circuit's change was not recorded", { ...where, change, error: String(error) });
  }
}

/**
 * The attempt's bundle as a snapshot: in R2 when it is over the inline limit. If R2 cannot take it,
 * the bundle is kept inline, cut down and marked as cut, rather than the outcome being lost.
 */
async function keepSnapshot(env: Env, bundle: SnapshotData): Promise<SnapshotRecord> {
  try {
    return await prepareSnapshot(env, bundle);
  } catch (error) {
    console.error("step: the attempt's snapshot was not stored in R2; kept inline, truncated", {
      transferId: bundle.transferId,
      error: String(error),
    });
    return truncatedSnapshot(bundle, `truncated: R2 could not store this attempt's snapshot (${String(error)})`);
  }
}

/**
 * Each part whole when small, else its first characters: a quarter of the inline limit shared out
 * (a character is at most 3 bytes, and 2 once escaped), which leaves room for the wrappers.
 */
function truncatedSnapshot(bundle: SnapshotData, reason: string, now = Date.now()): SnapshotRecord {
  const parts = (bundle.data as { parts: SnapshotPart[] }).parts;
  const share = Math.floor(SNAPSHOT_INLINE_LIMIT / 4 / Math.max(1, parts.length));
  const kept = parts.map((part): SnapshotPart => {
    let text: string;
    try {
      text = JSON.stringify(part.data ?? null);
    } catch (error) {
      return { kind: part.kind, data: { truncated: `${reason}; unreadable (${String(error)})` } };
    }
    if (text.length <= share) return part;
    return { kind: part.kind, data: { truncated: reason, characters: text.length, head: text.slice(0, share) } };
  });
  return inlineSnapshot({ ...bundle, data: { parts: kept, truncated: reason } }, now);
}

/** Waits before each report tried again: a few, short, well inside what is left of the lease. */
const REPORT_RETRY_DELAYS_MS = [200, 1000, 3000];

/**
 * Reports the outcome, tried again in place with the same token when the order's object cannot
 * be reached (a fresh stub each time). A report that landed though its answer was lost answers
 * `stale` when repeated (its lease is gone), which the consumer acks: the object already has the
 * outcome and moves the step on itself (a retry or the next step by its due time). Only when every
 * try fails does the error reach the consumer, whose message comes back after the lease.
 */
async function report(env: Env, orderName: string, stepReport: StepReport): Promise<StepVerdict> {
  for (let tries = 0; ; tries++) {
    try {
      return await orderStub(env, orderName).reportStep(stepReport);
    } catch (error) {
      const delayMs = REPORT_RETRY_DELAYS_MS[tries];
      if (delayMs === undefined) throw error;
      console.warn("step: report not delivered; trying again", {
        transferId: stepReport.transferId,
        stepIndex: stepReport.stepIndex,
        error: String(error),
      });
      await scheduler.wait(delayMs);
    }
  }
}

async function runAction(
  env: Env,
  claim: Extract<StepClaim, { action: "run" }>,
  connection: LoadedConnection | null,
  http: ReturnType<typeof createHttpClient>,
  mapped: (data: unknown) => void,
  exclusive: ActionContext<unknown, unknown, unknown>["exclusive"],
): Promise<ActionResult> {
  if (!connection) {
    throw new OrderlyError(`The step's target connection ${claim.step.target} no longer exists; edit the flow and retry.`, {
      errorClass: "validation",
      code: "target_connection_missing",
      madeNothing: true,
    });
  }
  if (!connection.enabled) {
    throw new OrderlyError(`The target connection "${connection.name}" is disabled; enable it and retry.`, {
      errorClass: "validation",
      code: "target_connection_disabled",
      madeNothing: true,
    });
  }
  const action = connection.connector.actions?.[claim.step.action];
  if (!action) {
    throw new OrderlyError(`${connection.connector.name} has no action "${claim.step.action}".`, {
      errorClass: "validation",
      code: "action_unknown",
      madeNothing: true,
    });
  }
  const settings = action.settings.safeParse(claim.step.settings);
  if (!settings.success) {
    const issues = settings.error.issues
      .map((i: { path: PropertyKey[]; message: string }) => `${i.path.join(".")}: ${i.message}`)
      .join("; ");
    throw new OrderlyError(`The step's settings are invalid: ${issues}`, {
      errorClass: "validation",
      code: "step_settings_invalid",
      madeNothing: true,
    });
  }
  const input = await stepInput(claim, mapped);
  return action.run(
    {
      connection: {
        id: connection.id,
        tenantId: connection.tenantId,
        settings: connection.settings,
        credentials: connection.credentials,
      },
      settings: settings.data,
      reference: claim.reference,
      ...(claim.earlierAttemptUnsettled ? { earlierAttemptUnsettled: true } : {}),
      // Attempt numbers go on counting across the transfer's runs (OrderDO.resetSteps).
      ...(claim.attempt === 1 ? { firstAttempt: true } : {}),
      http,
      mapped,
      previous: claim.previous,
      ...(claim.prior ? { prior: claim.prior } : {}),
      history: claim.history,
      order: claim.order,
      env,
      ...(exclusive ? { exclusive } : {}),
    },
    input,
  );
}

/**
 * The input the action receives: the transfer's, or what the step's mapping makes of it, on every
 * attempt (the mapping is part of the step's config frozen with the transfer, so a retry sees the
 * same input unless it takes the flow's current settings). What it made is kept in the attempt's
 * history; a mapping that fails fails the step before anything is sent.
 */
async function stepInput(claim: Extract<StepClaim, { action: "run" }>, mapped: (data: unknown) => void): Promise<TransferInput> {
  const mapping = claim.step.mapping;
  if (!mapping) return claim.input;
  const outcome = await applyMapping(mapping, claim.input, claim.previous);
  if ("error" in outcome) throw mappingFailure(claim.stepIndex, outcome.error);
  mapped(mappingSnapshot(outcome.input));
  return outcome.input;
}
