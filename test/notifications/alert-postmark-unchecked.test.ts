/**
 * An alert or status report sent through Postmark whose first attempt's outcome is unknown, and
 * whose retries cannot search Postmark's sent messages, is sent anyway well before the cron stops
 * retrying it (6 hours): held back for the 24 hours an invoice e-mail waits, it would be lost.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox, tenants } from "../../src/db/schema";
import {
  NOTIFY_CRON_INTERVAL_MS,
  TENANT_MAIL_RETRIED_FOR_MS,
  UNCHECKED_SEND_AFTER_MS,
  uncheckedSendAfterMs,
} from "../../src/mail/send-mail";
import { notifyTenant, RESEND_FAILED_FOR_MS, resendFailedAlerts } from "../../src/notifications/notify-tenant";
import { REPORT_CATCH_UP_MS, reportMailKey, reportPeriod } from "../../src/notifications/status-report";
import { NOTIFY_CRON } from "../../src/worker/cron";
import { createConnection } from "../mail/mail-helpers";
import { withSearch } from "../mail/postmark-search";
import { createPostmarkMock, installMailMocks } from "../mocks/postmark.mock";
import { HOUR, MINUTE, outbox, seedTenant } from "./notification-helpers";

describe("how long a Postmark retry whose search fails holds the tenant's mail back", () => {
  it("alerts and status reports: well inside the cron's retry windows; invoice e-mails: 24 hours", () => {
    const report = reportMailKey("ten_x", reportPeriod("daily", Date.now(), 6));
    expect(uncheckedSendAfterMs("alert/failures:con_x:1")).toBeLessThanOrEqual(RESEND_FAILED_FOR_MS - 4 * HOUR);
    expect(uncheckedSendAfterMs(report)).toBeLessThanOrEqual(REPORT_CATCH_UP_MS - 4 * HOUR);
    expect(uncheckedSendAfterMs("invoice/tr_1/2")).toBe(UNCHECKED_SEND_AFTER_MS);
  });

  it("the send-anyway deadline reads the windows it must end inside: the cron's and the report pass's", () => {
    expect(RESEND_FAILED_FOR_MS).toBe(TENANT_MAIL_RETRIED_FOR_MS);
    expect(REPORT_CATCH_UP_MS).toBe(TENANT_MAIL_RETRIED_FOR_MS);
    expect(NOTIFY_CRON).toBe(`*/${NOTIFY_CRON_INTERVAL_MS / MINUTE} * * * *`);
  });

  it("a failed alert whose search keeps failing is sent by the cron an hour after its attempt", async () => {
    const mock = createPostmarkMock({ serverToken: "pm-ok" });
    installMailMocks({ postmark: mock });
    const { control, posts } = withSearch(mock, "pm-ok");
    const world = await seedTenant();
    const connectionId = await createConnection(world.tenantId, "postmark", { from: "alerts@lund.dk" }, { serverToken: "pm-ok" });
    await database(env).update(tenants).set({ mailConnectionId: connectionId }).where(eq(tenants.id, world.tenantId));
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    onTestFinished(() => {
      warn.mockRestore();
      error.mockRestore();
    });

    // Postmark takes the alert, but its answer is lost: the row keeps an unknown outcome.
    control.loseNextAnswer = true;
    await expect(
      notifyTenant(env, world.tenantId, { key: "k1", subject: "Transfer failed", text: "Rejected." }),
    ).rejects.toThrow();
    control.failSearches = 1_000;
    const [row] = await outbox(world.tenantId);
    const now = Date.now();

    // Half an hour on, the search still failing: nothing is sent.
    await database(env)
      .update(mailOutbox)
      .set({ createdAt: now - 30 * MINUTE, attemptedAt: now - 30 * MINUTE })
      .where(eq(mailOutbox.id, row!.id));
    expect(await resendFailedAlerts(env, now)).toBe(0);
    expect(posts()).toHaveLength(1);

    // An hour on (the cron retries for six): sent, a duplicate possible, rather than lost.
    await database(env)
      .update(mailOutbox)
      .set({ createdAt: now - 61 * MINUTE, attemptedAt: now - 61 * MINUTE })
      .where(eq(mailOutbox.id, row!.id));
    expect(await resendFailedAlerts(env, now)).toBe(1);
    expect(posts()).toHaveLength(2);
    expect((await outbox(world.tenantId))[0]).toMatchObject({ status: "sent", error: null });
  });

  it("an alert failing for hours, whose attempt near the end of its six hours timed out, still gets a last try", async () => {
    const mock = createPostmarkMock({ serverToken: "pm-ok" });
    installMailMocks({ postmark: mock });
    const { control, posts } = withSearch(mock, "pm-ok");
    const world = await seedTenant();
    const connectionId = await createConnection(world.tenantId, "postmark", { from: "alerts@lund.dk" }, { serverToken: "pm-ok" });
    await database(env).update(tenants).set({ mailConnectionId: connectionId }).where(eq(tenants.id, world.tenantId));
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const error = vi.spyOn(console, "error").mockImplementation(() => {});
    onTestFinished(() => {
      warn.mockRestore();
      error.mockRestore();
    });

    // Postmark refused it outright (nothing accepted) ...
    mock.failNext({ status: 503 });
    await expect(
      notifyTenant(env, world.tenantId, { key: "k2", subject: "Transfer failed", text: "Rejected." }),
    ).rejects.toThrow();
    const [row] = await outbox(world.tenantId);
    const now = Date.now();
    // ... the row was stored 5 h 55 min ago, and its last attempt, minutes ago, had its answer lost.
    await database(env)
      .update(mailOutbox)
      .set({ createdAt: now - 5 * HOUR - 55 * MINUTE, attemptedAt: now - 3 * MINUTE })
      .where(eq(mailOutbox.id, row!.id));
    control.failSearches = 1_000;

    // The search still fails: the cron's last runs in the window send it rather than lose it.
    expect(await resendFailedAlerts(env, now)).toBe(1);
    expect(posts()).toHaveLength(2);
    expect((await outbox(world.tenantId))[0]).toMatchObject({ status: "sent", error: null });
  });
});
