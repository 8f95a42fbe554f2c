/**
 * "All shops" reads each figure for all of a person's shops in one query: each searches an index
 * by tenant (and status or time), never scans transfers, connections or dead letters, the newest
 * transfer's time costs a row or so per shop, and a count stops at COUNT_CAP rows a shop, not
 * every transfer or dead letter a shop has.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { COUNT_CAP, shopFigureQueries } from "../../src/worker/routes/ui/data/shops-overview";
import { clearStatistics, queryPlan, staleStatistics } from "./step-rows";

const SHOPS = 60;
const PER_SHOP = 300;
const T0 = 1_700_000_000_000;
const ids = Array.from({ length: SHOPS }, (_, i) => `ten_plan_shop_${String(i).padStart(3, "0")}`);
const now = T0 + SHOPS * PER_SHOP * 60_000;
/** A shop past the cap: BIG failed transfers in the last day, and as many deliveries waiting. */
const BIG_SHOP = "ten_plan_big";
const BIG = 5000;

/**
 * 60 shops of 300 transfers each, a minute apart (every 25th failed), then another tenant's; every
 * 10th with a dead letter: by turns a delivery waiting, one replayed, one handled, a failed step's.
 * And BIG_SHOP. Generated in SQL.
 */
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
       SELECT NULL, ${tenantOf}, CASE (i / 10) % 4
           WHEN 0 THEN '{"kind":"refused_delivery"}'
           WHEN 1 THEN '{"kind":"refused_delivery","replayed":{"at":1}}'
           WHEN 2 THEN '{"kind":"refused_delivery","handled":{"at":1}}'
           ELSE '{"target":"con_ledger","stepIndex":0}' END,
         'kept', ?1 + i * 60000 FROM n WHERE i % 10 = 0`,
    ).bind(T0),
    env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${BIG})
       INSERT INTO transfers (id, tenant_id, flow_id, source_connection_id, order_id, stage, status, step_count, created_at, updated_at)
       SELECT printf('trp_big_%05d', i), ?1, 'flw_1', 'con_shop', 'big' || i, 'paid', 'failed', 1, ?2 - i * 1000, ?2 - i * 1000 FROM n`,
    ).bind(BIG_SHOP, now - 1000),
    env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${BIG})
       INSERT INTO dead_letters (transfer_id, tenant_id, body, reason, created_at)
       SELECT NULL, ?1, '{"kind":"refused_delivery"}', 'kept', ?2 - i * 1000 FROM n`,
    ).bind(BIG_SHOP, now - 1000),
    env.DB.prepare("INSERT INTO tenants (id, name) VALUES (?, 'Big plan shop')").bind(BIG_SHOP),
    env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${SHOPS * 3})
       INSERT INTO connections (id, tenant_id, connector, name, settings, credentials, paused_until)
       SELECT printf('con_plan_%04d', i), printf('ten_plan_shop_%03d', i / 3), 'ledger', 'Ledger', '{}', 'x',
         CASE WHEN i % 7 = 0 THEN ?1 ELSE NULL END FROM n`,
    ).bind(now + 60_000),
  ]);
}

/** The index each figure must search, by tenant first (f, d and t are the subqueries' transfers). */
const EXPECTED: Record<string, RegExp> = {
  failed: /SEARCH f USING COVERING INDEX transfers_tenant_status_time \(tenant_id=\? AND status=\?\)/,
  last24h: /SEARCH d USING COVERING INDEX transfers_tenant_time \(tenant_id=\? AND created_at>\?\)/,
  lastTransfer: /SEARCH t USING COVERING INDEX transfers_tenant_time \(tenant_id=\?\)/,
  paused: /SEARCH connections USING INDEX connections_tenant \(tenant_id=\?\)/,
  kept: /SEARCH dead_letters USING INDEX dead_letters_tenant_time \(tenant_id=\?\)/,
};

