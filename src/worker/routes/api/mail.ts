/** /api/v1/mail/outbox: every email Orderly sent or failed to send for the tenant, newest first. */
import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, type SQL } from "drizzle-orm";
import { database } from "../../../db/client";
import { beforeCursor, decodeCursor, encodeCursor } from "../../../db/cursor";
import { mailOutbox } from "../../../db/schema";
import { apiRouter, errorResponses, notFound, pageQuery } from "./api-env";

const attachmentSchema = z.object({ filename: z.string(), contentType: z.string(), size: z.number() });

const summarySchema = z
  .object({
    id: z.string(),
    provider: z.string(),
    providerId: z.string().nullable(),
    from: z.string(),
    to: z.array(z.string()),
    subject: z.string(),
    status: z.enum(["sent", "failed"]),
    error: z.string().nullable(),
    attachments: z.array(attachmentSchema),
    createdAt: z.number(),
  })
  .openapi("MailSummary");

const detailSchema = summarySchema.extend({ text: z.string().nullable(), html: z.string().nullable() }).openapi("Mail");

type Row = typeof mailOutbox.$inferSelect;

function summary(row: Omit<Row, "text" | "html" | "idempotencyKey" | "tenantId" | "attemptedAt">): z.infer<typeof summarySchema> {
  return {
    id: row.id,
    provider: row.provider,
    providerId: row.providerId,
    from: row.fromAddress,
    to: row.toAddresses,
    subject: row.subject,
    status: row.status,
    error: row.error,
    // The R2 key stays internal; bodies are never part of a listing.
    attachments: (row.attachments ?? []).map(({ filename, contentType, size }) => ({ filename, contentType, size })),
    createdAt: row.createdAt,
  };
}

export const mailRoutes = apiRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/outbox",
      summary: "Emails sent or failed, newest first (without bodies)",
      request: {
        query: pageQuery,
      },
      responses: {
        200: {
          description: "A page of emails",
          content: {
            "application/json": { schema: z.object({ emails: z.array(summarySchema), nextCursor: z.string().nullable() }) },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const where: SQL[] = [eq(mailOutbox.tenantId, c.var.tenantId)];
      if (q.cursor) where.push(beforeCursor(mailOutbox, ...decodeCursor(q.cursor)));
      const rows = await database(c.env)
        .select({
          id: mailOutbox.id,
          provider: mailOutbox.provider,
          providerId: mailOutbox.providerId,
          fromAddress: mailOutbox.fromAddress,
          toAddresses: mailOutbox.toAddresses,
          subject: mailOutbox.subject,
          attachments: mailOutbox.attachments,
          status: mailOutbox.status,
          error: mailOutbox.error,
          createdAt: mailOutbox.createdAt,
        })
        .from(mailOutbox)
        .where(and(...where))
        .orderBy(desc(mailOutbox.createdAt), desc(mailOutbox.id))
        .limit(q.limit + 1);
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > q.limit && last ? encodeCursor(last) : null;
      return c.json({ emails: page.map(summary), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/outbox/{id}",
      summary: "One email with its text and HTML bodies and attachment list",
      request: { params: z.object({ id: z.string() }) },
      responses: {
        200: { description: "The email", content: { "application/json": { schema: detailSchema } } },
        ...errorResponses,
      },
    }),
    async (c) => {
      const id = c.req.valid("param").id;
      const row = await database(c.env)
        .select()
        .from(mailOutbox)
        .where(and(eq(mailOutbox.tenantId, c.var.tenantId), eq(mailOutbox.id, id)))
        .get();
      if (!row) throw notFound("Email", id);
      return c.json({ ...summary(row), text: row.text, html: row.html }, 200);
    },
  );
