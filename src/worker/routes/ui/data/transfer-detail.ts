/** Everything the transfer page shows, read with the tenant in every query. */
import { and, asc, eq } from "drizzle-orm";
import { database } from "../../../../db/client";
import { attempts, connections, flows, snapshots, transferSteps, transfers } from "../../../../db/schema";
import { mergeAttempts, readHistory } from "../../../../db/snapshots";

export type { SnapshotView } from "../../../../db/snapshots";

export async function transferDetail(env: Env, tenantId: string, id: string) {
  const db = database(env);
  const transfer = await db
    .select()
    .from(transfers)
    .where(and(eq(transfers.id, id), eq(transfers.tenantId, tenantId)))
    .get();
  if (!transfer) return null;
  const [steps, tries, rows, flow, conns] = await Promise.all([
    db
      .select()
      .from(transferSteps)
      .where(and(eq(transferSteps.transferId, id), eq(transferSteps.tenantId, tenantId)))
      .orderBy(asc(transferSteps.stepIndex)),
    db
      .select()
      .from(attempts)
      .where(and(eq(attempts.transferId, id), eq(attempts.tenantId, tenantId)))
      .orderBy(asc(attempts.stepIndex), asc(attempts.attempt)),
    db
      .select()
      .from(snapshots)
      .where(and(eq(snapshots.transferId, id), eq(snapshots.tenantId, tenantId)))
      .orderBy(asc(snapshots.id)),
    db
      .select({ name: flows.name, steps: flows.steps })
      .from(flows)
      .where(and(eq(flows.id, transfer.flowId), eq(flows.tenantId, tenantId)))
      .get(),
    db.select({ id: connections.id, name: connections.name }).from(connections).where(eq(connections.tenantId, tenantId)),
  ]);
  const history = await readHistory(env, rows);
  return {
    transfer,
    steps,
    attempts: mergeAttempts(tries, history.attempts),
    snapshots: history.snapshots,
    flowName: flow?.name ?? null,
    names: new Map(conns.map((c) => [c.id, c.name])),
  };
}

export type TransferDetail = NonNullable<Awaited<ReturnType<typeof transferDetail>>>;
