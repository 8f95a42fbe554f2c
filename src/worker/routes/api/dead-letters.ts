/**
 * /api/v1/dead-letters: what Orderly kept but could not process, newest first. Two kinds share the
 * table: transfer steps that exhausted their retries (`transferId` set; retry them through
 * /transfers/retry), and signed webhook deliveries from a source that never re-sends
 * (`kind: "refused_delivery"`, kept with their raw body; see routes/hooks.ts), which are replayed
 * here, one or a connection's all (routes/replay.ts), or marked handled (booked by hand: never
 * replayed). Any API token may replay: tokens work only while their maker is an owner or admin
 * (auth.ts), which also writes the audit entry.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import type { Context } from "hono";
import { database } from "../../../db/client";
import { decodeCursor } from "../../../db/cursor";
import { type DeadLetterRow, deadLetterPage, findDeadLetter, keptRawBody } from "../../../db/dead-letters";
import { apiTokens } from "../../../db/schema";
import { OrderlyError } from "../../../domain/errors";
import {
  deadLettersById,
  markHandled,
  REPLAY_BATCH,
  type ReplayContext,
  replayableOfConnection,
  replayDeadLetter,
  replayFacts,
  replayMany,
} from "../replay";
import { type ApiEnv, apiRouter, errorResponses, errorSchema, notFound, pageQuery } from "./api-env";
import { hashApiToken } from "./auth";

const summarySchema = z
  .object({
    id: z.number(),
    kind: z.enum(["refused_delivery", "step"]),
    transferId: z.string().nullable(),
    connectionId: z.string().nullable(),
    order: z.string().nullable(),
    reason: z.string().nullable(),
    createdAt: z.number(),
    replayable: z
      .boolean()
      .openapi({ description: "A kept delivery not marked handled: POST /dead-letters/{id}/replay takes it again" }),
    replayed: z
      .object({
        at: z.number(),
        by: z.string(),
        accepted: z.number().openapi({ description: "Events handed to the order (0 when nothing was to be booked)" }),
        ignored: z.string().nullable().openapi({ description: "Why nothing was to be booked, when so" }),
      })
      .nullable()
      .openapi({ description: "When a replay took it, and who replayed it" }),
    handled: z
      .object({ at: z.number(), by: z.string() })
      .nullable()
      .openapi({ description: "When a person marked it handled (dealt with by hand), and who: it is never replayed" }),
    checkFirst: z.enum(["manual", "older"]).nullable().openapi({
      description:
        "Set while it waits and a bulk replay leaves it out: manual (its reason said to book or enter it by hand) or older (kept before reasons said so). Check it was not entered by hand, then replay it by id, or mark it handled.",
    }),
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
  const replay = replayFacts(row);
  return {
    replayable: replay.replayable,
    replayed: replay.replayed,
    handled: replay.handled,
    checkFirst: replay.checkFirst,
    id: row.id,
    kind: body.kind === "refused_delivery" ? "refused_delivery" : "step",
    transferId: row.transferId,
    connectionId: text(body.connectionId),
    order: text(body.order),
    reason: row.reason,
    createdAt: row.createdAt,
  };
}

const takenSchema = z
  .object({
    id: z.number(),
    result: z.literal("taken"),
    accepted: z.number().openapi({ description: "Events handed to the order" }),
  })
  .openapi("DeadLetterReplayed");

const ignoredSchema = z
  .object({
    id: z.number(),
    result: z.literal("ignored"),
    code: z.string().openapi({ description: "Why nothing was booked, e.g. test_order" }),
    reason: z.string(),
    replayed: z.boolean().openapi({
      description:
        "True: marked replayed (nothing to book). False for a test order: it stays waiting; switch test orders on (if it is a real sale), then replay it again",
    }),
  })
  .openapi("DeadLetterReplayIgnored");

const bulkResultSchema = z
  .union([
    takenSchema,
    ignoredSchema,
    z.object({
      id: z.number(),
      result: z.enum(["refused", "skipped", "failed"]).openapi({
        description:
          "refused: refused again, the dead letter keeps the new reason; skipped: not found or not replayable (unchanged); failed: the hand-over failed, unchanged, try again",
      }),
      code: z.string(),
      reason: z.string(),
    }),
  ])
  .openapi("DeadLetterReplayResult");

const bulkSchema = z
  .object({
    ids: z.array(z.number().int().positive()).min(1).max(REPLAY_BATCH).optional(),
    connectionId: z.string().min(1).optional().openapi({
      description:
        "Replay this connection's kept deliveries not yet taken, oldest first; those whose reason said to act by hand, or kept before reasons said so (checkFirst), are left out: replay them by id",
    }),
    cursor: z
      .string()
      .regex(/^\d+$/, "is the nextCursor of the previous call")
      .optional()
      .openapi({ description: "`nextCursor` of the previous call (with connectionId)" }),
    limit: z.number().int().min(1).max(REPLAY_BATCH).default(REPLAY_BATCH),
  })
  // A field it does not know must not be dropped: `{ connection: ... }` would match nothing silently.
  .strict()
  .openapi("DeadLetterBulkReplay");

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
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/replay",
      summary: `Replay kept deliveries: the ids given, or a connection's not yet taken and not to be checked first (oldest first), ${REPLAY_BATCH} per call`,
      request: {
        body: {
          content: { "application/json": { schema: bulkSchema } },
          required: true,
        },
      },
      responses: {
        200: {
          description:
            "Each row's outcome. With connectionId: call again with nextCursor while remaining is above 0 (rows refused again stay behind the cursor).",
          content: {
            "application/json": {
              schema: z.object({
                results: z.array(bulkResultSchema),
                nextCursor: z.string().nullable(),
                remaining: z.number().openapi({ description: "Replayable rows of the connection after this call's last" }),
              }),
            },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid("json");
      if ((q.ids === undefined) === (q.connectionId === undefined))
        throw new OrderlyError("Give either ids or connectionId (one of them).", {
          errorClass: "validation",
          code: "request_invalid",
        });
      const ctx = await replayContext(c);
      if (q.ids) {
        const ids = [...new Set(q.ids)];
        const rows = await deadLettersById(c.env, c.var.tenantId, ids);
        const found = new Set(rows.map((r) => r.id));
        const missing = ids
          .filter((id) => !found.has(id))
          .map((id) => ({
            id,
            result: "skipped" as const,
            code: "not_found",
            reason: `Dead letter ${id} was not found in this tenant.`,
          }));
        return c.json({ results: [...(await replayMany(ctx, rows)), ...missing], nextCursor: null, remaining: 0 }, 200);
      }
      const after = q.cursor ? Number(q.cursor) : 0;
      const { rows, remaining } = await replayableOfConnection(c.env, c.var.tenantId, q.connectionId ?? "", after, q.limit);
      const results = await replayMany(ctx, rows);
      const last = rows.at(-1);
      return c.json({ results, nextCursor: last && remaining > 0 ? String(last.id) : null, remaining }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/replay",
      summary:
        "Replay a kept delivery through the webhook path (after its signature check), as if the shop sent it again; the order takes one delivery once",
      request: { params: z.object({ id: z.coerce.number().int().positive() }) },
      responses: {
        200: {
          description:
            "Taken: handed to its order, and the dead letter is marked replayed. Or ignored: nothing to book (marked replayed, except a test order, which stays waiting)",
          content: { "application/json": { schema: z.union([takenSchema, ignoredSchema]) } },
        },
        409: {
          description:
            "Refused again (the error code is the refusal's, e.g. connection_disabled; the dead letter keeps the new reason), or not replayable (not_replayable: a failed step, its body is gone, or marked handled)",
          content: { "application/json": { schema: errorSchema } },
        },
        503: {
          description: "The hand-over failed (replay_failed); nothing was changed: try again",
          content: { "application/json": { schema: errorSchema } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const id = c.req.valid("param").id;
      const row = await findDeadLetter(c.env, c.var.tenantId, id);
      if (!row) throw notFound("Dead letter", String(id));
      const outcome = await replayDeadLetter(await replayContext(c), row);
      if (outcome.result === "refused")
        throw new OrderlyError(outcome.reason, { errorClass: "conflict", code: outcome.code, details: { deadLetterId: id } });
      return c.json(outcome, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/handled",
      summary:
        "Mark a kept delivery handled (booked by hand, or nothing to do): it leaves the waiting ones for good and is never replayed",
      request: { params: z.object({ id: z.coerce.number().int().positive() }) },
      responses: {
        200: {
          description: "Marked handled (again on a handled one: the first marking)",
          content: {
            "application/json": {
              schema: z.object({ id: z.number(), handled: z.object({ at: z.number(), by: z.string() }) }),
            },
          },
        },
        409: {
          description:
            "already_replayed: a replay took it already (nothing to mark); not_a_kept_delivery: a failed step (retry or cancel its transfer)",
          content: { "application/json": { schema: errorSchema } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const id = c.req.valid("param").id;
      const row = await findDeadLetter(c.env, c.var.tenantId, id);
      if (!row) throw notFound("Dead letter", String(id));
      const handled = await markHandled(await replayContext(c), row);
      return c.json({ id, handled }, 200);
    },
  );

/** Who replays through the API, as the dead letter records it: the token's name (auth.ts checked it). */
async function replayContext(c: Context<ApiEnv>): Promise<ReplayContext> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  const token = bearer
    ? await database(c.env)
        .select({ name: apiTokens.name })
        .from(apiTokens)
        .where(eq(apiTokens.tokenHash, await hashApiToken(bearer)))
        .get()
    : undefined;
  return {
    env: c.env,
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    tenantId: c.var.tenantId,
    by: token ? `API token "${token.name}"` : "the API",
  };
}
