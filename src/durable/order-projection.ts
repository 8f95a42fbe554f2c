/**
 * Builds the D1 rows that mirror an order's transfers, so the API and UI can search them. The
 * statements are upserts of the full current state: replaying them is harmless, and a state
 * older than the one stored (by `updated_at`) writes nothing.
 *
 * D1 bills every row written, and every index entry an UPDATE rewrites, whether or not its value
 * changed; SQLite rewrites an index when a column of it is in the SET list. So an upsert sets only
 * the columns that can change, and writes nothing when the row would stay as it is
 * (docs/performance.md). Most projections change one step of a transfer, not all of them.
 */
import type { SerializedStatement } from "../db/client";
import type { FlowStepConfig, TransferStatus } from "../db/schema";
import type { TransferInput } from "../domain/order";

/**
 * While nothing else about a transfer changes, its `updated_at` is still moved on when it is at
 * least this old, so the sweeper (which wakes transfers unchanged for twice the re-send time)
 * keeps seeing a moving transfer as alive.
 */
export const UPDATED_AT_REFRESH_MS = 60_000;

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

/**
 * The statements are written out rather than built with drizzle: building them was about 0.4 ms of
 * CPU per projection (a few per order, on the step path), their text never changes, and the
 * columns are those of `transfers` and `transfer_steps` in src/db/schema.ts (the projection tests
 * read the rows back through drizzle).
 *
 * Identity, stage and creation time never change for a transfer id (a hash of them). Three of the
 * table's indexes hold status or updated_at: those two (and completed_at) move only when the status
 * changes, or when updated_at is a minute old; progress and errors (no index) and the order's own
 * fields (which change only with a new order version) go in statements of their own. Every
 * statement writes nothing for a state older than the stored row's (a batch that lands after a
 * newer one), and the object's `updated_at` never goes back (touchTransfer), so a newer state is
 * never refused.
 */
const UPSERT_TRANSFER = `insert into "transfers" ("id", "tenant_id", "flow_id", "source_connection_id", "order_id", "order_number", "stage", "occurrence", "status", "step_count", "steps_done", "error_reason", "error_class", "customer_email", "customer_name", "total", "currency", "created_at", "updated_at", "completed_at")
 values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
 on conflict ("id") do update set "status" = excluded."status", "updated_at" = excluded."updated_at", "completed_at" = excluded."completed_at"
 where (excluded."status" IS NOT "transfers"."status" or excluded."updated_at" >= "transfers"."updated_at" + ${UPDATED_AT_REFRESH_MS})
   and excluded."updated_at" >= "transfers"."updated_at"`;

const UPDATE_PROGRESS = `update "transfers" set "step_count" = ?1, "steps_done" = ?2, "error_reason" = ?3, "error_class" = ?4
 where "id" = ?5 and "updated_at" <= ?6
   and ("step_count" IS NOT ?1 or "steps_done" IS NOT ?2 or "error_reason" IS NOT ?3 or "error_class" IS NOT ?4)`;

const UPDATE_ORDER_FIELDS = `update "transfers" set "order_number" = ?1, "customer_email" = ?2, "customer_name" = ?3, "total" = ?4, "currency" = ?5
 where "id" = ?6 and "updated_at" <= ?7
   and ("order_number" IS NOT ?1 or "customer_email" IS NOT ?2 or "customer_name" IS NOT ?3 or "total" IS NOT ?4 or "currency" IS NOT ?5)`;

/** A step's row (and its updated_at) moves only when the step itself changed. */
const UPSERT_STEP = `insert into "transfer_steps" ("transfer_id", "step_index", "tenant_id", "target_connection_id", "action", "status", "attempts", "external_id", "created", "output", "error_reason", "updated_at")
 values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
 on conflict ("transfer_id", "step_index") do update set "target_connection_id" = excluded."target_connection_id", "action" = excluded."action", "status" = excluded."status", "attempts" = excluded."attempts", "external_id" = excluded."external_id", "created" = excluded."created", "output" = excluded."output", "error_reason" = excluded."error_reason", "updated_at" = excluded."updated_at"
 where (excluded."target_connection_id" IS NOT "transfer_steps"."target_connection_id" or excluded."action" IS NOT "transfer_steps"."action" or excluded."status" IS NOT "transfer_steps"."status" or excluded."attempts" IS NOT "transfer_steps"."attempts" or excluded."external_id" IS NOT "transfer_steps"."external_id" or excluded."created" IS NOT "transfer_steps"."created" or excluded."output" IS NOT "transfer_steps"."output" or excluded."error_reason" IS NOT "transfer_steps"."error_reason")
   and excluded."updated_at" >= "transfer_steps"."updated_at"`;

