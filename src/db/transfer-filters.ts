/** Filters on the transfer log shared by the API and the UI, and the one query that reads a page of it. */
import { and, desc, eq, getTableColumns, type SQL, sql } from "drizzle-orm";
import type { Db } from "./client";
import { notCompleted, type TransferStatus, transferSteps, transfers } from "./schema";

/** `notCompleted` in a drizzle query of transfers: the term the partial status indexes need. */
export const transferNotCompleted = sql.raw(notCompleted(`"transfers".`));

/**
 * Transfers in one status. Any status but completed also carries the status index's own term
 * (`notCompleted`), without which SQLite would not use that partial index; completed transfers,
 * which the index leaves out, are walked in time order.
 */
export function withStatus(status: TransferStatus): SQL {
  return status === "completed" ? eq(transfers.status, status) : and(eq(transfers.status, status), transferNotCompleted)!;
}

/**
 * Transfers with a step to a target connection (`target=`: the failure alert's link, the list and
 * the bulk replay): each of the tenant's transfers the rest of the query reads looks up its own
 * steps by their primary key. The steps have no index by tenant (each is a row D1 bills on every
 * step written, migration 0011), so a list of the tenant's steps to that target would be a scan of
 * every tenant's.
 */
export function withStepTo(target: string): SQL {
  return sql`exists (select 1 from ${transferSteps} where ${transferSteps.transferId} = ${transfers.id} and ${transferSteps.targetConnectionId} = ${target})`;
}

/** The indexes of `transfers` a page of the log walks, each led by the tenant. */
export type TransferLogIndex =
  | "transfers_tenant_time"
  | "transfers_tenant_status_time"
  | "transfers_tenant_number"
  | "transfers_tenant_email"
  | "transfers_tenant_order";

/**
 * The index a page of the log reads, by its narrowest filter: the few rows of an exact search or of
 * one order, then the transfers in a status other than completed (a partial index, migration 0017),
 * else the tenant's whole log in time order, which a page leaves after its first rows.
 */
export function transferLogIndex(by: { exact?: "number" | "email" | "order"; status?: TransferStatus }): TransferLogIndex {
  if (by.exact === "number") return "transfers_tenant_number";
  if (by.exact === "email") return "transfers_tenant_email";
  if (by.exact === "order") return "transfers_tenant_order";
  return by.status && by.status !== "completed" ? "transfers_tenant_status_time" : "transfers_tenant_time";
}

type TransferRow = typeof transfers.$inferSelect;

// Columns as SQL with the columns' own decoding: drizzle refuses a column of a table that is not
// the query's FROM, and the FROM below is SQL.
const TRANSFER_FIELDS = Object.fromEntries(
  Object.entries(getTableColumns(transfers)).map(([key, column]) => [key, sql`${column}`.mapWith(column)]),
) as { [K in keyof TransferRow]: SQL<TransferRow[K]> };

/**
 * Transfers newest first, through the index the caller names (`INDEXED BY`): the log's pages, and
 * the latest orders of a source connection (the flow's dry run, the connection check). Left to the planner, a database analyzed while the log was
 * young (ANALYZE, or the `PRAGMA optimize` D1 suggests after creating an index) read and sorted the
 * tenant's whole log for a stage, source connection, email or amount filter (docs/scale.md);
 * named, each filter keeps its plan whatever the statistics say (test/ui/transfer-list-plan).
 */
export function transferLogRows(db: Db, index: TransferLogIndex, where: SQL, limit: number) {
  return db
    .select(TRANSFER_FIELDS)
    .from(sql`${transfers} INDEXED BY ${sql.raw(index)}`)
    .where(where)
    .orderBy(desc(transfers.createdAt), desc(transfers.id))
    .limit(limit);
}
