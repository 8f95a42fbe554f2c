import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { connections, reconcileState } from "../../src/db/schema";
import { filterNotTaken } from "../../src/domain/flow-filter";
import { silentSources } from "../../src/notifications/silence";
import { buildStatusReport, isReportDue, reportPeriod } from "../../src/notifications/status-report";
import { loadStatusReport, sendDueStatusReports } from "../../src/notifications/status-report.send";
import { missedOnDays } from "../../src/worker/reconcile";
import { DAY, HOUR, MINUTE, outbox, seedTenant, seedTransfer, T0 } from "./notification-helpers";

describe("the report's period (pure)", () => {
  const wednesday = Date.UTC(2026, 0, 7, 10, 0);

  it("a day ends at the report hour; before that hour the day before is the one reported", () => {
    expect(reportPeriod("daily", wednesday, 6)).toEqual({
      schedule: "daily",
      start: Date.UTC(2026, 0, 6, 6),
      end: Date.UTC(2026, 0, 7, 6),
    });
    expect(reportPeriod("daily", Date.UTC(2026, 0, 7, 5, 59), 6).end).toBe(Date.UTC(2026, 0, 6, 6));
  });

  it("a week ends on Monday at the report hour", () => {
    expect(reportPeriod("weekly", wednesday, 6)).toEqual({
      schedule: "weekly",
      start: Date.UTC(2025, 11, 29, 6),
      end: Date.UTC(2026, 0, 5, 6),
    });
    expect(reportPeriod("weekly", Date.UTC(2026, 0, 5, 5), 6).end).toBe(Date.UTC(2025, 11, 29, 6));
    expect(reportPeriod("weekly", Date.UTC(2026, 0, 5, 6), 6).end).toBe(Date.UTC(2026, 0, 5, 6));
  });

  it("is due from the period's end for a few hours, so a late cron still sends it but a new setting does not send old news", () => {
    const period = reportPeriod("daily", wednesday, 6);
    expect(isReportDue(period, period.end)).toBe(true);
    expect(isReportDue(period, period.end + 5 * HOUR)).toBe(true);
    expect(isReportDue(period, period.end + 7 * HOUR)).toBe(false);
  });
});

describe("the sweep's days in a period (pure)", () => {
  it("counts the UTC days the period starts on up to the day it ends on, of the 8 the sweep keeps", () => {
    const days = { "2026-01-03": 1, "2026-01-04": 2, "2026-01-05": 4, "2026-01-06": 8 };
    const daily = reportPeriod("daily", Date.UTC(2026, 0, 6, 6, 10), 6);
    expect(missedOnDays(days, daily.start, daily.end, daily.end)).toEqual({ missed: 4, from: "2026-01-05", to: "2026-01-05" });
    // The sweep keeps a week and a day: a weekly report, sent on the day after its week, counts all of it.
    const weekly = reportPeriod("weekly", Date.UTC(2026, 0, 5, 6, 10), 6);
    expect(missedOnDays(days, weekly.start, weekly.end, weekly.end)).toEqual({ missed: 3, from: "2025-12-29", to: "2026-01-04" });
  });
});

describe("silent sources (pure)", () => {
  const now = T0;
  const source = (lastTransferAt: number, lastAlertAt: number | null = null) => ({
    connectionId: "c",
    name: "Shop",
    lastTransferAt,
    lastAlertAt,
  });

  it("a source that sent this week and then nothing for the silence hours is silent, once per silence", () => {
    expect(silentSources([source(now - 5 * HOUR)], now, 6)).toHaveLength(0);
    expect(silentSources([source(now - 7 * HOUR)], now, 6)).toHaveLength(1);
    expect(silentSources([source(now - 7 * HOUR, now - HOUR)], now, 6)).toHaveLength(0);
    // It sent again after the alert and went quiet again: armed again.
    expect(silentSources([source(now - 7 * HOUR, now - 8 * HOUR)], now, 6)).toHaveLength(1);
    // Quiet for longer than a week before the silence began: not a source that normally sends.
    expect(silentSources([source(now - 6 * HOUR - 8 * DAY)], now, 6)).toHaveLength(0);
  });
});

