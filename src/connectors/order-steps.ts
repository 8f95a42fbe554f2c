/**
 * The steps an order's transfers ran on one target connection, read from the transfer log in D1
 * (`transfers` and `transfer_steps`, which the order's object keeps up to date through its outbox).
 *
 * An action's `history` holds only the steps that completed. A step that wrote to the target and
 * then failed is not there: createInvoice leaves its draft when the totals do not match, and fails.
 * Every step writes its reference (`stepReference(transfer, step)`) into what it makes, so the log's
 * transfer id and step index are enough to find that draft again. cancelOrder uses this to remove
 * such a draft; the flow dry run uses it to say what cancelOrder would remove.
 */
import { OrderlyError } from "../domain/errors";
import { stepReference } from "../domain/reference";
import type { OrderKey } from "./contract";

export type { OrderKey };

export interface LoggedStep {
  transferId: string;
  stage: string;
  stepIndex: number;
  action: string;
  /** As the log shows it: completed, failed, retrying, running or pending. */
  status: string;
  attempts: number;
  /** The step's outputs when it completed. */
  output: Record<string, unknown> | null;
  errorReason: string | null;
  /**
   * The step's settings in its flow as the flow is now (not necessarily as it was when the step
   * ran); undefined when the flow is gone or has no such step.
   */
  settings: Record<string, unknown> | undefined;
  /** The reference the step wrote into what it made. */
  reference: string;
  updatedAt: number;
}

interface Row {
  transfer_id: string;
  stage: string;
  step_index: number;
  action: string;
  status: string;
  attempts: number;
  output: string | null;
  error_reason: string | null;
  flow_steps: string | null;
  updated_at: number;
}

/**
 * An order has a handful of transfers: the unary `+` keeps SQLite from walking the tenant's whole
 * log in time order (which it picks without planner statistics) instead of the order's index.
 */
export function orderStepsSql(actionCount: number): string {
  return `SELECT s.transfer_id, t.stage, s.step_index, s.action, s.status, s.attempts, s.output, s.error_reason,
            f.steps AS flow_steps, s.updated_at
       FROM transfers t
       JOIN transfer_steps s ON s.transfer_id = t.id
       LEFT JOIN flows f ON f.id = t.flow_id AND f.tenant_id = t.tenant_id
      WHERE t.tenant_id = ? AND t.order_id = ? AND t.source_connection_id = ?
        AND s.target_connection_id = ? AND s.action IN (${Array.from({ length: actionCount }, () => "?").join(", ")})
      ORDER BY +t.created_at DESC, s.step_index DESC`;
}

/** The order's logged steps on `targetConnectionId` with one of `actions`, newest first. */
export async function orderSteps(
  env: Pick<Env, "DB">,
  order: OrderKey,
  targetConnectionId: string,
  actions: readonly string[],
): Promise<LoggedStep[]> {
  if (actions.length === 0) return [];
  const { results } = await env.DB.prepare(orderStepsSql(actions.length))
    .bind(order.tenantId, order.orderId, order.sourceConnectionId, targetConnectionId, ...actions)
    .all<Row>();
  return results.map((row) => ({
    transferId: row.transfer_id,
    stage: row.stage,
    stepIndex: row.step_index,
    action: row.action,
    status: row.status,
    attempts: row.attempts,
    output: parseObject(row.output) ?? null,
    errorReason: row.error_reason,
    settings: stepSettings(row.flow_steps, row.step_index),
    reference: stepReference(row.transfer_id, row.step_index),
    updatedAt: row.updated_at,
  }));
}

/** The order a transfer belongs to, from the log; undefined when the log does not have the transfer (yet). */
export async function orderOfTransfer(env: Pick<Env, "DB">, tenantId: string, transferId: string): Promise<OrderKey | undefined> {
  const row = await env.DB.prepare("SELECT source_connection_id, order_id FROM transfers WHERE id = ? AND tenant_id = ?")
    .bind(transferId, tenantId)
    .first<{ source_connection_id: string; order_id: string }>();
  return row ? { tenantId, sourceConnectionId: row.source_connection_id, orderId: row.order_id } : undefined;
}

const REFERENCE = /^orderly-([0-9a-f]{32})-(\d+)$/;

/** The transfer a step's reference (`stepReference`) names; undefined for anything else. */
export function transferOfReference(reference: string): string | undefined {
  return REFERENCE.exec(reference)?.[1];
}

/**
 * Steps of the running step's order on its own connection that ran (at least one attempt) but did
 * not complete, in the order's other transfers: what may have left a draft that `history` cannot
 * show. The order comes from its object with the step (the running transfer itself may reach the
 * log only when it ends: PROJECTION_HOLD_SECONDS); the other transfers, none of which has a step
 * out, are in the log before this step was sent. Without `order` (a context built by hand) the
 * order is found through the running transfer in the log, and none are returned when it is not
 * there.
 */
export async function unfinishedSteps(
  ctx: { env: Pick<Env, "DB">; connection: { id: string; tenantId: string }; reference: string; order?: OrderKey },
  actions: readonly string[],
): Promise<LoggedStep[]> {
  const own = transferOfReference(ctx.reference);
  if (!own) return [];
  try {
    const order = ctx.order ?? (await orderOfTransfer(ctx.env, ctx.connection.tenantId, own));
    if (!order) return [];
    const steps = await orderSteps(ctx.env, order, ctx.connection.id, actions);
    return steps.filter((s) => s.transferId !== own && s.status !== "completed" && s.attempts > 0);
  } catch (error) {
    throw new OrderlyError(
      "Could not read this order's earlier steps from the transfer log to look for drafts they left; the step is retried.",
      { errorClass: "unavailable", code: "transfer_log_unavailable", internal: String(error), cause: error },
    );
  }
}

function parseObject(text: string | null): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function stepSettings(flowSteps: string | null, index: number): Record<string, unknown> | undefined {
  if (!flowSteps) return undefined;
  try {
    const steps: unknown = JSON.parse(flowSteps);
    const step = Array.isArray(steps) ? steps[index] : undefined;
    const settings = typeof step === "object" && step !== null ? (step as { settings?: unknown }).settings : undefined;
    return typeof settings === "object" && settings !== null ? (settings as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
