/**
 * The dashboard's per-target numbers (failing in 7 days, documents created this month) read steps
 * through their transfers, now that steps have no index by tenant and time: the same numbers as
 * the old reads of the steps by (tenant, updated_at), a transfer's `updated_at` lagging its steps'
 * by up to a minute included.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import { dashboardData } from "../../src/worker/routes/ui/data/dashboard-data";
import { transferWithSteps } from "./step-rows";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Wednesday 3 June 2026, noon: the 7 days reach back into May, the month began on the 1st. */
const NOW = Date.UTC(2026, 5, 3, 12);
const SINCE7 = NOW - 7 * DAY;
const MONTH = Date.UTC(2026, 5, 1);

/** The reads before, straight from the steps by tenant and time. */
const OLD_FAILING = `SELECT target_connection_id AS id, count(*) AS failures, max(updated_at) AS lastAt, error_reason AS lastError
  FROM transfer_steps WHERE tenant_id = ?1 AND updated_at > ?2 AND status = 'failed' GROUP BY target_connection_id`;
const OLD_CREATED = `SELECT target_connection_id AS id, count(*) AS created
  FROM transfer_steps WHERE tenant_id = ?1 AND updated_at > ?2 AND created = 1 GROUP BY target_connection_id`;

async function tenant(): Promise<string> {
  const id = `ten_${crypto.randomUUID().slice(0, 8)}`;
  await database(env).insert(tenants).values({ id, name: id });
  return id;
}

const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => a.id.localeCompare(b.id));

describe("the dashboard's step counts, through the transfers", () => {
  it("counts the same failing steps and created documents as the steps' own times did", async () => {
    const tenantId = await tenant();
    const other = await tenant();
    const a = `con_a_${tenantId}`;
    const b = `con_b_${tenantId}`;
    // Failed 10 s into the 7 days, its transfer's updated_at 30 s behind (before the 7 days).
    await transferWithSteps(tenantId, { updatedAt: SINCE7 + 10_000 - 30_000 }, [
      { target: a, status: "failed", updatedAt: SINCE7 + 10_000, errorReason: "early" },
    ]);
    await transferWithSteps(tenantId, { updatedAt: NOW - HOUR }, [
      { target: a, status: "failed", updatedAt: NOW - HOUR, errorReason: "newest" },
    ]);
    // Exactly 7 days old, and older: not counted.
    await transferWithSteps(tenantId, { updatedAt: SINCE7 }, [{ target: a, status: "failed", updatedAt: SINCE7 }]);
    await transferWithSteps(tenantId, { updatedAt: SINCE7 - 60_000 }, [
      { target: b, status: "failed", updatedAt: SINCE7 - 60_000 },
    ]);
    // A transfer that moved on lately, its step failed long ago: the step's own time decides.
    await transferWithSteps(tenantId, { updatedAt: NOW - 60_000 }, [{ target: b, status: "failed", updatedAt: SINCE7 - DAY }]);
    // Created this month, the transfer 25 s behind the month's start; on the first millisecond; just before.
    await transferWithSteps(tenantId, { updatedAt: MONTH + 5_000 - 30_000, status: "completed" }, [
      { target: b, status: "completed", updatedAt: MONTH + 5_000, created: true },
    ]);
    await transferWithSteps(tenantId, { updatedAt: MONTH - 30_000, status: "completed" }, [
      { target: a, status: "completed", updatedAt: MONTH, created: true },
    ]);
    await transferWithSteps(tenantId, { updatedAt: MONTH - 1, status: "completed" }, [
      { target: a, status: "completed", updatedAt: MONTH - 1, created: true },
    ]);
    // Found, not created (the document was there already).
    await transferWithSteps(tenantId, { updatedAt: NOW, status: "completed" }, [
      { target: a, status: "completed", updatedAt: NOW, created: false },
    ]);
    // One transfer, a document created on one target and a failure on the other.
    await transferWithSteps(tenantId, { updatedAt: NOW - 2 * HOUR }, [
      { target: a, status: "completed", updatedAt: NOW - 2 * HOUR, created: true },
      { target: b, status: "failed", updatedAt: NOW - 2 * HOUR, errorReason: "b down" },
    ]);
    // Another tenant's, on the same targets.
    await transferWithSteps(other, { updatedAt: NOW - HOUR }, [
      { target: a, status: "failed", updatedAt: NOW - HOUR, errorReason: "not ours" },
      { target: b, status: "completed", updatedAt: NOW - HOUR, created: true },
    ]);

    const data = await dashboardData(env, tenantId, NOW);
    const failing = byId(data.failing.map(({ id, failures, lastAt, lastError }) => ({ id, failures, lastAt, lastError })));
    expect(failing).toEqual([
      { id: a, failures: 2, lastAt: NOW - HOUR, lastError: "newest" },
      { id: b, failures: 1, lastAt: NOW - 2 * HOUR, lastError: "b down" },
    ]);
    expect(byId(data.usage.map(({ id, created }) => ({ id, created })))).toEqual([
      { id: a, created: 2 },
      { id: b, created: 1 },
    ]);

    // The same as the reads before.
    const old = await env.DB.prepare(OLD_FAILING).bind(tenantId, SINCE7).all<(typeof failing)[number]>();
    expect(failing).toEqual(byId(old.results));
    const oldCreated = await env.DB.prepare(OLD_CREATED)
      .bind(tenantId, MONTH - 1)
      .all<{ id: string; created: number }>();
    expect(byId(data.usage.map(({ id, created }) => ({ id, created })))).toEqual(byId(oldCreated.results));
  });
});
