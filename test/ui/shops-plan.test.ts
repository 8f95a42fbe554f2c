/**
 * "All shops" reads each figure for all of a person's shops in one query: each searches an index
 * by tenant (and status or time), never scans transfers, connections or dead letters, and the
 * newest transfer's time costs a row or so per shop, not every transfer a shop has.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { shopFigureQueries } from "../../src/worker/routes/ui/data/shops-overview";
import { queryPlan } from "./step-rows";

const SHOPS = 60;
const PER_SHOP = 300;
const T0 = 1_700_000_000_000;
const ids = Array.from({ length: SHOPS }, (_, i) => `ten_plan_shop_${String(i).padStart(3, "0")}`);
const now = T0 + SHOPS * PER_SHOP * 60_000;

/** 60 shops of 300 transfers each, a minute apart (every 25th failed), then another tenant's; generated in SQL. */
async function fill(): Promise<void> {
  const n = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${(SHOPS + 1) * PER_SHOP})`;
  const tenantOf = `CASE WHEN i / ${PER_SHOP} < ${SHOPS} THEN printf('ten_plan_shop_%03d', i / ${PER_SHOP}) ELSE 'ten_plan_other' END`;
  await env.DB.batch([
    env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${SHOPS})
       INSERT INTO tenants (id, name) SELECT printf('ten_plan_shop_%03d', i), 'Plan shop ' || i FROM n`,
    ),
    env.DB.prepare(
      `${n} INSERT INTO transfers (id, tenant_id, flow_id, source_connection_id, order_id, stage, status, step_count, created_at, updated_at)
       SELECT printf('trp_%07d', i), ${tenantOf}, 'flw_1', 'con_shop', 'ord' || i, 'paid',
         CASE WHEN i % 25 = 1 THEN 'failed' ELSE 'completed' END, 1, ?1 + i * 60000, ?1 + i * 60000 FROM n`,
    ).bind(T0),
    env.DB.prepare(
      `${n} INSERT INTO dead_letters (transfer_id, tenant_id, body, reason, created_at)
       SELECT NULL, ${tenantOf}, '{}', 'kept', ?1 + i * 60000 FROM n WHERE i % 10 = 0`,
    ).bind(T0),
    env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${SHOPS * 3})
       INSERT INTO connections (id, tenant_id, connector, name, settings, credentials, paused_until)
       SELECT printf('con_plan_%04d', i), printf('ten_plan_shop_%03d', i / 3), 'ledger', 'Ledger', '{}', 'x',
         CASE WHEN i % 7 = 0 THEN ?1 ELSE NULL END FROM n`,
    ).bind(now + 60_000),
  ]);
}

/** The index each figure must search, by tenant first. */
const EXPECTED: Record<string, RegExp> = {
  failed: /SEARCH transfers USING COVERING INDEX transfers_tenant_status_time \(tenant_id=\? AND status=\?\)/,
  last24h: /SEARCH transfers USING COVERING INDEX transfers_tenant_time \(tenant_id=\? AND created_at>\?\)/,
  lastOrder: /SEARCH t USING COVERING INDEX transfers_tenant_time \(tenant_id=\?\)/,
  paused: /SEARCH connections USING INDEX connections_tenant \(tenant_id=\?\)/,
  kept: /SEARCH dead_letters USING COVERING INDEX dead_letters_tenant_time \(tenant_id=\? AND created_at>\?\)/,
};

describe("the All shops figures' queries", () => {
  beforeAll(fill, 120_000);

  it("search an index by tenant for every figure, never scan a table, with or without planner statistics", async () => {
    for (const analyzed of [false, true]) {
      if (analyzed) await env.DB.prepare("ANALYZE").run();
      const queries = shopFigureQueries(database(env), ids, now);
      expect(Object.keys(queries).sort()).toEqual(Object.keys(EXPECTED).sort());
      for (const [what, query] of Object.entries(queries)) {
        const { sql, params } = query.toSQL();
        const plan = await queryPlan(sql, params);
        const label = `${what}${analyzed ? ", with statistics" : ""}:\n${plan}`;
        expect(plan, label).toMatch(EXPECTED[what] as RegExp);
        expect(plan, label).not.toMatch(/SCAN (transfers|connections|dead_letters|tenants|t)\b/);
      }
    }
    await env.DB.prepare("DROP TABLE IF EXISTS sqlite_stat1").run();
  });

  it("answer right for every shop, and the newest transfer's time reads a few rows a shop, not the shop's log", async () => {
    const queries = shopFigureQueries(database(env), ids, now);
    const run = async (query: { toSQL(): { sql: string; params: unknown[] } }) => {
      const { sql, params } = query.toSQL();
      // The columns by position: the raw statement names them as SQL does, not as drizzle's select.
      const { results, meta } = await env.DB.prepare(sql)
        .bind(...params)
        .all<Record<string, unknown>>();
      const pairs = results.map((r) => Object.values(r) as [string, number | null]);
      return { byTenant: new Map(pairs), rowsRead: meta.rows_read };
    };
    const last = await run(queries.lastOrder);
    expect(last.byTenant.size).toBe(SHOPS);
    expect(last.byTenant.get("ten_plan_shop_000")).toBe(T0 + (PER_SHOP - 1) * 60_000);
    expect(last.byTenant.get("ten_plan_shop_059")).toBe(T0 + (SHOPS * PER_SHOP - 1) * 60_000);
    expect(last.rowsRead).toBeLessThan(SHOPS * 10);
    const failed = await run(queries.failed);
    expect(failed.byTenant.get("ten_plan_shop_000")).toBe(12);
    expect(failed.byTenant.has("ten_plan_other")).toBe(false);
    // The last 24 hours are the last 1,440 transfers of the 60 shops: shops 55 to 59.
    const day = await run(queries.last24h);
    expect([...day.byTenant.keys()].sort()).toEqual(ids.slice(55));
    expect([...day.byTenant.values()].reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(1440);
    const paused = await run(queries.paused);
    expect(paused.byTenant.get("ten_plan_shop_000")).toBe(1);
    expect(paused.byTenant.has("ten_plan_shop_001")).toBe(false);
  });
});