describe("the status report's contents", () => {
  it("counts received, transferred, failed and still pending per source and per target, and what may be missing", async () => {
    // Another era than the alert tests' clock, so their sweepers never meet these transfers.
    const end = Math.floor((T0 - 10 * DAY) / DAY) * DAY + 6 * HOUR;
    const now = end + 10 * MINUTE;
    const world = await seedTenant({ name: "Ane's shop", silenceHours: 24, reportSchedule: "daily" });
    const period = reportPeriod("daily", now, 6);
    expect(period.end).toBe(end);
    const inside = period.start + HOUR;
    const before = period.start - DAY;
    const { shop, shop2, ledger, economic } = world;
    const add = seedTransfer.bind(null, world.tenantId);
    await add({
      source: shop,
      steps: [{ target: ledger, status: "completed" }],
      status: "completed",
      createdAt: inside,
      updatedAt: inside + MINUTE,
    });
    await add({
      source: shop,
      steps: [{ target: ledger, status: "failed" }],
      status: "failed",
      createdAt: inside,
      updatedAt: inside + MINUTE,
    });
    await add({
      source: shop,
      steps: [{ target: economic, status: "running" }],
      status: "running",
      createdAt: period.end - 2 * HOUR,
    });
    await add({
      source: shop,
      steps: [{ target: economic, status: "completed" }],
      status: "completed",
      createdAt: before,
      updatedAt: inside,
    });
    await add({
      source: shop,
      steps: [{ target: economic, status: "failed" }],
      status: "failed",
      createdAt: before,
      updatedAt: before,
    });
    await add({
      source: shop,
      steps: [
        { target: ledger, status: "completed" },
        { target: economic, status: "completed" },
      ],
      status: "completed",
      createdAt: period.end - HOUR,
    });
    // The second shop sent once, just after the period began, and nothing since.
    await add({
      source: shop2,
      steps: [{ target: ledger, status: "completed" }],
      status: "completed",
      createdAt: period.start + MINUTE,
    });
    // Left out by its flow's filter on retry (not taken): completed, nothing sent, so received only.
    await add({
      source: shop2,
      steps: [{ target: ledger, status: "pending" }],
      status: "completed",
      errorReason: filterNotTaken().message,
      createdAt: period.start + MINUTE,
    });
    // Before the period entirely: counts nowhere.
    await add({ source: shop2, steps: [{ target: ledger, status: "completed" }], status: "completed", createdAt: before });

    const facts = await loadStatusReport(env, { id: world.tenantId, name: "Ane's shop", silenceHours: 24 }, period, now);
    const { text, html, subject } = buildStatusReport(facts);
    expect(subject).toBe(
      `Daily status: 6 received, 4 transferred, 1 failed (${new Date(period.start).toISOString().slice(0, 10)})`,
    );
    const lines = text.split("\n");
    const section = (title: string) => lines.slice(lines.indexOf(title) + 1, lines.indexOf("", lines.indexOf(title)));
    expect(lines[2]).toBe("Total: 6 received, 4 transferred, 1 failed, 1 still pending");
    expect(section("By source")).toEqual([
      "- Second shop: received 2, transferred 1, failed 0, still pending 0",
      "- Shop: received 4, transferred 3, failed 1, still pending 1",
    ]);
    expect(section("By target")).toEqual([
      "- e-conomic: received 2, transferred 2, failed 0, still pending 1",
      "- Ledger: received 5, transferred 3, failed 1, still pending 0",
    ]);
    const missing = section("Possibly missing");
    expect(missing[0]).toBe("- Shop: 2 failed transfers not retried");
    expect(missing[1]).toMatch(/^- Second shop: nothing received since \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(html).toContain("Ane&#39;s shop");
    expect(html).toContain("<h3>By target</h3>");
    // No source a sweep can read: no sweep section at all.
    expect(text).not.toContain("Missed by webhooks");
  });

  it("names what the reconciliation sweep found that no webhook brought, per source, or why it cannot say", async () => {
    const end = Math.floor((T0 - 12 * DAY) / DAY) * DAY + 6 * HOUR;
    const now = end + 10 * MINUTE;
    const period = reportPeriod("daily", now, 6);
    const day = (at: number) => new Date(at).toISOString().slice(0, 10);
    const reported = day(period.start);
    const world = await seedTenant({ name: "Sweep shop", reportSchedule: "daily" });
    const db = database(env);
    const source = async (name: string, connector: string, reconcile: boolean, enabled = true) => {
      const id = `con_${name.replaceAll(" ", "")}_${world.tenantId}`;
      await db.insert(connections).values({
        id,
        tenantId: world.tenantId,
        connector,
        name,
        settings: reconcile ? { reconcile: true } : {},
        credentials: "x",
        enabled,
      });
      return id;
    };
    const state = (connectionId: string, values: Partial<typeof reconcileState.$inferInsert>) =>
      db.insert(reconcileState).values({ connectionId, tenantId: world.tenantId, ...values });
    // Found 3 on the reported UTC day; the day before was the last report's, today is the next one's.
    await state(await source("A shop", "shopify", true), {
      missedDays: { [day(period.start - DAY)]: 5, [reported]: 3, [day(period.end)]: 2 },
      missedTotal: 10,
      onSince: period.start - 3 * DAY,
      checkpoint: period.end - 20 * MINUTE,
    });
    // Behind: it found nothing, but has not read the period's last hours, so it vouches only so far.
    await state(await source("B shop", "woocommerce", true), {
      missedDays: {},
      onSince: period.start - DAY,
      checkpoint: period.end - 3 * HOUR,
    });
    await source("C shop", "woocommerce", false);
    await state(await source("D shop", "shopify", true), {
      missedDays: { [reported]: 1 },
      lastError: "Shopify refused the app's client credentials: enter them again on the connection.",
      lastErrorCode: "reconcile_auth",
      failRuns: 3,
    });
    await source("E shop", "shopify", true);
    await source("F shop", "shopify", true, false);

    const { text, html } = buildStatusReport(
      await loadStatusReport(env, { id: world.tenantId, name: "Sweep shop", silenceHours: 24 }, period, now),
    );
    const lines = text.split("\n");
    const at = lines.indexOf("Missed by webhooks");
    expect(at, text).toBeGreaterThan(lines.indexOf("Possibly missing"));
    expect(lines.slice(at + 1, lines.indexOf("", at))).toEqual([
      `- A shop: the reconciliation sweep found 3 orders (or stages, refunds) no webhook brought, and took them (UTC day ${reported})`,
      `- B shop: the reconciliation sweep found nothing missing (UTC day ${reported}); but it has read the shop's orders only up to ${new Date(period.end - 3 * HOUR).toISOString().slice(0, 16).replace("T", " ")} UTC, so orders after that are not vouched for`,
      "- C shop: the reconciliation sweep is off, so an order whose webhook is lost is not found: switch it on in the connection's settings",
      `- D shop: the reconciliation sweep is failing (3 runs in a row): Shopify refused the app's client credentials: enter them again on the connection. Before that it found 1 order (or stages, refunds) no webhook brought, and took them (UTC day ${reported})`,
      "- E shop: the reconciliation sweep is on but has not run yet",
      expect.stringMatching(/^With the reconciliation sweep on, /),
    ]);
    expect(text).not.toContain("F shop");
    expect(html).toContain("<h3>Missed by webhooks</h3>");
    expect(html).toContain("<li>B shop: the reconciliation sweep found nothing missing");
  });

  it("is sent by the cron once per period, at the report hour", async () => {
    const now = T0 - 20 * DAY;
    const world = await seedTenant({ reportSchedule: "weekly" });
    const period = reportPeriod("weekly", now, 6);
    await seedTransfer(world.tenantId, {
      source: world.shop,
      steps: [{ target: world.ledger, status: "completed" }],
      status: "completed",
      createdAt: period.start + HOUR,
    });
    await sendDueStatusReports(env, period.end - MINUTE, 6);
    await sendDueStatusReports(env, period.end + 5 * MINUTE, 6);
    await sendDueStatusReports(env, period.end + 10 * MINUTE, 6);
    const mails = await outbox(world.tenantId);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.idempotencyKey).toBe(`report/${world.tenantId}/weekly/${new Date(period.end).toISOString()}`);
    expect(mails[0]!.text).toContain("- Shop: received 1, transferred 1, failed 0, still pending 0");
    expect(mails[0]!.html).toContain("<h2>Weekly status report");
  });
});
