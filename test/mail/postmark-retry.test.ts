/**
 * Postmark has no idempotency key: each email carries Orderly's key as Postmark metadata, and a
 * retry after an unknown outcome asks Postmark's outbound message search
 * (`GET /messages/outbound?count&offset&messagestream&metadata_orderly-key`) whether the earlier
 * attempt went out before sending again (the search: ./postmark-search.ts).
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import { SEARCH_SETTLE_MS, sendMail } from "../../src/mail/send-mail";
import { reportMailKey, reportPeriod } from "../../src/notifications/status-report";
import { createPostmarkMock, installMailMocks } from "../mocks/postmark.mock";
import { createConnection, createTenant, outboxRow, rejection } from "./mail-helpers";
import { type SearchHit, withSearch } from "./postmark-search";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const invoiceEmail = (to = ["Ane Lund <ane@example.dk>", "books@example.dk"], subject = "Invoice 1001 from Lund Shop") => ({
  to,
  subject,
  text: "Thank you for your order.",
});

async function setup(options: { token?: string; messageStream?: string } = {}) {
  const token = options.token ?? "pm-ok";
  const mock = createPostmarkMock({ serverToken: token, streams: ["outbound", "invoices"] });
  installMailMocks({ postmark: mock });
  const search = withSearch(mock, token);
  const tenantId = await createTenant();
  const settings = { from: "invoices@lund.dk", ...(options.messageStream ? { messageStream: options.messageStream } : {}) };
  const connectionId = await createConnection(tenantId, "postmark", settings, { serverToken: token });
  return { mock, ...search, tenantId, via: { connectionId } };
}

/** Moves the row's times back: `attemptedAt` (null: a row of an earlier release) and `createdAt`. */
async function backdate(tenantId: string, key: string, times: { attemptedAt?: number | null; createdAt?: number }) {
  await database(env)
    .update(mailOutbox)
    .set(times)
    .where(and(eq(mailOutbox.tenantId, tenantId), eq(mailOutbox.idempotencyKey, key)));
}

/** The row's attempt made long enough ago that an empty search counts. */
const settled = (tenantId: string, key: string) =>
  backdate(tenantId, key, { attemptedAt: Date.now() - SEARCH_SETTLE_MS - MINUTE });

