/** A transfer's attempts as its history rows in D1 keep them, in step and attempt order. */
import { env } from "cloudflare:test";
import { asc, eq } from "drizzle-orm";
import { database } from "../../src/db/client";
import { snapshots } from "../../src/db/schema";
import { readHistory } from "../../src/db/snapshots";

export async function attemptRows(transferId: string) {
  const rows = await database(env)
    .select()
    .from(snapshots)
    .where(eq(snapshots.transferId, transferId))
    .orderBy(asc(snapshots.id));
  const { attempts } = await readHistory(env, rows);
  return attempts.sort((a, b) => a.stepIndex - b.stepIndex || a.attempt - b.attempt);
}
