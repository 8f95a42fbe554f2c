/**
 * Cron: the sweeper. Every order's Durable Object re-drives its own steps from its alarm; this
 * pass is the backstop that wakes any order whose transfer has been unfinished too long, so none
 * stays pending for ever.
 */
import { and, inArray, lt } from "drizzle-orm";
import { database } from "../db/client";
import { transfers } from "../db/schema";
import { orderObjectName, orderStub } from "../durable/order-types";
import { runtimeConfig } from "./config";

const SWEEP_BATCH = 200;

export async function sweepUnfinishedTransfers(env: Env, now = Date.now()): Promise<number> {
  const config = runtimeConfig(env);
  const bound = now - config.stepResendAfterMs * 2;
  const stuck = await database(env)
    .selectDistinct({ connectionId: transfers.sourceConnectionId, orderId: transfers.orderId })
    .from(transfers)
    .where(and(inArray(transfers.status, ["pending", "running", "retrying"]), lt(transfers.updatedAt, bound)))
    .limit(SWEEP_BATCH);
  await Promise.all(stuck.map((t) => orderStub(env, orderObjectName(t.connectionId, t.orderId)).nudge()));
  return stuck.length;
}
