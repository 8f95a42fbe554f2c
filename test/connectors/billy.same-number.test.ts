/**
 * When two written forms of a contact number are the same number: up to spaces and punctuation,
 * for a VAT number up to a country prefix left out on one side, never one that differs, and for a
 * phone up to the calling code of the order's country, when that country is known.
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

  it("takes a phone with and without the order country's calling code, + or 00, as one", () => {
    expect(sameNumber("phone", "+45 12 34 56 78", "12345678", "DK")).toBe(true);
    expect(sameNumber("phone", "12345678", "0045 12 34 56 78", "DK")).toBe(true);
    expect(sameNumber("phone", "00 45 12345678", "+4512345678", "dk")).toBe(true);
    expect(sameNumber("phone", "+358 40 123 4567", "40 123 4567", "FI")).toBe(true);
    expect(sameNumber("phone", "+1 (555) 010-0199", "555 010 0199", "US")).toBe(true);
  });

  it("keeps a phone apart from one with another country's code, or when the order's country is unknown", () => {
    expect(sameNumber("phone", "+46 12 34 56 78", "12345678", "DK")).toBe(false);
    expect(sameNumber("phone", "+45 12 34 56 78", "12345678", "SE")).toBe(false);
    expect(sameNumber("phone", "+45 12 34 56 78", "12345678")).toBe(false);
    expect(sameNumber("phone", "+45 12 34 56 78", "12345678", "ZZ")).toBe(false);
    expect(sameNumber("phone", "+45 87 65 43 21", "12345678", "DK")).toBe(false);
    expect(sameNumber("phone", "", "45", "DK")).toBe(false);
  });

  it("applies a calling code to the phone only: VAT, EAN and customer numbers keep their rules", () => {
    expect(sameNumber("registrationNo", "DK12345678", "FI12345678", "DK")).toBe(false);
    expect(sameNumber("registrationNo", "4512345678", "12345678", "DK")).toBe(false);
    expect(sameNumber("ean", "4512345678", "12345678", "DK")).toBe(false);
    expect(sameNumber("contactNo", "0045777", "777", "DK")).toBe(false);
  });
});
