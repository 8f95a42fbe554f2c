/** CSV for Excel and for importers: a UTF-8 BOM unless turned off, and phone numbers left as they are. */
import { describe, expect, it } from "vitest";
import { exportFile } from "../../../src/connectors/files/files.export";
import type { Table } from "../../../src/connectors/files/files.layouts";
import { renderFile } from "../../../src/connectors/files/files.render";
import { filesConnectionSettings } from "../../../src/connectors/files/files.settings";
import { LADDER } from "../../../src/domain/stage";

const table = (cells: string[]): Table => ({
  layout: "pickList",
  columns: ["value"],
  rows: cells.map((value) => ({ value })),
});

describe("CSV files", () => {
  it("start with a UTF-8 BOM by default, so Excel reads København; csvBom: false leaves it out", () => {
    expect(filesConnectionSettings.parse({}).csvBom).toBe(true);
    const withBom = renderFile(table(["København"]), "csv", ";", "#1", true);
    expect([...withBom.body.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(new TextDecoder().decode(withBom.body)).toBe("value\r\nKøbenhavn");
    const without = renderFile(table(["København"]), "csv", ";", "#1", false);
    expect(without.body[0]).toBe("v".charCodeAt(0));
    // XML declares its encoding: never a BOM.
    expect(renderFile(table(["København"]), "xml", ";", "#1", true).body[0]).toBe("<".charCodeAt(0));
  });

  it("leaves a phone number as it is, and still neutralises everything else a spreadsheet would run", () => {
    const phones = ["+45 12 34 56 78", "+45-1234-5678", "(+45) 12345678", "+1 (555) 010-0199", "-42", "-12.5"];
    const formulas = ["=SUM(A1)", "+SUM(A1)", "+45 12 34 cmd", "@x", "-x", "\t=1", "\r=1", "+", "+ -"];
    const { text } = renderFile(table([...phones, ...formulas]), "csv", ";", "#1", false);
    const cells = text.split("\r\n").slice(1);
    expect(cells.slice(0, phones.length)).toEqual(phones);
    for (const [i, cell] of cells.slice(phones.length).entries()) expect(cell, formulas[i]).toMatch(/^"?'/);
  });
});

describe("exportFile's stages", () => {
  it("runs only on the ladder's forward stages, never on refunded or cancelled", () => {
    expect(exportFile.stages).toEqual([...LADDER]);
  });
});