/**
 * A retry with the flow's current steps may have dropped trailing steps (the object deletes them,
 * resetSteps): their rows would stay for ever, a failed step beside a completed transfer, counted by
 * the failing panel, the status report and bulk replay's target filter. Matches nothing, and writes
 * nothing, when the transfer kept its steps; a row newer than this state (a step added since,
 * should an older batch land late) stays.
 */
const DELETE_DROPPED_STEPS = `delete from "transfer_steps" where "transfer_id" = ?1 and "step_index" >= ?2 and "updated_at" <= ?3`;

export function projectTransfer(who: OrderIdentity, transfer: TransferRow, steps: StepRow[]): SerializedStatement[] {
  const input = JSON.parse(transfer.input) as TransferInput;
  const configs = JSON.parse(transfer.steps) as FlowStepConfig[];
  const error = transfer.error ? (JSON.parse(transfer.error) as { message: string; errorClass: string }) : null;
  const customer = input.order.customer;
  const name = [customer?.firstName, customer?.lastName].filter(Boolean).join(" ") || input.order.billingAddress?.name;
  const done = steps.filter((s) => s.status === "done").length;
  const orderNumber = input.order.source.orderNumber;
  // Lower case, so the log's exact search (on the lower-cased text typed) finds it however the
  // shop wrote it: an address is not told apart by case in practice, and the index stays usable.
  const customerEmail = customer?.email?.trim().toLowerCase() || null;
  const customerName = name ?? null;
  const total = input.refund ? input.refund.total : input.order.totals.total;
  const currency = input.refund ? input.refund.currency : input.order.currency;
  const errorReason = error?.message ?? null;
  const errorClass = error?.errorClass ?? null;
  const statements: SerializedStatement[] = [
    {
      sql: UPSERT_TRANSFER,
      params: [
        transfer.id,
        who.tenantId,
        transfer.flow_id,
        who.connectionId,
        who.orderId,
        orderNumber,
        transfer.stage,
        transfer.occurrence,
        transfer.status,
        configs.length,
        done,
        errorReason,
        errorClass,
        customerEmail,
        customerName,
        total,
        currency,
        transfer.created_at,
        transfer.updated_at,
        transfer.status === "completed" ? transfer.updated_at : null,
      ],
    },
    { sql: UPDATE_PROGRESS, params: [configs.length, done, errorReason, errorClass, transfer.id, transfer.updated_at] },
    {
      sql: UPDATE_ORDER_FIELDS,
      params: [orderNumber, customerEmail, customerName, total, currency, transfer.id, transfer.updated_at],
    },
  ];
  for (const step of steps) {
    const config = configs[step.step_index];
    if (!config) continue;
    const result = step.result
      ? (JSON.parse(step.result) as { externalId: string; created: boolean; outputs?: Record<string, unknown> })
      : null;
    const stepError = step.error ? (JSON.parse(step.error) as { message: string }) : null;
    statements.push({
      sql: UPSERT_STEP,
      params: [
        step.transfer_id,
        step.step_index,
        who.tenantId,
        config.target,
        config.action,
        projectStepStatus(step.status),
        step.attempts,
        result?.externalId ?? null,
        // As drizzle stores the columns: a boolean as 0/1, the outputs as JSON text.
        result?.created == null ? null : result.created ? 1 : 0,
        result?.outputs != null ? JSON.stringify(result.outputs) : null,
        stepError?.message ?? null,
        transfer.updated_at,
      ],
    });
  }
  statements.push({ sql: DELETE_DROPPED_STEPS, params: [transfer.id, configs.length, transfer.updated_at] });
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