function quietWarnings() {
  const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  onTestFinished(() => warn.mockRestore());
  return warn;
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

  it("records when the attempt that reached Postmark began (attempted_at)", async () => {
    const { mock, tenantId, via } = await setup();
    const before = Date.now();
    mock.failNext({ status: 503 });
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/m3/0", email: invoiceEmail(), via }));
    const row = await outboxRow(tenantId, "invoice/m3/0");
    expect(row?.attemptedAt).toBeGreaterThanOrEqual(before);
    expect(row?.attemptedAt).toBeLessThanOrEqual(Date.now());
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
    // The documented query: count and offset, the connection's stream, the key's metadata (the
    // recipients are compared in code); the server token.
    expect(Object.fromEntries(searches[0]!)).toEqual({
      count: "10",
      offset: "0",
      messagestream: "outbound",
      "metadata_orderly-key": "invoice/r1/0",
    });
    expect(mock.state.requests.find((r) => r.method === "GET")!.headers["x-postmark-server-token"]).toBe("pm-ok");
    // Sent now, the key is never searched or sent again.
    await sendMail(env, { tenantId, idempotencyKey: "invoice/r1/0", email: invoiceEmail(), via });
    expect(searches).toHaveLength(1);
  });

  it("an empty search right after the attempt is not trusted: nothing is sent until the attempt is minutes old", async () => {
    const { mock, searches, posts, tenantId, via } = await setup();
    mock.failNext({ status: 503 });
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r2/0", email: invoiceEmail(), via }));
    expect((await outboxRow(tenantId, "invoice/r2/0"))?.error).toMatch(/may have accepted it/);

    const early = await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r2/0", email: invoiceEmail(), via }));
    expect(early).toMatchObject({ code: "mail_outcome_unchecked", errorClass: "unavailable", retryable: true });
    expect(early.message).toContain("the search is repeated shortly");
    expect(early.retryAfterSeconds).toBeGreaterThan(0);
    expect(posts()).toHaveLength(1);
    expect((await outboxRow(tenantId, "invoice/r2/0"))?.error).toMatch(/may have accepted it before this error\.$/);

    await settled(tenantId, "invoice/r2/0");
    const result = await sendMail(env, { tenantId, idempotencyKey: "invoice/r2/0", email: invoiceEmail(), via });

    expect(searches).toHaveLength(2);
    expect(posts()).toHaveLength(2);
    expect(mock.state.emails).toHaveLength(1);
    expect(result).toMatchObject({ providerId: mock.state.emails[0]!.MessageID, deduplicated: false });
    expect(await outboxRow(tenantId, "invoice/r2/0")).toMatchObject({ status: "sent", error: null });
  });

  it("sends to a corrected address without searching: an earlier attempt to someone else is no copy of this one", async () => {
    const { mock, control, searches, posts, tenantId, via } = await setup();
    control.loseNextAnswer = true;
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r3/0", email: invoiceEmail(["ane@example.dk"]), via }));
    // The earlier email went to Ane alone; this one adds a recipient.
    const result = await sendMail(env, {
      tenantId,
      idempotencyKey: "invoice/r3/0",
      email: invoiceEmail(["ane@example.dk", "books@example.dk"]),
      via,
    });
    expect(result).toMatchObject({ deduplicated: false });
    expect(searches).toHaveLength(0);
    expect(posts()).toHaveLength(2);
    expect(mock.state.emails).toHaveLength(2);
  });

  it("searches when the earlier attempt went to more recipients than this one, and finds it", async () => {
    const { control, searches, posts, tenantId, via } = await setup();
    control.loseNextAnswer = true;
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r6/0", email: invoiceEmail(), via }));
    const result = await sendMail(env, {
      tenantId,
      idempotencyKey: "invoice/r6/0",
      email: invoiceEmail(["ANE@example.dk"]),
      via,
    });
    expect(searches).toHaveLength(1);
    expect(result).toMatchObject({ deduplicated: true });
    expect(posts()).toHaveLength(1);
  });

  it("a timeout to a corrected address keeps the row's unknown outcome: the next retry to it searches, and finds it", async () => {
    const { mock, control, searches, posts, tenantId, via } = await setup();
    const key = "invoice/r11/0";
    control.loseNextAnswer = true;
    await rejection(sendMail(env, { tenantId, idempotencyKey: key, email: invoiceEmail(["ane@example.dk"]), via }));
    // Corrected to Bo: no search (the attempt to Ane is no copy), sent, and its answer lost too.
    control.loseNextAnswer = true;
    await rejection(sendMail(env, { tenantId, idempotencyKey: key, email: invoiceEmail(["bo@example.dk"]), via }));
    expect(searches).toHaveLength(0);
    expect((await outboxRow(tenantId, key))?.error).toMatch(/may have accepted it before this error\.$/);

    const result = await sendMail(env, { tenantId, idempotencyKey: key, email: invoiceEmail(["bo@example.dk"]), via });

    expect(searches).toHaveLength(1);
    const toBo = mock.state.emails[1]!.MessageID;
    expect(result).toMatchObject({ providerId: toBo, deduplicated: true });
    expect(posts()).toHaveLength(2);
  });

  it("a timeout after the recipients shrank keeps the unknown outcome: the next retry searches, and finds it", async () => {
    const { mock, control, searches, posts, tenantId, via } = await setup();
    const key = "invoice/r12/0";
    // To Ane and the books: refused outright, nothing accepted.
    mock.failNext({ status: 503 });
    await rejection(sendMail(env, { tenantId, idempotencyKey: key, email: invoiceEmail(), via }));
    await settled(tenantId, key);
    // To Ane alone: the search finds nothing, it is sent, and its answer is lost.
    control.loseNextAnswer = true;
    await rejection(sendMail(env, { tenantId, idempotencyKey: key, email: invoiceEmail(["ane@example.dk"]), via }));
    expect(searches).toHaveLength(1);
    expect(mock.state.emails).toHaveLength(1);

    const result = await sendMail(env, { tenantId, idempotencyKey: key, email: invoiceEmail(["ane@example.dk"]), via });

    expect(searches).toHaveLength(2);
    expect(result).toMatchObject({ providerId: mock.state.emails[0]!.MessageID, deduplicated: true });
    expect(mock.state.emails).toHaveLength(1);
    expect(posts()).toHaveLength(2);
  });

  it("does not send while the search fails, keeps the unknown outcome and the attempt's time, and finds the email once the search is back", async () => {
    const { mock, control, searches, posts, tenantId, via } = await setup();
    control.loseNextAnswer = true;
    await rejection(sendMail(env, { tenantId, idempotencyKey: "alert/r4", email: invoiceEmail(), via }));
    const attemptedAt = (await outboxRow(tenantId, "alert/r4"))?.attemptedAt;
    control.failSearches = 1;

    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "alert/r4", email: invoiceEmail(), via }));

    expect(error).toMatchObject({ code: "mail_outcome_unchecked", errorClass: "unavailable", retryable: true });
    expect(error.message).toContain("Postmark answered 500");
    expect(error.message).toContain("So it was not sent again; Orderly tries again at its next cron runs");
    expect(error.message).toContain("sends it anyway from");
    expect(error.message).toContain("(1 hour after that attempt)");
    expect(posts()).toHaveLength(1);
    const row = await outboxRow(tenantId, "alert/r4");
    expect(row).toMatchObject({ status: "failed", providerId: null, attemptedAt });
    expect(row?.error).toMatch(/may have accepted it before this error\.$/);

    const result = await sendMail(env, { tenantId, idempotencyKey: "alert/r4", email: invoiceEmail(), via });
    expect(searches).toHaveLength(2);
    expect(result).toMatchObject({ providerId: mock.state.emails[0]!.MessageID, deduplicated: true });
    expect(posts()).toHaveLength(1);
  });
});

