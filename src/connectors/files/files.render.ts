/**
 * A table written as a file: CSV through papaparse (quoted where a cell holds the delimiter, a quote
 * or a line break; formulas neutralised for spreadsheets) or XML through fast-xml-parser's builder
 * (entities escaped). Both are bounded: a file is held in memory whole before it is stored.
 */
import { XMLBuilder } from "fast-xml-parser";
import Papa from "papaparse";
import { OrderlyError } from "../../domain/errors";
import type { Table } from "./files.layouts";
import type { FileFormat } from "./files.settings";

/** The most rows one file holds; far above any real order, low enough to keep a step's memory small. */
export const MAX_ROWS = 5_000;
/** The most bytes one file holds. */
export const MAX_BYTES = 2 * 1024 * 1024;

export const CONTENT_TYPES: Record<FileFormat, string> = {
  csv: "text/csv; charset=utf-8",
  xml: "application/xml; charset=utf-8",
};

// A cell starting with = + @ tab or CR (or - not followed by a plain number) is read as a formula by
// Excel and LibreOffice: papaparse puts a ' before it. Negative amounts stay numbers, and so does a
// cell that is only a phone number (digits, spaces, + - and parentheses: "+45 12 34 56 78"): it
// runs no function, and a ' in front of every phone number breaks the warehouse's import.
const FORMULA = /^(?![0-9 ()+-]*[0-9][0-9 ()+-]*$)(?:[=+@\t\r]|-(?!\d+(\.\d+)?$))/;

/** UTF-8's byte order mark: how Excel knows a CSV file is UTF-8 (XML says so in its declaration). */
const BOM = new Uint8Array([0xef, 0xbb, 0xbf]);

function csv(table: Table, delimiter: string): string {
  return Papa.unparse(
    { fields: [...table.columns], data: table.rows.map((row) => table.columns.map((c) => row[c] ?? "")) },
    { delimiter, newline: "\r\n", header: true, escapeFormulae: FORMULA },
  );
}

function xml(table: Table): string {
  const builder = new XMLBuilder({ format: true, indentBy: "  ", ignoreAttributes: false, processEntities: true });
  const lines = table.rows.map((row) => Object.fromEntries(table.columns.map((c) => [c, row[c] ?? ""])));
  return builder.build({
    "?xml": { "@_version": "1.0", "@_encoding": "UTF-8" },
    [table.layout]: { line: lines },
  });
}

export interface RenderedFile {
  body: Uint8Array;
  text: string;
}

/**
 * The file's bytes (UTF-8, a CSV with a BOM when `bom`), or a permanent error naming the order when
 * it would be too big. `text` is without the BOM.
 */
export function renderFile(table: Table, format: FileFormat, delimiter: string, orderNumber: string, bom: boolean): RenderedFile {
  const tooBig = (what: string) =>
    new OrderlyError(
      `The file for order ${orderNumber} would be too big (${what}), so none was written. Split the order in the shop, or export it with the other layout.`,
      { errorClass: "too_large", code: "files_too_large", madeNothing: true },
    );
  if (table.rows.length > MAX_ROWS) throw tooBig(`${table.rows.length} rows; at most ${MAX_ROWS}`);
  const text = format === "csv" ? csv(table, delimiter) : xml(table);
  const encoded = new TextEncoder().encode(text);
  const body = format === "csv" && bom ? concat(BOM, encoded) : encoded;
  if (body.byteLength > MAX_BYTES) throw tooBig(`${body.byteLength} bytes; at most ${MAX_BYTES}`);
  return { body, text };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
