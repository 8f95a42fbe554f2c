/**
 * A silence longer than the tenant's retention is still alerted: retention deletes the source's
 * last transfer (after 7 days here), but the silence check kept when the source was last seen.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { transfers } from "../../src/db/schema";
import { checkSilentSources } from "../../src/notifications/silence";
import { applyRetention } from "../../src/worker/retention";
import { DAY, HOUR, outbox, seedTenant, seedTransfer, T0 } from "./notification-helpers";

const silenceMails = async (tenantId: string) =>
  (await outbox(tenantId)).filter((m) => m.subject.includes("No orders from")).map((m) => m.subject);

describe("a silence alert longer than the retention", () => {
  it("fires after the source's last transfer was deleted, once, and again after the next silence", async () => {
    const world = await seedTenant({ retentionDays: 7, silenceHours: 200 });
    const first = await seedTransfer(world.tenantId, {
      source: world.shop,
      steps: [{ target: world.ledger, status: "completed" }],
      status: "completed",
      createdAt: T0,
    });
    // The cron's check runs every few minutes while the transfer is still there.
    await checkSilentSources(env, T0 + HOUR);
    expect(await silenceMails(world.tenantId)).toEqual([]);

    // Day 8: retention (7 days) deletes the transfer, long before 200 hours have passed.
    await applyRetention(env, T0 + 8 * DAY);
    expect(await database(env).select().from(transfers).where(eq(transfers.id, first))).toHaveLength(0);

    await checkSilentSources(env, T0 + 201 * HOUR);
    await checkSilentSources(env, T0 + 202 * HOUR);
    expect(await silenceMails(world.tenantId)).toEqual([`[Orderly] No orders from "Shop" for 201 hours`]);

    // The shop sends again, then goes quiet: the alert is armed again, with the new last time.
    const later = T0 + 210 * HOUR;
    await seedTransfer(world.tenantId, {
      source: world.shop,
      steps: [{ target: world.ledger, status: "completed" }],
      status: "completed",
      createdAt: later,
    });
    await checkSilentSources(env, later + HOUR);
    await applyRetention(env, later + 8 * DAY);
    await checkSilentSources(env, later + 200 * HOUR);
    expect(await silenceMails(world.tenantId)).toEqual([
      `[Orderly] No orders from "Shop" for 201 hours`,
      `[Orderly] No orders from "Shop" for 200 hours`,
    ]);
  });
});
