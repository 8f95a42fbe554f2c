/**
 * A mailbox longer than an address and a display name can be is refused before a pattern runs on
 * it: the customer's e-mail comes from the webshop's order without a length limit, and the
 * "Name <address>" pattern backtracks quadratically on a long run of spaces.
 */
import { describe, expect, it } from "vitest";
import { MAX_MAILBOX_LENGTH, parseMailbox } from "../../src/mail/mail.address";
import { parseOutgoingEmail } from "../../src/mail/mail.types";

/** 80,000 spaces between a name and its address: 2.3 s in the pattern before the cap. */
const SPACES = `Ane${" ".repeat(80_000)}Lund <ane@example.dk>`;

describe("a mailbox's length", () => {
  it("refuses a customer e-mail of 80,000 spaces at once", () => {
    // Refused by its length, before the pattern (no timing here: speed belongs in a benchmark).
    expect(parseMailbox(SPACES)).toBeNull();
  });

  it("fails the invoice e-mail with the reason, without hanging the step", () => {
    let error: unknown = null;
    try {
      parseOutgoingEmail({ to: [SPACES], subject: "Invoice 1", text: "Attached." });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toMatchObject({
      code: "mail_invalid",
      message: expect.stringContaining(`to.0 is longer than ${MAX_MAILBOX_LENGTH} characters`),
    });
  });

  it("still takes the longest address with the longest display name", () => {
    const address = `${"a".repeat(64)}@${"b".repeat(63)}.${"c".repeat(63)}.dk`;
    const name = `"${"N".repeat(MAX_MAILBOX_LENGTH - address.length - 5)}"`;
    const text = `${name} <${address}>`;
    expect(text.length).toBe(MAX_MAILBOX_LENGTH);
    expect(parseMailbox(text)).toEqual({ name: name.slice(1, -1), address });
    expect(parseMailbox(` ${text}`)).toBeNull();
  });
});
