/**
 * The differences email has two kinds of line, each with its own advice: `outputs.differences`
 * (what the target holds other than what Orderly would make now: correct it) and `outputs.checks`
 * (booked as Orderly decided, a person should look: a refund's VAT spread over rates). A check
 * must not tell the tenant to correct a booked document with a credit note, which would credit the
 * refund twice.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { differencesAlertText, groupedAlertText } from "../../src/notifications/alert-emails";
import { sweepInvoiceDifferences } from "../../src/notifications/difference-alerts";
import { DAY, MINUTE, outbox, seedTenant, seedTransfer, T0 } from "./notification-helpers";

const WINDOW = 15 * MINUTE;
/** Far from T0 and from difference-lookback's time, so no other test's sweep counts these rows. */
const NOW = T0 - 5 * DAY;

const SPREAD =
  "VAT: credit note 7 splits 10.00 EUR over 7 % and 19 % in proportion to what was sold, since the shop gave the refund no lines; check it against the items refunded for order #1001 and correct the VAT by hand if it was for items of one rate.";
const GONE =
  "order #1002: draft order 12, which this step made, is no longer among e-conomic's draft orders and no invoice carries its reference X: a person invoiced, sent or deleted it. No draft order is made again (it could be invoiced twice); make one in e-conomic if the order still needs it";
const CHECK_ADVICE = "Check the VAT of the credit note against the items refunded";

describe("checks in the differences email", () => {
  it("a credit note step with only checks is mailed under its own advice, not as a booked invoice to correct", async () => {
    const world = await seedTenant();
    await seedTransfer(world.tenantId, {
      source: world.shop,
      steps: [{ target: world.ledger, status: "completed", output: { creditNoteId: 7, checks: [SPREAD] } }],
      status: "completed",
      createdAt: NOW - MINUTE,
      orderNumber: "#1001",
    });
    expect(await sweepInvoiceDifferences(env, NOW, WINDOW)).toBe(1);
    expect(await sweepInvoiceDifferences(env, NOW + MINUTE, WINDOW)).toBe(0);
    const mails = await outbox(world.tenantId);
    expect(mails.map((m) => m.subject)).toEqual([`[Orderly] To check: order #1001 on "Ledger"`]);
    const text = mails[0]!.text;
    expect(text).toContain(`- ${SPREAD}`);
    expect(text).toContain(CHECK_ADVICE);
    expect(text).toContain("Nothing else is needed.");
    expect(text).not.toMatch(/credit note for an invoice|booked invoice|not applied/i);
  });

  it("both kinds in one step: each under its own words, differences first", () => {
    const { subject, text } = differencesAlertText({
      transferId: "tr_1",
      orderNumber: "#1001",
      targetName: "Ledger",
      differences: ["total: 249.00 DKK on booked invoice 17 → 259.00 DKK"],
      checks: [SPREAD],
    });
    expect(subject).toBe('Differs from the order: order #1001 on "Ledger"');
    const difference = text.indexOf("- total: 249.00 DKK");
    const check = text.indexOf(`- ${SPREAD}`);
    expect(difference).toBeGreaterThan(-1);
    expect(check).toBeGreaterThan(difference);
    // The correction advice sits with the differences, the check's advice after the check.
    expect(text.indexOf("a booked document only with another")).toBeGreaterThan(difference);
    expect(text.indexOf("a booked document only with another")).toBeLessThan(check);
    expect(text.indexOf(CHECK_ADVICE)).toBeGreaterThan(check);
  });

  it("a draft order gone is not told it was a booked invoice that changed", () => {
    const { subject, text } = differencesAlertText({
      transferId: "tr_2",
      orderNumber: "#1002",
      targetName: "e-conomic",
      differences: [GONE],
    });
    expect(subject).toBe('Differs from the order: order #1002 on "e-conomic"');
    expect(text).toContain(`- ${GONE}`);
    expect(text).toContain("as each line says: a draft directly");
    expect(text).not.toMatch(/changed after its invoice was booked|To check|Check the VAT/);
  });

  it("the grouped email names both kinds and both advices", () => {
    const { subject, text } = groupedAlertText({
      kind: "differences",
      connectionId: "con_ledger",
      connectionName: "Ledger",
      count: 2,
      samples: ["#1001: total: 249.00 DKK → 259.00 DKK", `#1002: ${SPREAD}`],
      windowStart: NOW,
      now: NOW + WINDOW,
    });
    expect(subject).toBe('2 more orders on "Ledger" to correct or check in the last 15 minutes');
    expect(text).toContain("a booked document only with another");
    expect(text).toContain(
      "check it against the items refunded and correct it if they were all of one rate; nothing else is needed",
    );
  });
});
