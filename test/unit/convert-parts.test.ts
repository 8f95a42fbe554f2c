/** Parts converted as a running total add up to the converted whole, where each rounded alone would not. */
import { describe, expect, it } from "vitest";
import { convertParts } from "../../src/domain/accounting/exchange";

describe("convertParts", () => {
  it("rounds the running total, so the parts add up to the converted whole", () => {
    const convert = (minor: number) => Math.round(minor / 3);
    const parts = convertParts([100, 100, 100], convert);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(convert(300));
    expect([100, 100, 100].map(convert).reduce((a, b) => a + b, 0)).not.toBe(convert(300));
  });
});
