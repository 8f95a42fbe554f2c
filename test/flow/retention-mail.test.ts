/**
 * Retention and the email records that stop an email going out twice: an invoice e-mail's key is
 * its step's reference, which a re-run uses again long after the tenant's retention, so its record
 * is kept (without body or attachments); alerts, reports and failed emails go whole.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createInvoice, sendInvoiceEmail } from "../../src/connectors/economic";
import { database } from "../../src/db/client";
import { mailOutbox, tenants } from "../../src/db/schema";
import { sendMail } from "../../src/mail/send-mail";
import { applyRetention, MAIL_BODY_DELETED } from "../../src/worker/retention";
import { createWorld } from "../helpers/world";
import { createConnection } from "../mail/mail-helpers";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { calls, danishOrder, done, run } from "../mocks/economic.mock.fixtures";
import { createPostmarkMock, installMailMocks } from "../mocks/postmark.mock";
import { signedIn } from "../ui/ui-client";

const DAY = 86_400_000;

async function outboxRow(tenantId: string, key: string) {
  return database(env)
    .select()
    .from(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, tenantId), eq(mailOutbox.idempotencyKey, key)))
    .get();
}

/** A booked e-conomic invoice at the mock, as a step's history, and a fresh e-mail step reference. */
async function bookedInvoice() {
  const mock = createEconomicMock();
  installEconomicMock(mock);
  const invoice = await run(createInvoice, danishOrder(), { invoiceState: "booked" }, { reference: "orderly-invoice-0" });
  // Deployed (the test env), the step mails through a mail connection only.
  installMailMocks({ postmark: createPostmarkMock({ serverToken: "pm-ok" }) });
  await database(env).insert(tenants).values({ id: "tenant_1", name: "Lund" }).onConflictDoNothing();
  const mail = {
    mailConnection: await createConnection("tenant_1", "postmark", { from: "shop@lund.dk" }, { serverToken: "pm-ok" }),
  };
  return { mock, mail, history: [done("createInvoice", invoice.result)], reference: `orderly-tr_${crypto.randomUUID()}-1` };
}

