/**
 * Postmark has no idempotency key: each email carries Orderly's key as Postmark metadata, and a
 * retry after an unknown outcome asks Postmark's outbound message search
 * (`GET /messages/outbound?count&offset&recipient&metadata_orderly-key`) whether the earlier
 * attempt went out before sending again. The search is served here from the mock's accepted
 * emails, in the documented shape `{ TotalCount, Messages: [{ MessageID, Recipients, Metadata ... }] }`.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import { sendMail } from "../../src/mail/send-mail";
import { createPostmarkMock, installMailMocks, type PostmarkMock } from "../mocks/postmark.mock";
import { createConnection, createTenant, outboxRow, rejection } from "./mail-helpers";

const invoiceEmail = (to = ["Ane Lund <ane@example.dk>", "books@example.dk"]) => ({
  to,
  subject: "Invoice 1001 from Lund Shop",
  text: "Thank you for your order.",
});

/** The addresses in a Postmark `To` string ('"Lund, Ane" <ane@example.dk>, books@example.dk'). */
function addressesIn(to: unknown): string[] {
  return (String(to ?? "").match(/[^\s<>",]+@[^\s<>",]+/g) ?? []).map((a) => a.toLowerCase());
}

/** The mock, plus Postmark's outbound message search over the emails it accepted. */
function withSearch(mock: PostmarkMock, token: string) {
  const control = { failSearches: 0, loseNextAnswer: false };
  const searches: URLSearchParams[] = [];
  const inner = mock.handle;
  mock.handle = async (request: Request) => {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/messages/outbound") {
      searches.push(url.searchParams);
      mock.state.requests.push({
        method: "GET",
        path: url.pathname,
        headers: Object.fromEntries(request.headers),
        body: undefined,
      });
      if (request.headers.get("x-postmark-server-token") !== token)
        return Response.json({ ErrorCode: 10, Message: "The Server API token you provided is not valid." }, { status: 401 });
      if (control.failSearches > 0) {
        control.failSearches--;
        return Response.json({ ErrorCode: 0, Message: "An internal server error occurred." }, { status: 500 });
      }
      const count = Number(url.searchParams.get("count"));
      const offset = Number(url.searchParams.get("offset"));
      if (!Number.isInteger(count) || count < 1 || count > 500 || !Number.isInteger(offset) || offset < 0)
        return Response.json({ ErrorCode: 300, Message: "count (1-500) and offset are required." }, { status: 422 });
      const recipient = url.searchParams.get("recipient")?.toLowerCase();
      const metadata = [...url.searchParams].filter(([name]) => name.startsWith("metadata_"));
      const matching = mock.state.emails
        .filter((e) => !recipient || addressesIn(e.body.To).includes(recipient))
        .filter((e) =>
          metadata.every(([name, value]) => (e.body.Metadata as Record<string, string> | undefined)?.[name.slice(9)] === value),
        )
        .reverse();
      return Response.json({
        TotalCount: matching.length,
        Messages: matching.slice(offset, offset + count).map((e) => ({
          MessageID: e.MessageID,
          To: addressesIn(e.body.To).map((Email) => ({ Email, Name: null })),
          Recipients: addressesIn(e.body.To),
          Subject: e.body.Subject,
          Status: "Sent",
          MessageStream: e.body.MessageStream,
          Metadata: e.body.Metadata ?? {},
        })),
      });
    }
    const response = await inner(request);
    if (request.method === "POST" && url.pathname === "/email" && response.ok && control.loseNextAnswer) {
      // Postmark accepted it, but the answer never arrives: the client sees a timeout.
      control.loseNextAnswer = false;
      throw Object.assign(new Error("The operation was aborted due to timeout"), { name: "TimeoutError" });
    }
    return response;
  };
  const posts = () => mock.state.requests.filter((r) => r.method === "POST" && r.path === "/email");
  return { control, searches, posts };
}

async function setup() {
  const mock = createPostmarkMock({ serverToken: "pm-ok" });
  installMailMocks({ postmark: mock });
  const search = withSearch(mock, "pm-ok");
  const tenantId = await createTenant();
  const connectionId = await createConnection(tenantId, "postmark", { from: "invoices@lund.dk" }, { serverToken: "pm-ok" });
  return { mock, ...search, tenantId, via: { connectionId } };
}

