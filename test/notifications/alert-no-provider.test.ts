/**
 * A tenant with alert addresses but no mail connection chosen ("Dev outbox"). Deployed, the dev
 * outbox would deliver nothing while the row read `sent`: its alerts go through the operator's
 * system sender, or, without one, are kept as failed with the reason (so the cron re-sends them
 * once a provider is chosen), and every page says so. Locally the dev outbox stays. The test env
 * is a deployed one (DEV_SEED_TOKEN is empty in wrangler.toml).
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox, tenants } from "../../src/db/schema";
import { raiseTransferFailure } from "../../src/notifications/failure-alerts";
import { notifyTenant, RESEND_AFTER_MS, resendFailedAlerts } from "../../src/notifications/notify-tenant";
import { createWorld } from "../helpers/world";
import { createConnection } from "../mail/mail-helpers";
import { createPostmarkMock, installMailMocks } from "../mocks/postmark.mock";
import { createResendMock } from "../mocks/resend.mock";
import { SYSTEM_MAIL_KEY, SYSTEM_MAIL_VARS, workerWith } from "../ui/system-mail";
import { signedIn } from "../ui/ui-client";
import { DAY, HOUR, MINUTE, outbox, seedTenant, seedTransfer } from "./notification-helpers";

/** The reason on the row, spelt out so this test also runs against code without NO_MAIL_PROVIDER. */
const NO_MAIL_PROVIDER = expect.stringMatching(/^not sent: no mail provider is chosen for alerts.*under Notifications/);
const CANNOT_LEAVE = "No mail provider is chosen for alerts";
const FAILED_RECENTLY = "An alert email of the last 3 days could not be sent";
const alert = { key: "paused/1", subject: "Ledger is paused", text: "Paused." };
const withVars = (vars: Record<string, string>) => ({ ...env, ...vars }) as Env;

describe("an alert of a tenant without a mail connection, deployed", () => {
  it("without a system sender is kept as failed with the reason, and re-sent once a provider is chosen", async () => {
    const world = await seedTenant();
    expect(await notifyTenant(env, world.tenantId, alert)).toBe(false);
    const [row] = await outbox(world.tenantId);
    expect(row).toMatchObject({
      status: "failed",
      provider: "none",
      error: NO_MAIL_PROVIDER,
      toAddresses: [`ops@${world.tenantId.replace("_", "-")}.example`],
      subject: "[Orderly] Ledger is paused",
      text: "Paused.",
    });

    // Still none: the cron's re-send keeps it failed and counts nothing as sent.
    expect(await resendFailedAlerts(env, Date.now() + RESEND_AFTER_MS)).toBe(0);
    expect(await outbox(world.tenantId)).toMatchObject([{ id: row!.id, status: "failed", error: NO_MAIL_PROVIDER }]);

    const postmark = createPostmarkMock({ serverToken: "pm-ok" });
    installMailMocks({ postmark });
    const connectionId = await createConnection(world.tenantId, "postmark", { from: "alerts@lund.dk" }, { serverToken: "pm-ok" });
    await database(env).update(tenants).set({ mailConnectionId: connectionId }).where(eq(tenants.id, world.tenantId));
    expect(await resendFailedAlerts(env, Date.now() + RESEND_AFTER_MS)).toBeGreaterThanOrEqual(1);
    expect(await outbox(world.tenantId)).toMatchObject([{ id: row!.id, status: "sent", provider: "postmark", error: null }]);
    expect(postmark.state.emails).toHaveLength(1);
  });

  it("raised as the first of its window is stored the same way, without failing its caller", async () => {
    const world = await seedTenant();
    const at = Date.now() - HOUR;
    const transferId = await seedTransfer(world.tenantId, {
      source: world.shop,
      steps: [{ target: world.ledger, status: "failed" }],
      status: "failed",
      createdAt: at - 1000,
      updatedAt: at,
    });
    const failure = { tenantId: world.tenantId, transferId, target: world.ledger, orderNumber: "#1", reason: "Rejected." };
    expect((await raiseTransferFailure(env, failure, at, 15 * MINUTE)).outcome).toBe("opened");
    expect(await outbox(world.tenantId)).toMatchObject([{ status: "failed", error: NO_MAIL_PROVIDER }]);
  });

  it("goes through the operator's system sender when one is configured", async () => {
    const world = await seedTenant();
    const resend = createResendMock({ apiKey: SYSTEM_MAIL_KEY });
    installMailMocks({ resend });
    expect(await notifyTenant(withVars(SYSTEM_MAIL_VARS), world.tenantId, alert)).toBe(true);
    expect(await outbox(world.tenantId)).toMatchObject([
      { status: "sent", provider: "resend", fromAddress: SYSTEM_MAIL_VARS.SYSTEM_MAIL_FROM },
    ]);
    expect(resend.state.emails).toHaveLength(1);
    expect(resend.state.emails[0]?.body.subject).toBe("[Orderly] Ledger is paused");
  });

  it("stays in the dev outbox in local development, system sender or not", async () => {
    const world = await seedTenant();
    const resend = createResendMock({ apiKey: SYSTEM_MAIL_KEY });
    installMailMocks({ resend });
    expect(await notifyTenant(withVars({ ...SYSTEM_MAIL_VARS, DEV_SEED_TOKEN: "local" }), world.tenantId, alert)).toBe(true);
    expect(await outbox(world.tenantId)).toMatchObject([{ status: "sent", provider: "dev" }]);
    expect(resend.state.emails).toHaveLength(0);
  });
});

