import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { filterNotTaken } from "../../src/domain/flow-filter";
import { silentSources } from "../../src/notifications/silence";
import { buildStatusReport, isReportDue, reportPeriod } from "../../src/notifications/status-report";
import { loadStatusReport, sendDueStatusReports } from "../../src/notifications/status-report.send";
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