describe("how long a failing search holds the email back, counted from the attempt", () => {
  it("an invoice: 24 hours after the attempt it is sent", async () => {
    const { mock, control, posts, tenantId, via } = await setup();
    mock.failNext({ status: 503 });
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r5/0", email: invoiceEmail(), via }));
    await backdate(tenantId, "invoice/r5/0", { attemptedAt: Date.now() - 25 * HOUR });
    control.failSearches = 1;
    const warn = quietWarnings();

    const result = await sendMail(env, { tenantId, idempotencyKey: "invoice/r5/0", email: invoiceEmail(), via });

    expect(result).toMatchObject({ deduplicated: false });
    expect(posts()).toHaveLength(2);
    expect(mock.state.emails).toHaveLength(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("sending again"), expect.objectContaining({ vendor: "Postmark" }));
  });

  it("an invoice: not from the row's creation, when the last attempt was recent", async () => {
    const { mock, control, posts, tenantId, via } = await setup();
    mock.failNext({ status: 503 });
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r7/0", email: invoiceEmail(), via }));
    await backdate(tenantId, "invoice/r7/0", { createdAt: Date.now() - 25 * HOUR, attemptedAt: Date.now() - 10 * MINUTE });
    control.failSearches = 1;

    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r7/0", email: invoiceEmail(), via }));

    expect(error).toMatchObject({ code: "mail_outcome_unchecked", retryable: true });
    // A step's retries end in a failed transfer within the hour: only a person's retry reaches 24 hours.
    expect(error.message).toContain("the step is retried with backoff");
    expect(error.message).toContain("ends as a failed transfer for a person to retry");
    expect(error.message).toMatch(/A retry from \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC on \(24 hours after that attempt\)/);
    expect(error.message).not.toContain("Orderly tries again");
    expect(posts()).toHaveLength(1);
  });

  it("a row of an earlier release (no attempt time) counts from its creation", async () => {
    const { mock, control, posts, tenantId, via } = await setup();
    mock.failNext({ status: 503 });
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r8/0", email: invoiceEmail(), via }));
    await backdate(tenantId, "invoice/r8/0", { createdAt: Date.now() - 25 * HOUR, attemptedAt: null });
    control.failSearches = 1;
    quietWarnings();

    const result = await sendMail(env, { tenantId, idempotencyKey: "invoice/r8/0", email: invoiceEmail(), via });

    expect(result).toMatchObject({ deduplicated: false });
    expect(posts()).toHaveLength(2);
  });

  it.each(["alert/r9", "report/ten_x/daily/2026-11-27T06:00:00.000Z"])(
    "%s (retried by the cron for 6 hours only): an hour after the attempt it is sent",
    async (key) => {
      const { mock, control, posts, tenantId, via } = await setup();
      mock.failNext({ status: 503 });
      await rejection(sendMail(env, { tenantId, idempotencyKey: key, email: invoiceEmail(), via }));
      await backdate(tenantId, key, { attemptedAt: Date.now() - 61 * MINUTE });
      control.failSearches = 1;
      const warn = quietWarnings();

      const result = await sendMail(env, { tenantId, idempotencyKey: key, email: invoiceEmail(), via });

      expect(result).toMatchObject({ deduplicated: false });
      expect(posts()).toHaveLength(2);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining("sending again"), expect.anything());
    },
  );

  it("an invoice an hour after the attempt: still held back", async () => {
    const { mock, control, posts, tenantId, via } = await setup();
    mock.failNext({ status: 503 });
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r10/0", email: invoiceEmail(), via }));
    await backdate(tenantId, "invoice/r10/0", { attemptedAt: Date.now() - 61 * MINUTE });
    control.failSearches = 1;
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/r10/0", email: invoiceEmail(), via }));
    expect(posts()).toHaveLength(1);
  });
});

