/**
 * `exportFile`: writes the order as a pick list or its lines, CSV or XML, into R2 for a warehouse to
 * fetch (UI or /api/v1/files). Once per step reference: before it writes, the step looks for what it
 * wrote before by the reference's marker, by its last result's key (`ctx.prior`), then by the key
 * the order's data gives (files written before markers existed). The marker is written before the
 * file, so no run, whatever the order's number or date became, finds nothing after a file exists.
 */

import { OrderlyError } from "../../domain/errors";
import type { CanonicalOrder } from "../../domain/order";
import { LADDER } from "../../domain/stage";
import { type ActionContext, type ActionResult, defineAction } from "../contract";
import { toHex } from "../signatures";
import { type Table, tableOf } from "./files.layouts";
import { CONTENT_TYPES, type RenderedFile, renderFile } from "./files.render";
import {
  type ExportFileSettings,
  exportFileSettings,
  FILE_FORMATS,
  FILE_LAYOUTS,
  type FileFormat,
  type FileLayout,
  type FilesConnectionSettings,
} from "./files.settings";
import {
  downloadName,
  type FileMeta,
  fileKey,
  fileStem,
  formatOfKey,
  isConnectionFileKey,
  referenceKey,
  transferOfReference,
} from "./files.store";

/** How much of the file the `mapped` snapshot shows: enough to read, never the whole of a big one. */
const PREVIEW_ROWS = 20;
const PREVIEW_CHARS = 4_000;

type Ctx = ActionContext<ExportFileSettings, Record<string, never>, FilesConnectionSettings>;

