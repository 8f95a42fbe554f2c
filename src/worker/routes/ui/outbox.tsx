/**
 * /outbox: every email Orderly recorded for the tenant. Without a mail connection (or locally) it
 * is the dev outbox, where they stop; with one, the record of what the provider was given, so a
 * failed alert or invoice e-mail shows in the UI and not only in the API.
 */
import { and, desc, eq, type SQL } from "drizzle-orm";
import { Hono } from "hono";
import { database } from "../../../db/client";
import { beforeCursor, encodeCursor, readCursor } from "../../../db/cursor";
import { mailOutbox } from "../../../db/schema";
import { OutboxMailPage, OutboxPage } from "../../../ui/pages/outbox";
import { notFoundPage, page } from "./render";
import type { UiEnv } from "./ui-env";

export const outboxRoutes = new Hono<UiEnv>();
const LIMIT = 50;

outboxRoutes.get("/", async (c) => {
  const where: SQL[] = [eq(mailOutbox.tenantId, c.var.session.tenantId)];
  const cursor = readCursor(c.req.query("cursor"));
  if (cursor) where.push(beforeCursor(mailOutbox, ...cursor));
  const rows = await database(c.env)
    .select({
      id: mailOutbox.id,
      subject: mailOutbox.subject,
      toAddresses: mailOutbox.toAddresses,
      createdAt: mailOutbox.createdAt,
      status: mailOutbox.status,
      provider: mailOutbox.provider,
    })
    .from(mailOutbox)
    .where(and(...where))
    .orderBy(desc(mailOutbox.createdAt), desc(mailOutbox.id))
    .limit(LIMIT + 1);
  const last = rows[LIMIT - 1];
  const next = rows.length > LIMIT && last ? `/outbox?cursor=${encodeURIComponent(encodeCursor(last))}` : null;
  const dev = c.var.session.devOutbox;
  return page(
    c,
    { title: dev ? "Dev outbox" : "Emails", active: "outbox" },
    <OutboxPage rows={rows.slice(0, LIMIT)} nextHref={next} dev={dev} />,
  );
});

outboxRoutes.get("/:id", async (c) => {
  const mail = await database(c.env)
    .select()
    .from(mailOutbox)
    .where(and(eq(mailOutbox.id, c.req.param("id")), eq(mailOutbox.tenantId, c.var.session.tenantId)))
    .get();
  if (!mail) return notFoundPage(c);
  return page(c, { title: mail.subject, active: "outbox" }, <OutboxMailPage mail={mail} />);
});
