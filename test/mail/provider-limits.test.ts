/**
 * Each provider's own limits: Postmark refuses (413) an email over 10 MB counted after base64, so
 * one that fits Orderly's 10 MiB of raw attachments may still be too large for it; Resend takes
 * 40 MB. And Postmark's rate limit, documented as ErrorCode 429, is retryable.
 */
import { env } from "cloudflare:test";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { sendMail } from "../../src/mail/send-mail";
import { createPostmarkMock, installMailMocks } from "../mocks/postmark.mock";
import { createConnection, createTenant, outboxRow, rejection } from "./mail-helpers";

/** 8 MiB of PDF: under Orderly's 10 MiB raw limit, about 11.2 MB once base64-encoded. */
function bigPdf(): Uint8Array {
  const bytes = new Uint8Array(8 * 1024 * 1024);
  bytes.set(new TextEncoder().encode("%PDF-1.7\n"));
  return bytes;
}

const email = (content: Uint8Array) => ({
  to: ["ane@example.dk"],
  subject: "Invoice 1001",
  text: "Attached.",
  attachments: [{ filename: "invoice-1001.pdf", contentType: "application/pdf", content }],
});

describe("an email larger than the provider takes", () => {
  it("Postmark: refused before anything is sent or stored, naming the size and the limit", async () => {
    const postmark = createPostmarkMock({ serverToken: "pm-ok" });
    installMailMocks({ postmark });
    const tenantId = await createTenant();
    const connectionId = await createConnection(tenantId, "postmark", { from: "shop@lund.dk" }, { serverToken: "pm-ok" });

    const error = await rejection(
      sendMail(env, { tenantId, idempotencyKey: "big/1", email: email(bigPdf()), via: { connectionId } }),
    );

    expect(error).toMatchObject({ errorClass: "validation", code: "mail_too_large", retryable: false });
    expect(error.message).toBe(
      "The email is 11.2 MB once its attachments are base64-encoded, above Postmark's limit of 10.0 MB per email (attachments: invoice-1001.pdf 8.4 MB). Make the attachment smaller, or send through a mail connection whose provider takes more.",
    );
    expect(postmark.state.requests).toEqual([]);
    const row = await outboxRow(tenantId, "big/1");
    expect(row).toMatchObject({ status: "failed", provider: "postmark", error: error.message });
    expect(await env.BLOBS.get(`mail/${tenantId}/${row!.id}/invoice-1001.pdf`)).toBeNull();
  });

  it("Resend (40 MB after base64) sends the same email", async () => {
    const tenantId = await createTenant();
    const connectionId = await createConnection(tenantId, "resend", { from: "shop@lund.dk" }, { apiKey: "re_ok" });
    // A stub, not the Resend mock: its base64 check cannot take 11 MB.
    const sizes: number[] = [];
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      sizes.push((await new Request(input, init).text()).length);
      return Response.json({ id: "re_big" });
    });
    onTestFinished(() => spy.mockRestore());

    const sent = await sendMail(env, { tenantId, idempotencyKey: "big/2", email: email(bigPdf()), via: { connectionId } });

    expect(sent).toMatchObject({ provider: "resend", providerId: "re_big", deduplicated: false });
    expect(sizes).toHaveLength(1);
    expect(sizes[0]).toBeGreaterThan(11_000_000);
  });
});

describe("Postmark's rate limit as an ErrorCode", () => {
  it("a 422 answer with ErrorCode 429 is rate_limited and retryable, not a permanent refusal", async () => {
    const tenantId = await createTenant();
    const connectionId = await createConnection(tenantId, "postmark", { from: "shop@lund.dk" }, { serverToken: "pm-ok" });
    const spy = vi
      .spyOn(globalThis, "fetch")
      .mockImplementation(async () =>
        Response.json({ ErrorCode: 429, Message: "Rate limit exceeded: too many requests for this server." }, { status: 422 }),
      );
    onTestFinished(() => spy.mockRestore());

    const error = await rejection(
      sendMail(env, {
        tenantId,
        idempotencyKey: "rate/1",
        email: email(new TextEncoder().encode("%PDF-1.7\n")),
        via: { connectionId },
      }),
    );

    expect(error).toMatchObject({ errorClass: "rate_limited", code: "outbound_rate_limited", retryable: true });
    expect(error.message).toContain("ErrorCode 429");
    expect(await outboxRow(tenantId, "rate/1")).toMatchObject({ status: "failed" });
  });
});
