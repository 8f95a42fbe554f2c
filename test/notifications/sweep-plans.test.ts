/**
 * The cron's sweeps over a large transfer log read ranges of an index, never every transfer: the
 * stuck-transfer sweep and the failure sweep one range of the (status, updated_at) index, which
 * holds no completed transfers (migration 0018), and the difference sweep one range of each
 * tenant's (tenant, updated_at) index, as most of the steps it looks for belong to completed
 * transfers. Checked with and without the planner's statistics.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { DIFFERENCES } from "../../src/notifications/difference-alerts";
import { UNALERTED_FAILURES } from "../../src/notifications/failure-alerts";
import { STUCK_PAGE } from "../../src/worker/cron";
import { clearStatistics, queryPlan, staleStatistics } from "../ui/step-rows";

const TENANTS = 20;
const PER_TENANT = 2_000;
const START = 1_700_000_000_000;
const MINUTE = 60_000;

/** 20 tenants × 2,000 transfers a minute apart, one step each; every 50th failed, every 7th retrying. */
async function fill(): Promise<void> {
  const statements = [];
  for (let t = 0; t < TENANTS; t++) {
    const tenantId = `ten_sweep_${t}`;
    statements.push(env.DB.prepare("INSERT INTO tenants (id, name) VALUES (?, 'Sweep plan shop')").bind(tenantId));
    const rows = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${PER_TENANT - 1})`;
    statements.push(
      env.DB.prepare(
        `${rows}
         INSERT INTO transfers (id, tenant_id, flow_id, source_connection_id, order_id, stage, status, step_count, created_at, updated_at)
         SELECT printf('trf_sweep_%02d_%05d', ?2, i), ?1, 'flw_1', 'con_shop', 'ord' || i, 'paid',
           CASE WHEN i % 50 = 1 THEN 'failed' WHEN i % 7 = 0 THEN 'retrying' ELSE 'completed' END,
           1, ${START} + i * ${MINUTE}, ${START} + i * ${MINUTE}
         FROM n`,
      ).bind(tenantId, t),
      env.DB.prepare(
        `${rows}
         INSERT INTO transfer_steps (transfer_id, step_index, tenant_id, target_connection_id, action, status, output, updated_at)
         SELECT printf('trf_sweep_%02d_%05d', ?2, i), 0, ?1, 'con_target', 'createInvoice', 'completed',
           CASE WHEN i % 100 = 3 THEN '{"differences":["total changed"]}' ELSE '{"state":"booked"}' END,
           ${START} + i * ${MINUTE}
         FROM n`,
      ).bind(tenantId, t),
    );
  }
  await env.DB.batch(statements);
}

describe("the cron's sweeps over 40,000 transfers", () => {
  beforeAll(fill, 60_000);

  it("read a range of an index each, never every transfer", async () => {
    const from = START + 500 * MINUTE;
    const to = START + 700 * MINUTE;
    for (const stats of ["none", "analyzed", "stale"] as const) {
      if (stats === "analyzed") await env.DB.prepare("ANALYZE").run();
      if (stats === "stale") await staleStatistics();
      const label = `, statistics ${stats}`;
      const stuck = await queryPlan(STUCK_PAGE, ["retrying", to, from, ""]);
      expect(stuck, `stuck${label}`).toMatch(
        /SEARCH transfers USING INDEX transfers_status_updated \(status=\? AND updated_at>\? AND updated_at<\?\)/,
      );
      const failures = await queryPlan(UNALERTED_FAILURES, [from, to]);
      expect(failures, `failures${label}`).toMatch(
        /SEARCH t USING INDEX transfers_status_updated \(status=\? AND updated_at>\? AND updated_at<\?\)/,
      );
      const differences = await queryPlan(DIFFERENCES, [from, to]);
      expect(differences, `differences${label}`).toMatch(
        /SEARCH t USING INDEX transfers_tenant_updated \(tenant_id=\? AND updated_at>\? AND updated_at<\?\)/,
      );
      expect(differences, `differences${label}`).toMatch(
        /SEARCH s USING (INDEX sqlite_autoindex_transfer_steps_1|PRIMARY KEY) \(transfer_id=\?/,
      );
      for (const detail of [stuck, failures, differences]) expect(detail, label).not.toMatch(/SCAN (transfers|t|s)\b/);
    }
    await clearStatistics();
  });

  it("find what they look for: the differences of completed transfers, the failures in the window", async () => {
    const from = START + 500 * MINUTE;
    const to = START + 700 * MINUTE;
    const differences = await env.DB.prepare(DIFFERENCES).bind(from, to).all<{ transfer_id: string }>();
    // Every 100th transfer from the third, 2 of each tenant's 200 in the window, all completed.
    expect(differences.results).toHaveLength(2 * TENANTS);
    expect(differences.results.every((r) => /_(00503|00603)$/.test(r.transfer_id))).toBe(true);
    const failures = await env.DB.prepare(UNALERTED_FAILURES).bind(from, to).all<{ id: string }>();
    // Every 50th from the first: 4 of each tenant's window (551, 601, 651 and 501).
    expect(failures.results).toHaveLength(4 * TENANTS);
  });
});
