/**
 * /audit: the tenant's audit log, newest first, keyset-paginated on (created_at, id) like the
 * transfer log. Times are not in id order: an API call's row is written when the call ends but
 * carries its start time, after rows the call's own work wrote. Paging by id while sorting by time
 * skipped or repeated such rows; sorting by id instead would show times out of order and walk the
 * table without the (tenant_id, created_at) index.
 */
import { and, desc, eq, type SQL } from "drizzle-orm";
import { Hono } from "hono";
import { database } from "../../../db/client";
import { beforeCursor, encodeCursor, readCursor } from "../../../db/cursor";
import { auditLog, users } from "../../../db/schema";
import { AuditPage } from "../../../ui/pages/audit";
import { page } from "./render";
import type { UiEnv } from "./ui-env";

export const auditRoutes = new Hono<UiEnv>();
const LIMIT = 100;

auditRoutes.get("/", async (c) => {
  const where: SQL[] = [eq(auditLog.tenantId, c.var.session.tenantId)];
  // A cursor this page did not give out (or an old `?before=` link) starts from the newest.
  const cursor = readCursor(c.req.query("cursor"));
  const cursorId = Number(cursor?.[1]);
  if (cursor && Number.isSafeInteger(cursorId)) where.push(beforeCursor(auditLog, cursor[0], cursorId));
  const rows = await database(c.env)
    .select({
      id: auditLog.id,
      tenantId: auditLog.tenantId,
      actor: auditLog.actor,
      action: auditLog.action,
      target: auditLog.target,
      details: auditLog.details,
      createdAt: auditLog.createdAt,
      actorEmail: users.email,
    })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.actor))
    .where(and(...where))
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(LIMIT + 1);
  const last = rows[LIMIT - 1];
  return page(
    c,
    { title: "Audit log", active: "audit" },
    <AuditPage
      rows={rows.slice(0, LIMIT)}
      nextHref={rows.length > LIMIT && last ? `/audit?cursor=${encodeURIComponent(encodeCursor(last))}` : null}
    />,
  );
});