describe("an alert or report near the end of its re-send window: its last tries send anyway", () => {
  /** A first attempt refused outright (nothing accepted), its row then given these times. */
  async function failedEarlier(key: string, times: { createdAt: number; attemptedAt: number }) {
    const world = await setup();
    world.mock.failNext({ status: 503 });
    await rejection(sendMail(env, { tenantId: world.tenantId, idempotencyKey: key, email: invoiceEmail(), via: world.via }));
    await backdate(world.tenantId, key, times);
    return world;
  }

  it("an alert created 5 h 55 min ago whose attempt was minutes ago: sent although the search fails", async () => {
    const now = Date.now();
    const { control, posts, tenantId, via } = await failedEarlier("alert/w1", {
      createdAt: now - 5 * HOUR - 55 * MINUTE,
      attemptedAt: now - 3 * MINUTE,
    });
    control.failSearches = 1;
    quietWarnings();

    const result = await sendMail(env, { tenantId, idempotencyKey: "alert/w1", email: invoiceEmail(), via });

    expect(result).toMatchObject({ deduplicated: false });
    expect(posts()).toHaveLength(2);
  });

  it("an alert created 5 h 55 min ago whose attempt was seconds ago: an empty search is taken as it is", async () => {
    const now = Date.now();
    const { searches, posts, tenantId, via } = await failedEarlier("alert/w2", {
      createdAt: now - 5 * HOUR - 55 * MINUTE,
      attemptedAt: now - 10_000,
    });

    const result = await sendMail(env, { tenantId, idempotencyKey: "alert/w2", email: invoiceEmail(), via });

    expect(searches).toHaveLength(1);
    expect(result).toMatchObject({ deduplicated: false });
    expect(posts()).toHaveLength(2);
  });

  it("an alert created 5 h 55 min ago is still found by a search that works: not sent twice", async () => {
    const now = Date.now();
    const world = await setup();
    world.control.loseNextAnswer = true;
    await rejection(
      sendMail(env, { tenantId: world.tenantId, idempotencyKey: "alert/w3", email: invoiceEmail(), via: world.via }),
    );
    await backdate(world.tenantId, "alert/w3", { createdAt: now - 5 * HOUR - 55 * MINUTE, attemptedAt: now - 10_000 });

    const result = await sendMail(env, {
      tenantId: world.tenantId,
      idempotencyKey: "alert/w3",
      email: invoiceEmail(),
      via: world.via,
    });

    expect(result).toMatchObject({ deduplicated: true });
    expect(world.posts()).toHaveLength(1);
  });

  it("an alert created 4 hours ago whose attempt was minutes ago: still held back, saying until when", async () => {
    const now = Date.now();
    const { control, posts, tenantId, via } = await failedEarlier("alert/w4", {
      createdAt: now - 4 * HOUR,
      attemptedAt: now - 3 * MINUTE,
    });
    control.failSearches = 1;

    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "alert/w4", email: invoiceEmail(), via }));

    expect(error).toMatchObject({ code: "mail_outcome_unchecked", retryable: true });
    expect(error.message).toContain("(1 hour after that attempt)");
    expect(posts()).toHaveLength(1);
  });

  it("an alert created 5 h 30 min ago: held back only until shortly before its re-sending ends, and says so", async () => {
    const now = Date.now();
    const { control, tenantId, via } = await failedEarlier("alert/w5", {
      createdAt: now - 5 * HOUR - 30 * MINUTE,
      attemptedAt: now - 3 * MINUTE,
    });
    control.failSearches = 1;

    const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "alert/w5", email: invoiceEmail(), via }));

    expect(error.message).toContain("(shortly before Orderly stops re-sending it)");
  });

  it("a status report first stored hours after its period: its window counts from the period's end", async () => {
    const now = Date.now();
    const period = reportPeriod("daily", now, 0);
    const key = reportMailKey("ten_w", { ...period, end: now - 5 * HOUR - 55 * MINUTE });
    const { control, posts, tenantId, via } = await failedEarlier(key, {
      createdAt: now - 2 * HOUR,
      attemptedAt: now - 3 * MINUTE,
    });
    control.failSearches = 1;
    quietWarnings();

    const result = await sendMail(env, { tenantId, idempotencyKey: key, email: invoiceEmail(), via });

    expect(result).toMatchObject({ deduplicated: false });
    expect(posts()).toHaveLength(2);
  });

  it("an invoice created days ago whose attempt was minutes ago: still held back (its 24 hours count from the attempt)", async () => {
    const now = Date.now();
    const { control, posts, tenantId, via } = await failedEarlier("invoice/w6/0", {
      createdAt: now - 3 * 24 * HOUR,
      attemptedAt: now - 3 * MINUTE,
    });
    control.failSearches = 1;
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/w6/0", email: invoiceEmail(), via }));
    expect(posts()).toHaveLength(1);
  });
});