describe("retention of emails", () => {
  it("a re-run after the retention does not e-mail the booked invoice again: the sent record stays, without body or PDF", async () => {
    // The fixtures' connection belongs to tenant_1; retention needs its tenant row.
    await database(env).insert(tenants).values({ id: "tenant_1", name: "Lund", retentionDays: 7 }).onConflictDoNothing();
    const { mock, mail, history, reference } = await bookedInvoice();
    const first = await run(sendInvoiceEmail, danishOrder(), mail, { history, reference });
    expect(first.result.outputs).toMatchObject({ deduplicated: false });
    const sent = await outboxRow("tenant_1", reference);
    const blobKey = sent!.attachments![0]!.blobKey;
    expect(await env.BLOBS.head(blobKey)).not.toBeNull();

    // Day 9: the customer's address is fixed, the order runs again from the start, same reference.
    const deleted = await applyRetention(env, Date.now() + 9 * DAY);
    expect(deleted.mail_outbox_bodies).toBeGreaterThanOrEqual(1);
    const kept = await outboxRow("tenant_1", reference);
    expect(kept).toMatchObject({
      id: sent!.id,
      status: "sent",
      provider: sent!.provider,
      providerId: sent!.providerId,
      createdAt: sent!.createdAt,
      text: MAIL_BODY_DELETED,
      html: null,
      attachments: null,
    });
    expect(await env.BLOBS.head(blobKey)).toBeNull();

    const pdfsBefore = calls(mock).filter((c) => c.endsWith("/pdf")).length;
    const again = await run(sendInvoiceEmail, danishOrder(), mail, { history, reference });
    expect(again.result).toMatchObject({ created: false, outputs: { deduplicated: true, mailId: sent!.id } });
    // The PDF is fetched before the outbox is asked; what matters is that nothing was sent or stored.
    expect(calls(mock).filter((c) => c.endsWith("/pdf")).length).toBe(pdfsBefore + 1);
    // Nor is the customer's address kept past the retention.
    expect(await outboxRow("tenant_1", reference)).toMatchObject({ text: MAIL_BODY_DELETED, attachments: null, toAddresses: [] });
  });

  it("deletes expired alerts, reports, invitations and failed emails whole, as before", async () => {
    const tenantId = `ten_${crypto.randomUUID().slice(0, 8)}`;
    await database(env).insert(tenants).values({ id: tenantId, name: "Whole", retentionDays: 7 });
    const email = { to: ["ops@lund.dk"], subject: "S", text: "T" };
    for (const key of ["alert/a", "report/r", "invite/i", "password-reset/p"])
      await sendMail(env, { tenantId, idempotencyKey: key, email });
    // A failed invoice e-mail never went out: a re-run may send it.
    await database(env)
      .insert(mailOutbox)
      .values({
        id: `mail_${crypto.randomUUID()}`,
        tenantId,
        provider: "postmark",
        idempotencyKey: "orderly-tr_failed-2",
        fromAddress: "",
        toAddresses: ["ane@lund.dk"],
        subject: "Invoice",
        text: "Attached.",
        status: "failed",
        error: "Postmark answered 500",
        createdAt: Date.now(),
      });
    await applyRetention(env, Date.now() + 8 * DAY);
    expect(await database(env).select().from(mailOutbox).where(eq(mailOutbox.tenantId, tenantId))).toEqual([]);
  });

  it("reads each expired email once: a later one behind more than a batch of kept records is still reached", async () => {
    const tenantId = `ten_${crypto.randomUUID().slice(0, 8)}`;
    await database(env).insert(tenants).values({ id: tenantId, name: "Many", retentionDays: 7 });
    const old = Date.now() - 30 * DAY;
    // 600 sent invoice e-mails (more than a batch of 500), one statement.
    await env.DB.prepare(
      `INSERT INTO mail_outbox (id, tenant_id, provider, idempotency_key, from_address, to_addresses, subject, text, status, created_at)
       SELECT 'mail_' || ?1 || '_' || value, ?1, 'dev', 'orderly-tr_' || value || '-0', '', '["a@lund.dk"]', 'Invoice', 'Body', 'sent', ?2 + value
         FROM json_each(?3)`,
    )
      .bind(tenantId, old, JSON.stringify(Array.from({ length: 600 }, (_, i) => i)))
      .run();
    await applyRetention(env);
    await applyRetention(env);
    // Sent later, expired since: runs that read the 600 kept records from the oldest would never get to it.
    const late = { tenantId, idempotencyKey: "orderly-tr_late-0", email: { to: ["a@lund.dk"], subject: "Late", text: "Body" } };
    await sendMail(env, late);
    for (let i = 0; i < 3; i++) await applyRetention(env, Date.now() + 8 * DAY);
    const rows = await database(env).select().from(mailOutbox).where(eq(mailOutbox.tenantId, tenantId));
    expect(rows).toHaveLength(601);
    expect(rows.filter((r) => r.text !== MAIL_BODY_DELETED)).toEqual([]);
  });

  it("the outbox pages and the API show a kept record whose body is gone", async () => {
    const world = await createWorld();
    await database(env).update(tenants).set({ retentionDays: 7 }).where(eq(tenants.id, world.tenantId));
    const pdf = new TextEncoder().encode("%PDF-1.7 invoice");
    const sent = await sendMail(env, {
      tenantId: world.tenantId,
      idempotencyKey: "orderly-tr_shown-2",
      email: {
        to: ["ane@lund.dk"],
        subject: "Invoice 7 for order #1001",
        text: "Attached.",
        html: "<p>Attached.</p>",
        attachments: [{ filename: "invoice-7.pdf", contentType: "application/pdf", content: pdf }],
      },
    });
    await applyRetention(env, Date.now() + 8 * DAY);

    const list = await world.api("/mail/outbox");
    expect(list.status).toBe(200);
    expect(list.body.emails).toEqual([
      expect.objectContaining({ id: sent.id, status: "sent", subject: "Invoice 7 for order #1001", attachments: [] }),
    ]);
    const one = await world.api(`/mail/outbox/${sent.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ text: MAIL_BODY_DELETED, html: null, attachments: [] });

    const { browser } = await signedIn(world.tenantId, "owner");
    expect((await browser.get("/outbox")).status).toBe(200);
    expect(browser.lastHtml).toContain("Invoice 7 for order #1001");
    expect((await browser.get(`/outbox/${sent.id}`)).status).toBe(200);
    expect(browser.lastHtml).toContain("Deleted after the log retention");
  });
});

describe("an invoice e-mail sent before the outbox kept records", () => {
  it("is not sent again by a re-run that has the step's own earlier success, though the outbox row is gone", async () => {
    const { mock, mail, history, reference } = await bookedInvoice();
    const first = await run(sendInvoiceEmail, danishOrder(), mail, { history, reference });
    // The previous release's retention deleted the row whole.
    await database(env).delete(mailOutbox).where(eq(mailOutbox.idempotencyKey, reference));
    const pdfsBefore = calls(mock).filter((c) => c.endsWith("/pdf")).length;
    const again = await run(sendInvoiceEmail, danishOrder(), mail, { history, reference, prior: first.result });
    expect(again.result).toMatchObject({ created: false, outputs: { deduplicated: true, mailId: first.result.outputs.mailId } });
    expect(await outboxRow("tenant_1", reference)).toBeUndefined();
    // Nothing fetched, nothing sent.
    expect(calls(mock).filter((c) => c.endsWith("/pdf")).length).toBe(pdfsBefore);
  });

  it("is sent when the booked invoice is another one than the step's earlier success e-mailed", async () => {
    const { mail, history, reference } = await bookedInvoice();
    const prior = { externalId: "x", created: true, outputs: { bookedInvoiceNumber: -1, mailId: "mail_old" } };
    const sent = await run(sendInvoiceEmail, danishOrder(), mail, { history, reference, prior });
    expect(sent.result.outputs).toMatchObject({ deduplicated: false });
    expect(await outboxRow("tenant_1", reference)).toBeDefined();
  });
});
