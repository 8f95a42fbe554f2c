/** Retention deletes the R2 files that belong to what it deletes: email attachments, and dead letters without a tenant. */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { deadLetters, mailOutbox, tenants } from "../../src/db/schema";
import { sendMail } from "../../src/mail/send-mail";
import { applyRetention, MAIL_BODY_DELETED } from "../../src/worker/retention";

const DAY = 86_400_000;

describe("retention of emails and dead letters", () => {
  it("deletes an expired email's attachments from R2, and its body (the record of a sent email stays)", async () => {
    const tenantId = `ten_${crypto.randomUUID().slice(0, 8)}`;
    await database(env).insert(tenants).values({ id: tenantId, name: "Files", retentionDays: 7 });
    const pdf = new TextEncoder().encode("%PDF-1.7 invoice");
    const sent = await sendMail(env, {
      tenantId,
      idempotencyKey: "invoice/1/0",
      email: {
        to: ["ane@lund.dk"],
        subject: "Invoice 1",
        text: "Attached.",
        attachments: [{ filename: "invoice-1.pdf", contentType: "application/pdf", content: pdf }],
      },
    });
    const row = await database(env).select().from(mailOutbox).where(eq(mailOutbox.id, sent.id)).get();
    const blobKey = row!.attachments![0]!.blobKey;
    expect(await env.BLOBS.head(blobKey)).not.toBeNull();

    await applyRetention(env, Date.now() + 8 * DAY);
    // test/flow/retention-mail.test.ts: why the record stays, and which emails go whole.
    expect(await database(env).select().from(mailOutbox).where(eq(mailOutbox.id, sent.id))).toEqual([
      expect.objectContaining({ status: "sent", text: MAIL_BODY_DELETED, html: null, attachments: null }),
    ]);
    expect(await env.BLOBS.head(blobKey)).toBeNull();
  });

  it("deletes dead letters without a tenant after 90 days, and keeps younger ones", async () => {
    const now = Date.now();
    const reason = `no tenant ${crypto.randomUUID()}`;
    await database(env)
      .insert(deadLetters)
      .values([
        { transferId: null, tenantId: null, body: { broken: true }, reason, createdAt: now - 91 * DAY },
        { transferId: null, tenantId: null, body: { broken: true }, reason, createdAt: now - 89 * DAY },
      ]);
    await applyRetention(env, now);
    const left = await database(env).select().from(deadLetters).where(eq(deadLetters.reason, reason));
    expect(left.map((d) => d.createdAt)).toEqual([now - 89 * DAY]);
  });

  it("deletes a kept delivery's raw body from R2 with its dead letter", async () => {
    const tenantId = `ten_${crypto.randomUUID().slice(0, 8)}`;
    await database(env).insert(tenants).values({ id: tenantId, name: "Kept", retentionDays: 7 });
    const blobKey = `raw/${tenantId}/con_x/refused-${Date.now()}-${crypto.randomUUID()}`;
    await env.BLOBS.put(blobKey, "{}");
    await database(env)
      .insert(deadLetters)
      .values({
        transferId: null,
        tenantId,
        body: { kind: "refused_delivery", raw: { body: null, blobKey, size: 2 } },
        reason: "connection disabled",
        createdAt: Date.now(),
      });
    await applyRetention(env, Date.now() + 8 * DAY);
    expect(await database(env).select().from(deadLetters).where(eq(deadLetters.tenantId, tenantId))).toHaveLength(0);
    expect(await env.BLOBS.head(blobKey)).toBeNull();
  });
});
