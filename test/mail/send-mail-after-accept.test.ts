/**
 * What sendMail does once the provider may already have the email: Resend's 409 for a key used
 * with other content means the first one went out (recorded as sent, not failed for good) when an
 * earlier attempt to the same recipients may have reached Resend; otherwise (the customer's address
 * corrected since, or no such attempt) it fails as a conflict. A D1 error on the "sent" write is
 * retried in place, and never turns into a second send.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import { sendMail } from "../../src/mail/send-mail";
import { createPostmarkMock, installMailMocks } from "../mocks/postmark.mock";
import { createResendMock } from "../mocks/resend.mock";
import { createConnection, createTenant, outboxRow, pdfBytes, rejection } from "./mail-helpers";

const invoiceEmail = (pdf = pdfBytes()) => ({
  to: ["ane@example.dk"],
  subject: "Invoice 1001 from Lund Shop",
  text: "Thank you for your order.",
  attachments: [{ filename: "invoice-1001.pdf", contentType: "application/pdf", content: pdf }],
});

async function resendSetup() {
  const mock = createResendMock({ apiKey: "re_live_ok" });
  installMailMocks({ resend: mock });
  // The next request Resend accepts loses its answer: the client sees a timeout.
  let loseAnswer = false;
  const inner = mock.handle;
  mock.handle = async (request: Request) => {
    const response = await inner(request);
    if (!loseAnswer || !response.ok) return response;
    loseAnswer = false;
    throw Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" });
  };
  const loseNextAnswer = () => {
    loseAnswer = true;
  };
  const tenantId = await createTenant();
  const connectionId = await createConnection(tenantId, "resend", { from: "invoices@lund.dk" }, { apiKey: "re_live_ok" });
  return { mock, tenantId, via: { connectionId }, loseNextAnswer };
}

/** The invoice's PDF as a retry renders it again, one byte different. */
function changedPdf(): Uint8Array {
  const changed = pdfBytes();
  changed[changed.length - 8] = 0x20;
  return changed;
}

async function postmarkSetup() {
  const mock = createPostmarkMock({ serverToken: "pm-ok" });
  installMailMocks({ postmark: mock });
  const tenantId = await createTenant();
  const connectionId = await createConnection(tenantId, "postmark", { from: "invoices@lund.dk" }, { serverToken: "pm-ok" });
  return { mock, tenantId, via: { connectionId } };
}

