/**
 * The transfer log's page query: newest first, keyset-paginated on (created_at, id), always led by
 * the tenant through a named index of `transfers` (test/ui/transfer-list-plan checks the plans on
 * 100,000 rows, with and without the planner's statistics). The search box reads what it is given:
 * an email, an amount with decimals, an order number, or else part of a customer's name.
 */
import { and, eq, gte, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../../../db/client";
import { beforeCursor, readCursor } from "../../../../db/cursor";
import { TRANSFER_STATUSES, type TransferStatus, transfers } from "../../../../db/schema";
import { transferLogIndex, transferLogRows, withStatus, withStepTo } from "../../../../db/transfer-filters";
import { STAGES } from "../../../../domain/stage";

export const PAGE_SIZE = 50;
const DAY_MS = 86_400_000;

export interface TransferFilters {
  q?: string;
  status?: TransferStatus;
  stage?: string;
  connection?: string;
  /** A target connection id: transfers with a step to it (the failure alert's link). */
  target?: string;
  /** YYYY-MM-DD, inclusive, UTC. */
  from?: string;
  to?: string;
  cursor?: string;
}

export type SearchKind = "email" | "amount" | "order" | "name";

export function searchKind(q: string): SearchKind {
  if (q.includes("@")) return "email";
  if (/^-?\d+[.,]\d{1,3}$/.test(q)) return "amount";
  if (/^#?[\w-]+$/.test(q) && /\d/.test(q)) return "order";
  return "name";
}

function dayStart(date: string | undefined): number | undefined {
  if (!date || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  const ms = Date.parse(`${date}T00:00:00Z`);
  return Number.isFinite(ms) ? ms : undefined;
}

/** An order number or an email matches a handful of rows, which an index of its own finds. */
function exactSearch(f: TransferFilters): "number" | "email" | undefined {
  const q = f.q?.trim();
  const kind = q ? searchKind(q) : undefined;
  return kind === "email" ? "email" : kind === "order" ? "number" : undefined;
}

function knownStatus(f: TransferFilters): TransferStatus | undefined {
  return f.status && (TRANSFER_STATUSES as readonly string[]).includes(f.status) ? f.status : undefined;
}

function transferWhere(tenantId: string, f: TransferFilters): SQL {
  const where: SQL[] = [eq(transfers.tenantId, tenantId)];
  const status = knownStatus(f);
  if (status) where.push(withStatus(status));
  if (f.stage && (STAGES as readonly string[]).includes(f.stage)) where.push(eq(transfers.stage, f.stage));
  if (f.connection) where.push(eq(transfers.sourceConnectionId, f.connection));
  if (f.target) where.push(withStepTo(f.target));
  const from = dayStart(f.from);
  const to = dayStart(f.to);
  if (from !== undefined) where.push(gte(transfers.createdAt, from));
  if (to !== undefined) where.push(lt(transfers.createdAt, to + DAY_MS));
  const q = f.q?.trim().slice(0, 200);
  if (q) {
    const kind = searchKind(q);
    if (kind === "email") where.push(inArray(transfers.customerEmail, [...new Set([q, q.toLowerCase()])]));
    else if (kind === "amount") {
      const minor = Math.round(Number(q.replace(",", ".")) * 100);
      where.push(eq(transfers.total, minor));
    } else if (kind === "order") {
      const bare = q.replace(/^#/, "");
      where.push(inArray(transfers.orderNumber, [bare, `#${bare}`]));
    } else {
      const pattern = `%${q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      where.push(sql`${transfers.customerName} LIKE ${pattern} ESCAPE '\\'`);
    }
  }
  const cursor = readCursor(f.cursor);
  if (cursor) {
    where.push(beforeCursor(transfers, ...cursor));
  }
  return and(...where) as SQL;
}

/** One page (+1 row to know whether there is a next page). */
export function transferListQuery(db: Db, tenantId: string, f: TransferFilters, limit = PAGE_SIZE) {
  const index = transferLogIndex({ exact: exactSearch(f), status: knownStatus(f) });
  return transferLogRows(db, index, transferWhere(tenantId, f), limit + 1);
}
