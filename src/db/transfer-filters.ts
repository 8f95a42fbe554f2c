/** Filters on the transfer log shared by the API and the UI, so the two mean the same. */
import { and, eq, type SQL, sql } from "drizzle-orm";
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
