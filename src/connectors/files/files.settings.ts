/** Settings of a files connection and of an `exportFile` step, as zod (the UI forms and API checks come from them). */
import { z } from "zod";

export const FILE_FORMATS = ["csv", "xml"] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];
export const FILE_LAYOUTS = ["pickList", "orderLines"] as const;
export type FileLayout = (typeof FILE_LAYOUTS)[number];

export const filesConnectionSettings = z.object({
  defaultFormat: z.enum(FILE_FORMATS).default("csv").describe("The file format of a step that does not choose one: csv or xml."),
  csvDelimiter: z
    .enum([";", ","])
    .default(";")
    .describe("What separates the columns of a CSV file: ; (what Excel in most of Europe expects) or ,."),
  // On by default: the default delimiter targets Excel, which reads a CSV without a BOM in the
  // system's code page ("KÃ¸benhavn" on a parcel label, silently). An importer that trips on the
  // BOM fails loudly on its first column name instead, and is turned off once at setup.
  csvBom: z
    .boolean()
    .default(true)
    .describe(
      "Start CSV files with a UTF-8 byte order mark, so Excel shows æ, ø, å and other letters right. Turn it off only if the warehouse's import software reads the first column name wrongly.",
    ),
  filenamePrefix: z
    .string()
    .max(40)
    .regex(/^[A-Za-z0-9_-]*$/, "may hold only letters, digits, - and _")
    .default("")
    .describe('Put before every file name (e.g. "picklist-"); letters, digits, - and _ only.'),
});
export type FilesConnectionSettings = z.infer<typeof filesConnectionSettings>;

export const exportFileSettings = z.object({
  layout: z
    .enum(FILE_LAYOUTS)
    .default("pickList")
    .describe("pickList: one row per line to pick, with where it goes. orderLines: every line with its prices and VAT."),
  format: z.enum(FILE_FORMATS).optional().describe("csv or xml; when not set, the connection's default format."),
});
export type ExportFileSettings = z.infer<typeof exportFileSettings>;
