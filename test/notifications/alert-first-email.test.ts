/**
 * The first email of a window, once its event is counted (window opened, marker claimed), is never
 * lost without a trace; subjects quoting a name are one line; the re-send pass leaves an email in
 * flight alone; a booked invoice's differences are alerted whatever became of the transfer.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { database } from "../../src/db/client";
import { connections, tenants, transfers } from "../../src/db/schema";
import { alertMailKey } from "../../src/notifications/alert-throttle";
import { sweepInvoiceDifferences } from "../../src/notifications/difference-alerts";
import { raiseTransferFailure, sweepUnalertedFailures } from "../../src/notifications/failure-alerts";
import { flushAlertGroups, notifyTenant, RESEND_AFTER_MS, resendFailedAlerts } from "../../src/notifications/notify-tenant";
import { createConnection } from "../mail/mail-helpers";
import { createPostmarkMock, installMailMocks } from "../mocks/postmark.mock";
import { withFailingD1 } from "./failing-d1";
import { MINUTE, outbox, type Seeded, seedTenant, seedTransfer, T0 } from "./notification-helpers";

const WINDOW = 15 * MINUTE;
/** Local development: the dev outbox stands in for a mail provider that works (deployed, it refuses). */
const local = { ...env, DEV_SEED_TOKEN: "local" } as Env;

async function failedTransfer(world: Seeded, at: number): Promise<string> {
  return seedTransfer(world.tenantId, {
    source: world.shop,
    steps: [{ target: world.ledger, status: "failed" }],
    status: "failed",
    createdAt: at - 1000,
    updatedAt: at,
    orderNumber: "#1001",
  });
}

function fail(on: Env, world: Seeded, transferId: string, at: number) {
  const failure = { tenantId: world.tenantId, transferId, target: world.ledger, orderNumber: "#1001", reason: "Rejected." };
  return raiseTransferFailure(on, failure, at, WINDOW);
}

async function alertedAt(transferId: string) {
  const row = await database(env)
    .select({ alertedAt: transfers.alertedAt })
    .from(transfers)
    .where(eq(transfers.id, transferId))
    .get();
  return row?.alertedAt;
}

const firstKey = (world: Seeded, at: number) => `alert/${alertMailKey(world.tenantId, `failures:${world.ledger}`, at, false)}`;

describe("the first email of a window, when something throws after the event was counted", () => {
  it("the connection's name cannot be read: a failed row with a shorter text (what happened, links), sent by the cron", async () => {
    const world = await seedTenant();
    const id = await failedTransfer(world, T0);
    await expect(fail(withFailingD1(/from "connections"/, local), world, id, T0)).rejects.toThrow(/D1_ERROR/);
    expect(await alertedAt(id)).not.toBeNull();

    const [row] = await outbox(world.tenantId);
    expect(row).toMatchObject({ idempotencyKey: firstKey(world, T0), status: "failed" });
    expect(row!.subject).toBe(`[Orderly] A transfer failed on connection ${world.ledger}`);
    expect(row!.text).toContain("What happened: #1001: Rejected.");
    expect(row!.text).toContain(`/transfers/${id}`);
    expect(row!.text).toContain(`/transfers?status=failed&target=${world.ledger}`);
    expect(row!.error).toMatch(/^not sent: D1_ERROR/);

    await resendFailedAlerts(local, Date.now() + RESEND_AFTER_MS);
    expect(await outbox(world.tenantId)).toMatchObject([{ id: row!.id, status: "sent", subject: row!.subject }]);
  });

  it("the outbox cannot be read before the send: a failed row with the usual words, sent by the cron", async () => {
    const world = await seedTenant();
    const id = await failedTransfer(world, T0);
    await expect(fail(withFailingD1(/^select .* from "mail_outbox"/i, local), world, id, T0)).rejects.toThrow(/D1_ERROR/);
    const [row] = await outbox(world.tenantId);
    expect(row).toMatchObject({ idempotencyKey: firstKey(world, T0), status: "failed" });
    expect(row!.subject).toBe('[Orderly] Transfer failed: order #1001 to "Ledger"');
    expect(row!.text).toContain("Reason: Rejected.");

    await resendFailedAlerts(local, Date.now() + RESEND_AFTER_MS);
    expect(await outbox(world.tenantId)).toMatchObject([{ id: row!.id, status: "sent" }]);
  });

  it("a failed row sendMail wrote keeps its own error", async () => {
    const world = await seedTenant();
    await database(env).update(tenants).set({ mailConnectionId: "con_deleted" }).where(eq(tenants.id, world.tenantId));
    await expect(fail(env, world, await failedTransfer(world, T0), T0)).rejects.toThrow(/con_deleted was not found/);
    const [row] = await outbox(world.tenantId);
    expect(row!.error).toContain("Mail connection con_deleted was not found");
    expect(row!.subject).toContain("Transfer failed: order #1001");
  });

  it("nothing can be stored either: the marker is given back, and the sweeper counts the failure again", async () => {
    const world = await seedTenant();
    const id = await failedTransfer(world, T0);
    await expect(fail(withFailingD1(/"mail_outbox"/, local), world, id, T0)).rejects.toThrow(/D1_ERROR/);
    expect(await outbox(world.tenantId)).toEqual([]);
    expect(await alertedAt(id)).toBeNull();

    // Counted into the window the lost email opened, and told in its grouped email.
    expect(await sweepUnalertedFailures(local, T0 + MINUTE, WINDOW)).toBeGreaterThanOrEqual(1);
    expect(await alertedAt(id)).not.toBeNull();
    await flushAlertGroups(local, T0 + WINDOW, WINDOW);
    const mails = await outbox(world.tenantId);
    expect(mails.map((m) => [m.status, m.subject])).toEqual([
      ["sent", '[Orderly] 1 more transfer failed on "Ledger" in the last 15 minutes'],
    ]);
    // The sweeper reads the reason the transfer row keeps.
    expect(mails[0]!.text).toContain("- #1001: The ledger rejects it.");
  });
});

