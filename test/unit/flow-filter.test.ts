/** The filter module: JSONata's truthiness, its bounds, and errors a person can act on. */
import { describe, expect, it } from "vitest";
import { checkFilter, evaluateFilter, truthy } from "../../src/domain/flow-filter";
import type { TransferInput } from "../../src/domain/order";

const input = {
  order: { tags: ["wholesale"], customer: { company: "Lund ApS" }, billingAddress: { country: "DK" }, totals: { total: 100 } },
} as unknown as TransferInput;

describe("flow filter", () => {
  it("reads a result as JSONata's $boolean does", () => {
    for (const no of [undefined, null, false, 0, "", [], {}, [0, ""], () => true]) expect(truthy(no), String(no)).toBe(false);
    for (const yes of [true, 1, "x", [false, 1], { a: 1 }]) expect(truthy(yes), String(yes)).toBe(true);
  });

  it("matches on the canonical order's fields", async () => {
    expect(await evaluateFilter('"wholesale" in order.tags', input)).toEqual({ match: true });
    expect(await evaluateFilter('order.billingAddress.country = "SE"', input)).toEqual({ match: false });
    // A field the order lacks is no error: the comparison is simply false.
    expect(await evaluateFilter("order.customer.vatNumber = 'DK1'", input)).toEqual({ match: false });
  });

  it("stops a loop by its step count (the clock is only a backstop), and deep recursion by depth", async () => {
    const loop = await evaluateFilter("( $f := function($n) { $f($n + 1) }; $f(0) )", input);
    expect(loop).toEqual({
      error: expect.stringMatching(/^Evaluation stopped after 100000 steps/),
    });
    const deep = await evaluateFilter("( $f := function($n) { 1 + $f($n + 1) }; $f(0) )", input);
    expect(deep).toEqual({ error: expect.stringContaining("D1011") });
    // The count is per evaluation: the cached expression still runs afterwards.
    expect(await evaluateFilter('"wholesale" in order.tags', input)).toEqual({ match: true });
  });

  it("stores a trimmed filter, null for none, and refuses a bad or long one", () => {
    expect(checkFilter("  true ")).toBe("true");
    expect(checkFilter("")).toBeNull();
    expect(checkFilter(null)).toBeNull();
    expect(checkFilter(undefined)).toBeNull();
    expect(() => checkFilter("order.(")).toThrow(/does not parse: .*at character/);
    expect(() => checkFilter("x".repeat(2001))).toThrow(/at most 2000/);
  });
});
