import { describe, expect, it } from "vitest";
import {
  divideRounded,
  minorUnitExponent,
  netFromGross,
  rateToBasisPoints,
  toDecimalString,
  toMajorNumber,
  toMinor,
} from "../../src/domain/money";

describe("minorUnitExponent", () => {
  it("gives two decimals to most currencies, zero to JPY and three to KWD", () => {
    expect(minorUnitExponent("DKK")).toBe(2);
    expect(minorUnitExponent("EUR")).toBe(2);
    expect(minorUnitExponent("JPY")).toBe(0);
    expect(minorUnitExponent("KWD")).toBe(3);
  });

  it("reads currency codes case-insensitively", () => {
    expect(minorUnitExponent("jpy")).toBe(0);
    expect(minorUnitExponent("kwd")).toBe(3);
  });
});

describe("toMinor", () => {
  it("parses decimal strings exactly into minor units", () => {
    expect(toMinor("249.00", "DKK")).toBe(24900);
    expect(toMinor("0.05", "EUR")).toBe(5);
    expect(toMinor("7", "EUR")).toBe(700);
    expect(toMinor("10.5", "EUR")).toBe(1050);
    expect(toMinor("+3.1", "EUR")).toBe(310);
  });

  it("parses negative amounts", () => {
    expect(toMinor("-10.5", "EUR")).toBe(-1050);
    expect(toMinor("-0.01", "EUR")).toBe(-1);
  });

  it("ignores surrounding whitespace in strings", () => {
    expect(toMinor("  12.34\n", "EUR")).toBe(1234);
  });

  it("parses numbers as their decimal reads, not as their float", () => {
    expect(toMinor(20.66, "DKK")).toBe(2066);
    expect(toMinor(0.1 + 0.2, "EUR")).toBe(30);
    expect(toMinor(-10.5, "EUR")).toBe(-1050);
    expect(toMinor(100, "EUR")).toBe(10000);
    // 2.675 is stored just below the half, yet reads as 2.675 and rounds up.
    expect(toMinor(2.675, "EUR")).toBe(268);
    expect(toMinor(1.005, "EUR")).toBe(101);
  });

  it("never returns negative zero", () => {
    expect(Object.is(toMinor("-0.00", "EUR"), 0)).toBe(true);
    expect(Object.is(toMinor(-0, "EUR"), 0)).toBe(true);
    expect(Object.is(toMinor("-0.001", "EUR"), 0)).toBe(true);
  });

  it("rounds a tie in extra digits away from zero under half-up", () => {
    expect(toMinor("0.125", "EUR", "half-up")).toBe(13);
    expect(toMinor("0.135", "EUR", "half-up")).toBe(14);
    expect(toMinor("-0.125", "EUR", "half-up")).toBe(-13);
  });

  it("uses half-up when no rounding mode is named", () => {
    expect(toMinor("0.125", "EUR")).toBe(13);
  });

  it("rounds a tie in extra digits to the even cent under half-even", () => {
    expect(toMinor("0.125", "EUR", "half-even")).toBe(12);
    expect(toMinor("0.135", "EUR", "half-even")).toBe(14);
    expect(toMinor("-0.125", "EUR", "half-even")).toBe(-12);
    expect(toMinor("-0.135", "EUR", "half-even")).toBe(-14);
  });

  it("treats trailing zeros after a five as a tie", () => {
    expect(toMinor("0.12500", "EUR", "half-even")).toBe(12);
    expect(toMinor("0.12500", "EUR", "half-up")).toBe(13);
  });

  it("rounds extra digits above the half up and below the half down under both modes", () => {
    for (const mode of ["half-up", "half-even"] as const) {
      expect(toMinor("0.12500001", "EUR", mode)).toBe(13);
      expect(toMinor("0.124999", "EUR", mode)).toBe(12);
      expect(toMinor("0.129", "EUR", mode)).toBe(13);
      expect(toMinor("0.1200", "EUR", mode)).toBe(12);
    }
  });

  it("carries a rounding into the whole part", () => {
    expect(toMinor("9.995", "EUR")).toBe(1000);
  });

  it("has no minor unit for zero-decimal currencies such as JPY", () => {
    expect(toMinor("1500", "JPY")).toBe(1500);
    expect(toMinor("1500.00", "JPY")).toBe(1500);
    expect(toMinor("1500.5", "JPY", "half-up")).toBe(1501);
    expect(toMinor("1500.5", "JPY", "half-even")).toBe(1500);
    expect(toMinor("1501.5", "JPY", "half-even")).toBe(1502);
    expect(toMinor("1500.4", "jpy")).toBe(1500);
  });

  it("keeps three decimals for three-decimal currencies such as KWD", () => {
    expect(toMinor("1.234", "KWD")).toBe(1234);
    expect(toMinor("0.5", "KWD")).toBe(500);
    expect(toMinor("1.2345", "KWD", "half-up")).toBe(1235);
    expect(toMinor("1.2345", "KWD", "half-even")).toBe(1234);
  });

  it("refuses anything that is not a plain decimal", () => {
    for (const bad of ["1e3", "", "   ", "abc", "1.", ".5", "1,50", "--1", "1.2.3", "0x10", "12 34"]) {
      expect(() => toMinor(bad, "EUR"), JSON.stringify(bad)).toThrow(RangeError);
    }
  });

  it("refuses NaN and infinite numbers", () => {
    expect(() => toMinor(Number.NaN, "EUR")).toThrow(RangeError);
    expect(() => toMinor(Number.POSITIVE_INFINITY, "EUR")).toThrow(RangeError);
    expect(() => toMinor(Number.NEGATIVE_INFINITY, "EUR")).toThrow(RangeError);
  });

  it("refuses amounts whose minor units are not safe integers", () => {
    expect(() => toMinor("99999999999999999", "EUR")).toThrow(RangeError);
    expect(() => toMinor(1e21, "EUR")).toThrow(RangeError);
  });
});

