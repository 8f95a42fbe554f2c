/**
 * What a filter may not do inside a single JSONata step, where no step count or clock can stop
 * it: regular expressions and $eval are refused (at save and at run), and built-ins or operators
 * that would build a huge value are stopped before (or as) they do, with a reason to act on.
 */
import { describe, expect, it } from "vitest";
import { checkFilter, evaluateFilter } from "../../src/domain/flow-filter";
import type { TransferInput } from "../../src/domain/order";

/** Either bound on what an evaluation builds: one value's size, or all it made. */
const BUILT = /a filter may build at most 2000000|it built more than 5000000/;

const input = {
  order: { tags: ["wholesale", "vip"], customer: { company: "Lund ApS" }, totals: { total: 100 }, note: "gift" },
} as unknown as TransferInput;

/** An object that shares its halves, nested `n` levels: 2^n leaves as text, n objects in memory. */
const doubled = (n: number) => `( $f := function($o, $n) { $n = 0 ? $o : $f({"a": $o, "b": $o}, $n - 1) }; $f("x", ${n}) )`;

describe("flow filter bounds", () => {
  it("refuses regular expressions and $eval when saved, wherever they sit, with a reason", () => {
    for (const filter of [
      '$match($pad("", 26, "a") & "!", /^(a|a)+$/)',
      "order.tags[$contains($, /whole/i)]",
      '$replace(order.note, /g/, "G") = "Gift"',
      '$eval("1 + 1") = 2',
      '( $e := $eval; $e("true") )',
    ])
      expect(() => checkFilter(filter), filter).toThrow(/not allowed in a filter/);
    expect(() => checkFilter('$contains(order.note, "gift")')).not.toThrow();
  });

  it("refuses them when evaluated too (a filter saved before the rule)", async () => {
    expect(await evaluateFilter("$contains(order.note, /gi/)", input)).toEqual({
      error: expect.stringContaining("regular expressions (/…/) are not allowed in a filter"),
    });
    expect(await evaluateFilter('$eval("true")', input)).toEqual({ error: expect.stringContaining("$eval is not allowed") });
  });

  it("caps $pad's width, and a long pad string does not multiply it", async () => {
    expect(await evaluateFilter('$pad("", 50000000)', input)).toEqual({
      error: expect.stringContaining("$pad: a width of 50000000; a filter may pad to at most 1000 characters"),
    });
    expect(await evaluateFilter('$length($pad("", -1000, "ab")) = 1000', input)).toEqual({ match: true });
    expect(await evaluateFilter('$pad("7", -3, "0") = "007"', input)).toEqual({ match: true });
    const wide = `$length($pad("", 1000, $join($map([1..1000], function() { "abcdefghij" })))) = 1000`;
    expect(await evaluateFilter(wide, input)).toEqual({ match: true });
  });

  it("stops a value that shares its parts from being written out or compared in full", async () => {
    // 2^20 leaves: some 13 MB of text from a few dozen steps.
    // Indented, a chain 1,500 levels deep is some 2 MB of spaces.
    const chain = '$reduce([1..1500], function($o, $i) { {"a": $o} }, 1)';
    for (const use of [`$string(${doubled(20)})`, `${doubled(20)} & ""`, `$string(${chain}, true)`])
      expect(await evaluateFilter(`$length(${use}) > 0`, input), use).toEqual({
        error: expect.stringMatching(/A value of \d+ characters or more was built; a filter may build at most 2000000/),
      });
    expect(await evaluateFilter(`( $o := ${doubled(20)}; $o = $o )`, input)).toEqual({
      error: expect.stringMatching(/at most 2000000/),
    });
  });

  it("stops joins, replacements and doublings that would build a huge string", async () => {
    // 30,000 characters in a few hundred steps.
    const big = '$join($map([1..30], function() { $pad("", 1000, "x") }))';
    expect(await evaluateFilter(`( $big := ${big}; $length($join($map([1..100], function() { $big }))) > 0 )`, input)).toEqual({
      error: expect.stringMatching(/A value of \d+ characters or more was built; a filter may build at most 2000000/),
    });
    expect(await evaluateFilter(`( $big := ${big}; $length($replace($big, "x", $big)) > 0 )`, input)).toEqual({
      error: expect.stringContaining("at most 2000000"),
    });
    const doubling = '( $f := function($s, $n) { $n = 0 ? $s : $f($s & $s, $n - 1) }; $length($f("x", 40)) > 0 )';
    expect(await evaluateFilter(doubling, input)).toEqual({ error: expect.stringMatching(BUILT) });
  });

  it("charges a sort or a distinct of many items as the work it is", async () => {
    expect(await evaluateFilter('$count($distinct($split($join($map([1..10000], $string)), ""))) > 0', input)).toEqual({
      error: expect.stringContaining("Evaluation stopped after 100000 steps"),
    });
    expect(await evaluateFilter('$count($sort($split($join($map([1..10000], $string)), ""))) > 0', input)).toEqual({
      error: expect.stringContaining("Evaluation stopped after 100000 steps"),
    });
  });

  it("keeps ordinary filters working as JSONata has them", async () => {
    for (const filter of [
      '$contains($string(order), "Lund")',
      '$contains($string(order, true), "Lund")',
      '$join(order.tags, ",") = "wholesale,vip"',
      '$replace(order.note, "g", "G") = "Gift"',
      '$sort(order.tags)[0] = "vip"',
      "$count($distinct([order.tags, order.tags])) = 2",
      "order.customer = order.customer",
      '$split("a,b", ",")[1] = "b"',
      '$uppercase(order.customer.company) = "LUND APS"',
    ])
      expect(await evaluateFilter(filter, input), filter).toEqual({ match: true });
  });
});