/** The env with a D1 whose writes to mail_outbox after the first fail `failures` times. */
function outboxWritesFailing(failures: number): { env: Env; failed: () => number } {
  let writes = 0;
  let failed = 0;
  const db = new Proxy(env.DB, {
    get(target, prop) {
      if (prop === "prepare")
        return (sql: string) => {
          if (/^insert into "mail_outbox"/i.test(sql) && writes++ > 0 && failed < failures) {
            failed++;
            throw new Error("D1_ERROR: Network connection lost.");
          }
          return target.prepare(sql);
        };
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { env: { ...env, DB: db } as Env, failed: () => failed };
}

describe("Resend's 409 for a key already used with other content", () => {
  it("counts as sent under the key: the row says so with a note, the result is deduplicated, and nothing is sent twice", async () => {
    const { mock, tenantId, via, loseNextAnswer } = await resendSetup();
    loseNextAnswer();
    const lost = await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/t1/0", email: invoiceEmail(), via }));
    expect(lost).toMatchObject({ errorClass: "timeout" });
    expect(await outboxRow(tenantId, "invoice/t1/0")).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/may have accepted it/),
    });

    // The retry's PDF differs by a byte; the recipient is the same, written another way.
    const retry = { ...invoiceEmail(changedPdf()), to: ["Ane Lund <ANE@example.dk>"] };
    const result = await sendMail(env, { tenantId, idempotencyKey: "invoice/t1/0", email: retry, via });

    expect(result).toMatchObject({ provider: "resend", providerId: "", deduplicated: true });
    expect(result.note).toContain("Resend already accepted an email with this idempotency key");
    expect(await outboxRow(tenantId, "invoice/t1/0")).toMatchObject({ id: result.id, status: "sent", error: result.note });
    expect(mock.state.requests).toHaveLength(2);
    expect(mock.state.emails).toHaveLength(1);
  });

  it("fails as a conflict when the retry goes to a corrected address: that address never got the email", async () => {
    const { mock, tenantId, via, loseNextAnswer } = await resendSetup();
    loseNextAnswer();
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/t6/0", email: invoiceEmail(), via }));
    const corrected = { ...invoiceEmail(), to: ["ane.lund@example.dk"] };

    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/t6/0", email: corrected, via }));

    expect(error).toMatchObject({ errorClass: "conflict", code: "mail_idempotency_mismatch", retryable: false });
    expect(error.message).toContain("Resend already accepted an email with this idempotency key");
    expect(error.message).toMatch(/an earlier attempt was to ane@example\.dk/);
    expect(error.message).toMatch(/not counted as sent/);
    expect(await outboxRow(tenantId, "invoice/t6/0")).toMatchObject({
      status: "failed",
      toAddresses: ["ane.lund@example.dk"],
      error: error.message,
    });
    expect(mock.state.emails).toHaveLength(1);

    // Nor does a later retry count it as sent: the row no longer says Resend may hold this one.
    const again = await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/t6/0", email: corrected, via }));
    expect(again).toMatchObject({ code: "mail_idempotency_mismatch" });
    expect(await outboxRow(tenantId, "invoice/t6/0")).toMatchObject({ status: "failed" });
  });

  it("fails as a conflict when the earlier attempt's failure was not one that may have reached Resend", async () => {
    const { tenantId, via } = await resendSetup();
    await sendMail(env, { tenantId, idempotencyKey: "invoice/t7/0", email: invoiceEmail(), via });
    // A row that says the attempt failed for a known reason (written by hand: no send leaves it so).
    await database(env)
      .update(mailOutbox)
      .set({ status: "failed", providerId: null, error: "Resend answered 422: the from domain is not verified" })
      .where(and(eq(mailOutbox.tenantId, tenantId), eq(mailOutbox.idempotencyKey, "invoice/t7/0")));

    const error = await rejection(
      sendMail(env, { tenantId, idempotencyKey: "invoice/t7/0", email: invoiceEmail(changedPdf()), via }),
    );

    expect(error).toMatchObject({ errorClass: "conflict", code: "mail_idempotency_mismatch" });
    expect(error.message).toMatch(/no earlier attempt on record that may have sent it/);
  });

  it("an attempt refused in between keeps the earlier unknown outcome: the next 409 still counts as sent", async () => {
    const { mock, tenantId, via, loseNextAnswer } = await resendSetup();
    loseNextAnswer();
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/t8/0", email: invoiceEmail(), via }));
    mock.failNext({ status: 422 });
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/t8/0", email: invoiceEmail(changedPdf()), via }));

    const result = await sendMail(env, { tenantId, idempotencyKey: "invoice/t8/0", email: invoiceEmail(changedPdf()), via });

    expect(result).toMatchObject({ deduplicated: true });
    expect(await outboxRow(tenantId, "invoice/t8/0")).toMatchObject({ status: "sent" });
    expect(mock.state.emails).toHaveLength(1);
  });

  it("concurrent_idempotent_requests (the first send still running) stays a retryable failure", async () => {
    const tenantId = await createTenant();
    const connectionId = await createConnection(tenantId, "resend", { from: "invoices@lund.dk" }, { apiKey: "re_live_ok" });
    const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async () =>
      Response.json(
        {
          statusCode: 409,
          name: "concurrent_idempotent_requests",
          message: "Same idempotency key used while the original request is in progress.",
        },
        { status: 409 },
      ),
    );
    onTestFinished(() => spy.mockRestore());

    const error = await rejection(
      sendMail(env, { tenantId, idempotencyKey: "invoice/t2/0", email: invoiceEmail(), via: { connectionId } }),
    );

    expect(error).toMatchObject({ errorClass: "unavailable", code: "mail_in_progress", retryable: true });
    expect(await outboxRow(tenantId, "invoice/t2/0")).toMatchObject({ status: "failed" });
  });
});

describe("the outbox's sent write failing after the provider accepted", () => {
  it("is retried in place: the row ends up sent and Postmark got the email once", async () => {
    const { mock, tenantId, via } = await postmarkSetup();
    const flaky = outboxWritesFailing(2);

    const result = await sendMail(flaky.env, { tenantId, idempotencyKey: "invoice/t3/0", email: invoiceEmail(), via });

    expect(flaky.failed()).toBe(2);
    expect(result).toMatchObject({ provider: "postmark", deduplicated: false });
    expect(await outboxRow(tenantId, "invoice/t3/0")).toMatchObject({ status: "sent", providerId: result.providerId });
    expect(mock.state.emails).toHaveLength(1);
  });

  it("still failing, an invoice email is reported sent with a warning instead of an error its caller would send again on", async () => {
    const { mock, tenantId, via } = await postmarkSetup();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    onTestFinished(() => warn.mockRestore());
    const broken = outboxWritesFailing(Number.POSITIVE_INFINITY);

    const result = await sendMail(broken.env, { tenantId, idempotencyKey: "invoice/t4/0", email: invoiceEmail(), via });

    expect(result).toMatchObject({ provider: "postmark", providerId: mock.state.emails[0]?.MessageID, deduplicated: false });
    expect(mock.state.emails).toHaveLength(1);
    expect(warn).toHaveBeenCalledWith(
      "mail sent, but the outbox could not record it as sent; it is not sent again",
      expect.objectContaining({ idempotencyKey: "invoice/t4/0" }),
    );
  });

  it("still failing, an alert throws as before (the cron sends failed alerts again)", async () => {
    const { tenantId, via } = await postmarkSetup();
    const broken = outboxWritesFailing(Number.POSITIVE_INFINITY);
    const alert = sendMail(broken.env, { tenantId, idempotencyKey: "alert/t5", email: invoiceEmail(), via });
    await expect(alert).rejects.toThrow(/D1_ERROR/);
  });
});
