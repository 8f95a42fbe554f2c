import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { sendMail } from "../../src/mail/send-mail";
import { createResendMock, installMailMocks } from "../mocks/resend.mock";
import { createConnection, createTenant, outboxRow, pdfBytes, rejection, toBase64 } from "./mail-helpers";

async function setup(options: { apiKey?: string; domains?: string[] } = {}) {
  const mock = createResendMock({ apiKey: "re_live_ok", ...(options.domains ? { domains: options.domains } : {}) });
  installMailMocks({ resend: mock });
  const tenantId = await createTenant();
  const connectionId = await createConnection(
    tenantId,
    "resend",
    { baseUrl: "https://api.resend.com", from: "Lund Shop <invoices@lund.dk>" },
    { apiKey: options.apiKey ?? "re_live_ok" },
  );
  return { mock, tenantId, via: { connectionId } };
}

const invoiceEmail = () => ({
  to: ["Ane Lund <ane@example.dk>", "books@example.dk"],
  replyTo: "support@lund.dk",
  subject: "Invoice 1001 from Lund Shop",
  text: "Thank you for your order.",
  html: "<p>Thank you for your order.</p>",
  attachments: [{ filename: "invoice-1001.pdf", contentType: "application/pdf", content: pdfBytes() }],
});

describe("sending through Resend", () => {
  it("posts the documented body with the PDF in base64, the bearer key and the idempotency key", async () => {
    const { mock, tenantId, via } = await setup();
    const result = await sendMail(env, { tenantId, idempotencyKey: "invoice/t1/0", email: invoiceEmail(), via });

    expect(mock.state.requests).toHaveLength(1);
    const request = mock.state.requests[0]!;
    expect(request).toMatchObject({ method: "POST", path: "/emails" });
    expect(request.headers.authorization).toBe("Bearer re_live_ok");
    expect(request.headers["idempotency-key"]).toBe("invoice/t1/0");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.body).toEqual({
      from: "Lund Shop <invoices@lund.dk>",
      to: ["Ane Lund <ane@example.dk>", "books@example.dk"],
      subject: "Invoice 1001 from Lund Shop",
      reply_to: "support@lund.dk",
      text: "Thank you for your order.",
      html: "<p>Thank you for your order.</p>",
      attachments: [{ filename: "invoice-1001.pdf", content: toBase64(pdfBytes()), content_type: "application/pdf" }],
    });
    expect(result).toEqual({
      id: expect.stringMatching(/^mail_/),
      providerId: mock.state.emails[0]!.id,
      provider: "resend",
      deduplicated: false,
    });

    const row = await outboxRow(tenantId, "invoice/t1/0");
    expect(row).toMatchObject({
      id: result.id,
      provider: "resend",
      providerId: result.providerId,
      status: "sent",
      error: null,
      fromAddress: "Lund Shop <invoices@lund.dk>",
      toAddresses: ["Ane Lund <ane@example.dk>", "books@example.dk"],
    });
    const blob = await env.BLOBS.get(`mail/${tenantId}/${result.id}/invoice-1001.pdf`);
    expect(new Uint8Array(await blob!.arrayBuffer())).toEqual(pdfBytes());
  });

  it("a second sendMail with the same key sends nothing and returns the first result as deduplicated", async () => {
    const { mock, tenantId, via } = await setup();
    const first = await sendMail(env, { tenantId, idempotencyKey: "invoice/t2/0", email: invoiceEmail(), via });
    const second = await sendMail(env, { tenantId, idempotencyKey: "invoice/t2/0", email: invoiceEmail(), via });
    expect(second).toEqual({ ...first, deduplicated: true });
    expect(mock.state.requests).toHaveLength(1);
  });

  it("Resend's 422 leaves a failed row with Resend's message and throws a permanent validation error", async () => {
    const { mock, tenantId, via } = await setup();
    mock.failNext({
      status: 422,
      message: "Invalid `to` field. The email address needs to follow the `email@example.com` format.",
    });
    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/t3/0", email: invoiceEmail(), via }));
    expect(error).toMatchObject({ errorClass: "validation", retryable: false });
    expect(error.message).toContain("Resend answered 422: Invalid `to` field.");
    const row = await outboxRow(tenantId, "invoice/t3/0");
    expect(row).toMatchObject({ status: "failed", provider: "resend", providerId: null });
    expect(row?.error).toContain("Invalid `to` field.");
  });

  it("a sender domain Resend has not verified is an error a person must fix on the connection", async () => {
    const { tenantId, via } = await setup({ domains: ["other.dk"] });
    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "k-domain", email: invoiceEmail(), via }));
    expect(error).toMatchObject({ errorClass: "auth", retryable: false });
    expect(error.message).toContain("The lund.dk domain is not verified");
  });

  it("Resend's 429 becomes rate_limited with its Retry-After, and the same key sends once the limit passes", async () => {
    const { mock, tenantId, via } = await setup();
    mock.failNext({ status: 429, retryAfter: 7 });
    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/t4/0", email: invoiceEmail(), via }));
    expect(error).toMatchObject({ errorClass: "rate_limited", retryAfterSeconds: 7, retryable: true });
    const failed = await outboxRow(tenantId, "invoice/t4/0");
    expect(failed).toMatchObject({ status: "failed" });
    expect(failed?.error).toContain("rate limited");

    const retried = await sendMail(env, { tenantId, idempotencyKey: "invoice/t4/0", email: invoiceEmail(), via });
    expect(retried).toMatchObject({ id: failed!.id, provider: "resend", deduplicated: false });
    expect(await outboxRow(tenantId, "invoice/t4/0")).toMatchObject({
      status: "sent",
      error: null,
      providerId: retried.providerId,
    });
    expect(mock.state.requests.map((r) => r.headers["idempotency-key"])).toEqual(["invoice/t4/0", "invoice/t4/0"]);
    expect(mock.state.emails).toHaveLength(1);
  });

  it("a rejected API key is an auth error and the row says why", async () => {
    const { tenantId, via } = await setup({ apiKey: "re_revoked" });
    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "k-auth", email: invoiceEmail(), via }));
    expect(error).toMatchObject({ errorClass: "auth", retryable: false });
    expect(error.message).toContain("Check the connection's credentials");
    expect((await outboxRow(tenantId, "k-auth"))?.error).toContain("API key is invalid");
  });

  it("a 5xx from Resend is retryable", async () => {
    const { mock, tenantId, via } = await setup();
    mock.failNext({ status: 503 });
    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "k-5xx", email: invoiceEmail(), via }));
    expect(error).toMatchObject({ errorClass: "unavailable", retryable: true });
  });

  it("the API key never reaches the outbox row", async () => {
    const { tenantId, via } = await setup();
    await sendMail(env, { tenantId, idempotencyKey: "k-secret", email: invoiceEmail(), via });
    expect(JSON.stringify(await outboxRow(tenantId, "k-secret"))).not.toContain("re_live_ok");
  });
});
