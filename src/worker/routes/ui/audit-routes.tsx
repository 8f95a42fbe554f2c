/** /audit: the tenant's audit log, newest first. */
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { Hono } from "hono";
import { database } from "../../../db/client";
import { auditLog, users } from "../../../db/schema";
import { AuditPage } from "../../../ui/pages/audit";
import { page } from "./render";
import type { UiEnv } from "./ui-env";

export const auditRoutes = new Hono<UiEnv>();
const LIMIT = 100;

auditRoutes.get("/", async (c) => {
  const where: SQL[] = [eq(auditLog.tenantId, c.var.session.tenantId)];
  const before = Number(c.req.query("before"));
  if (Number.isInteger(before) && before > 0) where.push(lt(auditLog.id, before));
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
    <AuditPage rows={rows.slice(0, LIMIT)} nextHref={rows.length > LIMIT && last ? `/audit?before=${last.id}` : null} />,
  );
});
