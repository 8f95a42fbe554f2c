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
import { and, eq, gte, lte, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { type Db, database, type SerializedStatement, serialize } from "../db/client";
import { type FlowStepConfig, type TransferStatus, transferSteps, transfers } from "../db/schema";
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
    // Lower case, so the log's exact search (on the lower-cased text typed) finds it however the
    // shop wrote it: an address is not told apart by case in practice, and the index stays usable.
    customerEmail: customer?.email?.trim().toLowerCase() || null,
    customerName: name ?? null,
    total: input.refund ? input.refund.total : input.order.totals.total,
    currency: input.refund ? input.refund.currency : input.order.currency,
    createdAt: transfer.created_at,
    updatedAt: transfer.updated_at,
    completedAt: transfer.status === "completed" ? transfer.updated_at : null,
  };
  // Identity, stage and creation time never change for a transfer id (a hash of them). Three of the
  // table's indexes hold status or updated_at: those two (and completed_at) move only when the
  // status changes, or when updated_at is a minute old; progress and errors (no index) and the
  // order's own fields (which change only with a new order version) go in statements of their own.
  const statements = [
    serialize(
      db
        .insert(transfers)
        .values(row)
        .onConflictDoUpdate({
          target: transfers.id,
          set: { status: row.status, updatedAt: row.updatedAt, completedAt: row.completedAt },
          setWhere: and(
            or(
              changed([transfers.status]),
              sql`excluded.${sql.identifier(transfers.updatedAt.name)} >= ${transfers.updatedAt} + ${UPDATED_AT_REFRESH_MS}`,
            ),
            notOlder(transfers.updatedAt),
          ),
        }),
    ),
    updateWhereChanged(db, row.id, row.updatedAt, {
      stepCount: row.stepCount,
      stepsDone: row.stepsDone,
      errorReason: row.errorReason,
      errorClass: row.errorClass,
    }),
    updateWhereChanged(db, row.id, row.updatedAt, {
      orderNumber: row.orderNumber,
      customerEmail: row.customerEmail,
      customerName: row.customerName,
      total: row.total,
      currency: row.currency,
    }),
  ];
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
    const { transferId: _t, stepIndex: _s, tenantId: _tenant, ...stepChanges } = stepRow;
    // A step's row (and its updated_at) moves only when the step itself changed.
    const { updatedAt: _u, ...compared } = stepChanges;
    statements.push(
      serialize(
        db
          .insert(transferSteps)
          .values(stepRow)
          .onConflictDoUpdate({
            target: [transferSteps.transferId, transferSteps.stepIndex],
            set: stepChanges,
            setWhere: and(
              changed(Object.keys(compared).map((key) => transferSteps[key as keyof typeof compared])),
              notOlder(transferSteps.updatedAt),
            ),
          }),
      ),
    );
  }
  // A retry with the flow's current steps may have dropped trailing steps (the object deletes
  // them, resetSteps): their rows would stay for ever, a failed step beside a completed transfer,
  // counted by the failing panel, the status report and bulk replay's target filter. Matches
  // nothing, and writes nothing, when the transfer kept its steps; a row newer than this state
  // (a step added since, should an older batch land late) stays.
  statements.push(
    serialize(
      db
        .delete(transferSteps)
        .where(
          and(
            eq(transferSteps.transferId, transfer.id),
            gte(transferSteps.stepIndex, configs.length),
            lte(transferSteps.updatedAt, transfer.updated_at),
          ),
        ),
    ),
  );
  return statements;
}

/**
 * True when the upsert's state is not older than the stored row's: a batch that lands after a
 * newer one (a retried write whose first try committed late) leaves the newer state. The object's
 * `updated_at` never goes back (touchTransfer), so a newer state is never refused. (A `d1` job of
 * the previous release carries its own serialised guard, without this: the object writes the
 * transfer's current state after it, OrderDO.runJob.)
 */
function notOlder(updatedAt: SQLiteColumn): SQL {
  return sql`excluded.${sql.identifier(updatedAt.name)} >= ${updatedAt}`;
}

/** True when the upsert's new value of any of these columns differs from the stored one (NULL-safe). */
function changed(columns: SQLiteColumn[]): SQL {
  return or(...columns.map((column) => sql`excluded.${sql.identifier(column.name)} IS NOT ${column}`))!;
}

type ChangeableColumn =
  | "stepCount"
  | "stepsDone"
  | "errorReason"
  | "errorClass"
  | "orderNumber"
  | "customerEmail"
  | "customerName"
  | "total"
  | "currency";

/**
 * Sets these columns of a transfer, writing nothing when each already holds its value, or when the
 * row holds a newer state than `asOf` (the state's `updated_at`).
 */
function updateWhereChanged(
  db: Db,
  id: string,
  asOf: number,
  values: Partial<Pick<typeof transfers.$inferInsert, ChangeableColumn>>,
): SerializedStatement {
  const columns = Object.entries(values) as Array<[ChangeableColumn, string | number | null]>;
  return serialize(
    db
      .update(transfers)
      .set(values)
      .where(
        and(
          eq(transfers.id, id),
          lte(transfers.updatedAt, asOf),
          or(...columns.map(([key, value]) => sql`${transfers[key]} IS NOT ${value}`)),
        ),
      ),
  );
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
