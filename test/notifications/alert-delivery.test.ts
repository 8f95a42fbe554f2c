/**
 * No alert is lost without a trace: whatever stops its email (a deleted or switched-off mail
 * connection, no alert address), the outbox keeps it as a failed row with the reason, the cron
 * sends a failed alert again, and a topic's grouped email never keeps its window open for good.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import { alertTopic } from "../../src/notifications/alert-throttle";
import { raiseTransferFailure } from "../../src/notifications/failure-alerts";
import { flushAlertGroups, RESEND_AFTER_MS, resendFailedAlerts } from "../../src/notifications/notify-tenant";
import { sendDueStatusReports } from "../../src/notifications/status-report.send";
import { DAY, HOUR, MINUTE, outbox, type Seeded, seedTenant, seedTransfer, T0 } from "./notification-helpers";

const WINDOW = 15 * MINUTE;
/** Local development: the dev outbox stands in for a mail provider that works (deployed, it refuses). */
const local = { ...env, DEV_SEED_TOKEN: "local" } as Env;
/** The reason on the row (NO_RECIPIENTS), spelt out so this test also runs against code without it. */
const NO_RECIPIENTS = expect.stringMatching(/^not sent: no alert recipients set/);

async function failure(world: Seeded, at: number) {
  const transferId = await seedTransfer(world.tenantId, {
    source: world.shop,
    steps: [{ target: world.ledger, status: "failed" }],
    status: "failed",
    createdAt: at - 1000,
    updatedAt: at,
  });
  const failure = { tenantId: world.tenantId, transferId, target: world.ledger, orderNumber: "#1", reason: "Rejected." };
  return raiseTransferFailure(env, failure, at, WINDOW);
}

/** The tenant's mail connection points at a connection that is gone (deleted before the API refused it). */
async function mailConnectionGone(world: Seeded): Promise<void> {
  await database(env).update(tenants).set({ mailConnectionId: "con_deleted" }).where(eq(tenants.id, world.tenantId));
}

describe("an alert whose mail connection cannot be loaded", () => {
  it("is kept as a failed outbox row with the reason, and sent by the cron once the connection is fixed", async () => {
    const world = await seedTenant();
    await mailConnectionGone(world);
    // The failure is counted (marked alerted) and its email fails before the provider is reached.
    await expect(failure(world, T0)).rejects.toThrow(/Mail connection con_deleted was not found/);
    const [row] = await outbox(world.tenantId);
    expect(row).toMatchObject({ status: "failed", subject: expect.stringContaining("Transfer failed") });
    expect(row!.error).toContain("Mail connection con_deleted was not found");

    // Back to the dev outbox, locally: the cron's resend finds the row and sends it, same key (once
    // the row is older than a send still in flight could be).
    await database(env).update(tenants).set({ mailConnectionId: null }).where(eq(tenants.id, world.tenantId));
    await resendFailedAlerts(local, Date.now() + RESEND_AFTER_MS);
    const [sent] = await outbox(world.tenantId);
    expect(sent).toMatchObject({ id: row!.id, status: "sent", provider: "dev", error: null, subject: row!.subject });
  });

  it("still closes its group's window, so the topic is not muted for ever", async () => {
    const world = await seedTenant();
    await failure(world, T0);
    await failure(world, T0 + MINUTE);
    await failure(world, T0 + 2 * MINUTE);
    await mailConnectionGone(world);
    const topic = alertTopic("failures", world.ledger);
    // The grouped email fails, but is on record; the window closes all the same.
    await flushAlertGroups(env, T0 + WINDOW + MINUTE, WINDOW);
    const grouped = (await outbox(world.tenantId)).find((m) => m.idempotencyKey.endsWith("/grouped"));
    expect(grouped).toMatchObject({ status: "failed" });
    const state = await env.DB.prepare("SELECT pending, last_sent_at FROM alert_state WHERE tenant_id = ? AND topic = ?")
      .bind(world.tenantId, topic)
      .first<{ pending: number; last_sent_at: number }>();
    expect(state).toEqual({ pending: 0, last_sent_at: T0 + WINDOW + MINUTE });
    // The next failure after that window is mailed at once again (it would only be counted if the group stayed open).
    await database(env).update(tenants).set({ mailConnectionId: null }).where(eq(tenants.id, world.tenantId));
    expect((await failure(world, T0 + 2 * WINDOW + 2 * MINUTE)).outcome).toBe("opened");
  });
});

describe("a tenant without an alert address", () => {
  it("keeps each alert as a failed outbox row saying why, and sends it once an address is set", async () => {
    const world = await seedTenant({ alertEmails: [] });
    expect((await failure(world, Date.now() - HOUR)).outcome).toBe("opened");
    const [row] = await outbox(world.tenantId);
    expect(row).toMatchObject({ status: "failed", error: NO_RECIPIENTS, toAddresses: [] });
    expect(row!.subject).toMatch(/^\[Orderly\] Transfer failed/);

    await database(env)
      .update(tenants)
      .set({ alertEmails: ["ops@example.com"] })
      .where(eq(tenants.id, world.tenantId));
    expect(await resendFailedAlerts(local, Date.now() + RESEND_AFTER_MS)).toBeGreaterThanOrEqual(1);
    const [sent] = await outbox(world.tenantId);
    expect(sent).toMatchObject({ status: "sent", toAddresses: ["ops@example.com"], subject: row!.subject });
  });

  it("keeps a due status report as one failed row per period", async () => {
    const world = await seedTenant({ alertEmails: [], reportSchedule: "daily" });
    const now = Math.floor(T0 / DAY) * DAY + 2 * DAY + 7 * HOUR + 5 * MINUTE;
    await sendDueStatusReports(env, now, 7);
    await sendDueStatusReports(env, now + 5 * MINUTE, 7);
    const rows = await outbox(world.tenantId);
    expect(rows.map((r) => [r.status, r.error])).toEqual([["failed", NO_RECIPIENTS]]);
  });
});