describe("a custom message stream", () => {
  it("is searched (Postmark's search covers only `outbound` without one), and its email found", async () => {
    const { mock, control, searches, posts, tenantId, via } = await setup({ messageStream: "invoices" });
    control.loseNextAnswer = true;
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/s1/0", email: invoiceEmail(), via }));
    expect(mock.state.emails[0]!.body.MessageStream).toBe("invoices");

    const result = await sendMail(env, { tenantId, idempotencyKey: "invoice/s1/0", email: invoiceEmail(), via });

    expect(searches[0]!.get("messagestream")).toBe("invoices");
    expect(result).toMatchObject({ providerId: mock.state.emails[0]!.MessageID, deduplicated: true });
    expect(posts()).toHaveLength(1);
  });

  it("a hit in another stream is no copy of this email", async () => {
    const { control, posts, tenantId, via } = await setup({ messageStream: "invoices" });
    control.loseNextAnswer = true;
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/s2/0", email: invoiceEmail(), via }));
    await settled(tenantId, "invoice/s2/0");
    control.tamper = (hits) => hits.map((hit) => ({ ...hit, MessageStream: "outbound" }));

    const result = await sendMail(env, { tenantId, idempotencyKey: "invoice/s2/0", email: invoiceEmail(), via });

    expect(result).toMatchObject({ deduplicated: false });
    expect(posts()).toHaveLength(2);
  });
});

