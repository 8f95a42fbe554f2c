/**
 * /api/v1/dead-letters: what Orderly kept but could not process, newest first. Two kinds share the
 * table: transfer steps that exhausted their retries (`transferId` set; retry them through
 * /transfers/retry), and signed webhook deliveries from a source that never re-sends
 * (`kind: "refused_delivery"`, kept with their raw body; see routes/hooks.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, type SQL } from "drizzle-orm";
import { database } from "../../../db/client";
import { beforeCursor, decodeCursor, encodeCursor } from "../../../db/cursor";
import { deadLetters } from "../../../db/schema";
import { apiRouter, errorResponses, notFound, pageQuery } from "./api-env";

const summarySchema = z
  .object({
    id: z.number(),
    kind: z.enum(["refused_delivery", "step"]),
    transferId: z.string().nullable(),
    connectionId: z.string().nullable(),
    order: z.string().nullable(),
    reason: z.string().nullable(),
    createdAt: z.number(),
  })
  .openapi("DeadLetterSummary");

const detailSchema = summarySchema
  .extend({
    body: z.unknown().openapi({ description: "What was kept: the step message, or the delivery's headers and raw body" }),
    rawBody: z
      .string()
      .nullable()
      .openapi({ description: "A kept delivery's body as received (from R2 when it was large); null for steps" }),
  })
  .openapi("DeadLetter");

type Row = typeof deadLetters.$inferSelect;

function summary(row: Row): z.infer<typeof summarySchema> {
  const body = (row.body ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  return {
    id: row.id,
    kind: body.kind === "refused_delivery" ? "refused_delivery" : "step",
    transferId: row.transferId,
    connectionId: text(body.connectionId),
    order: text(body.order),
    reason: row.reason,
    createdAt: row.createdAt,
  };
}

export const deadLetterRoutes = apiRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      summary: "Kept but not processed: failed steps and refused webhook deliveries, newest first (without bodies)",
      request: {
        query: pageQuery,
      },
      responses: {
        200: {
          description: "A page of dead letters",
          content: {
            "application/json": { schema: z.object({ deadLetters: z.array(summarySchema), nextCursor: z.string().nullable() }) },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const where: SQL[] = [eq(deadLetters.tenantId, c.var.tenantId)];
      if (q.cursor) {
        const [at, id] = decodeCursor(q.cursor);
        where.push(beforeCursor(deadLetters, at, Number(id)));
      }
      const rows = await database(c.env)
        .select()
        .from(deadLetters)
        .where(and(...where))
        .orderBy(desc(deadLetters.createdAt), desc(deadLetters.id))
        .limit(q.limit + 1);
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > q.limit && last ? encodeCursor(last) : null;
      return c.json({ deadLetters: page.map(summary), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      summary: "One dead letter with what was kept, a refused delivery's raw body included",
      request: { params: z.object({ id: z.coerce.number().int().positive() }) },
      responses: {
        200: { description: "The dead letter", content: { "application/json": { schema: detailSchema } } },
        ...errorResponses,
      },
    }),
    async (c) => {
      const id = c.req.valid("param").id;
      const row = await database(c.env)
        .select()
        .from(deadLetters)
        .where(and(eq(deadLetters.tenantId, c.var.tenantId), eq(deadLetters.id, id)))
        .get();
      if (!row) throw notFound("Dead letter", String(id));
      return c.json({ ...summary(row), body: row.body, rawBody: await rawBody(c.env, row.body) }, 200);
    },
  );

/** A refused delivery's body: inline when it was small, else its R2 object (null if that is gone). */
async function rawBody(env: Env, body: unknown): Promise<string | null> {
  const raw = (body as { raw?: { body?: unknown; blobKey?: unknown } } | null)?.raw;
  if (typeof raw?.body === "string") return raw.body;
  if (typeof raw?.blobKey !== "string") return null;
  const object = await env.BLOBS.get(raw.blobKey);
  return object ? await object.text() : null;
}
