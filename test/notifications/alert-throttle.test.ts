import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { alertState, mailOutbox, transfers } from "../../src/db/schema";
import { alertSample, groupedAlertText } from "../../src/notifications/alert-emails";
import { alertMailKey, alertTopic, isGroupDue, recordAlertEvent } from "../../src/notifications/alert-throttle";
import { sweepInvoiceDifferences } from "../../src/notifications/difference-alerts";
import { alertTransferFailure, raiseTransferFailure, sweepUnalertedFailures } from "../../src/notifications/failure-alerts";
import { flushAlertGroups, notifyTenant, resendFailedAlerts } from "../../src/notifications/notify-tenant";
import { HOUR, MINUTE, outbox, type Seeded, seedTenant, seedTransfer, T0 } from "./notification-helpers";

const WINDOW = 15 * MINUTE;

async function failedTransfer(world: Seeded, at: number): Promise<string> {
  return seedTransfer(world.tenantId, {
    source: world.shop,
    steps: [{ target: world.ledger, status: "failed" }],
    status: "failed",
    createdAt: at - 1000,
    updatedAt: at,
  });
}

/** What the queue consumer does when the order's object answers "dead-letter", at a given time. */
async function fail(world: Seeded, transferId: string, at: number) {
  return raiseTransferFailure(
    env,
    {
      tenantId: world.tenantId,
      transferId,
      target: world.ledger,
      orderNumber: `#${transferId.split("_").pop()}`,
      reason: "Rejected.",
    },
    at,
    WINDOW,
  );
}

async function state(world: Seeded, topic = alertTopic("failures", world.ledger)) {
  return database(env)
    .select()
    .from(alertState)
    .where(and(eq(alertState.tenantId, world.tenantId), eq(alertState.topic, topic)))
    .get();
}