describe("Postmark's key metadata on the first send", () => {
  it("carries the outbox key as metadata, and a first send makes no search", async () => {
    const { mock, searches, tenantId, via } = await setup();
    await sendMail(env, { tenantId, idempotencyKey: "invoice/m1/0", email: invoiceEmail(), via });
    expect(mock.state.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /email"]);
    expect(mock.state.emails[0]!.body.Metadata).toEqual({ "orderly-key": "invoice/m1/0" });
    expect(searches).toHaveLength(0);
  });

  it("a key too long for a metadata value travels as its SHA-256", async () => {
    const { mock, tenantId, via } = await setup();
    const key = `alert/${"x".repeat(120)}`;
    await sendMail(env, { tenantId, idempotencyKey: key, email: invoiceEmail(), via });
    const value = (mock.state.emails[0]!.body.Metadata as Record<string, string>)["orderly-key"]!;
    expect(value).toMatch(/^sha256-[0-9a-f]{64}$/);
    expect(value.length).toBeLessThanOrEqual(80);
  });
});

describe("a Postmark retry after an unknown outcome", () => {
  it("finds the email the lost answer was for: recorded as sent under its MessageID, no second POST /email", async () => {
    const { mock, control, searches, posts, tenantId, via } = await setup();
    control.loseNextAnswer = true;
    const lost = await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r1/0", email: invoiceEmail(), via }));
    expect(lost).toMatchObject({ errorClass: "timeout" });
    expect(mock.state.emails).toHaveLength(1);

    const result = await sendMail(env, { tenantId, idempotencyKey: "invoice/r1/0", email: invoiceEmail(), via });

    const first = mock.state.emails[0]!.MessageID;
    expect(result).toMatchObject({ provider: "postmark", providerId: first, deduplicated: true });
    expect(result.note).toContain("already accepted this email from an earlier attempt");
    expect(posts()).toHaveLength(1);
    expect(mock.state.emails).toHaveLength(1);
    expect(await outboxRow(tenantId, "invoice/r1/0")).toMatchObject({ status: "sent", providerId: first });
    // The documented query: count and offset, the first recipient, the key's metadata; the server token.
    expect(Object.fromEntries(searches[0]!)).toEqual({
      count: "10",
      offset: "0",
      recipient: "ane@example.dk",
      "metadata_orderly-key": "invoice/r1/0",
    });
    expect(mock.state.requests.find((r) => r.method === "GET")!.headers["x-postmark-server-token"]).toBe("pm-ok");
    // Sent now, the key is never searched or sent again.
    await sendMail(env, { tenantId, idempotencyKey: "invoice/r1/0", email: invoiceEmail(), via });
    expect(searches).toHaveLength(1);
  });

  it("sends when the search finds nothing (Postmark never took the first attempt)", async () => {
    const { mock, searches, posts, tenantId, via } = await setup();
    mock.failNext({ status: 503 });
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r2/0", email: invoiceEmail(), via }));
    expect((await outboxRow(tenantId, "invoice/r2/0"))?.error).toMatch(/may have accepted it/);

    const result = await sendMail(env, { tenantId, idempotencyKey: "invoice/r2/0", email: invoiceEmail(), via });

    expect(searches).toHaveLength(1);
    expect(posts()).toHaveLength(2);
    expect(mock.state.emails).toHaveLength(1);
    expect(result).toMatchObject({ providerId: mock.state.emails[0]!.MessageID, deduplicated: false });
    expect(await outboxRow(tenantId, "invoice/r2/0")).toMatchObject({ status: "sent", error: null });
  });

  it("sends to a corrected address: an earlier email under the key to someone else is no copy of this one", async () => {
    const { mock, control, posts, tenantId, via } = await setup();
    control.loseNextAnswer = true;
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r3/0", email: invoiceEmail(["ane@example.dk"]), via }));
    // The same address searched, but the earlier email went to it alone; this one adds a recipient.
    const result = await sendMail(env, {
      tenantId,
      idempotencyKey: "invoice/r3/0",
      email: invoiceEmail(["ane@example.dk", "books@example.dk"]),
      via,
    });
    expect(result).toMatchObject({ deduplicated: false });
    expect(posts()).toHaveLength(2);
    expect(mock.state.emails).toHaveLength(2);
  });

  it("does not send while the search fails, keeps the unknown outcome, and finds the email once the search is back", async () => {
    const { mock, control, searches, posts, tenantId, via } = await setup();
    control.loseNextAnswer = true;
    await rejection(sendMail(env, { tenantId, idempotencyKey: "alert/r4", email: invoiceEmail(), via }));
    control.failSearches = 1;

    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "alert/r4", email: invoiceEmail(), via }));

    expect(error).toMatchObject({ code: "mail_outcome_unchecked", errorClass: "unavailable", retryable: true });
    expect(error.message).toContain("Postmark answered 500");
    expect(error.message).toContain("so it was not sent again; it is retried later");
    expect(posts()).toHaveLength(1);
    const row = await outboxRow(tenantId, "alert/r4");
    expect(row).toMatchObject({ status: "failed", providerId: null });
    expect(row?.error).toMatch(/may have accepted it before this error\.$/);

    const result = await sendMail(env, { tenantId, idempotencyKey: "alert/r4", email: invoiceEmail(), via });
    expect(searches).toHaveLength(2);
    expect(result).toMatchObject({ providerId: mock.state.emails[0]!.MessageID, deduplicated: true });
    expect(posts()).toHaveLength(1);
  });

  it("a search still failing 24 hours after the first attempt no longer holds the email back: it is sent", async () => {
    const { mock, control, posts, tenantId, via } = await setup();
    mock.failNext({ status: 503 });
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r5/0", email: invoiceEmail(), via }));
    await database(env)
      .update(mailOutbox)
      .set({ createdAt: Date.now() - 25 * 3_600_000 })
      .where(and(eq(mailOutbox.tenantId, tenantId), eq(mailOutbox.idempotencyKey, "invoice/r5/0")));
    control.failSearches = 1;
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    onTestFinished(() => warn.mockRestore());

    const result = await sendMail(env, { tenantId, idempotencyKey: "invoice/r5/0", email: invoiceEmail(), via });

    expect(result).toMatchObject({ deduplicated: false });
    expect(posts()).toHaveLength(2);
    expect(mock.state.emails).toHaveLength(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("sending again"), expect.objectContaining({ vendor: "Postmark" }));
  });
});
