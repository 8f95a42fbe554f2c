/**
 * Runs one released step: asks the target's gate (rate, concurrency, pause), claims the step
 * from its order's object, calls the connector action with a deadline, records what was sent
 * and received as snapshots, and reports the outcome back. The order's object decides what
 * happens next (next step, retry with backoff, or failed).
 */
import type { ActionContext, ActionResult } from "../../connectors/contract";
import { createHttpClient } from "../../connectors/http";
import { type LoadedConnection, loadConnection } from "../../db/connections";
import { attemptBundle, prepareSnapshot, type SnapshotPart, type SnapshotRecord } from "../../db/snapshots";
import { asOrderlyError, OrderlyError } from "../../domain/errors";
import {
  type HandedStep,
  orderStub,
  type StepClaim,
  type StepMessage,
  type StepOutcome,
  type StepVerdict,
} from "../../durable/order-types";
import { runtimeConfig } from "../config";
import { onCircuitChange } from "./circuit-alerts";
import { acquireGate, gateExclusive, gatePacer, releaseGate } from "./target-gate-client";

/**
 * `takeNext`: the caller runs the transfer's next step itself if the object hands it over.
 * `handed`: this step was handed over, already claimed.
 */
export async function runStep(env: Env, message: StepMessage, takeNext = false, handed?: HandedStep): Promise<StepVerdict> {
  const config = runtimeConfig(env);
  // A hand-over held too long (its consumer stalled) is not run: its lease could end mid-call and
  // another dispatch take the step. The object re-sends the step once the lease is over.
  if (handed && Date.now() + config.outboundTimeoutMs > handed.claim.leaseUntil) return { next: "ack" };
  const order = orderStub(env, message.order);
  const connection = message.target ? await loadConnection(env, message.target, message.tenantId) : null;
  const gate = connection ? await acquireGate(env, message, connection.connector.id, config) : null;
  if (gate && !gate.result.granted) {
    await order.deferStep(message, Date.now() + gate.result.retryAfterMs, gate.result.reason, handed?.token);
    return { next: "ack" };
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
  const http = createHttpClient({
    timeoutMs: config.outboundTimeoutMs,
    vendor: connection?.connector.name ?? "target",
    ...(gate && ticket ? { pacer: gatePacer(env, message, ticket, gate.limits, claim.leaseUntil, config) } : {}),
  });
  let outcome: StepOutcome;
  try {
    const exclusive = gate && ticket ? gateExclusive(env, message, ticket, claim.leaseUntil, config) : undefined;
    const result = await runAction(env, claim, connection, http, (data) => parts.push({ kind: "mapped", data }), exclusive);
    outcome = { kind: "ok", result };
  } catch (thrown) {
    const error = asOrderlyError(thrown);
    const stepError = { message: error.message, code: error.code, errorClass: error.errorClass };
    parts.push({ kind: "error", data: { ...stepError, internal: error.internal, details: error.details } });
    outcome = error.retryable
      ? {
          kind: "retry",
          error: stepError,
          ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
        }
      : { kind: "failed", error: stepError };
  }
  if (ticket && connection) {
    const change = await releaseGate(env, message, ticket, http.exchanges.length, outcome, config);
    await onCircuitChange(env, connection, change, outcome);
  }
  for (const exchange of http.exchanges) {
    parts.push({ kind: "request", data: exchange.request });
    parts.push({
      kind: "response",
      data: exchange.response ?? { error: exchange.error, latencyMs: exchange.latencyMs },
    });
  }
  const bundle = attemptBundle(base, parts);
  const snapshots: SnapshotRecord[] = bundle ? [await prepareSnapshot(env, bundle)] : [];
  return order.reportStep({
    transferId: claim.transferId,
    stepIndex: claim.stepIndex,
    token,
    outcome,
    snapshots,
    latencyMs: Date.now() - started,
    ...(takeNext ? { takeNext } : {}),
  });
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
    });
  }
  if (!connection.enabled) {
    throw new OrderlyError(`The target connection "${connection.name}" is disabled; enable it and retry.`, {
      errorClass: "validation",
      code: "target_connection_disabled",
    });
  }
  const action = connection.connector.actions?.[claim.step.action];
  if (!action) {
    throw new OrderlyError(`${connection.connector.name} has no action "${claim.step.action}".`, {
      errorClass: "validation",
      code: "action_unknown",
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
    });
  }
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
      http,
      mapped,
      previous: claim.previous,
      history: claim.history,
      order: claim.order,
      env,
      ...(exclusive ? { exclusive } : {}),
    },
    claim.input,
  );
}
