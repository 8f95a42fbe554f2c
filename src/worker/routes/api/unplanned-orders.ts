/**
 * /api/v1/unplanned-orders: orders that reached a stage while their source had no enabled flow at
 * all (OrderDO.plan records them), newest first, and `POST /run`, which plans the stages each has
 * reached for the flows enabled now (OrderDO.planReached). Never run by itself: an order booked by
 * hand meanwhile would be booked twice. A row is deleted once flows were planned for its order.
 * The API's auth (auth.ts) admits only tokens of owners and admins, and writes the audit entry.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { decodeCursor } from "../../../db/cursor";
import {
  deleteUnplanned,
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
    firstSeenAt: z.number(),
    lastSeenAt: z.number(),
  })
  .openapi("UnplannedOrder");

const resultSchema = z
  .object({
    id: z.string(),
    result: z.enum(["planned", "no_flow", "cancelled", "not_found", "failed"]).openapi({
      description:
        "planned: the flows enabled now were planned (`made` transfers new; 0 when they were made before or a filter took none), the row is deleted; no_flow: the source still has no enabled flow, nothing done, the row stays; cancelled: the shop cancelled the order, nothing is run for it, the row is deleted; not_found: no such row in this tenant; failed: try again (the row stays)",
    }),
    made: z.number().optional(),
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

export type RunResult = z.infer<typeof resultSchema>;

function shown(row: UnplannedOrderRow): z.infer<typeof rowSchema> {
  const { tenantId: _, ...rest } = row;
  return { id: unplannedKey(row), ...rest };
}

/** Plans one recorded order's reached stages through its object; deletes the row once flows were planned. */
async function runOne(env: Env, tenantId: string, row: UnplannedOrderRow): Promise<RunResult> {
  const id = unplannedKey(row);
  try {
    const done = await orderStub(env, orderObjectName(row.connectionId, row.orderId)).planReached();
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
        await deleteUnplanned(env, tenantId, row);
        return { id, result: "cancelled", reason: "The shop cancelled this order, so no flow is run for it." };
      case "planned":
        await deleteUnplanned(env, tenantId, row);
        return { id, result: "planned", made: done.made };
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
        "Plans the stages each order has reached (and its refunds still held) for the flows enabled now, as if they had been on when it came. A transfer made before is not made again, so running twice books once. Run it only for orders not booked by hand meanwhile.",
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
      if ((q.ids === undefined) === (q.connectionId === undefined))
        throw new OrderlyError("Give either ids or connectionId (one of them).", {
          errorClass: "validation",
          code: "request_invalid",
        });
      return c.json(await runUnplanned(c.env, c.var.tenantId, q), 200);
    },
  );
