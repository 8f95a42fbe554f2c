/**
 * Step rows an earlier release left without their transfer are looked for one page of the whole
 * table a run, in rowid order from one cursor for every tenant (`retention:orphan-steps`). The
 * search once walked every old step of a tenant on every run (~6 million rows read and 1.2 s for
 * a million expired transfers), then a page a tenant along an index by (tenant, updated_at) that
 * cost a D1 row on every step written; rowid order needs no index of its own.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import { applyRetention, ORPHAN_STEP_PAGE, ORPHAN_STEP_SCAN } from "../../src/worker/retention";
import { withFailingD1, withRecordingD1 } from "../notifications/failing-d1";

const DAY = 86_400_000;
const CURSOR = "retention:orphan-steps";

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

async function tenant(): Promise<string> {
  const id = `ten_${crypto.randomUUID().slice(0, 8)}`;
  await database(env).insert(tenants).values({ id, name: id, retentionDays: 7 });
  return id;
}

async function transfer(tenantId: string, id: string, updatedAt: number): Promise<void> {
  await env.DB.prepare(
    `INSERT INTO transfers (id, tenant_id, flow_id, source_connection_id, order_id, stage, status, step_count, created_at, updated_at)
     VALUES (?1, ?2, 'flw_1', 'con_shop', ?1, 'paid', 'running', 1, ?3, ?3)`,
  )
    .bind(id, tenantId, updatedAt)
    .run();
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

/** Puts the search's cursor (the other tests' rows stay in the table) just before `rowid`. */
const cursorBefore = (rowid: number) =>
  env.DB.prepare(
    `INSERT INTO alert_state (tenant_id, topic, pending, last_sent_at, samples) VALUES ('', ?1, 0, 1, json_array(?2))
     ON CONFLICT (tenant_id, topic) DO UPDATE SET samples = excluded.samples`,
  )
    .bind(CURSOR, String(rowid - 1))
    .run();

const firstRowid = async (transferId: string) =>
  (await env.DB.prepare("SELECT min(rowid) AS rowid FROM transfer_steps WHERE transfer_id = ?")
    .bind(transferId)
    .first<{ rowid: number }>())!.rowid;

const cursor = async () =>
  (
    await env.DB.prepare("SELECT samples FROM alert_state WHERE tenant_id = '' AND topic = ?")
      .bind(CURSOR)
      .first<{ samples: string }>()
  )?.samples;

