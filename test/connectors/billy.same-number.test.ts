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

  it("takes a bare calling code off only when what remains has the country's national length", () => {
    expect(sameNumber("phone", "4512345678", "12345678", "DK")).toBe(true);
    expect(sameNumber("phone", "+45 12 34 56 78", "4512345678", "DK")).toBe(true);
    expect(sameNumber("phone", "15550100199", "(555) 010-0199", "US")).toBe(true);
    // Short numbers beginning with the code's digits are national numbers, not the code and a shorter one.
    expect(sameNumber("phone", "45 12 34 56", "123456", "DK")).toBe(false);
    expect(sameNumber("phone", "1555 0100", "555 0100", "US")).toBe(false);
    // A DK number that begins with 45 keeps it.
    expect(sameNumber("phone", "45 12 34 56", "+45 45 12 34 56", "DK")).toBe(true);
  });

  it("where the national length varies, takes the code off only when written with + or 00", () => {
    expect(sameNumber("phone", "0046 70 123 45 67", "70 123 45 67", "SE")).toBe(true);
    expect(sameNumber("phone", "46701234567", "701234567", "SE")).toBe(false);
    expect(sameNumber("phone", "35840 123 4567", "40 123 4567", "FI")).toBe(false);
  });

  it("applies a calling code to the phone only: VAT, EAN and customer numbers keep their rules", () => {
    expect(sameNumber("registrationNo", "DK12345678", "FI12345678", "DK")).toBe(false);
    expect(sameNumber("registrationNo", "4512345678", "12345678", "DK")).toBe(false);
    expect(sameNumber("ean", "4512345678", "12345678", "DK")).toBe(false);
    expect(sameNumber("contactNo", "0045777", "777", "DK")).toBe(false);
  });
});
