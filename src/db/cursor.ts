/** Keyset pages newest first (the transfer log, the email outbox, dead letters, the audit log): `createdAt:id`, base64. */
import { and, eq, lt, lte, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { OrderlyError } from "../domain/errors";

export function encodeCursor(row: { createdAt: number; id: string | number }): string {
  return btoa(`${row.createdAt}:${row.id}`);
}

/** A cursor read back; undefined when there is none or it is not one this app gave out. */
export function readCursor(cursor: string | undefined): [number, string] | undefined {
  if (!cursor) return undefined;
  try {
    const text = atob(cursor);
    const split = text.indexOf(":");
    const at = Number(text.slice(0, split));
    const id = text.slice(split + 1);
    return split > 0 && id && Number.isFinite(at) ? [at, id] : undefined;
  } catch {
    return undefined;
  }
}

/** A cursor the API was given: one it did not give out is the caller's error to fix. */
export function decodeCursor(cursor: string): [number, string] {
  const read = readCursor(cursor);
  if (read) return read;
  throw new OrderlyError("The cursor is not one this API gave out.", { errorClass: "validation", code: "cursor_invalid" });
}

/**
 * Rows after a cursor, newest first. The leading `created_at <= at` is implied by the rest, but
 * without it SQLite answers the OR with two index searches and sorts every older row of the
 * tenant; with it, it walks the tenant's time index from the cursor on.
 */
export function beforeCursor(table: { createdAt: SQLiteColumn; id: SQLiteColumn }, at: number, id: string | number): SQL {
  return and(lte(table.createdAt, at), or(lt(table.createdAt, at), and(eq(table.createdAt, at), lt(table.id, id)))) as SQL;
}
