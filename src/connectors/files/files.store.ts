/**
 * Where exported files live: R2 (the BLOBS bucket), one object per step, under the tenant's and the
 * connection's prefix. Everything a listing shows is in the key and the object's customMetadata, so
 * neither the UI nor the API needs a database row. Every read is scoped to a tenant here, once.
 *
 * Key: files/<tenantId>/<connectionId>/<rank>-<yyyy-mm-dd>-<order>-<ref>.<csv|xml>. The rank counts
 * down with the order's creation time, so R2's ascending listing (and its cursor) gives the newest
 * order first; every part comes from the order or the step's reference, never the clock, so a retry
 * computes the same key. An order's number and creation time can change between runs (a
 * sequential-numbers plugin, a creation time read from another version), so the step finds what it
 * wrote by its reference instead: a marker at file-refs/<tenantId>/<connectionId>/<sha256 of the
 * reference>, written before the file, names the file's key (referenceKey).
 *
 * Past the tenant's retention a file is emptied, its record kept (files.retention.ts): `expiredAt`.
 */
import { OrderlyError } from "../../domain/errors";
import type { CanonicalOrder } from "../../domain/order";
import { FILE_FORMATS, type FileFormat, type FileLayout } from "./files.settings";

export const FILES_ROOT = "files";
/** Where each step reference's marker is: outside FILES_ROOT, so no listing of files shows one. */
export const FILE_REFS_ROOT = "file-refs";
const ID = /^[A-Za-z0-9_-]{1,100}$/;
const RANK_BASE = 9_999_999_999_999;

/** The tenant's prefix, or one connection's under it. */
export function filesPrefix(tenantId: string, connectionId?: string): string {
  if (!ID.test(tenantId) || (connectionId !== undefined && !ID.test(connectionId)))
    throw new OrderlyError("A connection id holds only letters, digits, - and _.", {
      errorClass: "validation",
      code: "file_connection_invalid",
    });
  return `${FILES_ROOT}/${tenantId}/${connectionId === undefined ? "" : `${connectionId}/`}`;
}

