import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { orderStepsSql } from "../../src/connectors/order-steps";
import { database } from "../../src/db/client";
import { encodeCursor } from "../../src/db/cursor";
import { transfers } from "../../src/db/schema";
import { transferLogIndex, transferLogRows } from "../../src/db/transfer-filters";
import { BY_SOURCE, BY_TARGET } from "../../src/notifications/status-report.send";
import { type TransferFilters, transferListQuery } from "../../src/worker/routes/ui/data/transfer-list";
import { clearStatistics, staleStatistics } from "./step-rows";

const ROWS = 100_000;
const PER_STATEMENT = 10_000;
const tenantId = "ten_plan";

/** Inserts 100,000 transfers (plus a second tenant's rows) in batches, generated in SQL. */
async function fill(): Promise<void> {
  const statements = [];
  for (let start = 0; start < ROWS; start += PER_STATEMENT) {
    statements.push(
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT CAST(?1 AS INTEGER) UNION ALL SELECT i + 1 FROM n WHERE i < ?2)
         INSERT INTO transfers (id, tenant_id, flow_id, source_connection_id, order_id, order_number, stage, occurrence, status,
           step_count, steps_done, customer_email, customer_name, total, currency, created_at, updated_at)
         SELECT printf('trf_%07d', i), CASE WHEN i % 10 = 0 THEN 'ten_other' ELSE ?3 END, 'flw_1', 'con_shop_' || (i % 3), 'ord' || i,
           '#' || (10000 + i), CASE WHEN i % 4 = 0 THEN 'created' ELSE 'paid' END, '',
           CASE WHEN i % 50 = 1 THEN 'failed' WHEN i % 7 = 0 THEN 'retrying' ELSE 'completed' END,
           1, 1, 'buyer' || (i % 5000) || '@example.dk', 'Buyer ' || (i % 5000), 10000 + (i % 997) * 100, 'DKK',
           1700000000000 + i * 60000, 1700000000000 + i * 60000
         FROM n`,
      ).bind(start, Math.min(start + PER_STATEMENT, ROWS) - 1, tenantId),
    );
  }
  await env.DB.batch(statements);
}

async function plan(filters: TransferFilters): Promise<string> {
  const { sql, params } = transferListQuery(database(env), tenantId, filters).toSQL();
  const rows = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return rows.results.map((r) => r.detail).join("\n");
}

describe("the transfer log's page query at 100,000 transfers", () => {
  beforeAll(fill, 120_000);

  it("finds one order's logged steps through the order's index, not by walking the tenant's log", async () => {
    const rows = await env.DB.prepare(`EXPLAIN QUERY PLAN ${orderStepsSql(2)}`)
      .bind(tenantId, "ord42", "con_shop_0", "con_target", "createInvoice", "bookInvoice")
      .all<{ detail: string }>();
    const detail = rows.results.map((r) => r.detail).join("\n");
    expect(detail).toMatch(/SEARCH t USING INDEX transfers_tenant_order \(tenant_id=\? AND order_id=\?\)/);
    expect(detail).not.toContain("transfers_tenant_time");
  });

  it("counts a status report from the transfers changed in its period and those unfinished or failed, not the tenant's whole log", async () => {
    const periodStart = 1700000000000 + 99_000 * 60000;
    for (const [what, query] of [
      ["by source", BY_SOURCE],
      ["by target", BY_TARGET],
    ] as const) {
      for (const stats of ["none", "analyzed", "stale"] as const) {
        if (stats === "analyzed") await env.DB.prepare("ANALYZE").run();
        if (stats === "stale") await staleStatistics();
        const rows = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query}`)
          .bind(tenantId, periodStart, periodStart + 86_400_000)
          .all<{ detail: string }>();
        const detail = rows.results.map((r) => r.detail).join("\n");
        const label = `${what}, statistics ${stats}:\n${detail}`;
        expect(detail, label).toMatch(/USING (COVERING )?INDEX transfers_tenant_updated \(tenant_id=\? AND updated_at>\?\)/);
        expect(detail, label).toMatch(/USING (COVERING )?INDEX transfers_tenant_status_time \(tenant_id=\? AND status=\?\)/);
        expect(detail, label).not.toMatch(/INDEX transfers_tenant_\w+ \(tenant_id=\?\)/);
        expect(detail, label).not.toMatch(/SCAN (transfers|t|transfer_steps|s)(?! USING)\b/);
      }
      await clearStatistics();
    }
  });

  it("reads every filter and search through its named index, and never sorts the tenant's whole log, whatever the statistics", async () => {
    const count = await env.DB.prepare("SELECT count(*) AS n FROM transfers WHERE id LIKE 'trf_%'").first<{ n: number }>();
    expect(count?.n).toBe(ROWS);

    const cursor = encodeCursor({ createdAt: 1700000000000 + 50_000 * 60000, id: "trf_0050000" });
    const time = "transfers_tenant_time";
    const byStatus = "transfers_tenant_status_time";
    // Each variant's index, and whether it sorts: only the few rows of an exact search may be
    // sorted whole; a page otherwise walks its index in time order (only rows with the same
    // millisecond are ordered by id, "LAST TERM").
    const cases: Array<[string, TransferFilters, string, { sorts?: boolean }]> = [
      ["newest first", {}, time, {}],
      ["next page", { cursor }, time, {}],
      ["by status", { status: "failed" }, byStatus, {}],
      ["by status, next page", { status: "failed", cursor }, byStatus, {}],
      ["unfinished", { status: "retrying" }, byStatus, {}],
      // The status index leaves completed transfers out (migration 0017): most of a log is
      // completed, so its time index finds a page of them about as soon.
      ["completed", { status: "completed" }, time, {}],
      ["completed, next page", { status: "completed", cursor }, time, {}],
      ["by stage", { stage: "created" }, time, {}],
      ["by source connection", { connection: "con_shop_1" }, time, {}],
      ["by stage and status", { stage: "created", status: "failed" }, byStatus, {}],
      ["by time", { from: "2023-11-20", to: "2023-11-25" }, time, {}],
      ["by order number", { q: "#10042" }, "transfers_tenant_number", { sorts: true }],
      ["by order number without #", { q: "10042" }, "transfers_tenant_number", { sorts: true }],
      ["by email", { q: "buyer42@example.dk" }, "transfers_tenant_email", { sorts: true }],
      ["by order number and status", { q: "#10042", status: "failed" }, "transfers_tenant_number", { sorts: true }],
      ["by email and status", { q: "buyer42@example.dk", status: "completed" }, "transfers_tenant_email", { sorts: true }],
      ["by email and unfinished", { q: "buyer42@example.dk", status: "retrying" }, "transfers_tenant_email", { sorts: true }],
      ["by amount", { q: "249.00" }, time, {}],
      ["by customer name", { q: "Buyer 42" }, time, {}],
    ];
    // Without statistics, with those of the present data, and with those an ANALYZE (or `PRAGMA
    // optimize`) left while the log was young: each variant names its index, so none may change.
    for (const stats of ["none", "analyzed", "stale"] as const) {
      if (stats === "analyzed") await env.DB.prepare("ANALYZE").run();
      if (stats === "stale") await staleStatistics();
      for (const [what, filters, index, expectation] of cases) {
        const detail = await plan(filters);
        const label = `${what}, statistics ${stats}:\n${detail}`;
        expect(detail, label).toMatch(new RegExp(`SEARCH transfers USING (COVERING )?INDEX ${index} \\(tenant_id=\\?`));
        expect(detail, label).not.toMatch(/SCAN transfers(?! USING)/);
        if (!expectation.sorts) expect(detail, label).not.toMatch(/TEMP B-TREE FOR ORDER BY/);
        expect(detail, label).not.toMatch(/MULTI-INDEX OR/);
      }
      const order = transferLogRows(
        database(env),
        transferLogIndex({ exact: "order" }),
        and(eq(transfers.tenantId, tenantId), eq(transfers.orderId, "ord42"))!,
        50,
      ).toSQL();
      const orderPlan = await env.DB.prepare(`EXPLAIN QUERY PLAN ${order.sql}`)
        .bind(...order.params)
        .all<{ detail: string }>();
      expect(orderPlan.results.map((r) => r.detail).join("\n"), `one order's transfers (the API), statistics ${stats}`).toMatch(
        /SEARCH transfers USING INDEX transfers_tenant_order \(tenant_id=\? AND order_id=\?\)/,
      );
    }
    await clearStatistics();
    const db = database(env);
    expect((await transferListQuery(db, tenantId, { q: "10042" })).map((r) => r.id)).toEqual(["trf_0000042"]);
    const failed = await transferListQuery(db, tenantId, { status: "failed" });
    expect(failed).toHaveLength(51);
    expect(failed.every((r) => r.status === "failed" && r.tenantId === tenantId)).toBe(true);
    const completed = await transferListQuery(db, tenantId, { status: "completed" });
    expect(completed.length).toBeGreaterThan(0);
    expect(completed.every((r) => r.status === "completed" && r.tenantId === tenantId)).toBe(true);
    const other = await transferListQuery(db, tenantId, { q: "#10040" });
    expect(other, "the other tenant's order is not found").toEqual([]);
  }, 120_000);

  it("writes no status index entries for a completed transfer, two for any other", async () => {
    const insert = (id: string, status: string) =>
      env.DB.prepare(
        `INSERT INTO transfers (id, tenant_id, flow_id, source_connection_id, order_id, order_number, stage, status, step_count,
           customer_email, created_at, updated_at)
         VALUES (?1, 'ten_rows', 'flw_1', 'con_shop_0', ?1, '#1', 'paid', ?2, 1, 'a@example.dk', 1, 1)`,
      )
        .bind(id, status)
        .run();
    const completed = (await insert("trf_rows_done", "completed")).meta.rows_written;
    const failed = (await insert("trf_rows_failed", "failed")).meta.rows_written;
    // The log's status index (migration 0017) and the cron's (0018).
    expect(failed - completed).toBe(2);
    for (const index of ["transfers_tenant_status_time", "transfers_status_updated"]) {
      const entries = await env.DB.prepare(
        `SELECT count(*) AS n FROM transfers INDEXED BY ${index} WHERE tenant_id = 'ten_rows' AND status = 'failed' AND status <> 'completed'`,
      ).first<{ n: number }>();
      expect(entries?.n, index).toBe(1);
    }
  });
});
