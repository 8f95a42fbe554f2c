/**
 * The scheduled handler: retention has a cron trigger (and so an invocation, with its own D1
 * queries) of its own, and a part of an invocation that fails cancels none of the others.
 */
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { deadLetters, tenants } from "../../src/db/schema";
import { cronParts, NOTIFY_CRON, RETENTION_CRON, runScheduled } from "../../src/worker/cron";
import worker from "../../src/worker/index";
import { applyRetention, RETENTION_OVERDUE_MS, retentionOverdue } from "../../src/worker/retention";
import wrangler from "../../wrangler.toml?raw";

const DAY = 86_400_000;

async function scheduled(cron: string): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron, scheduledTime: Date.now() }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** A tenant with a 7-day retention and a 30-day-old dead letter; reads that tenant's dead letters. */
async function tenantWithOldDeadLetter(name: string) {
  const tenantId = `ten_${crypto.randomUUID().slice(0, 8)}`;
  await database(env).insert(tenants).values({ id: tenantId, name, retentionDays: 7 });
  await database(env)
    .insert(deadLetters)
    .values({ transferId: null, tenantId, body: {}, reason: "old", createdAt: Date.now() - 30 * DAY });
  return () => database(env).select().from(deadLetters).where(eq(deadLetters.tenantId, tenantId));
}

describe("the cron triggers", () => {
  it("wrangler.toml has the notification trigger and retention's own", () => {
    const crons = /^crons\s*=\s*\[(.*)\]\s*$/m.exec(wrangler)?.[1];
    expect(JSON.parse(`[${crons}]`)).toEqual([NOTIFY_CRON, RETENTION_CRON]);
    expect(cronParts(NOTIFY_CRON)).toEqual(["sweeper", "notifications", "reconcile"]);
    expect(cronParts(RETENTION_CRON)).toEqual(["retention"]);
    // `wrangler dev --test-scheduled`: /__scheduled without ?cron= runs everything.
    expect(cronParts("")).toEqual(["sweeper", "notifications", "reconcile", "retention"]);
  });

  it("retention runs in its own invocation, not in the notifications'", async () => {
    // Retention's trigger is alive: it ran a moment ago (before this tenant's old dead letter).
    await applyRetention(env);
    const letters = await tenantWithOldDeadLetter("Cron");

    await scheduled(NOTIFY_CRON);
    expect(await letters()).toHaveLength(1);
    await scheduled(RETENTION_CRON);
    expect(await letters()).toHaveLength(0);
  });

  it("the notification trigger runs retention too when retention's own has not run for a while", async () => {
    // Its last run was long ago (a gradual deployment kept the old single trigger); the dead letter
    // comes after it, so only a run from this notification invocation can delete it.
    await applyRetention(env, Date.now() - 2 * RETENTION_OVERDUE_MS);
    const letters = await tenantWithOldDeadLetter("Old trigger");
    expect(await letters()).toHaveLength(1);
    expect(await retentionOverdue(env, Date.now())).toBe(true);
    await scheduled(NOTIFY_CRON);
    expect(await letters()).toHaveLength(0);
    expect(await retentionOverdue(env, Date.now())).toBe(false);
  });

  it("a part that fails cancels no other part, and the invocation's work still settles", async () => {
    let notified = false;
    const failed = await runScheduled(env, NOTIFY_CRON, Date.now(), {
      sweeper: () => Promise.reject(new Error("D1_ERROR: Too many API requests by single worker invocation.")),
      notifications: async () => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        notified = true;
      },
      reconcile: async () => 0,
    });
    expect(failed).toEqual(["sweeper"]);
    expect(notified).toBe(true);
  });
});