async function sha256(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/** The data of a table, not its bytes: the same rows in another format or with another delimiter hash alike. */
function rowsSha256(table: Table): Promise<string> {
  const data = [table.columns, table.rows.map((row) => table.columns.map((c) => row[c] ?? ""))];
  return sha256(new TextEncoder().encode(JSON.stringify(data)));
}

/** What the step wrote before: the file, or only the key its marker names (the file's put failed). */
type Written = { object: R2Object; marked: boolean } | { key: string; filename: string };

async function writtenBefore(ctx: Ctx, marker: string, order: CanonicalOrder): Promise<Written | null> {
  const { tenantId, id } = ctx.connection;
  const own = (key: unknown): key is string => isConnectionFileKey(tenantId, id, key);
  const mark = await ctx.env.BLOBS.head(marker);
  const marked = mark?.customMetadata?.key;
  if (own(marked)) {
    const object = await ctx.env.BLOBS.head(marked);
    return object ? { object, marked: true } : { key: marked, filename: mark?.customMetadata?.filename ?? "" };
  }
  // Files written before markers: by the last result's key, then by the key the order gives now.
  const prior = ctx.prior?.outputs.key;
  const stem = await fileStem(order, ctx.reference);
  const candidates = [...(own(prior) ? [prior] : []), ...FILE_FORMATS.map((f) => fileKey(tenantId, id, stem, f))];
  for (const key of candidates) {
    const object = await ctx.env.BLOBS.head(key);
    if (object) return { object, marked: false };
  }
  return null;
}

function markerPut(ctx: Ctx, marker: string, key: string, filename: string): Promise<R2Object | null> {
  return ctx.env.BLOBS.put(marker, new Uint8Array(0), { customMetadata: { key, filename, reference: ctx.reference } });
}

/** The table in a layout, or null when the order has nothing left for it (all lines removed since). */
function tableOrNone(order: CanonicalOrder, layout: FileLayout): Table | null {
  try {
    return tableOf(order, layout);
  } catch (error) {
    if (error instanceof OrderlyError && error.code === "files_nothing_to_export") return null;
    throw error;
  }
}

export const exportFile = defineAction<typeof exportFileSettings, Record<string, never>, FilesConnectionSettings>({
  description:
    "Writes the order as a file a warehouse fetches: a pick list (one row per line to pick, with the ship-to address) or the order lines with prices and VAT, as CSV or XML. Files are listed on the Files page and at /api/v1/files.",
  settings: exportFileSettings,
  // Forward stages only: a refund's flow would write a new pick list per refund, a cancellation's
  // would have a cancelled order packed.
  stages: LADDER,
  stagesWhy:
    "a pick list is for an order going forward: a cancelled order must not be packed, and a refund's flow would write the order again for every refund",
  async run(ctx, { order }) {
    const conn = ctx.connection;
    const marker = await referenceKey(conn.tenantId, conn.id, ctx.reference);
    const before = await writtenBefore(ctx, marker, order);
    if (before && "object" in before) return adopt(ctx, order, before.object, before.marked ? null : marker);

    // A marker without its file (the put after it failed) keeps the key, name and format it chose.
    const format = before ? formatOfKey(before.key) : (ctx.settings.format ?? conn.settings.defaultFormat);
    const layout = ctx.settings.layout;
    const stem = await fileStem(order, ctx.reference);
    const key = before?.key ?? fileKey(conn.tenantId, conn.id, stem, format);
    const filename = before?.filename || downloadName(conn.settings.filenamePrefix, stem, format);
    const table = tableOf(order, layout);
    const file = render(ctx, order, table, format);
    snapshot(ctx, key, filename, table, format, file);

    const meta: FileMeta = {
      tenantId: conn.tenantId,
      connectionId: conn.id,
      orderId: order.source.orderId,
      orderNumber: order.source.orderNumber.slice(0, 100),
      stage: order.stage,
      layout,
      format,
      reference: ctx.reference,
      transferId: transferOfReference(ctx.reference),
      filename,
      rows: String(table.rows.length),
      sha256: await sha256(file.body),
      rowsSha256: await rowsSha256(table),
    };
    // The marker first: once a file exists, every later run finds it through the marker.
    if (!before) await markerPut(ctx, marker, key, filename);
    await ctx.env.BLOBS.put(key, file.body, {
      httpMetadata: { contentType: CONTENT_TYPES[format], contentDisposition: `attachment; filename="${filename}"` },
      customMetadata: { ...meta },
    });
    return {
      externalId: key,
      created: true,
      outputs: {
        key,
        filename,
        layout,
        format,
        rows: table.rows.length,
        bytes: file.body.byteLength,
        changedSinceWritten: false,
      },
    };
  },
});

function render(ctx: Ctx, order: CanonicalOrder, table: Table, format: FileFormat): RenderedFile {
  const s = ctx.connection.settings;
  return renderFile(table, format, s.csvDelimiter, order.source.orderNumber, s.csvBom);
}

function snapshot(ctx: Ctx, key: string, filename: string, table: Table, format: FileFormat, file: RenderedFile): void {
  ctx.mapped({
    key,
    filename,
    layout: table.layout,
    format,
    columns: table.columns,
    rowCount: table.rows.length,
    bytes: file.body.byteLength,
    rows: table.rows.slice(0, PREVIEW_ROWS),
    preview: file.text.slice(0, PREVIEW_CHARS),
  });
}

/**
 * Adopted, never rewritten: a warehouse may have fetched it already (or retention emptied it). When
 * the order's rows now differ from those written, `differences` says so, for the alert sweep
 * (src/notifications/difference-alerts.ts): only a person can tell the warehouse.
 */
async function adopt(ctx: Ctx, order: CanonicalOrder, object: R2Object, unmarked: string | null): Promise<ActionResult> {
  const meta = (object.customMetadata ?? {}) as Partial<FileMeta>;
  const layout = FILE_LAYOUTS.find((l) => l === meta.layout) ?? ctx.settings.layout;
  const format = FILE_FORMATS.find((f) => f === meta.format) ?? formatOfKey(object.key);
  const filename = meta.filename ?? object.key.slice(object.key.lastIndexOf("/") + 1);
  // A file from before markers: its marker now, so a later run finds it whatever the order becomes.
  if (unmarked) await markerPut(ctx, unmarked, object.key, filename);
  const table = tableOrNone(order, layout);
  if (table) snapshot(ctx, object.key, filename, table, format, render(ctx, order, table, format));
  // Unknown (null) for a file written before the rows' hash was kept.
  const changed = meta.rowsSha256 === undefined ? null : table === null || (await rowsSha256(table)) !== meta.rowsSha256;
  const gone = meta.expiredAt ? " (since deleted after the retention)" : "";
  const empty = table === null ? ", and it has nothing left to pick" : "";
  return {
    externalId: object.key,
    created: false,
    outputs: {
      key: object.key,
      filename,
      layout,
      format,
      rows: Number(meta.rows ?? 0),
      bytes: object.size,
      changedSinceWritten: changed,
      ...(meta.expiredAt ? { expiredAt: meta.expiredAt } : {}),
      ...(changed
        ? {
            differences: [
              `the order changed after ${filename} was written${gone}${empty}: tell the warehouse. Orderly does not rewrite a file the warehouse may have fetched already.`,
            ],
          }
        : {}),
    },
  };
}
