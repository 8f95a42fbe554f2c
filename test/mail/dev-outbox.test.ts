import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEV_OUTBOX_FROM } from "../../src/mail/dev-outbox.provider";
import { MAX_ATTACHMENT_BYTES } from "../../src/mail/mail.types";
import { sendMail } from "../../src/mail/send-mail";
import { installMailMocks } from "../mocks/resend.mock";
import { createConnection, createTenant, outboxRow, pdfBytes, rejection } from "./mail-helpers";

describe("the dev outbox", () => {
  it("keeps an email without a connection in the outbox and its attachment bytes in R2, calling no one", async () => {
    // No mocks: any outbound request would fail the test.
    installMailMocks({});
    const tenantId = await createTenant();
    const pdf = pdfBytes();
    const result = await sendMail(env, {
      tenantId,
      idempotencyKey: "alert/1",
      email: {
        to: ["ops@lund.dk"],
        subject: "Transfer failed",
        text: "Order #1001 could not be booked.",
        html: "<p>Order #1001 could not be booked.</p>",
        attachments: [{ filename: "report.pdf", contentType: "application/pdf", content: pdf }],
      },
    });
    expect(result).toMatchObject({ provider: "dev", deduplicated: false });
    expect(result.providerId).toMatch(/^dev-[0-9a-f-]{36}$/);

    const row = await outboxRow(tenantId, "alert/1");
    expect(row).toMatchObject({
      id: result.id,
      provider: "dev",
      providerId: result.providerId,
      fromAddress: DEV_OUTBOX_FROM,
      toAddresses: ["ops@lund.dk"],
      subject: "Transfer failed",
      text: "Order #1001 could not be booked.",
      html: "<p>Order #1001 could not be booked.</p>",
      status: "sent",
      error: null,
    });
    const blobKey = `mail/${tenantId}/${result.id}/report.pdf`;
    expect(row?.attachments).toEqual([{ filename: "report.pdf", contentType: "application/pdf", size: pdf.byteLength, blobKey }]);
    const blob = await env.BLOBS.get(blobKey);
    expect(blob?.httpMetadata?.contentType).toBe("application/pdf");
    expect(new Uint8Array(await blob!.arrayBuffer())).toEqual(pdf);
  });

  it("keeps the sender the caller names", async () => {
    const tenantId = await createTenant();
    await sendMail(env, {
      tenantId,
      idempotencyKey: "k-from",
      email: { from: "Shop <shop@lund.dk>", to: ["a@b.dk"], subject: "S", text: "T" },
    });
    expect((await outboxRow(tenantId, "k-from"))?.fromAddress).toBe("Shop <shop@lund.dk>");
  });

  it("the same key twice makes one outbox row and returns the first providerId", async () => {
    const tenantId = await createTenant();
    const email = { to: ["a@b.dk"], subject: "Once", text: "only once" };
    const first = await sendMail(env, { tenantId, idempotencyKey: "k-once", email });
    const second = await sendMail(env, { tenantId, idempotencyKey: "k-once", email });
    expect(second).toEqual({ ...first, deduplicated: true });
    // The key is per tenant: another tenant's identical key is a different email.
    const other = await createTenant();
    expect((await sendMail(env, { tenantId: other, idempotencyKey: "k-once", email })).deduplicated).toBe(false);
  });

  it("an invalid email is refused with every problem named and nothing stored", async () => {
    const tenantId = await createTenant();
    const error = await rejection(
      sendMail(env, {
        tenantId,
        idempotencyKey: "k-bad",
        email: { to: ["not-an-address"], subject: "Line one\nline two" } as never,
      }),
    );
    expect(error).toMatchObject({ errorClass: "validation", code: "mail_invalid" });
    expect(error.message).toContain("to.0 is not an email address");
    expect(error.message).toContain("subject must be one line");
    expect(error.message).toContain("give a text or an html body");
    expect(await outboxRow(tenantId, "k-bad")).toBeUndefined();
  });

  it("attachments over 10 MiB in total are refused before anything is stored", async () => {
    const tenantId = await createTenant();
    const half = new Uint8Array(MAX_ATTACHMENT_BYTES / 2 + 1);
    const error = await rejection(
      sendMail(env, {
        tenantId,
        idempotencyKey: "k-big",
        email: {
          to: ["a@b.dk"],
          subject: "Big",
          text: "x",
          attachments: [
            { filename: "a.bin", contentType: "application/octet-stream", content: half },
            { filename: "b.bin", contentType: "application/octet-stream", content: half },
          ],
        },
      }),
    );
    expect(error.message).toContain("above the 10 MiB limit");
    expect(await outboxRow(tenantId, "k-big")).toBeUndefined();
  });

  it("an idempotency key over 256 characters is refused", async () => {
    const tenantId = await createTenant();
    const error = await rejection(
      sendMail(env, { tenantId, idempotencyKey: "k".repeat(257), email: { to: ["a@b.dk"], subject: "S", text: "T" } }),
    );
    expect(error.message).toContain("1 to 256 characters");
  });

  it("refuses another tenant's connection, a connection that is not a mail connector, and a switched-off one", async () => {
    const tenantId = await createTenant();
    const other = await createTenant();
    const email = { to: ["a@b.dk"], subject: "S", text: "T" };
    const foreign = await createConnection(other, "resend", { from: "x@lund.dk" }, { apiKey: "re_x" });
    expect(
      await rejection(sendMail(env, { tenantId, idempotencyKey: "k1", email, via: { connectionId: foreign } })),
    ).toMatchObject({
      errorClass: "not_found",
    });
    const ledger = await createConnection(tenantId, "sandbox-ledger", {}, {});
    const wrong = await rejection(sendMail(env, { tenantId, idempotencyKey: "k2", email, via: { connectionId: ledger } }));
    expect(wrong).toMatchObject({ errorClass: "validation", code: "mail_connection_wrong_kind" });
    const off = await createConnection(tenantId, "postmark", { from: "x@lund.dk" }, { serverToken: "t" }, false);
    const disabled = await rejection(sendMail(env, { tenantId, idempotencyKey: "k3", email, via: { connectionId: off } }));
    expect(disabled).toMatchObject({ errorClass: "validation", code: "mail_connection_disabled" });
  });
});