describe("throttled failure alerts (fake clock)", () => {
  it("one failure makes one email, at once", async () => {
    const world = await seedTenant();
    const id = await failedTransfer(world, T0);
    expect(await fail(world, id, T0)).toEqual({ outcome: "opened", windowStart: T0 });
    const mails = await outbox(world.tenantId);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/^\[Orderly\] Transfer failed: order #\d+ to "Ledger"$/);
    expect(mails[0]!.text).toContain("Reason: Rejected.");
    expect(mails[0]!.text).toContain(`/transfers?status=failed&target=${world.ledger}`);
    expect(mails[0]!.idempotencyKey).toBe(`alert/${alertMailKey(world.tenantId, `failures:${world.ledger}`, T0, false)}`);
    expect(await flushAlertGroups(env, T0 + WINDOW, WINDOW)).toBe(0);
    expect(await outbox(world.tenantId)).toHaveLength(1);
  });

  it("500 failures in a burst make two emails: the first at once, then one counting the other 499", async () => {
    const world = await seedTenant();
    const ids: string[] = [];
    for (let i = 0; i < 500; i++) ids.push(await failedTransfer(world, T0 - 1));
    const outcomes = [];
    // Spread over ten minutes, well inside the window.
    for (const [i, id] of ids.entries()) outcomes.push((await fail(world, id, T0 + i * 1200)).outcome);
    expect(outcomes.filter((o) => o === "opened")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "counted")).toHaveLength(499);
    expect(await outbox(world.tenantId)).toHaveLength(1);

    await flushAlertGroups(env, T0 + WINDOW - 1, WINDOW);
    expect(await outbox(world.tenantId)).toHaveLength(1);
    await flushAlertGroups(env, T0 + WINDOW, WINDOW);
    const mails = await outbox(world.tenantId);
    expect(mails).toHaveLength(2);
    const grouped = mails.find((m) => m.idempotencyKey.endsWith("/grouped"))!;
    expect(grouped.subject).toBe(`[Orderly] 499 more transfers failed on "Ledger" in the last 15 minutes`);
    expect(grouped.text).toContain("The first 10:");
    expect(grouped.text!.split("\n").filter((l) => l.startsWith("- #"))).toHaveLength(10);
    expect(grouped.text).toContain(`/transfers?status=failed&target=${world.ledger}`);
    expect(await state(world)).toMatchObject({ pending: 0, lastSentAt: T0 + WINDOW, samples: [] });

    // Later cron runs find nothing more to say.
    await flushAlertGroups(env, T0 + WINDOW + 5 * MINUTE, WINDOW);
    await flushAlertGroups(env, T0 + 3 * WINDOW, WINDOW);
    expect(await outbox(world.tenantId)).toHaveLength(2);
  });

  it("a failure after the window is mailed at once again; one inside a grouped email's window waits for the next group", async () => {
    const world = await seedTenant();
    const [a, b, c, d] = [
      await failedTransfer(world, T0),
      await failedTransfer(world, T0),
      await failedTransfer(world, T0),
      await failedTransfer(world, T0),
    ];
    expect((await fail(world, a!, T0)).outcome).toBe("opened");
    expect((await fail(world, b!, T0 + WINDOW)).outcome).toBe("opened");
    expect(await outbox(world.tenantId)).toHaveLength(2);

    expect((await fail(world, c!, T0 + WINDOW + MINUTE)).outcome).toBe("counted");
    await flushAlertGroups(env, T0 + 2 * WINDOW, WINDOW);
    expect(await outbox(world.tenantId)).toHaveLength(3);
    // The grouped email opened a window of its own: a failure inside it is counted, not mailed.
    expect((await fail(world, d!, T0 + 2 * WINDOW + MINUTE)).outcome).toBe("counted");
    expect(await outbox(world.tenantId)).toHaveLength(3);
    await flushAlertGroups(env, T0 + 3 * WINDOW, WINDOW);
    const mails = await outbox(world.tenantId);
    expect(mails).toHaveLength(4);
    expect(mails.filter((m) => m.subject.includes("1 more transfer failed"))).toHaveLength(2);
  });

  it("is idempotent: the same failure is counted once, and a grouped email sent before a crash is not sent again", async () => {
    const world = await seedTenant();
    const first = await failedTransfer(world, T0);
    const second = await failedTransfer(world, T0);
    await fail(world, first, T0);
    await fail(world, first, T0 + 10);
    expect((await fail(world, second, T0 + 20)).outcome).toBe("counted");
    expect((await fail(world, second, T0 + 30)).outcome).toBe("duplicate");
    expect((await state(world))!.pending).toBe(1);

    // A previous cron run sent the grouped email, then died before closing the window.
    const topic = alertTopic("failures", world.ledger);
    await notifyTenant(env, world.tenantId, {
      key: alertMailKey(world.tenantId, topic, T0, true),
      subject: "grouped",
      text: "1 more",
    });
    await flushAlertGroups(env, T0 + WINDOW, WINDOW);
    await flushAlertGroups(env, T0 + WINDOW, WINDOW);
    expect(await outbox(world.tenantId)).toHaveLength(2);
    expect((await state(world))!.pending).toBe(0);
  });

  it("events without a marker (pause alerts) are throttled the same way", async () => {
    const world = await seedTenant();
    const event = { tenantId: world.tenantId, topic: alertTopic("paused", world.economic), sample: "paused" };
    expect((await recordAlertEvent(env, { ...event, at: T0 }, WINDOW)).outcome).toBe("opened");
    expect((await recordAlertEvent(env, { ...event, at: T0 + MINUTE }, WINDOW)).outcome).toBe("counted");
    expect(await flushAlertGroups(env, T0 + WINDOW, WINDOW)).toBeGreaterThanOrEqual(1);
    const [grouped] = await outbox(world.tenantId);
    expect(grouped!.subject).toBe(`[Orderly] "e-conomic" was paused 1 more time in the last 15 minutes`);
  });
});

describe("alert emails the mail provider refused", () => {
  it("are sent again by the cron, same key and words, for a few hours", async () => {
    const world = await seedTenant();
    const now = Date.now();
    const failed = (key: string, createdAt: number) => ({
      id: `mail_${crypto.randomUUID()}`,
      tenantId: world.tenantId,
      provider: "resend",
      idempotencyKey: key,
      fromAddress: "alerts@example.com",
      toAddresses: ["ops@example.com"],
      subject: '[Orderly] Transfer failed: order #1 to "Ledger"',
      text: "Reason: Rejected.",
      status: "failed" as const,
      error: "Resend answered 503",
      createdAt,
    });
    await database(env)
      .insert(mailOutbox)
      .values([failed("alert/recent", now - HOUR), failed("alert/old", now - 7 * HOUR), failed("invoice/1/0", now)]);
    // Locally, where the dev outbox stands in for the provider that works again.
    await resendFailedAlerts({ ...env, DEV_SEED_TOKEN: "local" } as Env, now);
    const rows = await outbox(world.tenantId);
    expect(rows.filter((r) => r.status === "sent").map((r) => [r.idempotencyKey, r.subject, r.text])).toEqual([
      ["alert/recent", '[Orderly] Transfer failed: order #1 to "Ledger"', "Reason: Rejected."],
    ]);
  });
});

