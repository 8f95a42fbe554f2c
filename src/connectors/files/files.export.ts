/**
 * `exportFile`: writes the order as a pick list or its lines, CSV or XML, into R2 for a warehouse to
 * fetch (UI or /api/v1/files). Effectively once: the key comes from the tenant, the connection, the
 * order and the step's reference, and the step looks for it (in either format) before it writes, so
 * a retried or re-run step adopts the file it wrote instead of writing a second one.
 */

import { type ActionContext, defineAction } from "../contract";
import { toHex } from "../signatures";
import { tableOf } from "./files.layouts";
import { CONTENT_TYPES, renderFile } from "./files.render";
import {
  type ExportFileSettings,
  exportFileSettings,
  FILE_FORMATS,
  type FileFormat,
  type FilesConnectionSettings,
} from "./files.settings";
import { downloadName, type FileMeta, fileKey, fileStem, transferOfReference } from "./files.store";

/** How much of the file the `mapped` snapshot shows: enough to read, never the whole of a big one. */
const PREVIEW_ROWS = 20;
const PREVIEW_CHARS = 4_000;

type Ctx = ActionContext<ExportFileSettings, Record<string, never>, FilesConnectionSettings>;

async function sha256(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/** The file this step wrote before, in whichever format it was written then. */
async function writtenBefore(ctx: Ctx, keys: Record<FileFormat, string>): Promise<R2Object | null> {
  const found = await Promise.all(FILE_FORMATS.map((f) => ctx.env.BLOBS.head(keys[f])));
  return found.find((o) => o !== null) ?? null;
}

export const exportFile = defineAction<typeof exportFileSettings, Record<string, never>, FilesConnectionSettings>({
  description:
    "Writes the order as a file a warehouse fetches: a pick list (one row per line to pick, with the ship-to address) or the order lines with prices and VAT, as CSV or XML. Files are listed on the Files page and at /api/v1/files.",
  settings: exportFileSettings,
  async run(ctx, { order }) {
    const conn = ctx.connection;
    const format = ctx.settings.format ?? conn.settings.defaultFormat;
    const layout = ctx.settings.layout;
    const stem = await fileStem(order, ctx.reference);
    const keys = Object.fromEntries(FILE_FORMATS.map((f) => [f, fileKey(conn.tenantId, conn.id, stem, f)])) as Record<
      FileFormat,
      string
    >;
    const table = tableOf(order, layout);
    const file = renderFile(table, format, conn.settings.csvDelimiter, order.source.orderNumber);
    const filename = downloadName(conn.settings.filenamePrefix, stem, format);
    const hash = await sha256(file.body);
    ctx.mapped({
      key: keys[format],
      filename,
      layout,
      format,
      columns: table.columns,
      rowCount: table.rows.length,
      bytes: file.body.byteLength,
      rows: table.rows.slice(0, PREVIEW_ROWS),
      preview: file.text.slice(0, PREVIEW_CHARS),
    });

    const before = await writtenBefore(ctx, keys);
    if (before) {
      // Adopted, never rewritten: a warehouse may have fetched it already. Say when it would differ now.
      const meta = (before.customMetadata ?? {}) as Partial<FileMeta>;
      return {
        externalId: before.key,
        created: false,
        outputs: {
          key: before.key,
          filename: meta.filename ?? filename,
          layout: meta.layout ?? layout,
          format: meta.format ?? format,
          rows: Number(meta.rows ?? table.rows.length),
          bytes: before.size,
          changedSinceWritten: meta.sha256 !== undefined && meta.sha256 !== hash,
        },
      };
    }

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
      sha256: hash,
    };
    const key = keys[format];
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
