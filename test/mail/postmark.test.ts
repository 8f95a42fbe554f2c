import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sendMail } from "../../src/mail/send-mail";
import { createPostmarkMock, installMailMocks, type PostmarkOptions } from "../mocks/postmark.mock";
import { createConnection, createTenant, outboxRow, pdfBytes, rejection, toBase64 } from "./mail-helpers";

async function setup(options: PostmarkOptions & { token?: string; stream?: string } = {}) {
  const { token, stream, ...mockOptions } = options;
  const mock = createPostmarkMock({ serverToken: "pm-ok", streams: ["outbound", "invoices"], ...mockOptions });
  installMailMocks({ postmark: mock });
  const tenantId = await createTenant();
  const connectionId = await createConnection(
    tenantId,
    "postmark",
    { from: "Lund Shop <invoices@lund.dk>", ...(stream ? { messageStream: stream } : {}) },
    { serverToken: token ?? "pm-ok" },
  );
  return { mock, tenantId, via: { connectionId } };
}

const invoiceEmail = () => ({
  to: ["Lund, Ane <ane@example.dk>", "books@example.dk"],
  replyTo: "support@lund.dk",
  subject: "Invoice 1001 from Lund Shop",
  text: "Thank you for your order.",
  html: "<p>Thank you for your order.</p>",
  attachments: [{ filename: "invoice-1001.pdf", contentType: "application/pdf", content: pdfBytes() }],
});

describe("sending through Postmark", () => {
  it("posts the documented PascalCase body with the PDF in base64 and the server token", async () => {
    const { mock, tenantId, via } = await setup({ stream: "invoices" });
    const result = await sendMail(env, { tenantId, idempotencyKey: "invoice/p1/0", email: invoiceEmail(), via });

    expect(mock.state.requests).toHaveLength(1);
    const request = mock.state.requests[0]!;
    expect(request).toMatchObject({ method: "POST", path: "/email" });
    expect(request.headers["x-postmark-server-token"]).toBe("pm-ok");
    expect(request.headers.accept).toBe("application/json");
    // Postmark has no idempotency key; nothing pretends otherwise.
    expect(request.headers["idempotency-key"]).toBeUndefined();
    expect(request.body).toEqual({
      From: "Lund Shop <invoices@lund.dk>",
      // A display name with a comma is quoted, or Postmark would split the recipient in two.
      To: '"Lund, Ane" <ane@example.dk>, books@example.dk',
      Subject: "Invoice 1001 from Lund Shop",
      ReplyTo: "support@lund.dk",
      TextBody: "Thank you for your order.",
      HtmlBody: "<p>Thank you for your order.</p>",
      MessageStream: "invoices",
      Attachments: [{ Name: "invoice-1001.pdf", Content: toBase64(pdfBytes()), ContentType: "application/pdf" }],
      // Orderly's key, so a retry after an unknown outcome can ask Postmark whether it went out.
      Metadata: { "orderly-key": "invoice/p1/0" },
    });
    expect(result).toMatchObject({ provider: "postmark", providerId: mock.state.emails[0]!.MessageID, deduplicated: false });
    expect(await outboxRow(tenantId, "invoice/p1/0")).toMatchObject({
      status: "sent",
      provider: "postmark",
      providerId: result.providerId,
    });
  });

  it("uses the outbound stream when the connection names none", async () => {
    const { mock, tenantId, via } = await setup();
    await sendMail(env, {
      tenantId,
      idempotencyKey: "k-stream",
      email: { to: ["ane@example.dk"], subject: "Hi", text: "Hello" },
      via,
    });
    expect(mock.state.requests[0]!.body).toMatchObject({ MessageStream: "outbound", To: "ane@example.dk" });
  });

  it("an unconfirmed sender gets Postmark's 422 message on a failed row and a validation error", async () => {
    const { mock, tenantId, via } = await setup({ senders: ["@other.dk"] });
    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/p2/0", email: invoiceEmail(), via }));
    expect(error).toMatchObject({ errorClass: "validation", retryable: false });
    expect(error.message).toContain(
      "Postmark answered 422: The 'From' address you supplied (invoices@lund.dk) is not a Sender Signature",
    );
    expect(error.message).toContain("(ErrorCode 400)");
    const row = await outboxRow(tenantId, "invoice/p2/0");
    expect(row).toMatchObject({ status: "failed", provider: "postmark", providerId: null });
    expect(row?.error).toContain("is not a Sender Signature on your account");
    expect(mock.state.emails).toHaveLength(0);
  });

  it("an inactive recipient is a permanent refusal", async () => {
    const { tenantId, via } = await setup({ inactive: ["books@example.dk"] });
    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "k-inactive", email: invoiceEmail(), via }));
    expect(error).toMatchObject({ errorClass: "validation", retryable: false });
    expect(error.message).toContain("ErrorCode 406");
  });

  it("a wrong server token is an auth error", async () => {
    const { tenantId, via } = await setup({ token: "pm-wrong" });
    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "k-auth", email: invoiceEmail(), via }));
    expect(error).toMatchObject({ errorClass: "auth", retryable: false });
    expect(error.message).toContain("Postmark answered 401");
    expect((await outboxRow(tenantId, "k-auth"))?.error).toContain("token you provided is not valid");
  });

  it("Postmark's 429 becomes rate_limited with its Retry-After", async () => {
    const { mock, tenantId, via } = await setup();
    mock.failNext({ status: 429, retryAfter: 30 });
    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "k-429", email: invoiceEmail(), via }));
    expect(error).toMatchObject({ errorClass: "rate_limited", retryAfterSeconds: 30, retryable: true });
    expect(await outboxRow(tenantId, "k-429")).toMatchObject({ status: "failed" });
  });

  it("a sent key is never sent to Postmark again, though Postmark itself has no idempotency key", async () => {
    const { mock, tenantId, via } = await setup();
    const first = await sendMail(env, { tenantId, idempotencyKey: "invoice/p3/0", email: invoiceEmail(), via });
    const again = await sendMail(env, { tenantId, idempotencyKey: "invoice/p3/0", email: invoiceEmail(), via });
    expect(again).toEqual({ ...first, deduplicated: true });
    expect(mock.state.requests).toHaveLength(1);
  });
});
