/** Keyset pages of the transfer log and the email outbox, newest first: `createdAt:id`, base64. */
import { and, eq, lt, lte, or, type SQL } from "drizzle-orm";
import { transfers } from "./schema";

export function encodeCursor(row: { createdAt: number; id: string | number }): string {
  return btoa(`${row.createdAt}:${row.id}`);
}

/**
 * Transfers after a cursor, newest first. The leading `created_at <= at` is implied by the rest,
 * but without it SQLite answers the OR with two index searches and sorts every older row of the
 * tenant; with it, it walks the tenant's time index from the cursor on.
 */
export function beforeCursor(at: number, id: string): SQL {
  return and(
    lte(transfers.createdAt, at),
    or(lt(transfers.createdAt, at), and(eq(transfers.createdAt, at), lt(transfers.id, id))),
  ) as SQL;
}
