/**
 * Steps have no index by tenant and time (migration 0011: it was a D1 row billed on every step
 * written). The readers that used it go through the tenant's transfers by `transfers_tenant_updated`
 * and the steps' primary key, with or without planner statistics, and never scan the steps.
 */
import { env } from "cloudflare:test";
import { and, desc, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { transfers } from "../../src/db/schema";
import { withStepTo } from "../../src/db/transfer-filters";
import { LAST_STEP_SQL } from "../../src/worker/routes/ui/data/connection-check";
import { createdPerTargetQuery, failingTargetsQuery } from "../../src/worker/routes/ui/data/dashboard-data";
import { clearStatistics, queryPlan, staleStatistics } from "./step-rows";

const TRANSFERS = 20_000;
const tenantId = "ten_step_plan";
const T0 = 1_700_000_000_000;

/** 20,000 transfers of three steps each (a tenth another tenant's), a minute apart, generated in SQL. */
async function fill(): Promise<void> {
  const n = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${TRANSFERS})`;
  await env.DB.batch([
    env.DB.prepare(
      `${n} INSERT INTO transfers (id, tenant_id, flow_id, source_connection_id, order_id, stage, status, step_count, created_at, updated_at)
       SELECT printf('trs_%07d', i), CASE WHEN i % 10 = 0 THEN 'ten_other' ELSE ?1 END, 'flw_1', 'con_shop', 'ord' || i, 'paid',
         CASE WHEN i % 50 = 1 THEN 'failed' ELSE 'completed' END, 3, ?2 + i * 60000, ?2 + i * 60000 FROM n`,
    ).bind(tenantId, T0),
    env.DB.prepare(
      `${n}, k(j) AS (VALUES (0), (1), (2))
       INSERT INTO transfer_steps (transfer_id, step_index, tenant_id, target_connection_id, action, status, created, updated_at)
       SELECT printf('trs_%07d', i), j, CASE WHEN i % 10 = 0 THEN 'ten_other' ELSE ?1 END, 'con_target_' || j, 'createInvoice',
         CASE WHEN i % 50 = 1 AND j = 2 THEN 'failed' ELSE 'completed' END, j = 0, ?2 + i * 60000 FROM n, k`,
    ).bind(tenantId, T0),
  ]);
}

const since = T0 + (TRANSFERS - 500) * 60000;

async function plans(): Promise<Array<[string, string]>> {
  const db = database(env);
  const drizzled = async (what: string, q: { toSQL(): { sql: string; params: unknown[] } }): Promise<[string, string]> => {
    const { sql, params } = q.toSQL();
    return [what, await queryPlan(sql, params)];
  };
  return [
    await drizzled("failing targets", failingTargetsQuery(db, tenantId, since)),
    await drizzled("created this month", createdPerTargetQuery(db, tenantId, since)),
    ["last step", await queryPlan(LAST_STEP_SQL, [tenantId, "con_target_1", since])],
  ];
}

describe("the step readers' plans without the steps' time index", () => {
  beforeAll(fill, 120_000);

  it("the steps have no index but their primary key", async () => {
    const { results } = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transfer_steps'",
    ).all<{
      name: string;
    }>();
    expect(results.map((r) => r.name)).toEqual(["sqlite_autoindex_transfer_steps_1"]);
  });

  it("read a range of transfers_tenant_updated and each transfer's steps by the primary key, never a scan", async () => {
    for (const stats of ["none", "analyzed", "stale"] as const) {
      if (stats === "analyzed") await env.DB.prepare("ANALYZE").run();
      if (stats === "stale") await staleStatistics();
      for (const [what, plan] of await plans()) {
        const label = `${what}, statistics ${stats}:\n${plan}`;
        expect(plan, label).toMatch(
          /SEARCH (transfers|t) USING (COVERING )?INDEX transfers_tenant_updated \(tenant_id=\? AND updated_at>\?\)/,
        );
        expect(plan, label).toMatch(/SEARCH (transfer_steps|s) USING INDEX sqlite_autoindex_transfer_steps_1 \(transfer_id=\?\)/);
        expect(plan, label).not.toMatch(/SCAN (transfer_steps|transfers|s|t)\b/);
        expect(plan, label).not.toMatch(/INDEX transfers_\w+ \(tenant_id=\?\)/);
      }
    }
    await clearStatistics();
  });

  it("the log's target filter reads the tenant's transfers and each one's steps by the primary key", async () => {
    const db = database(env);
    const query = db
      .select({ id: transfers.id })
      .from(transfers)
      .where(and(eq(transfers.tenantId, tenantId), withStepTo("con_target_1")))
      .orderBy(desc(transfers.createdAt))
      .limit(50);
    const { sql, params } = query.toSQL();
    const plan = await queryPlan(sql, params);
    expect(plan).toMatch(/SEARCH transfers USING (COVERING )?INDEX transfers_tenant_\w+ \(tenant_id=\?/);
    expect(plan).toMatch(/SEARCH transfer_steps (EXISTS )?USING INDEX sqlite_autoindex_transfer_steps_1 \(transfer_id=\?\)/);
    expect(plan).not.toMatch(/SCAN transfer_steps\b/);
    const rows = await query;
    expect(rows).toHaveLength(50);
    expect(rows.every((r) => Number(r.id.slice(4)) % 10 !== 0)).toBe(true);
  });
});
