/**
 * /api/v1/unplanned-orders: orders that reached a stage while their source had no enabled flow at
 * all (OrderDO.plan records them), newest first; `POST /run`, which plans the stages recorded for
 * each (only those) for the flows enabled now (OrderDO.planReached); and `POST /dismiss`, for the
 * orders a person booked by hand. Never run by itself: an order booked by hand meanwhile would be
 * booked twice. A stage leaves the row once an enabled flow was planned for it; the row goes with
 * its last. The API's auth (auth.ts) admits only tokens of owners and admins, and writes the audit entry.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { decodeCursor } from "../../../db/cursor";
import {
  dismissUnplanned,
  readUnplannedEntry,
  removeUnplannedEntries,
  type UnplannedOrderRow,
  unplannedByKeys,
  unplannedCounts,
  unplannedKey,
  unplannedOfConnection,
  unplannedPage,
} from "../../../db/unplanned-orders";
import { OrderlyError } from "../../../domain/errors";
import { orderObjectName, orderStub } from "../../../durable/order-types";
import { apiRouter, errorResponses, pageQuery } from "./api-env";

/** Orders per run call: each is one call to its order's object. */
export const RUN_BATCH = 100;
/** Order objects called at once. */
const RUN_PARALLEL = 10;

const rowSchema = z
  .object({
    id: z.string().openapi({ description: "`<connectionId>:<orderId>`; POST /unplanned-orders/run takes it" }),
    connectionId: z.string(),
    orderId: z.string(),
    orderNumber: z.string().nullable(),
    stages: z.array(z.string()).openapi({ description: "The stages the order reached while no flow was on" }),
    refunds: z
      .array(z.string())
      .openapi({ description: "The shop's ids of the refunds among them (stage refunded), each credited by a refund flow" }),
    firstSeenAt: z.number(),
    lastSeenAt: z.number(),
  })
  .openapi("UnplannedOrder");

const resultSchema = z
  .object({
    id: z.string(),
    result: z.enum(["planned", "no_flow", "cancelled", "not_found", "failed"]).openapi({
      description:
        "planned: the flows enabled now were planned for the recorded stages they start at (`made` transfers new; 0 when they were made before or a filter took none); those stages leave the row, which is deleted with its last; no_flow: no enabled flow starts at any recorded stage, nothing done, the row stays; cancelled: the shop cancelled the order: its cancellation and refunds were planned, the stages before it are not run (and leave the row); not_found: no such row in this tenant; failed: see reason (the row keeps what failed)",
    }),
    made: z.number().optional(),
    left: z.array(z.string()).optional().openapi({
      description: "Recorded stages no enabled flow starts at: they stay listed (dismiss the order if nothing needs them)",
    }),
    reason: z.string().optional(),
  })
  .openapi("UnplannedOrderRun");

const runSchema = z
  .object({
    ids: z.array(z.string().min(3)).min(1).max(RUN_BATCH).optional(),
    connectionId: z
      .string()
      .min(1)
      .optional()
      .openapi({ description: "Run the flows for this source connection's recorded orders, oldest first" }),
    limit: z.number().int().min(1).max(RUN_BATCH).default(RUN_BATCH),
  })
  // A field it does not know must not be dropped: `{ connection: ... }` would match nothing silently.
  .strict()
  .openapi("UnplannedOrdersRun");

const dismissSchema = z
  .object({
    ids: z.array(z.string().min(3)).min(1).max(RUN_BATCH).optional(),
    connectionId: z.string().min(1).optional().openapi({ description: "Dismiss every recorded order of this source connection" }),
  })
  .strict()
  .openapi("UnplannedOrdersDismiss");

export type RunResult = z.infer<typeof resultSchema>;

function shown(row: UnplannedOrderRow): z.infer<typeof rowSchema> {
  const { tenantId: _, stages, ...rest } = row;
  const read = stages.map(readUnplannedEntry);
  return {
    id: unplannedKey(row),
    ...rest,
    stages: [...new Set(read.map((e) => e.stage))],
    refunds: read.flatMap((e) => (e.stage === "refunded" && e.occurrence ? [e.occurrence] : [])),
  };
}

/** The stages of recorded entries, once each, in the row's order. */
export function stagesOf(entries: string[]): string[] {
  return [...new Set(entries.map((e) => readUnplannedEntry(e).stage))];
}

/** Says which stages stay listed because no enabled flow starts at them. */
function leftReason(left: string[]): string {
  return `No flow switched on starts at ${left.join(", ")}: ${left.length === 1 ? "that stage stays" : "those stages stay"} listed. Switch such a flow on and run again, or dismiss the order if nothing needs ${left.length === 1 ? "it" : "them"}.`;
}

/**
 * Plans one recorded order's recorded stages through its object; the stages done with leave the
 * row (the row goes with its last).
 */