describe("orphaned steps", () => {
  it("finds every tenant's orphans, whatever their age, a page of the table a run, and wraps to the start", async () => {
    const [first, second] = [await tenant(), await tenant()];
    const now = Date.now();
    // A transfer at the start of the table whose row an old release deletes once the search has passed it.
    const early = `tr_${crypto.randomUUID()}`;
    await transfer(first, early, now);
    await steps(first, early, 2, now);
    await cursorBefore(await firstRowid(early));
    // A transfer still running after two months keeps its 2,500 steps.
    const live = `tr_${crypto.randomUUID()}`;
    await transfer(first, live, now - 60 * DAY);
    await steps(first, live, 2.5 * ORPHAN_STEP_SCAN, now - 60 * DAY);
    // Orphans behind them: the first tenant's fresh, the second's old.
    const fresh = `tr_gone_${crypto.randomUUID()}`;
    await steps(first, fresh, 3, now);
    const old = `tr_gone_${crypto.randomUUID()}`;
    await steps(second, old, 2, now - 400 * DAY);

    const { env: spied, reads } = withRowsRead();
    const pages: number[] = [];
    for (let i = 0; i < 5 && (await stepsOf(fresh)) + (await stepsOf(old)) > 0; i++) {
      await applyRetention(spied);
      const scans = reads.splice(0).filter((r) => r.sql === ORPHAN_STEP_PAGE);
      expect(scans).toHaveLength(1); // one page a run, not one a tenant
      pages.push(scans[0]!.rowsRead);
      if (i === 0) {
        expect(await cursor()).not.toBe(JSON.stringify(["0"])); // moved on a page
        await env.DB.prepare("DELETE FROM transfers WHERE id = ?").bind(early).run();
      }
    }
    expect(await stepsOf(fresh)).toBe(0);
    expect(await stepsOf(old)).toBe(0);
    expect(pages.length).toBe(3); // a page a run: 2,507 rows take three
    // A page and its lookups a run (D1 counts the rows it read).
    for (const rowsRead of pages) expect(rowsRead).toBeLessThanOrEqual(3 * ORPHAN_STEP_SCAN);
    expect(await stepsOf(live)).toBe(2.5 * ORPHAN_STEP_SCAN);

    // The last page was short: the next run starts from the first row, behind where the pass began.
    expect(await cursor()).toBe(JSON.stringify(["0"]));
    expect(await stepsOf(early)).toBe(2);
    await applyRetention(env);
    expect(await stepsOf(early)).toBe(0);
  });

  it("does not delete a live step that took an orphan's rowid between the page and the delete", async () => {
    const tenantId = await tenant();
    const gone = `tr_gone_${crypto.randomUUID()}`;
    await steps(tenantId, gone, 1, Date.now());
    const rowid = await firstRowid(gone);
    await cursorBefore(rowid);
    const live = `tr_${crypto.randomUUID()}`;
    await transfer(tenantId, live, Date.now());
    // Between the page and the delete, the orphan goes and a live step is written under its rowid.
    let reused = false;
    const reuse = async () => {
      reused = true;
      await env.DB.batch([
        env.DB.prepare("DELETE FROM transfer_steps WHERE rowid = ?").bind(rowid),
        env.DB.prepare(
          `INSERT INTO transfer_steps (rowid, transfer_id, step_index, tenant_id, target_connection_id, action, status, updated_at)
           VALUES (?1, ?2, 0, ?3, 'con_ledger', 'createInvoice', 'pending', ?4)`,
        ).bind(rowid, live, tenantId, Date.now()),
      ]);
    };
    const DB = new Proxy(env.DB, {
      get(target, prop) {
        if (prop === "prepare")
          return (sql: string) => {
            const statement = target.prepare(sql);
            if (!sql.startsWith("DELETE FROM transfer_steps WHERE rowid IN")) return statement;
            return {
              bind: (...values: unknown[]) => {
                const bound = statement.bind(...values);
                return {
                  run: async () => {
                    await reuse();
                    return bound.run();
                  },
                };
              },
            };
          };
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const deleted = await applyRetention({ ...env, DB });
    expect(reused).toBe(true);
    expect(deleted.transfer_steps ?? 0).toBe(0);
    expect(await stepsOf(live)).toBe(1);
  });

  it("is skipped when the cursors cannot be read, and its cursor stays", async () => {
    const tenantId = await tenant();
    const gone = `tr_gone_${crypto.randomUUID()}`;
    await steps(tenantId, gone, 2, Date.now());
    const rowid = await firstRowid(gone);
    await cursorBefore(rowid);
    const { env: recording, statements } = withRecordingD1();
    await applyRetention(withFailingD1(/topic LIKE 'retention:%'/, recording));
    expect(statements).not.toContain(ORPHAN_STEP_PAGE);
    expect(await stepsOf(gone)).toBe(2);
    expect(await cursor()).toBe(JSON.stringify([String(rowid - 1)]));

    await applyRetention(env);
    expect(await stepsOf(gone)).toBe(0);
  });

  it("reads a page as a range of the rowid, each row one lookup of its transfer", async () => {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${ORPHAN_STEP_PAGE}`).bind(0).all<{ detail: string }>();
    const plan = results.map((r) => r.detail).join("\n");
    expect(plan).toMatch(/SEARCH s USING INTEGER PRIMARY KEY \(rowid>\?\)/);
    expect(plan).toMatch(/SEARCH t USING COVERING INDEX sqlite_autoindex_transfers_1 \(id=\?\)/);
    expect(plan).not.toMatch(/TEMP B-TREE|SCAN/);
  });
});