describe("a subject quoting a name with a newline or of any length", () => {
  async function named(world: Seeded, name: string) {
    await database(env)
      .update(connections)
      .set({ name })
      .where(and(eq(connections.id, world.ledger), eq(connections.tenantId, world.tenantId)));
  }

  it("is made one line, so the alert is sent rather than refused for good", async () => {
    const world = await seedTenant();
    await named(world, "Ledger\r\n\tEU  books");
    await fail(local, world, await failedTransfer(world, T0), T0);
    const [mail] = await outbox(world.tenantId);
    expect(mail).toMatchObject({ status: "sent", subject: '[Orderly] Transfer failed: order #1001 to "Ledger EU books"' });
    // The body keeps the name as typed.
    expect(mail!.text).toContain('"Ledger\r\n\tEU  books"');
  });

  it("is cut to 998 characters", async () => {
    const world = await seedTenant();
    await named(world, "L".repeat(2000));
    await fail(local, world, await failedTransfer(world, T0), T0);
    const [mail] = await outbox(world.tenantId);
    expect(mail!.status).toBe("sent");
    expect(mail!.subject).toHaveLength(998);
    expect(mail!.subject.startsWith('[Orderly] Transfer failed: order #1001 to "LLL')).toBe(true);
  });

  it("every tenant email passes the same way (a pause alert here, a status report alike)", async () => {
    const world = await seedTenant();
    await notifyTenant(local, world.tenantId, { key: "paused/1", subject: "Ledger\nEU is paused", text: "Paused." });
    expect(await outbox(world.tenantId)).toMatchObject([{ status: "sent", subject: "[Orderly] Ledger EU is paused" }]);
  });
});

describe("the re-send pass and an email still in flight", () => {
  it("leaves a row the provider has not answered yet alone, so Postmark does not deliver it twice", async () => {
    const world = await seedTenant();
    const mock = createPostmarkMock({ serverToken: "pm-ok" });
    installMailMocks({ postmark: mock });
    const connectionId = await createConnection(world.tenantId, "postmark", { from: "alerts@lund.dk" }, { serverToken: "pm-ok" });
    await database(env).update(tenants).set({ mailConnectionId: connectionId }).where(eq(tenants.id, world.tenantId));

    // Hold the first provider call open: the queue consumer's send, in flight.
    const fetchSpy = vi.mocked(globalThis.fetch);
    const provider = fetchSpy.getMockImplementation()!;
    let arrived!: () => void;
    let release!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    fetchSpy.mockImplementation(async (input, init) => {
      if (++calls === 1) {
        arrived();
        await held;
      }
      return provider(input, init);
    });

    const sending = notifyTenant(env, world.tenantId, {
      key: "failures/in-flight",
      subject: "Transfer failed",
      text: "Rejected.",
    });
    await inFlight;
    expect(await outbox(world.tenantId)).toMatchObject([{ status: "failed", error: expect.stringMatching(/^Not sent yet/) }]);
    await resendFailedAlerts(env, Date.now());
    release();
    await sending;
    expect(mock.state.emails).toHaveLength(1);
    expect(await outbox(world.tenantId)).toMatchObject([{ status: "sent", provider: "postmark" }]);
  });
});

describe("booked invoices that could not be updated, in a transfer that did not complete", () => {
  it("a completed step's differences are alerted when a later step failed, once", async () => {
    const world = await seedTenant();
    await seedTransfer(world.tenantId, {
      source: world.shop,
      steps: [
        {
          target: world.ledger,
          status: "completed",
          output: { state: "booked", differences: ["total: 249.00 DKK → 299.00 DKK"] },
        },
        { target: world.economic, status: "failed" },
      ],
      status: "failed",
      createdAt: T0 - MINUTE,
      orderNumber: "#1001",
    });
    expect(await sweepInvoiceDifferences(env, T0, WINDOW)).toBe(1);
    expect(await sweepInvoiceDifferences(env, T0 + MINUTE, WINDOW)).toBe(0);
    const mails = await outbox(world.tenantId);
    expect(mails.map((m) => m.subject)).toEqual([`[Orderly] Differs from the order: order #1001 on "Ledger"`]);
  });

  it("alerted while the transfer still runs, and not again when it completes", async () => {
    const world = await seedTenant();
    const id = await seedTransfer(world.tenantId, {
      source: world.shop,
      steps: [
        { target: world.ledger, status: "completed", output: { state: "booked", differences: ["total changed"] } },
        { target: world.economic, status: "running" },
      ],
      status: "running",
      createdAt: T0 - MINUTE,
    });
    expect(await sweepInvoiceDifferences(env, T0, WINDOW)).toBe(1);
    await database(env)
      .update(transfers)
      .set({ status: "completed", updatedAt: T0 + 2 * MINUTE })
      .where(eq(transfers.id, id));
    expect(await sweepInvoiceDifferences(env, T0 + 3 * MINUTE, WINDOW)).toBe(0);
    expect(await outbox(world.tenantId)).toHaveLength(1);
  });
});
