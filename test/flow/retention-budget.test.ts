/**
 * Retention within one invocation's D1 queries: D1 allows 1,000 a Worker invocation (Workers
 * Paid), past which every query throws. A run that took the tenants in a fixed order spent them on
 * the first ones every time, so the last ones never had their history deleted, and the delete of
 * dead letters without a tenant, after the loop and outside any try, threw the whole run.
 */
import { env } from "cloudflare:test";
import { inArray, isNull } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { deadLetters, tenants } from "../../src/db/schema";
import { applyRetention, ORPHAN_STEP_PAGE } from "../../src/worker/retention";

const DAY = 86_400_000;

/** The D1 binding of one invocation that allows `limit` queries (each statement of a batch counted); `prepared` lists their SQL. */
function invocationDb(db: D1Database, limit: number, prepared: string[] = []): D1Database {
  let used = 0;
  const take = (n: number) => {
    used += n;
    if (used > limit) throw new Error("D1_ERROR: Too many API requests by single worker invocation.");
  };
  const real = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        const value = Reflect.get(target, prop, target);
        if (typeof value !== "function") return value;
        if (prop === "all" || prop === "run" || prop === "first" || prop === "raw")
          return (...args: unknown[]) => {
            take(1);
            return value.apply(target, args);
          };
        return value.bind(target);
      },
    });
    real.set(proxy, statement);
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare")
        return (query: string) => {
          prepared.push(query);
          return wrap(target.prepare(query));
        };
      if (prop === "batch")
        return (statements: D1PreparedStatement[]) => {
          take(statements.length);
          return target.batch(statements.map((s) => real.get(s) ?? s));
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("retention within an invocation's queries", () => {
  it("reaches every tenant over a few runs, and the dead letters without a tenant, when one run cannot reach all", async () => {
    const now = Date.now();
    const old = now - 30 * DAY;
    const ids = Array.from({ length: 20 }, (_, i) => `ten_budget_${String(i).padStart(2, "0")}`);
    await database(env)
      .insert(tenants)
      .values(ids.map((id) => ({ id, name: id, retentionDays: 7 })));
    const letter = (tenantId: string | null) => ({
      transferId: null,
      tenantId,
      body: {},
      reason: "r",
      createdAt: now - 91 * DAY,
    });
    for (const id of ids)
      await database(env)
        .insert(deadLetters)
        .values({ ...letter(id), createdAt: old });
    await database(env).insert(deadLetters).values(letter(null));
    const left = async () =>
      (await database(env).select({ t: deadLetters.tenantId }).from(deadLetters).where(inArray(deadLetters.tenantId, ids)))
        .length;
    const everyTenant = (await database(env).select({ id: tenants.id }).from(tenants)).length;

    // An invocation of 70 queries; each of these tenants takes 5 (its transfers, dead letters read
    // and deleted, emails, orders recorded with no flow on), so 20 of them need about 100; the
    // orphaned steps' page is read once a run.
    const runs: number[] = [];
    for (let i = 0; i < Math.ceil(everyTenant / 3) + 1 && (await left()) > 0; i++) {
      const prepared: string[] = [];
      await applyRetention({ ...env, DB: invocationDb(env.DB, 70, prepared) }, now, 60);
      runs.push(await left());
      expect(prepared.filter((sql) => sql === ORPHAN_STEP_PAGE)).toHaveLength(1);
    }
    expect(runs[0]).toBeGreaterThan(0); // one run does not reach them all,
    expect(runs.at(-1)).toBe(0); // a few do, each going on where the last stopped
    expect(await database(env).select().from(deadLetters).where(isNull(deadLetters.tenantId))).toEqual([]);
  });
});
