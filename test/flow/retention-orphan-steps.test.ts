/**
 * Step rows an earlier release left without their transfer are looked for a page at a time. The
 * search for them walked every old step whose transfer still exists (the whole backlog awaiting
 * its expiry, or a transfer running for months) on every run: ~6 million rows read and 1.2 s for
 * a million expired transfers.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import { applyRetention, ORPHAN_STEP_PAGE, ORPHAN_STEP_SCAN } from "../../src/worker/retention";

const DAY = 86_400_000;

/** The env with a D1 that records, per statement run, its SQL and the rows D1 says it read. */
function withRowsRead(): { env: Env; reads: Array<{ sql: string; rowsRead: number }> } {
  const reads: Array<{ sql: string; rowsRead: number }> = [];
  const wrap = (sql: string, statement: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(sql, target.bind(...values));
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "all" || prop === "run")
          return async (...args: unknown[]) => {
            const result = (await value.apply(target, args)) as D1Result;
            reads.push({ sql, rowsRead: result.meta.rows_read ?? 0 });
            return result;
          };
        return value.bind(target);
      },
    });
  const DB = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(sql, target.prepare(sql));
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { env: { ...env, DB }, reads };
}

/** `count` steps of one transfer (which need not exist), updated a millisecond apart from `from`. */
async function steps(tenantId: string, transferId: string, count: number, from: number): Promise<void> {
  await env.DB.prepare(
    `INSERT INTO transfer_steps (transfer_id, step_index, tenant_id, target_connection_id, action, status, updated_at)
     WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?3)
     SELECT ?2, i, ?1, 'con_ledger', 'createInvoice', 'pending', ?4 + i FROM n`,
  )
    .bind(tenantId, transferId, count, from)
    .run();
}

const stepsOf = async (transferId: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM transfer_steps WHERE transfer_id = ?")
    .bind(transferId)
    .first<{ n: number }>())!.n;

describe("orphaned steps", () => {
  it("reads one page of old steps a run, and reaches orphans behind more than a page of live ones", async () => {
    const tenantId = `ten_${crypto.randomUUID().slice(0, 8)}`;
    await database(env).insert(tenants).values({ id: tenantId, name: tenantId, retentionDays: 7 });
    const old = Date.now() - 60 * DAY;
    // A transfer still running after two months keeps its 3,000 steps, all past the retention.
    const live = `tr_${crypto.randomUUID()}`;
    await env.DB.prepare(
      `INSERT INTO transfers (id, tenant_id, flow_id, source_connection_id, order_id, stage, status, step_count, created_at, updated_at)
       VALUES (?1, ?2, 'flw_1', 'con_shop', '1001', 'paid', 'running', 3000, ?3, ?3)`,
    )
      .bind(live, tenantId, old)
      .run();
    await steps(tenantId, live, 3 * ORPHAN_STEP_SCAN, old);
    // Orphans behind them, and one before them that the first pass has already passed when it appears.
    const behind = `tr_gone_${crypto.randomUUID()}`;
    await steps(tenantId, behind, 3, old + 3 * ORPHAN_STEP_SCAN + 10);

    const { env: spied, reads } = withRowsRead();
    const runs: number[] = [];
    for (let i = 0; i < 5 && (await stepsOf(behind)) > 0; i++) {
      await applyRetention(spied);
      const scans = reads.splice(0).filter((r) => r.sql.includes("FROM transfers t WHERE t.id = s.transfer_id"));
      runs.push(Math.max(...scans.map((r) => r.rowsRead)));
    }
    expect(await stepsOf(behind)).toBe(0);
    expect(runs.length).toBeGreaterThan(1); // not all read at once,
    // A page and its lookups a run (D1 counts the rows it read).
    for (const rowsRead of runs) expect(rowsRead).toBeGreaterThan(0);
    for (const rowsRead of runs) expect(rowsRead).toBeLessThanOrEqual(3 * ORPHAN_STEP_SCAN);
    expect(await stepsOf(live)).toBe(3 * ORPHAN_STEP_SCAN);

    // The pass reached the cutoff, so the next one starts from the oldest again.
    const before = `tr_gone_${crypto.randomUUID()}`;
    await steps(tenantId, before, 2, old - 10);
    await applyRetention(env);
    expect(await stepsOf(before)).toBe(0);
  });

  it("reads a page as a range of the (tenant, updated_at) index, in its order", async () => {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${ORPHAN_STEP_PAGE}`)
      .bind("ten_x", Date.now(), 0, 0)
      .all<{ detail: string }>();
    const plan = results.map((r) => r.detail).join("\n");
    expect(plan).toMatch(/SEARCH s USING INDEX transfer_steps_tenant_time \(tenant_id=\? AND updated_at>\? AND updated_at<\?\)/);
    expect(plan).not.toMatch(/TEMP B-TREE/);
  });
});
