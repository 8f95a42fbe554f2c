/**
 * /api/v1/dead-letters: what Orderly kept but could not process, newest first. Two kinds share the
 * table: transfer steps that exhausted their retries (`transferId` set; retry them through
 * /transfers/retry), and signed webhook deliveries from a source that never re-sends
 * (`kind: "refused_delivery"`, kept with their raw body; see routes/hooks.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { decodeCursor } from "../../../db/cursor";
import { type DeadLetterRow, deadLetterPage, findDeadLetter, keptRawBody } from "../../../db/dead-letters";
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

function summary(row: DeadLetterRow): z.infer<typeof summarySchema> {
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
      const cursor = q.cursor ? decodeCursor(q.cursor) : undefined;
      const { rows, nextCursor } = await deadLetterPage(
        c.env,
        c.var.tenantId,
        cursor ? [cursor[0], Number(cursor[1])] : undefined,
        q.limit,
      );
      return c.json({ deadLetters: rows.map(summary), nextCursor }, 200);
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
      const row = await findDeadLetter(c.env, c.var.tenantId, id);
      if (!row) throw notFound("Dead letter", String(id));
      const raw = await keptRawBody(c.env, row.body);
      return c.json({ ...summary(row), body: row.body, rawBody: raw?.text ?? null }, 200);
    },
  );
