/**
 * The cron's re-send of failed alerts passes over a tenant whose alerts cannot leave (no alert
 * address, or no mail provider and no system sender, deployed): each row would only be stored as
 * failed again, four queries at every run for six hours, out of the cron's shared query budget.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import { notifyTenant, RESEND_AFTER_MS, resendFailedAlerts } from "../../src/notifications/notify-tenant";
import { withRecordingD1 } from "./failing-d1";
import { outbox, seedTenant } from "./notification-helpers";

const alert = { key: "paused/9", subject: "Ledger is paused", text: "Paused." };

describe("re-sending failed alerts", () => {
  it("reads no outbox of a tenant with no mail provider (deployed, no system sender), and its row stays as it was", async () => {
    const world = await seedTenant();
    expect(await notifyTenant(env, world.tenantId, alert)).toBe(false);
    const before = await outbox(world.tenantId);
    const spy = withRecordingD1();
    expect(await resendFailedAlerts(spy.env, Date.now() + RESEND_AFTER_MS)).toBe(0);
    expect(spy.statements.filter((s) => s.includes("mail_outbox"))).toEqual([]);
    expect(await outbox(world.tenantId)).toEqual(before);
  });

  it("reads no outbox of a tenant with no alert address", async () => {
    const world = await seedTenant();
    await database(env).update(tenants).set({ alertEmails: [] }).where(eq(tenants.id, world.tenantId));
    expect(await notifyTenant(env, world.tenantId, alert)).toBe(false);
    const spy = withRecordingD1();
    await resendFailedAlerts(spy.env, Date.now() + RESEND_AFTER_MS);
    expect(spy.statements.filter((s) => s.includes("mail_outbox"))).toEqual([]);
  });
});
