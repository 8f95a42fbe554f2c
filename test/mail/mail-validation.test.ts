import { describe, expect, it } from "vitest";
import { OrderlyError } from "../../src/domain/errors";
import { formatMailbox, isEmailAddress, parseMailbox } from "../../src/mail/mail.address";
import { MAX_SUBJECT_LENGTH, parseOutgoingEmail } from "../../src/mail/mail.types";

function problems(input: unknown): string {
  try {
    parseOutgoingEmail(input);
  } catch (error) {
    expect(error).toBeInstanceOf(OrderlyError);
    expect((error as OrderlyError).errorClass).toBe("validation");
    return (error as OrderlyError).message;
  }
  throw new Error("expected the email to be refused");
}

const base = { to: ["ane@example.dk"], subject: "Hello", text: "Hi" };

describe("mailbox syntax", () => {
  it("accepts bare addresses and display-name forms, and refuses what is not an address", () => {
    expect(parseMailbox("ane@example.dk")).toEqual({ address: "ane@example.dk" });
    expect(parseMailbox("Ane Lund <ane@example.dk>")).toEqual({ name: "Ane Lund", address: "ane@example.dk" });
    expect(parseMailbox('"Lund, Ane" <ane@example.dk>')).toEqual({ name: "Lund, Ane", address: "ane@example.dk" });
    for (const bad of [
      "ane",
      "ane@",
      "@example.dk",
      "ane@localhost",
      "a b@example.dk",
      "ane..x@example.dk",
      "Ane <ane@example.dk",
      "x@y.dk\r\nBcc: z@y.dk",
    ])
      expect(parseMailbox(bad), bad).toBeNull();
    expect(isEmailAddress(`${"a".repeat(65)}@example.dk`)).toBe(false);
  });

  it("quotes a display name with punctuation when writing it back", () => {
    expect(formatMailbox({ name: "Lund, Ane", address: "ane@example.dk" })).toBe('"Lund, Ane" <ane@example.dk>');
    expect(formatMailbox({ name: 'Say "hi"', address: "a@b.dk" })).toBe('"Say \\"hi\\"" <a@b.dk>');
    expect(formatMailbox({ name: "Ane Lund", address: "ane@example.dk" })).toBe("Ane Lund <ane@example.dk>");
  });
});

describe("an outgoing email", () => {
  it("passes with a text or an html body", () => {
    expect(parseOutgoingEmail(base).subject).toBe("Hello");
    expect(parseOutgoingEmail({ ...base, text: undefined, html: "<p>Hi</p>" }).html).toBe("<p>Hi</p>");
  });

  it("is refused with more than 50 recipients", () => {
    const to = Array.from({ length: 51 }, (_, i) => `r${i}@example.dk`);
    expect(problems({ ...base, to })).toContain("to has more than 50 recipients");
    expect(problems({ ...base, to: [] })).toContain("to needs at least one recipient");
  });

  it("is refused with a subject over 998 characters", () => {
    expect(parseOutgoingEmail({ ...base, subject: "s".repeat(MAX_SUBJECT_LENGTH) }).subject).toHaveLength(998);
    expect(problems({ ...base, subject: "s".repeat(MAX_SUBJECT_LENGTH + 1) })).toContain("subject is longer than 998 characters");
  });

  it("refuses a bad sender, reply-to, attachment name, type or content", () => {
    const message = problems({
      ...base,
      from: "shop",
      replyTo: "support at lund",
      attachments: [
        { filename: "../etc/passwd", contentType: "application/pdf", content: new Uint8Array(1) },
        { filename: "a.pdf", contentType: "pdf", content: new Uint8Array(1) },
        { filename: "b.pdf", contentType: "application/pdf", content: "JVBERi0=" },
      ],
    });
    expect(message).toContain("from is not an email address");
    expect(message).toContain("replyTo is not an email address");
    expect(message).toContain("attachments.0.filename may not contain slashes");
    expect(message).toContain("attachments.1.contentType is not a MIME type");
    expect(message).toContain("attachments.2.content must be a Uint8Array");
  });

  it("refuses two attachments with the same file name (they share one R2 key)", () => {
    const file = { filename: "invoice.pdf", contentType: "application/pdf", content: new Uint8Array(1) };
    expect(problems({ ...base, attachments: [file, file] })).toContain("file names must differ (invoice.pdf)");
  });
});