async function shortRef(reference: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(reference)));
  return Array.from(digest.slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The order's number as a file name part: "#1001" → "1001"; no dots, slashes or spaces. */
function safeOrderNumber(order: CanonicalOrder): string {
  const cleaned = order.source.orderNumber.replace(/[^A-Za-z0-9_-]+/g, "_").replace(/^_+|_+$/g, "");
  return (cleaned || "order").slice(0, 40);
}

/** The file's name without the connection's prefix and without extension: stable per order and step. */
export async function fileStem(order: CanonicalOrder, reference: string): Promise<string> {
  const created = Date.parse(order.source.createdAt);
  const ms = Number.isNaN(created) ? 0 : Math.min(Math.max(created, 0), RANK_BASE);
  const rank = String(RANK_BASE - ms).padStart(13, "0");
  const day = new Date(ms).toISOString().slice(0, 10);
  return `${rank}-${day}-${safeOrderNumber(order)}-${await shortRef(reference)}`;
}

/** The marker naming the file of one step reference: nothing of the order's data is in it. */
export async function referenceKey(tenantId: string, connectionId: string, reference: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(reference)));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${FILE_REFS_ROOT}/${filesPrefix(tenantId, connectionId).slice(FILES_ROOT.length + 1)}${hex}`;
}

/** Whether `key` is a file key under this tenant's and connection's prefix (a step's earlier output, a marker's). */
export function isConnectionFileKey(tenantId: string, connectionId: string, key: unknown): key is string {
  if (typeof key !== "string" || !key.startsWith(filesPrefix(tenantId, connectionId))) return false;
  try {
    checkedKey(tenantId, key);
    return true;
  } catch {
    return false;
  }
}

/** The format a file key's extension names. */
export function formatOfKey(key: string): FileFormat {
  return key.endsWith(".xml") ? "xml" : "csv";
}

export function fileKey(tenantId: string, connectionId: string, stem: string, format: FileFormat): string {
  return `${filesPrefix(tenantId, connectionId)}${stem}.${format}`;
}

/** The file name a person downloads: the connection's prefix, then the stem without its rank. */
export function downloadName(prefix: string, stem: string, format: FileFormat): string {
  return `${prefix}${stem.replace(/^\d{13}-/, "")}.${format}`;
}

/** What each file carries in its customMetadata (strings only, as R2 keeps them). */
export interface FileMeta {
  tenantId: string;
  connectionId: string;
  orderId: string;
  orderNumber: string;
  stage: string;
  layout: FileLayout;
  format: FileFormat;
  reference: string;
  /** The transfer whose step wrote it, when the reference names one. */
  transferId: string;
  filename: string;
  rows: string;
  /** SHA-256 of the bytes as written. */
  sha256: string;
  /**
   * SHA-256 of the columns and rows (the data, whatever the format, delimiter or BOM): a re-run
   * compares what it would write now with it. Absent on files written before it was kept.
   */
  rowsSha256?: string;
  /** When the file was written, once retention emptied it (the object's own time is then the emptying's). */
  writtenAt?: string;
  /** When retention emptied it (ISO 8601): its record stays, its rows are gone. */
  expiredAt?: string;
}

/** The transfer id inside a step reference (`orderly-<transfer>-<step>`), or "". */
export function transferOfReference(reference: string): string {
  return /^orderly-([0-9a-f]{32})-\d+$/.exec(reference)?.[1] ?? "";
}

export interface ListedFile {
  key: string;
  filename: string;
  connectionId: string;
  orderId: string;
  orderNumber: string;
  stage: string;
  layout: string;
  format: string;
  rows: number;
  size: number;
  uploadedAt: string;
  transferId: string | null;
  /** When it was deleted after the retention (its record stays, with no download), or null. */
  expiredAt: string | null;
}

function listed(object: R2Object): ListedFile {
  const m = (object.customMetadata ?? {}) as Partial<FileMeta>;
  const name = object.key.slice(object.key.lastIndexOf("/") + 1);
  return {
    key: object.key,
    filename: m.filename ?? name,
    connectionId: m.connectionId ?? object.key.split("/")[2] ?? "",
    orderId: m.orderId ?? "",
    orderNumber: m.orderNumber ?? "",
    stage: m.stage ?? "",
    layout: m.layout ?? "",
    format: m.format ?? name.slice(name.lastIndexOf(".") + 1),
    rows: Number(m.rows ?? 0),
    size: object.size,
    uploadedAt: m.writtenAt ?? object.uploaded.toISOString(),
    transferId: m.transferId || null,
    expiredAt: m.expiredAt ?? null,
  };
}

/** A page of the tenant's files (one connection's, when given), newest order first. */
export async function listFiles(
  env: Env,
  tenantId: string,
  opts: { connectionId?: string | undefined; cursor?: string | undefined; limit: number },
): Promise<{ files: ListedFile[]; nextCursor: string | null }> {
  const prefix = filesPrefix(tenantId, opts.connectionId);
  let page: R2Objects;
  try {
    page = await env.BLOBS.list({
      prefix,
      limit: opts.limit,
      include: ["customMetadata"],
      ...(opts.cursor ? { cursor: opts.cursor } : {}),
    });
  } catch (error) {
    // R2 refuses a cursor it did not give out for this listing; nothing else is thrown for bad input.
    if (!opts.cursor) throw error;
    throw new OrderlyError("The cursor is not one this listing gave out; list again without it.", {
      errorClass: "validation",
      code: "cursor_invalid",
    });
  }
  return { files: page.objects.map(listed), nextCursor: page.truncated ? page.cursor : null };
}

/** A key the tenant may read: under files/, no "..", and the tenant's own (another tenant's is not found). */
export function checkedKey(tenantId: string, key: string): string {
  const parts = key.split("/");
  const name = parts[3] ?? "";
  const shaped =
    parts.length === 4 &&
    parts[0] === FILES_ROOT &&
    ID.test(parts[1] ?? "") &&
    ID.test(parts[2] ?? "") &&
    !key.includes("..") &&
    /^[A-Za-z0-9_-]+\.[a-z]+$/.test(name) &&
    FILE_FORMATS.some((f) => name.endsWith(`.${f}`));
  if (!shaped)
    throw new OrderlyError(
      "That is not the key of an exported file: use a `key` exactly as the file listing gives it (files/<tenant>/<connection>/<name>.csv or .xml).",
      { errorClass: "validation", code: "file_key_invalid" },
    );
  if (parts[1] !== tenantId) throw fileNotFound();
  return key;
}

function fileNotFound(): OrderlyError {
  return new OrderlyError("No exported file with that key in this tenant. It may belong to another tenant, or never existed.", {
    errorClass: "not_found",
    code: "file_not_found",
  });
}

/** One of the tenant's files with its body, or a not-found error. */
export async function readFile(env: Env, tenantId: string, key: string): Promise<{ file: ListedFile; object: R2ObjectBody }> {
  const object = await env.BLOBS.get(checkedKey(tenantId, key));
  // The key's tenant part decides above; the object's own record must agree (belt and braces).
  if (!object || object.customMetadata?.tenantId !== tenantId) throw fileNotFound();
  const file = listed(object);
  if (file.expiredAt)
    throw new OrderlyError(
      `${file.filename} was deleted after the retention (on ${file.expiredAt.slice(0, 10)}): its rows are gone. Its record stays so that a re-run of its step never writes the order's file a second time.`,
      { errorClass: "not_found", code: "file_expired" },
    );
  return { file, object };
}

/** The headers of a download: its type, and a file name the browser saves it under. */
export function downloadHeaders(file: ListedFile): Record<string, string> {
  const name = file.filename.replace(/[^A-Za-z0-9._-]/g, "_");
  return {
    "content-type": file.format === "xml" ? "application/xml; charset=utf-8" : "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${name}"`,
    "x-content-type-options": "nosniff",
    "cache-control": "private, no-store",
  };
}
