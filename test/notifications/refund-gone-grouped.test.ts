/**
 * The grouped email that closes a `refund-gone` window says what happened and what to do, as its
 * first email does (before, the generic "N more alerts about ..." with the samples only).
 */
import { describe, expect, it } from "vitest";
import { groupedAlertText } from "../../src/notifications/alert-emails";

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 27, 9, 0);

describe("the grouped email of refunds deleted in the shop", () => {
  it("names the orders, says nothing is undone and how to reverse a credit note", () => {
    const grouped = groupedAlertText({
      kind: "refund-gone",
      connectionId: "c",
      connectionName: "Shop",
      count: 2,
      samples: ["#1002: refund 77 deleted in the shop", "#1003: refund 78 deleted in the shop"],
      windowStart: T0,
      now: T0 + 15 * MINUTE,
    });
    expect(grouped.subject).toBe('2 more orders from "Shop" with a refund deleted in the shop in the last 15 minutes');
    expect(grouped.text).toMatch(/^2 more orders from "Shop" no longer list a refund that Orderly received .* since 09:00 UTC\./);
    expect(grouped.text).toContain("- #1002: refund 77 deleted in the shop");
    expect(grouped.text).toContain("reverse its credit note by hand");
    expect(grouped.subject).not.toContain("more alerts about");
  });

  it("speaks of one order in the singular", () => {
    const grouped = groupedAlertText({
      kind: "refund-gone",
      connectionId: "c",
      connectionName: "Shop",
      count: 1,
      samples: ["#1002: refund 77 deleted in the shop"],
      windowStart: T0,
      now: T0 + 15 * MINUTE,
    });
    expect(grouped.subject).toBe('1 more order from "Shop" with a refund deleted in the shop in the last 15 minutes');
    expect(grouped.text).toMatch(/^1 more order from "Shop" no longer lists a refund/);
  });
});
