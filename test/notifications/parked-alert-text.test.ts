/**
 * The parked-projection alert's words live in alert-emails.ts beside the others: its first email,
 * the grouped email that closes its window (before, the generic "more alerts" one) and the short
 * subject used when its usual words cannot be made.
 */
import { env } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import { fallbackAlertText, groupedAlertText, parkedAlertText } from "../../src/notifications/alert-emails";
import { alertTopic } from "../../src/notifications/alert-throttle";
import { flushAlertGroups, raiseAlert } from "../../src/notifications/notify-tenant";
import { MINUTE, seedTenant, T0 } from "./notification-helpers";

const WINDOW = 15 * MINUTE;

describe("the parked-projection alert's words", () => {
  it("says what is behind, why, that nothing is lost, and that further ones are grouped", () => {
    const text = parkedAlertText({ sourceName: "Shop", order: "#1001", reason: "D1_ERROR: overloaded", windowMs: WINDOW });
    expect(text.subject).toBe('Order #1001 from "Shop": its history in Orderly is behind');
    const paragraphs = text.text.split("\n\n");
    expect(paragraphs).toEqual([
      'Orderly could not write what happened to order #1001 from "Shop" to its transfer log, after trying for a while, and now tries less often. The order\'s transfers go on as usual; only what Orderly shows of them is behind: the transfer log may show a finished transfer as still running, or miss one, and a transfer that failed may get no failure alert.',
      "Why (the database's error): D1_ERROR: overloaded",
      "Nothing of the order is lost: its own record is complete, and Orderly keeps trying to write it to the log, at least once a day, until it is written. Until then, look at the order in the shop and in the accounting system if it matters now. If this goes on, the Orderly operator should look at the error above.",
      'Further orders from "Shop" whose history falls behind in the next 15 minutes are collected into one email.',
    ]);
  });

  it("groups the rest of a window as orders whose history is behind, with the examples", () => {
    const grouped = groupedAlertText({
      kind: "parked",
      connectionId: "c",
      connectionName: "Shop",
      count: 3,
      samples: ["#1002: history in Orderly behind: D1_ERROR"],
      windowStart: T0,
      now: T0 + WINDOW,
    });
    expect(grouped.subject).toBe('3 more orders from "Shop" with their history in Orderly behind in the last 15 minutes');
    expect(grouped.text).toMatch(
      /^3 more orders from "Shop" could not be written to the transfer log since \d\d:\d\d UTC; Orderly keeps trying\./,
    );
    expect(grouped.text).toContain("- #1002: history in Orderly behind: D1_ERROR");
    expect(fallbackAlertText({ kind: "parked", connectionId: "c1", sample: "#1: x" }).subject).toBe(
      "An order's history from connection c1 is behind in Orderly",
    );
  });

  it("is mailed as its own grouped email when its window ends", async () => {
    const seeded = await seedTenant();
    const topic = alertTopic("parked", seeded.shop);
    for (const [n, at] of [
      [1, T0],
      [2, T0 + MINUTE],
    ] as const) {
      await raiseAlert(
        env,
        {
          tenantId: seeded.tenantId,
          topic,
          at,
          sample: `#${1000 + n}: history in Orderly behind: D1_ERROR`,
          first: () => parkedAlertText({ sourceName: "Shop", order: `#${1000 + n}`, reason: "D1_ERROR", windowMs: WINDOW }),
        },
        WINDOW,
      );
    }
    await flushAlertGroups(env, T0 + WINDOW + MINUTE, WINDOW);
    const grouped = await database(env)
      .select()
      .from(mailOutbox)
      .where(and(eq(mailOutbox.tenantId, seeded.tenantId), like(mailOutbox.idempotencyKey, "%/grouped")))
      .get();
    expect(grouped?.subject).toMatch(/^\[Orderly\] 1 more order from "Shop" with its history in Orderly behind/);
    expect(grouped?.text).toContain("- #1002: history in Orderly behind: D1_ERROR");
  });
});