describe("which search hit counts as the email", () => {
  async function lostThenRetry(tamper: (hits: SearchHit[]) => SearchHit[], email = invoiceEmail()) {
    const world = await setup();
    const key = `invoice/h${crypto.randomUUID().slice(0, 6)}/0`;
    world.control.loseNextAnswer = true;
    await rejection(sendMail(env, { tenantId: world.tenantId, idempotencyKey: key, email: invoiceEmail(), via: world.via }));
    await settled(world.tenantId, key);
    world.control.tamper = tamper;
    const result = await sendMail(env, { tenantId: world.tenantId, idempotencyKey: key, email, via: world.via });
    return { ...world, result, key };
  }

  it("not one without the key in its metadata", async () => {
    const { result, posts } = await lostThenRetry((hits) => hits.map((hit) => ({ ...hit, Metadata: null })));
    expect(result).toMatchObject({ deduplicated: false });
    expect(posts()).toHaveLength(2);
  });

  it("not one under another key", async () => {
    const { result, posts } = await lostThenRetry((hits) =>
      hits.map((hit) => ({ ...hit, Metadata: { "orderly-key": "invoice/other/0" } })),
    );
    expect(result).toMatchObject({ deduplicated: false });
    expect(posts()).toHaveLength(2);
  });

  it("not one without its recipients", async () => {
    const { result, posts } = await lostThenRetry((hits) => hits.map(({ Recipients: _r, ...hit }) => hit));
    expect(result).toMatchObject({ deduplicated: false });
    expect(posts()).toHaveLength(2);
  });

  it("not one missing one of several recipients", async () => {
    const { result, posts } = await lostThenRetry((hits) =>
      hits.map((hit) => ({ ...hit, Recipients: (hit.Recipients as string[]).filter((a) => a !== "books@example.dk") })),
    );
    expect(result).toMatchObject({ deduplicated: false });
    expect(posts()).toHaveLength(2);
  });

  it("among several hits, the one with this email's subject", async () => {
    const { result, posts, mock } = await lostThenRetry((hits) => [
      ...hits.map((hit) => ({ ...hit, MessageID: "pm-earlier-version", Subject: "Invoice 1001 from Lund Shop (draft)" })),
      ...hits,
    ]);
    expect(result).toMatchObject({ providerId: mock.state.emails[0]!.MessageID, deduplicated: true });
    expect(result.note).toContain("already accepted this email");
    expect(result.note).not.toContain("It went out with the subject");
    expect(posts()).toHaveLength(1);
  });

  it("one whose recipients are written in other case", async () => {
    const { result, posts } = await lostThenRetry((hits) =>
      hits.map((hit) => ({ ...hit, Recipients: (hit.Recipients as string[]).map((a) => a.toUpperCase()) })),
    );
    expect(result).toMatchObject({ deduplicated: true });
    expect(posts()).toHaveLength(1);
  });

  it("one with another subject counts as sent (accepted under this key), with a note saying so", async () => {
    const { result, posts, tenantId, key } = await lostThenRetry(
      (hits) => hits,
      invoiceEmail(undefined, "Invoice 1001 from Lund Shop (reminder)"),
    );
    expect(result).toMatchObject({ deduplicated: true });
    expect(result.note).toContain('It went out with the subject "Invoice 1001 from Lund Shop" rather than');
    expect(posts()).toHaveLength(1);
    expect((await outboxRow(tenantId, key))?.error).toBe(result.note);
  });
});

describe("when the search cannot be used", () => {
  it("Postmark's test token: its sends are not kept, so a retry sends again without searching", async () => {
    const { control, searches, posts, tenantId, via } = await setup({ token: "POSTMARK_API_TEST" });
    control.loseNextAnswer = true;
    await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/t1/0", email: invoiceEmail(), via }));
    const result = await sendMail(env, { tenantId, idempotencyKey: "invoice/t1/0", email: invoiceEmail(), via });
    expect(result).toMatchObject({ deduplicated: false });
    expect(searches).toHaveLength(0);
    expect(posts()).toHaveLength(2);
  });

  it.each([401, 403])(
    "a search refused with %i is retryable and says the search was refused, not that the credentials are wrong",
    async (status) => {
      const { control, posts, tenantId, via } = await setup();
      control.loseNextAnswer = true;
      await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/t2/0", email: invoiceEmail(), via }));
      control.refuseSearch = status;

      const error = await rejection(sendMail(env, { tenantId, idempotencyKey: "invoice/t2/0", email: invoiceEmail(), via }));

      expect(error).toMatchObject({ code: "mail_outcome_unchecked", errorClass: "unavailable", retryable: true });
      expect(error.message).toContain(`Postmark refused the message search, answering ${status}`);
      expect(error.message).not.toContain("Check the connection's credentials");
      expect(posts()).toHaveLength(1);
    },
  );
});
