/**
 * The cron's re-send of failed alerts is bounded and comes last. Unbounded and before the silence
 * checks and reports, a mail provider that was down (hundreds of tenants' failed alerts, each a
 * provider call of up to 15 s and about five D1 queries) held back those checks and reports for
 * every tenant, for up to the six hours alerts are re-sent.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox, tenants } from "../../src/db/schema";
import { MAIL_SEARCH_TIMEOUT_MS, MAIL_TIMEOUT_MS } from "../../src/mail/send-mail";
import {
  FAILED_ALERTS,
  RESEND_AFTER_MS,
  RESEND_PER_RUN,
  RESEND_PER_TENANT,
  resendFailedAlerts,
} from "../../src/notifications/notify-tenant";
import { runNotifications } from "../../src/worker/cron";
import { withRecordingD1 } from "./failing-d1";
import { HOUR, MINUTE, outbox, seedTenant } from "./notification-helpers";

/** The cron runs every five minutes (wrangler.toml). */
const CRON_INTERVAL = 5 * MINUTE;
/** Local development: the dev outbox stands in for a mail provider that works. */
const local = { ...env, DEV_SEED_TOKEN: "local" } as Env;

/** `count` failed alert emails of the tenant, a minute apart, the oldest two hours ago. */
async function failedAlerts(tenantId: string, count: number): Promise<void> {
  const oldest = Date.now() - 2 * HOUR;
  // One row a statement: D1 binds at most 100 values.
  for (let i = 0; i < count; i++)
    await database(env)
      .insert(mailOutbox)
      .values({
        id: `mail_${tenantId}_${String(i).padStart(3, "0")}`,
        tenantId,
        provider: "postmark",
        idempotencyKey: `alert/failures:${i}`,
        fromAddress: "",
        toAddresses: [],
        subject: `[Orderly] Alert ${i}`,
        text: "Rejected.",
        status: "failed",
        error: "Postmark did not answer within 15 s",
        createdAt: oldest + i * MINUTE,
      });
}

const statuses = async (tenantId: string) => (await outbox(tenantId)).map((m) => m.status);

describe("re-sending failed alerts", () => {
  it(`sends at most ${RESEND_PER_TENANT} of a tenant's a run, the oldest first; the next runs send the rest`, async () => {
    const world = await seedTenant();
    await failedAlerts(world.tenantId, RESEND_PER_TENANT + 5);
    expect(await resendFailedAlerts(local, Date.now())).toBe(RESEND_PER_TENANT);
    expect(await statuses(world.tenantId)).toEqual([...Array(RESEND_PER_TENANT).fill("sent"), ...Array(5).fill("failed")]);
    expect(await resendFailedAlerts(local, Date.now())).toBe(5);
    expect(await statuses(world.tenantId)).toEqual(Array(RESEND_PER_TENANT + 5).fill("sent"));
  });

  it(`sends at most ${RESEND_PER_RUN} a run in all`, async () => {
    const worlds = [await seedTenant(), await seedTenant(), await seedTenant()];
    for (const world of worlds) await failedAlerts(world.tenantId, RESEND_PER_TENANT);
    let waiting = 3 * RESEND_PER_TENANT;
    while (waiting > 0) {
      expect(await resendFailedAlerts(local, Date.now())).toBe(Math.min(RESEND_PER_RUN, waiting));
      waiting -= Math.min(RESEND_PER_RUN, waiting);
    }
    for (const world of worlds) expect(await statuses(world.tenantId)).toEqual(Array(RESEND_PER_TENANT).fill("sent"));
  });

  it("a run's worst case (each a Postmark retry's search, then its send, both timing out) ends before the next run", () => {
    expect(RESEND_PER_RUN * (MAIL_SEARCH_TIMEOUT_MS + MAIL_TIMEOUT_MS)).toBeLessThan(CRON_INTERVAL);
  });

  it("tenants whose alerts keep failing do not hold another's back: each run starts at another tenant", async () => {
    const broken = [await seedTenant(), await seedTenant()];
    for (const world of broken) {
      await database(env).update(tenants).set({ mailConnectionId: "con_deleted" }).where(eq(tenants.id, world.tenantId));
      await failedAlerts(world.tenantId, RESEND_PER_TENANT);
    }
    const waiting = await seedTenant();
    await failedAlerts(waiting.tenantId, 1);
    // Wherever a run starts, the broken tenants fill it when they come first.
    for (const start of [0, 0.34, 0.67, 0.99]) await resendFailedAlerts(local, Date.now(), start);
    expect(await statuses(waiting.tenantId)).toEqual(["sent"]);
  });

  it("reads every tenant's failed alerts in one statement, each a range of the outbox's (tenant, time) index", async () => {
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${FAILED_ALERTS}`)
      .bind(JSON.stringify(["ten_a", "ten_b"]), 0, Date.now() - RESEND_AFTER_MS)
      .all<{ detail: string }>();
    const plan = results.map((r) => r.detail).join("\n");
    expect(plan).toMatch(/SEARCH m USING INDEX mail_outbox_tenant_time \(tenant_id=\? AND created_at>\? AND created_at<\?\)/);
    expect(plan).not.toMatch(/SCAN m\b/);
  });

  it("come after the silence checks and the status reports in the notification pass", async () => {
    const world = await seedTenant({ silenceHours: 4, reportSchedule: "daily" });
    await failedAlerts(world.tenantId, 1);
    const spy = withRecordingD1(local);
    await runNotifications(spy.env, Date.now());
    const at = (pattern: RegExp) => spy.statements.findIndex((s) => pattern.test(s));
    const resend = at(/JOIN mail_outbox m|"mail_outbox"."idempotency_key" like/);
    expect(resend).toBeGreaterThan(-1);
    expect(resend).toBeGreaterThan(at(/"silence_hours" is not null/));
    expect(resend).toBeGreaterThan(at(/"report_schedule" <>/));
  });
});
