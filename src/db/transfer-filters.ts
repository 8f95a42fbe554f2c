/** Filters on the transfer log shared by the API and the UI, so the two mean the same. */
import { and, eq, inArray, type SQL } from "drizzle-orm";
import type { Db } from "./client";
import { transferSteps, transfers } from "./schema";

/**
 * Transfers with a step to a target connection (`target=`: the failure alert's link, the list and
 * the bulk replay), read from the tenant's steps only (their time index), not every tenant's.
 */
export function withStepTo(db: Db, tenantId: string, target: string): SQL {
  return inArray(
    transfers.id,
    db
      .select({ id: transferSteps.transferId })
      .from(transferSteps)
      .where(and(eq(transferSteps.tenantId, tenantId), eq(transferSteps.targetConnectionId, target))),
  );
}
