/**
 * The cron's sweeper: it wakes the order of every transfer left unfinished too long. Transfers
 * that legitimately wait longer than that (a retry schedule, a paused target) must not keep it
 * from the ones that are truly lost: each run goes on from where the last stopped.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { type TransferStatus, transfers } from "../../src/db/schema";
import { orderObjectName } from "../../src/durable/order-types";
import { STUCK_PAGE, sweepUnfinishedTransfers } from "../../src/worker/cron";

/** A fixed "now" far from the transfers any other test makes. */
const NOW = Date.UTC(2001, 0, 1);

/** Records the names of the orders the sweeper wakes, instead of waking them. */
function recordingEnv() {
  const nudged: string[] = [];
  const ORDERS = {
    idFromName: (name: string) => name,
    get: (name: string) => ({ nudge: async () => void nudged.push(name) }),
  };
  return { nudged, env: { ...env, ORDERS } as unknown as Env };
}

async function seed(status: TransferStatus, count: number, updatedAt: number): Promise<string[]> {
  const tag = crypto.randomUUID().slice(0, 8);
  const rows = Array.from({ length: count }, (_, i) => ({
    id: `tr_sweep_${tag}_${String(i).padStart(4, "0")}`,
    tenantId: "ten_sweep",
    flowId: "flow_sweep",
    sourceConnectionId: `con_sweep_${tag}`,
    orderId: String(i),
    stage: "paid",
    status,
    stepCount: 1,
    createdAt: updatedAt,
    updatedAt,
  }));
  // D1 binds at most 100 values a statement.
  for (let i = 0; i < rows.length; i += 8)
    await database(env)
      .insert(transfers)
      .values(rows.slice(i, i + 8));
  return rows.map((r) => orderObjectName(r.sourceConnectionId, r.orderId));
}

describe("the stuck-transfer sweeper", () => {
  it("reaches a lost running transfer behind hundreds of long-waiting ones, and every one of them within a few runs", async () => {
    // 300 retrying transfers waiting (legitimately) for a day, all older than the one lost running one.
    const waiting = await seed("retrying", 300, NOW - 86_400_000);
    const [lost] = await seed("running", 1, NOW - 3_600_000);
    const sweeper = recordingEnv();
    await sweepUnfinishedTransfers(sweeper.env, NOW);
    expect(sweeper.nudged).toContain(lost);
    for (let run = 0; run < 4; run++) await sweepUnfinishedTransfers(sweeper.env, NOW);
    const reached = new Set(sweeper.nudged);
    expect(waiting.filter((name) => !reached.has(name))).toEqual([]);
  });

  it("reads each page as a range of the (status, updated_at) index", async () => {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${STUCK_PAGE}`)
      .bind("running", NOW, 0, "")
      .all<{ detail: string }>();
    const plan = results.map((r) => r.detail).join("\n");
    expect(plan).toMatch(
      /SEARCH transfers USING INDEX transfers_status_updated \(status=\? AND updated_at>\? AND updated_at<\?\)/,
    );
    expect(plan).not.toMatch(/SCAN transfers/);
  });
});
