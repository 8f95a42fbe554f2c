/**
 * Builds the D1 rows that mirror an order's transfers, so the API and UI can search them. The
 * statements are upserts of the full current state: replaying them is harmless and the last
 * one written wins, which is what the outbox's strict order guarantees.
 */
import { database, type SerializedStatement, serialize } from "../db/client";
import { type FlowStepConfig, type TransferStatus, transferSteps, transfers } from "../db/schema";
import type { TransferInput } from "../domain/order";

export interface TransferRow {
  id: string;
  flow_id: string;
  stage: string;
  occurrence: string;
  status: TransferStatus;
  steps: string;
  input: string;
  error: string | null;
  created_at: number;
  updated_at: number;
}

export interface StepRow {
  transfer_id: string;
  step_index: number;
  status: string;
  attempts: number;
  result: string | null;
  error: string | null;
}

export interface OrderIdentity {
  tenantId: string;
  connectionId: string;
  orderId: string;
}

export function projectTransfer(
  env: Pick<Env, "DB">,
  who: OrderIdentity,
  transfer: TransferRow,
  steps: StepRow[],
): SerializedStatement[] {
  const db = database(env);
  const input = JSON.parse(transfer.input) as TransferInput;
  const configs = JSON.parse(transfer.steps) as FlowStepConfig[];
  const error = transfer.error ? (JSON.parse(transfer.error) as { message: string; errorClass: string }) : null;
  const customer = input.order.customer;
  const name = [customer?.firstName, customer?.lastName].filter(Boolean).join(" ") || input.order.billingAddress?.name;
  const done = steps.filter((s) => s.status === "done").length;
  const row = {
    id: transfer.id,
    tenantId: who.tenantId,
    flowId: transfer.flow_id,
    sourceConnectionId: who.connectionId,
    orderId: who.orderId,
    orderNumber: input.order.source.orderNumber,
    stage: transfer.stage,
    occurrence: transfer.occurrence,
    status: transfer.status,
    stepCount: configs.length,
    stepsDone: done,
    errorReason: error?.message ?? null,
    errorClass: error?.errorClass ?? null,
    customerEmail: customer?.email ?? null,
    customerName: name ?? null,
    total: input.refund ? input.refund.total : input.order.totals.total,
    currency: input.refund ? input.refund.currency : input.order.currency,
    createdAt: transfer.created_at,
    updatedAt: transfer.updated_at,
    completedAt: transfer.status === "completed" ? transfer.updated_at : null,
  };
  const { id: _id, ...changes } = row;
  const statements = [serialize(db.insert(transfers).values(row).onConflictDoUpdate({ target: transfers.id, set: changes }))];
  for (const step of steps) {
    const config = configs[step.step_index];
    if (!config) continue;
    const result = step.result
      ? (JSON.parse(step.result) as { externalId: string; created: boolean; outputs: Record<string, unknown> })
      : null;
    const stepError = step.error ? (JSON.parse(step.error) as { message: string }) : null;
    const stepRow = {
      transferId: step.transfer_id,
      stepIndex: step.step_index,
      tenantId: who.tenantId,
      targetConnectionId: config.target,
      action: config.action,
      status: projectStepStatus(step.status),
      attempts: step.attempts,
      externalId: result?.externalId ?? null,
      created: result?.created ?? null,
      output: result?.outputs ?? null,
      errorReason: stepError?.message ?? null,
      updatedAt: transfer.updated_at,
    };
    const { transferId: _t, stepIndex: _s, ...stepChanges } = stepRow;
    statements.push(
      serialize(
        db
          .insert(transferSteps)
          .values(stepRow)
          .onConflictDoUpdate({ target: [transferSteps.transferId, transferSteps.stepIndex], set: stepChanges }),
      ),
    );
  }
  return statements;
}

/** Step states inside the object are finer than what a person needs to see. */
function projectStepStatus(status: string): TransferStatus {
  switch (status) {
    case "done":
      return "completed";
    case "failed":
      return "failed";
    case "retrying":
      return "retrying";
    case "released":
    case "running":
      return "running";
    case "deferred":
      return "retrying";
    default:
      return "pending";
  }
}