describe("toDecimalString", () => {
  it("formats minor units with the currency's decimals", () => {
    expect(toDecimalString(24900, "DKK")).toBe("249.00");
    expect(toDecimalString(5, "EUR")).toBe("0.05");
    expect(toDecimalString(0, "EUR")).toBe("0.00");
    expect(toDecimalString(1500, "JPY")).toBe("1500");
    expect(toDecimalString(0, "JPY")).toBe("0");
    expect(toDecimalString(1234, "KWD")).toBe("1.234");
    expect(toDecimalString(5, "KWD")).toBe("0.005");
  });

  it("puts the sign in front of negative amounts, including those under one unit", () => {
    expect(toDecimalString(-1050, "EUR")).toBe("-10.50");
    expect(toDecimalString(-5, "EUR")).toBe("-0.05");
    expect(toDecimalString(-7, "JPY")).toBe("-7");
  });

  it("round-trips through toMinor", () => {
    for (const [minor, currency] of [
      [24900, "DKK"],
      [-5, "EUR"],
      [1, "KWD"],
      [-123456, "KWD"],
      [42, "JPY"],
    ] as const) {
      expect(toMinor(toDecimalString(minor, currency), currency)).toBe(minor);
    }
  });
});

describe("toMajorNumber", () => {
  it("turns minor units into a number of major units", () => {
    expect(toMajorNumber(15920, "DKK")).toBe(159.2);
    expect(toMajorNumber(-5, "EUR")).toBe(-0.05);
    expect(toMajorNumber(1500, "JPY")).toBe(1500);
    expect(toMajorNumber(1234, "KWD")).toBe(1.234);
    expect(toMajorNumber(0, "EUR")).toBe(0);
  });
});

describe("divideRounded", () => {
  it("returns exact quotients unchanged", () => {
    expect(divideRounded(12, 4, "half-up")).toBe(3);
    expect(divideRounded(-12, 4, "half-even")).toBe(-3);
    expect(divideRounded(0, 5, "half-up")).toBe(0);
  });

  it("rounds below the half down and above the half up under both modes", () => {
    for (const mode of ["half-up", "half-even"] as const) {
      expect(divideRounded(7, 3, mode)).toBe(2);
      expect(divideRounded(8, 3, mode)).toBe(3);
      expect(divideRounded(-7, 3, mode)).toBe(-2);
      expect(divideRounded(-8, 3, mode)).toBe(-3);
    }
  });

  it("rounds ties away from zero under half-up", () => {
    expect(divideRounded(10, 4, "half-up")).toBe(3);
    expect(divideRounded(14, 4, "half-up")).toBe(4);
    expect(divideRounded(-10, 4, "half-up")).toBe(-3);
    expect(divideRounded(-14, 4, "half-up")).toBe(-4);
  });

  it("rounds ties to the even neighbour under half-even", () => {
    expect(divideRounded(10, 4, "half-even")).toBe(2);
    expect(divideRounded(14, 4, "half-even")).toBe(4);
    expect(divideRounded(-10, 4, "half-even")).toBe(-2);
    expect(divideRounded(-14, 4, "half-even")).toBe(-4);
    expect(divideRounded(1, 2, "half-even")).toBe(0);
    expect(divideRounded(-1, 2, "half-even")).toBe(0);
  });

  it("never returns negative zero for a small negative numerator", () => {
    expect(Object.is(divideRounded(-1, 4, "half-up"), 0)).toBe(true);
    expect(Object.is(divideRounded(-1, 2, "half-even"), 0)).toBe(true);
  });

  it("refuses a zero or negative denominator", () => {
    expect(() => divideRounded(1, 0, "half-up")).toThrow(RangeError);
    expect(() => divideRounded(1, -2, "half-even")).toThrow(RangeError);
  });
});

describe("rateToBasisPoints", () => {
  it("turns a fraction into basis points", () => {
    expect(rateToBasisPoints(0.25, "fraction")).toBe(2500);
    expect(rateToBasisPoints(0.07, "fraction")).toBe(700);
    expect(rateToBasisPoints(0.255, "fraction")).toBe(2550);
    expect(rateToBasisPoints(0, "fraction")).toBe(0);
  });

  it("turns a percent into basis points", () => {
    expect(rateToBasisPoints(25, "percent")).toBe(2500);
    expect(rateToBasisPoints(12.5, "percent")).toBe(1250);
    expect(rateToBasisPoints(5.5, "percent")).toBe(550);
  });
});

describe("netFromGross", () => {
  it("takes 25% VAT out of 199.00 to leave 159.20", () => {
    expect(netFromGross(19900, 2500, "half-up")).toBe(15920);
    expect(netFromGross(19900, 2500, "half-even")).toBe(15920);
  });

  it("keeps the sign of a negative gross amount", () => {
    expect(netFromGross(-19900, 2500, "half-up")).toBe(-15920);
  });

  it("returns the gross amount when the rate is zero", () => {
    expect(netFromGross(12345, 0, "half-up")).toBe(12345);
  });

  it("rounds a net that falls on a half by the named mode", () => {
    // 5 gross at 100% VAT is 2.5 net.
    expect(netFromGross(5, 10_000, "half-up")).toBe(3);
    expect(netFromGross(5, 10_000, "half-even")).toBe(2);
  });

  it("rounds an inexact net to the nearest minor unit", () => {
    // 100.00 gross at 12% is 89.2857… net.
    expect(netFromGross(10000, 1200, "half-up")).toBe(8929);
  });
});