describe("the All shops figures' queries", () => {
  beforeAll(fill, 120_000);

  it("search an index by tenant for every figure, never scan a table, with or without planner statistics, even stale ones", async () => {
    try {
      for (const stats of ["none", "analyzed", "stale"] as const) {
        if (stats === "analyzed") await env.DB.prepare("ANALYZE").run();
        // With these SQLite scanned every dead letter for each shop.
        if (stats === "stale") await staleStatistics();
        const queries = shopFigureQueries(database(env), ids, now);
        expect(Object.keys(queries).sort()).toEqual(Object.keys(EXPECTED).sort());
        for (const [what, query] of Object.entries(queries)) {
          const { sql, params } = query.toSQL();
          const plan = await queryPlan(sql, params);
          const label = `${what}, statistics ${stats}:\n${plan}`;
          expect(plan, label).toMatch(EXPECTED[what] as RegExp);
          expect(plan, label).not.toMatch(/SCAN (transfers|connections|dead_letters|tenants|t|f|d)\b/);
        }
      }
    } finally {
      await clearStatistics();
    }
  });

  it("answer right for every shop, and the newest transfer's time reads a few rows a shop, not the shop's log", async () => {
    const queries = shopFigureQueries(database(env), ids, now);
    const last = await run(queries.lastTransfer);
    expect(last.byTenant.size).toBe(SHOPS);
    expect(last.byTenant.get("ten_plan_shop_000")).toBe(T0 + (PER_SHOP - 1) * 60_000);
    expect(last.byTenant.get("ten_plan_shop_059")).toBe(T0 + (SHOPS * PER_SHOP - 1) * 60_000);
    expect(last.rowsRead).toBeLessThan(SHOPS * 10);
    const failed = await run(queries.failed);
    expect(failed.byTenant.get("ten_plan_shop_000")).toBe(12);
    expect(failed.byTenant.has("ten_plan_other")).toBe(false);
    // The last 24 hours are the last 1,440 transfers of the 60 shops: shops 55 to 59.
    const day = await run(queries.last24h);
    expect([...day.byTenant.entries()].flatMap(([id, n]) => (n ? [id] : [])).sort()).toEqual(ids.slice(55));
    expect([...day.byTenant.values()].reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe(1440);
    const paused = await run(queries.paused);
    expect(paused.byTenant.get("ten_plan_shop_000")).toBe(1);
    expect(paused.byTenant.has("ten_plan_shop_001")).toBe(false);
    // Of a shop's 30 dead letters, only the deliveries still waiting count (a quarter), old as they are.
    const kept = await run(queries.kept);
    expect(kept.byTenant.get("ten_plan_shop_000")).toBe(8);
    expect([...kept.byTenant.values()].reduce((a, b) => (a ?? 0) + (b ?? 0), 0)).toBe((SHOPS * PER_SHOP) / 40);
  });

  it(`stop counting at ${COUNT_CAP} a shop, reading about that many rows, not all ${BIG}`, async () => {
    const queries = shopFigureQueries(database(env), [BIG_SHOP], now);
    for (const what of ["failed", "last24h", "kept"] as const) {
      const counted = await run(queries[what]);
      expect(counted.byTenant.get(BIG_SHOP), what).toBe(COUNT_CAP);
      expect(counted.rowsRead, what).toBeLessThan(BIG / 2);
    }
  });
});

/** A figure's query run as is: each shop's id and figure, and the rows D1 read for it. */
async function run(query: { toSQL(): { sql: string; params: unknown[] } }) {
  const { sql, params } = query.toSQL();
  // The columns by position: the raw statement names them as SQL does, not as drizzle's select.
  const { results, meta } = await env.DB.prepare(sql)
    .bind(...params)
    .all<Record<string, unknown>>();
  const pairs = results.map((r) => Object.values(r) as [string, number | null]);
  return { byTenant: new Map(pairs), rowsRead: meta.rows_read };
}
