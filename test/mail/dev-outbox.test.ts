import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { DEV_OUTBOX_FROM } from "../../src/mail/dev-outbox.provider";
import { MAX_ATTACHMENT_BYTES } from "../../src/mail/mail.types";
import { sendMail } from "../../src/mail/send-mail";
import { createResendMock, installMailMocks } from "../mocks/resend.mock";
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

describe("a sensitive email (a one-time link)", () => {
  const email = {
    to: ["ane@lund.dk"],
    subject: "Choose a new password",
    text: "Here: https://orderly.test/reset-password/secret-token",
    html: '<a href="https://orderly.test/reset-password/secret-token">here</a>',
  };
  const sensitive = { summary: "A password reset link for ane@lund.dk; not shown here." };

  it("keeps only its summary in the outbox, deployed (no DEV_SEED_TOKEN)", async () => {
    const tenantId = await createTenant();
    await sendMail(env, { tenantId, idempotencyKey: "reset/1", email, sensitive });
    expect(await outboxRow(tenantId, "reset/1")).toMatchObject({ text: sensitive.summary, html: null, status: "sent" });
  });

  it("keeps its text in the dev outbox under local development, where the developer must follow the link", async () => {
    const tenantId = await createTenant();
    await sendMail({ ...env, DEV_SEED_TOKEN: "npm-start" }, { tenantId, idempotencyKey: "reset/2", email, sensitive });
    expect(await outboxRow(tenantId, "reset/2")).toMatchObject({ text: email.text, html: email.html });
  });

  it("goes to the mail provider whole, also under local development, while the outbox keeps the summary", async () => {
    const resend = createResendMock({ apiKey: "re_ok" });
    installMailMocks({ resend });
    const tenantId = await createTenant();
    const connectionId = await createConnection(tenantId, "resend", { from: "Shop <shop@lund.dk>" }, { apiKey: "re_ok" });
    const dev = { ...env, DEV_SEED_TOKEN: "npm-start" };
    await sendMail(dev, { tenantId, idempotencyKey: "reset/3", email, sensitive, via: { connectionId } });
    expect(resend.state.emails[0]?.body).toMatchObject({ text: email.text, html: email.html });
    expect(await outboxRow(tenantId, "reset/3")).toMatchObject({ text: sensitive.summary, html: null, status: "sent" });

    resend.failNext({ status: 500 });
    await rejection(sendMail(dev, { tenantId, idempotencyKey: "reset/4", email, sensitive, via: { connectionId } }));
    expect(await outboxRow(tenantId, "reset/4")).toMatchObject({ text: sensitive.summary, html: null, status: "failed" });
  });
});

describe("migration 0009", () => {
  it("keeps only a note of the password-reset and invitation emails sent before, and leaves other emails", async () => {
    const tenantId = await createTenant();
    const text = "Here: https://orderly.test/reset-password/old-token";
    for (const key of ["password-reset/old", "invite/old", "alert/kept"])
      await sendMail(env, {
        tenantId,
        idempotencyKey: key,
        email: { to: ["a@lund.dk"], subject: "S", text, html: `<p>${text}</p>` },
      });
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0009_"));
    for (const query of migration?.queries.filter((q) => q.includes("UPDATE `mail_outbox`")) ?? [])
      await env.DB.prepare(query).run();
    for (const key of ["password-reset/old", "invite/old"])
      expect(await outboxRow(tenantId, key)).toMatchObject({ text: expect.stringContaining("not shown here"), html: null });
    expect(await outboxRow(tenantId, "alert/kept")).toMatchObject({ text, html: `<p>${text}</p>` });
  });
});