describe("the cron sweeper for failures the consumer did not count", () => {
  it("counts a failure nobody alerted (a lost step), once", async () => {
    const world = await seedTenant();
    await failedTransfer(world, T0);
    expect(await sweepUnalertedFailures(env, T0 + MINUTE, WINDOW)).toBe(1);
    expect(await sweepUnalertedFailures(env, T0 + 2 * MINUTE, WINDOW)).toBe(0);
    const mails = await outbox(world.tenantId);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain("Reason: The ledger rejects it.");
  });

  it("does not count again what the consumer counted, but counts a transfer that failed again after a retry", async () => {
    const world = await seedTenant();
    const id = await failedTransfer(world, T0);
    await alertTransferFailure(env, { tenantId: world.tenantId, transferId: id, target: world.ledger }, "Rejected.", T0 + 5);
    expect(await sweepUnalertedFailures(env, T0 + MINUTE, WINDOW)).toBe(0);

    // Retried and failed again: the order's object moved updated_at past the marker.
    await database(env)
      .update(transfers)
      .set({ updatedAt: T0 + 2 * MINUTE })
      .where(eq(transfers.id, id));
    expect(await sweepUnalertedFailures(env, T0 + 3 * MINUTE, WINDOW)).toBe(1);
    expect((await state(world))!.pending).toBe(1);
  });
});

describe("booked invoices that could not be updated", () => {
  it("a completed step with differences is alerted once", async () => {
    const world = await seedTenant();
    await seedTransfer(world.tenantId, {
      source: world.shop,
      steps: [
        {
          target: world.ledger,
          status: "completed",
          output: { state: "booked", differences: ["total: 249.00 DKK → 299.00 DKK"] },
        },
      ],
      status: "completed",
      createdAt: T0 - MINUTE,
      orderNumber: "#1001",
    });
    await seedTransfer(world.tenantId, {
      source: world.shop,
      steps: [{ target: world.ledger, status: "completed", output: { state: "booked", differences: [] } }],
      status: "completed",
      createdAt: T0 - MINUTE,
    });
    expect(await sweepInvoiceDifferences(env, T0, WINDOW)).toBe(1);
    expect(await sweepInvoiceDifferences(env, T0 + MINUTE, WINDOW)).toBe(0);
    const mails = await outbox(world.tenantId);
    expect(mails.map((m) => m.subject)).toEqual([`[Orderly] Differs from the order: order #1001 on "Ledger"`]);
    expect(mails[0]!.text).toContain("- total: 249.00 DKK → 299.00 DKK");
  });
});

describe("alert wording and timing (pure)", () => {
  it("a group is due only when its window has ended and something was counted", () => {
    expect(isGroupDue({ pending: 3, lastSentAt: T0 }, T0 + WINDOW - 1, WINDOW)).toBe(false);
    expect(isGroupDue({ pending: 3, lastSentAt: T0 }, T0 + WINDOW, WINDOW)).toBe(true);
    expect(isGroupDue({ pending: 0, lastSentAt: T0 }, T0 + 2 * WINDOW, WINDOW)).toBe(false);
  });

  it("the grouped email names the count, the span and up to ten samples", () => {
    const samples = Array.from({ length: 10 }, (_, i) => alertSample(`#${i}`, "x".repeat(400)));
    const text = groupedAlertText({
      kind: "failures",
      connectionId: "con_1",
      connectionName: "Ledger",
      count: 499,
      samples,
      windowStart: T0,
      now: T0 + 17 * MINUTE,
    });
    expect(text.subject).toBe(`499 more transfers failed on "Ledger" in the last 17 minutes`);
    expect(text.text.split("\n").filter((l) => l.startsWith("- #"))).toHaveLength(10);
    expect(samples[0]!.length).toBeLessThan(310);
    const single = groupedAlertText({
      kind: "failures",
      connectionId: "c",
      connectionName: "L",
      count: 1,
      samples: ["#1: x"],
      windowStart: T0,
      now: T0 + WINDOW,
    });
    expect(single.subject).toBe(`1 more transfer failed on "L" in the last 15 minutes`);
    expect(single.text).toContain("They are:");
  });
});
