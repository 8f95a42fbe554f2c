import { describe, expect, it } from "vitest";
import committed from "../../docs/accounting-cases.md?raw";
import { arithmeticProblems } from "./arithmetic";
import { accountingCases } from "./cases";
import { renderAccountingCases } from "./render";

describe("docs/accounting-cases.md", () => {
  it("is what the case data renders (regenerate with `node scripts/accounting-cases.mjs`)", () => {
    expect(committed).toBe(renderAccountingCases(accountingCases));
  });

  it("has at least 40 cases, each with its own id", () => {
    expect(accountingCases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(accountingCases.map((c) => c.id)).size).toBe(accountingCases.length);
  });

  for (const c of accountingCases) {
    it(`${c.id} adds up: lines, rounding and VAT make each target's total, which is what was paid`, () => {
      expect(arithmeticProblems(c)).toEqual([]);
    });
  }
});