async function runOne(env: Env, tenantId: string, row: UnplannedOrderRow): Promise<RunResult> {
  const id = unplannedKey(row);
  try {
    const done = await orderStub(env, orderObjectName(row.connectionId, row.orderId)).planReached(row.stages);
    switch (done.outcome) {
      case "no_flow":
        return {
          id,
          result: "no_flow",
          reason: "No flow of this order's source is switched on yet: switch one on, then run the flows again.",
        };
      case "unknown":
        return { id, result: "failed", reason: "The order's record holds no order; look at it in the shop and book it by hand." };
      case "cancelled":
      case "planned": {
        await removeUnplannedEntries(env, tenantId, row, done.settled);
        const failed = new Set(done.failed.map((f) => f.entry));
        const left = stagesOf(row.stages.filter((e) => !done.settled.includes(e) && !failed.has(e)));
        const kept = left.length > 0 ? { left } : {};
        if (done.failed.length > 0)
          return {
            id,
            result: "failed",
            made: done.made,
            ...kept,
            reason: [...done.failed.map((f) => f.reason), ...(left.length > 0 ? [leftReason(left)] : [])].join(" "),
          };
        if (done.settled.length === 0) return { id, result: "no_flow", ...kept, reason: leftReason(left) };
        if (done.outcome === "cancelled")
          return {
            id,
            result: "cancelled",
            made: done.made,
            ...kept,
            reason: `The shop cancelled this order: only its cancellation and refunds are run, not the stages before it.${left.length > 0 ? ` ${leftReason(left)}` : ""}`,
          };
        return { id, result: "planned", made: done.made, ...kept, ...(left.length > 0 ? { reason: leftReason(left) } : {}) };
      }
    }
  } catch (error) {
    console.error("unplanned order: flows not run", { id, error: String(error) });
    return {
      id,
      result: "failed",
      reason: "Orderly could not run the flows for this order just now; run them again in a moment.",
    };
  }
}

/**
 * Runs the flows for the rows named (ids) or a connection's oldest rows; shared by the API and the
 * Flows page. `remaining`: the connection's rows left after the call (0 with ids).
 */
export async function runUnplanned(
  env: Env,
  tenantId: string,
  request: { ids?: string[]; connectionId?: string; limit?: number },
): Promise<{ results: RunResult[]; remaining: number }> {
  const ids = request.ids ? [...new Set(request.ids)] : undefined;
  const rows = ids
    ? await unplannedByKeys(env, tenantId, ids)
    : await unplannedOfConnection(env, tenantId, request.connectionId ?? "", request.limit ?? RUN_BATCH);
  const results: RunResult[] = [];
  for (let i = 0; i < rows.length; i += RUN_PARALLEL)
    results.push(...(await Promise.all(rows.slice(i, i + RUN_PARALLEL).map((row) => runOne(env, tenantId, row)))));
  if (ids) {
    const found = new Set(rows.map(unplannedKey));
    for (const id of ids.filter((k) => !found.has(k)))
      results.push({ id, result: "not_found", reason: `No order ${id} waits for its flows in this tenant.` });
    return { results, remaining: 0 };
  }
  const remaining = (await unplannedCounts(env, tenantId)).get(request.connectionId ?? "") ?? 0;
  return { results, remaining };
}

/** Throws unless exactly one of ids and connectionId is given. */
function eitherIdsOrConnection(q: { ids?: string[]; connectionId?: string }): void {
  if ((q.ids === undefined) === (q.connectionId === undefined))
    throw new OrderlyError("Give either ids or connectionId (one of them).", {
      errorClass: "validation",
      code: "request_invalid",
    });
}

export const unplannedOrderRoutes = apiRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      summary: "Orders that arrived while their source had no flow switched on (not transferred), newest first",
      request: { query: pageQuery },
      responses: {
        200: {
          description: "A page of recorded orders",
          content: {
            "application/json": {
              schema: z.object({ unplannedOrders: z.array(rowSchema), nextCursor: z.string().nullable() }),
            },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const { rows, nextCursor } = await unplannedPage(
        c.env,
        c.var.tenantId,
        q.cursor ? decodeCursor(q.cursor) : undefined,
        q.limit,
      );
      return c.json({ unplannedOrders: rows.map(shown), nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/run",
      summary: `Run the flows enabled now for recorded orders: the ids given, or a connection's oldest (${RUN_BATCH} per call)`,
      description:
        "Plans the stages recorded for each order while no flow was on (and only those: a stage a flow took is not booked again) for the flows enabled now, as if they had been on when it came. A transfer made before is not made again, so running twice books once. Run it only for orders not booked by hand meanwhile; dismiss those (POST /unplanned-orders/dismiss).",
      request: { body: { content: { "application/json": { schema: runSchema } }, required: true } },
      responses: {
        200: {
          description:
            "Each order's outcome. With connectionId: call again while remaining is above 0 and the call planned some.",
          content: {
            "application/json": {
              schema: z.object({
                results: z.array(resultSchema),
                remaining: z.number().openapi({ description: "The connection's recorded orders left after this call" }),
              }),
            },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid("json");
      eitherIdsOrConnection(q);
      return c.json(await runUnplanned(c.env, c.var.tenantId, q), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/dismiss",
      summary: "Dismiss recorded orders (booked by hand, say): the ids given, or every one of a connection; nothing is run",
      request: { body: { content: { "application/json": { schema: dismissSchema } }, required: true } },
      responses: {
        200: {
          description: "The ids dismissed (an id not listed in this tenant is not among them)",
          content: { "application/json": { schema: z.object({ dismissed: z.array(z.string()) }) } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid("json");
      eitherIdsOrConnection(q);
      const which = q.ids ? { keys: [...new Set(q.ids)] } : { connectionId: q.connectionId ?? "" };
      return c.json({ dismissed: await dismissUnplanned(c.env, c.var.tenantId, which) }, 200);
    },
  );
