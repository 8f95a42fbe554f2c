/**
 * A booked invoice's differences reach D1 with the order object's time of the change, which may be
 * hours before the row is written (a D1 outage, a parked projection): the cron still alerts them,
 * once.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { transferSteps, transfers } from "../../src/db/schema";
import { sweepInvoiceDifferences } from "../../src/notifications/difference-alerts";
import { DAY, HOUR, MINUTE, outbox, seedTenant, seedTransfer, T0 } from "./notification-helpers";

const WINDOW = 15 * MINUTE;
/** Far from T0, so no other test's sweep (which looks back from about T0) counts these rows first. */
const NOW = T0 - 10 * DAY;

describe("booked invoices that could not be updated, written to D1 late", () => {
  it("are alerted when their time is hours behind the cron run, and only once however often it looks", async () => {
    const world = await seedTenant();
    const id = await seedTransfer(world.tenantId, {
      source: world.shop,
      steps: [
        {
          target: world.ledger,
          status: "completed",
          output: { state: "booked", differences: ["total: 249.00 DKK → 299.00 DKK"] },
        },
      ],
      status: "completed",
      // The change happened three hours ago; its row reached D1 only now.
      createdAt: NOW - 3 * HOUR - MINUTE,
      updatedAt: NOW - 3 * HOUR,
      orderNumber: "#1001",
    });
    expect(await sweepInvoiceDifferences(env, NOW, WINDOW)).toBe(1);
    // Every later run of the lookback sees the row again; its marker keeps it from a second count.
    expect(await sweepInvoiceDifferences(env, NOW + MINUTE, WINDOW)).toBe(0);
    expect(await sweepInvoiceDifferences(env, NOW + 40 * HOUR, WINDOW)).toBe(0);
    // The transfer moves on (a later step) while this step stays as it was: a step's row and its
    // time move only when the step itself changes (order-projection.ts), so it is not counted again.
    await database(env)
      .update(transfers)
      .set({ updatedAt: NOW + HOUR })
      .where(eq(transfers.id, id));
    const [step] = await database(env).select().from(transferSteps).where(eq(transferSteps.transferId, id));
    expect(step!.alertedAt).toBeGreaterThanOrEqual(step!.updatedAt);
    expect(await sweepInvoiceDifferences(env, NOW + 2 * HOUR, WINDOW)).toBe(0);
    const mails = await outbox(world.tenantId);
    expect(mails.map((m) => m.subject)).toEqual([`[Orderly] Differs from the order: order #1001 on "Ledger"`]);
  });

  it("one older than the failure sweeper's lookback (48 hours) is left alone", async () => {
    const world = await seedTenant();
    await seedTransfer(world.tenantId, {
      source: world.shop,
      steps: [{ target: world.ledger, status: "completed", output: { state: "booked", differences: ["total changed"] } }],
      status: "completed",
      createdAt: NOW - 49 * HOUR,
    });
    expect(await sweepInvoiceDifferences(env, NOW, WINDOW)).toBe(0);
    expect(await outbox(world.tenantId)).toHaveLength(0);
  });
});
