/**
 * Runs one released step: claims it from its order's object, calls the connector action with
 * a deadline, records what was sent and received as snapshots, and reports the outcome back.
 * The order's object decides what happens next (next step, retry with backoff, or failed).
 */
import type { ActionResult } from "../../connectors/contract";
import { createHttpClient } from "../../connectors/http";
import { loadConnection } from "../../db/connections";
import { prepareSnapshot, type SnapshotData, type SnapshotRecord } from "../../db/snapshots";
import { asOrderlyError, OrderlyError } from "../../domain/errors";
import { orderStub, type StepClaim, type StepMessage, type StepOutcome, type StepVerdict } from "../../durable/order-types";
import { runtimeConfig } from "../config";

export async function runStep(env: Env, message: StepMessage): Promise<StepVerdict> {
  const order = orderStub(env, message.order);
  const token = crypto.randomUUID();
  // The RPC layer cannot type `unknown` fields; both sides are ours, so the declared type holds.
  const claim = (await order.claimStep(message, token)) as StepClaim;
  if (claim.action === "drop") return { next: "ack" };
  if (claim.action === "busy") return { next: "retry", delaySeconds: claim.retryAfterSeconds };

  const config = runtimeConfig(env);
  const started = Date.now();
  const snapshotData: SnapshotData[] = [];
  const base = { transferId: claim.transferId, tenantId: claim.tenantId, stepIndex: claim.stepIndex, attempt: claim.attempt };
  let outcome: StepOutcome;
  let http: ReturnType<typeof createHttpClient> | undefined;
  try {
    const connection = await loadConnection(env, claim.step.target, claim.tenantId);
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
      throw new OrderlyError(
        `The step's settings are invalid: ${settings.error.issues.map((i: { path: PropertyKey[]; message: string }) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        {
          errorClass: "validation",
          code: "step_settings_invalid",
        },
      );
    }
    http = createHttpClient({ timeoutMs: config.outboundTimeoutMs, vendor: connection.connector.name });
    const result: ActionResult = await action.run(
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
        mapped: (data) => snapshotData.push({ ...base, kind: "mapped", data }),
        previous: claim.previous,
        history: claim.history,
        env,
      },
      claim.input,
    );
    outcome = { kind: "ok", result };
  } catch (thrown) {
    const error = asOrderlyError(thrown);
    const stepError = { message: error.message, code: error.code, errorClass: error.errorClass };
    snapshotData.push({ ...base, kind: "error", data: { ...stepError, internal: error.internal, details: error.details } });
    outcome = error.retryable
      ? {
          kind: "retry",
          error: stepError,
          ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
        }
      : { kind: "failed", error: stepError };
  }
  for (const exchange of http?.exchanges ?? []) {
    snapshotData.push({ ...base, kind: "request", data: exchange.request });
    snapshotData.push({
      ...base,
      kind: "response",
      data: exchange.response ?? { error: exchange.error, latencyMs: exchange.latencyMs },
    });
  }
  const snapshots: SnapshotRecord[] = await Promise.all(snapshotData.map((s) => prepareSnapshot(env, s)));
  return order.reportStep({
    transferId: claim.transferId,
    stepIndex: claim.stepIndex,
    token,
    outcome,
    snapshots,
    latencyMs: Date.now() - started,
  });
}
