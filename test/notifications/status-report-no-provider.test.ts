/**
 * A status report of a tenant with no mail provider (deployed: the test env, without a system
 * sender) is kept once as a failed row with the reason, like one without an alert address: the
 * cron does not count and store it again every five minutes of the period. Once a provider is
 * chosen (or the operator configures a system sender) the next run sends it.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import { NO_MAIL_PROVIDER } from "../../src/notifications/notify-tenant";
import { reportPeriod } from "../../src/notifications/status-report";
import { sendDueStatusReports } from "../../src/notifications/status-report.send";
import { createConnection } from "../mail/mail-helpers";
import { createPostmarkMock, installMailMocks } from "../mocks/postmark.mock";
import { createResendMock } from "../mocks/resend.mock";
import { SYSTEM_MAIL_KEY, SYSTEM_MAIL_VARS } from "../ui/system-mail";
import { DAY, HOUR, MINUTE, outbox, type Seeded, seedTenant, seedTransfer, T0 } from "./notification-helpers";

/** An era of its own, so the other report tests' tenants are not due with these. */
const period = reportPeriod("weekly", T0 - 50 * DAY, 6);

async function received(world: Seeded) {
  await seedTransfer(world.tenantId, {
    source: world.shop,
    steps: [{ target: world.ledger, status: "completed" }],
    status: "completed",
    createdAt: period.start + HOUR,
  });
}

/** A weekly tenant without a mail connection whose report failed once for want of a provider, then got another transfer. */
async function failedOnce(): Promise<Seeded> {
  const world = await seedTenant({ reportSchedule: "weekly" });
  await received(world);
  await sendDueStatusReports(env, period.end + 5 * MINUTE, 6);
  expect(await outbox(world.tenantId)).toMatchObject([{ status: "failed", provider: "none", error: NO_MAIL_PROVIDER }]);
  await received(world);
  return world;
}

describe("a due status report with no mail provider, deployed", () => {
  it("is stored as failed once, not counted and stored again by every run of the cron", async () => {
    const world = await failedOnce();
    const [first] = await outbox(world.tenantId);
    expect(first!.text).toContain("Total: 1 received");

    await sendDueStatusReports(env, period.end + 10 * MINUTE, 6);
    await sendDueStatusReports(env, period.end + 15 * MINUTE, 6);

    // Not rebuilt: the row still counts what the first run counted.
    expect(await outbox(world.tenantId)).toEqual([first]);
  });

  it("is sent by the next run once the tenant chooses a mail connection", async () => {
    const world = await failedOnce();
    const postmark = createPostmarkMock({ serverToken: "pm-ok" });
    installMailMocks({ postmark });
    const connectionId = await createConnection(world.tenantId, "postmark", { from: "alerts@lund.dk" }, { serverToken: "pm-ok" });
    await database(env).update(tenants).set({ mailConnectionId: connectionId }).where(eq(tenants.id, world.tenantId));

    await sendDueStatusReports(env, period.end + 10 * MINUTE, 6);

    const [row] = await outbox(world.tenantId);
    expect(row).toMatchObject({ status: "sent", provider: "postmark", error: null });
    expect(row!.text).toContain("Total: 2 received");
    expect(postmark.state.emails).toHaveLength(1);
  });

  it("is sent by the next run once the operator configures a system sender", async () => {
    const world = await failedOnce();
    const resend = createResendMock({ apiKey: SYSTEM_MAIL_KEY });
    installMailMocks({ resend });

    await sendDueStatusReports({ ...env, ...SYSTEM_MAIL_VARS } as Env, period.end + 10 * MINUTE, 6);

    expect(await outbox(world.tenantId)).toMatchObject([{ status: "sent", provider: "resend", error: null }]);
  });
});
