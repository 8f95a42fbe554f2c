import { describe, expect, it } from "vitest";
import { ORDER_DO_MIGRATIONS } from "../../src/durable/order-schema";
import { statementsOf } from "../../src/durable/sql";

describe("statementsOf", () => {
  it("splits at semicolons outside comments and strings, and drops empty statements", () => {
    expect(
      statementsOf(`
        CREATE TABLE a (
          -- a note; with a semicolon
          x TEXT NOT NULL DEFAULT 'a;b'
        );
        INSERT INTO a (x) VALUES ("q;r");
        -- only a comment;
      `).map((s) => s.replace(/\s+/g, " ").trim()),
    ).toEqual([
      "CREATE TABLE a ( -- a note; with a semicolon x TEXT NOT NULL DEFAULT 'a;b' )",
      'INSERT INTO a (x) VALUES ("q;r")',
    ]);
  });

  it("finds each statement of the order object's schema", () => {
    const creates = statementsOf(ORDER_DO_MIGRATIONS.fresh!).map((s) => /CREATE TABLE "?(\w+)/.exec(s)?.[1]);
    expect(creates).toEqual(["meta", "events", "transfers", "step_rows", "outbox"]);
  });
});
