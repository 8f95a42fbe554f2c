import { describe, it } from "vitest";
import { casesOf } from "./cases";
import { runCase } from "./run-case";

// Each case: the signed webhook through the real connector, then the exact bodies e-conomic and Billy receive.
describe("accounting cases: exports outside the EU", () => {
  for (const c of casesOf("abroad")) {
    // A known issue's test asserts the right figures and is expected to fail until the code is fixed.
    (c.knownIssue ? it.fails : it)(`${c.id} ${c.title}`, () => runCase(c));
  }
});
