/**
 * When two written forms of a contact number are the same number: up to spaces and punctuation,
 * and for a VAT number up to a country prefix left out on one side, never one that differs.
 */
import { describe, expect, it } from "vitest";
import { sameNumber } from "../../src/connectors/billy/billy.contact";

describe("sameNumber", () => {
  it("takes a VAT number with and without its country prefix as one", () => {
    expect(sameNumber("registrationNo", "DK12345678", "12345678")).toBe(true);
    expect(sameNumber("registrationNo", "DK 12 34 56 78", "dk12345678")).toBe(true);
  });

  it("keeps VAT numbers of two countries apart, though their digits agree", () => {
    expect(sameNumber("registrationNo", "DK12345678", "FI12345678")).toBe(false);
  });

  it("compares other numbers up to spaces and punctuation only", () => {
    expect(sameNumber("phone", "+45 12 34 56 78", "4512345678")).toBe(true);
    expect(sameNumber("phone", "12345678", "4512345678")).toBe(false);
    expect(sameNumber("ean", "", "")).toBe(false);
  });
});
