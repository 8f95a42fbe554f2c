/**
 * Retention run by the notification invocation (its own trigger not deployed) shares that
 * invocation's 1,000 D1 queries: run beside the sweeper and the notification pass on its default
 * budget of 900, which counts only its own queries, it could leave them "Too many API requests".
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import { CRON_PARTS, FALLBACK_RETENTION_BUDGET, NOTIFY_CRON, RETENTION_CRON, runScheduled } from "../../src/worker/cron";
import { applyRetention, RETENTION_OVERDUE_MS } from "../../src/worker/retention";

afterEach(() => vi.restoreAllMocks());

const pause = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("retention in the notification invocation", () => {
  it("runs after the sweeper and the notification pass have finished, on a small budget", async () => {
    await applyRetention(env, Date.now() - 2 * RETENTION_OVERDUE_MS);
    const events: string[] = [];
    const failed = await runScheduled(env, NOTIFY_CRON, Date.now(), {
      sweeper: async () => {
        await pause();
        events.push("sweeper done");
      },
      notifications: async () => {
        await pause();
        events.push("notifications done");
      },
      retention: async (_env, _at, budget) => {
        events.push(`retention started, budget ${budget}`);
      },
    });
    expect(failed).toEqual([]);
    expect(events).toHaveLength(3);
    expect(events.at(-1)).toBe(`retention started, budget ${FALLBACK_RETENTION_BUDGET}`);
    expect(FALLBACK_RETENTION_BUDGET).toBeLessThanOrEqual(300);
  });

  it("a sweeper or notification pass that fails does not keep retention from running", async () => {
    await applyRetention(env, Date.now() - 2 * RETENTION_OVERDUE_MS);
    let ran = false;
    const failed = await runScheduled(env, NOTIFY_CRON, Date.now(), {
      sweeper: () => Promise.reject(new Error("D1_ERROR: Network connection lost.")),
      notifications: async () => undefined,
      retention: async () => {
        ran = true;
      },
    });
    expect(failed).toEqual(["sweeper"]);
    expect(ran).toBe(true);
  });

  it("retention's own trigger still runs it on its full budget", async () => {
    let given: number | undefined = -1;
    await runScheduled(env, RETENTION_CRON, Date.now(), {
      retention: async (_env, _at, budget) => {
        given = budget;
      },
    });
    expect(given).toBeUndefined();
  });

  it("the budget reaches retention: a run stops at it and leaves the rest of the tenants for the next", async () => {
    await database(env)
      .insert(tenants)
      .values(["a", "b", "c"].map((c) => ({ id: `ten_fallback_${c}`, name: c })));
    const warn = vi.spyOn(console, "warn");
    await CRON_PARTS.retention(env, Date.now(), 50);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/tenants left for the next run \(query budget\)/));
  });
});