describe("the banners about alerts that cannot reach anyone", () => {
  it("says so on every page while, deployed, no provider and no system sender would send them", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId, "viewer");
    for (const path of ["/", "/transfers"]) {
      await browser.get(path);
      expect(browser.lastHtml, path).toContain(CANNOT_LEAVE);
      expect(browser.lastHtml).toContain('<a href="/notifications">Choose a mail provider</a>');
    }
    const connectionId = await createConnection(world.tenantId, "postmark", { from: "alerts@lund.dk" }, { serverToken: "pm-ok" });
    await database(env).update(tenants).set({ mailConnectionId: connectionId }).where(eq(tenants.id, world.tenantId));
    await browser.get("/");
    expect(browser.lastHtml).not.toContain(CANNOT_LEAVE);
  });

  it("is not shown with a system sender, nor in local development", async () => {
    const world = await createWorld();
    for (const vars of [SYSTEM_MAIL_VARS, { DEV_SEED_TOKEN: "local" }]) {
      const { browser } = await signedIn(world.tenantId, "viewer", workerWith(vars));
      await browser.get("/");
      expect(browser.lastHtml, JSON.stringify(vars)).not.toContain(CANNOT_LEAVE);
    }
  });

  it("warns of an alert email of the last 3 days that is still not sent, and of no older one or other email", async () => {
    const world = await createWorld();
    const connectionId = await createConnection(world.tenantId, "postmark", { from: "alerts@lund.dk" }, { serverToken: "pm-ok" });
    await database(env).update(tenants).set({ mailConnectionId: connectionId }).where(eq(tenants.id, world.tenantId));
    const now = Date.now();
    const row = (key: string, createdAt: number, status: "sent" | "failed" = "failed") => ({
      id: `mail_${crypto.randomUUID()}`,
      tenantId: world.tenantId,
      idempotencyKey: key,
      provider: "postmark",
      fromAddress: "alerts@lund.dk",
      toAddresses: ["ops@lund.dk"],
      subject: "[Orderly] Transfer failed",
      status,
      error: status === "failed" ? "The server token was rejected." : null,
      createdAt,
    });
    await database(env)
      .insert(mailOutbox)
      .values([row("alert/old", now - 4 * DAY), row("invoice/tr_1/0", now - HOUR), row("alert/delivered", now - HOUR, "sent")]);
    const { browser } = await signedIn(world.tenantId, "viewer");
    await browser.get("/");
    expect(browser.lastHtml).not.toContain(FAILED_RECENTLY);

    await database(env)
      .insert(mailOutbox)
      .values(row("alert/token-expired", now - HOUR));
    for (const path of ["/", "/connections"]) {
      await browser.get(path);
      expect(browser.lastHtml, path).toContain(FAILED_RECENTLY);
      expect(browser.lastHtml).toContain('<a href="/outbox">See why</a>');
    }
  });
});
