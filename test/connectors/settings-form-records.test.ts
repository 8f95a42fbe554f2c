/**
 * Record settings typed into a connection or step form ("DE = oss-de", one per line) are read in
 * time linear in the line: the pattern that read them backtracked cubically on spaces before a
 * word, so one submitted form could hold a request for seconds per line.
 */
import { describe, expect, it } from "vitest";
import { type FieldSpec, readFields } from "../../src/worker/routes/ui/forms/schema-fields";

const products: FieldSpec = {
  key: "ossProducts",
  name: "settings.ossProducts",
  label: "OSS products",
  kind: "record",
  required: false,
};
const rates: FieldSpec = { ...products, key: "rates", name: "settings.rates", label: "Rates", numericValues: true };

function read(field: FieldSpec, text: string) {
  const errors: string[] = [];
  const value = readFields([field], { [field.name]: text }, errors);
  return { value: value[field.key], errors };
}

describe("record lines in a settings form", () => {
  it("reads key = value and key: value, trimmed, and numbers where the values are numbers", () => {
    expect(read(products, "DE = oss-de\r\n  SE:oss-se  \n\n FR =  x y ").value).toEqual({
      DE: "oss-de",
      SE: "oss-se",
      FR: "x y",
    });
    expect(read(rates, "1200 = 7\n0: none").value).toEqual({ "1200": 7, "0": "none" });
    expect(read(products, "no separator\n= no key").errors).toEqual([
      "OSS products, line 1: write it as key = value.",
      "OSS products, line 2: write it as key = value.",
    ]);
  });

  it("refuses a key written on two lines instead of keeping the last one silently", () => {
    const { errors } = read(products, "DE = oss-de\nSE = oss-se\nDE = oss-de-7");
    expect(errors).toEqual(['OSS products, line 3: "DE" is already on line 1; keep one of them.']);
  });

  // No pattern runs on a line any more (50 such lines took 3 s through the old one); the speed
  // itself is not asserted here: timing belongs in a benchmark, not a unit test.
  it("reads 50 lines of 999 spaces before a word, each a clear error", () => {
    const { errors } = read(products, Array.from({ length: 50 }, () => `${" ".repeat(999)}x`).join("\n"));
    expect(errors).toHaveLength(50);
    expect(errors[0]).toBe("OSS products, line 1: write it as key = value.");
  });

  it("refuses a line longer than 1000 characters without reading it", () => {
    const { value, errors } = read(products, `DE = ok\n${"k".repeat(2000)} = v`);
    expect(value).toEqual({ DE: "ok" });
    expect(errors).toEqual(["OSS products, line 2: is longer than 1000 characters; write one key = value per line."]);
  });
});
