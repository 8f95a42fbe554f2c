/** /api/v1/transfers: the transfer log, each transfer's snapshots, and retry. */
import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, gte, inArray, lt, type SQL } from "drizzle-orm";
import { getConnector } from "../../../connectors/registry";
import { type Db, database } from "../../../db/client";
import { beforeCursor, decodeCursor, encodeCursor } from "../../../db/cursor";
import {
  attempts,
  connections,
  type FlowStepConfig,
  snapshots,
  TRANSFER_STATUSES,
  type TransferStatus,
  transferSteps,
  transfers,
} from "../../../db/schema";
import { latestSnapshot, mergeAttempts, readHistory } from "../../../db/snapshots";
import { transferLogIndex, transferLogRows, withStatus, withStepTo } from "../../../db/transfer-filters";
import { OrderlyError } from "../../../domain/errors";
import { type CanonicalOrder, orderSchema, type TransferInput } from "../../../domain/order";
import { stageSchema } from "../../../domain/stage";
import { orderObjectName, orderStub } from "../../../durable/order-types";
import { apiRouter, errorResponses, notFound, pageQuery } from "./api-env";
import { findFlow } from "./flows";

const transferSchema = z
  .object({
    id: z.string(),
    flowId: z.string(),
    sourceConnectionId: z.string(),
    orderId: z.string(),
    orderNumber: z.string().nullable(),
    stage: z.string(),
    occurrence: z.string(),
    status: z.enum(TRANSFER_STATUSES),
    stepCount: z.number(),
    stepsDone: z.number(),
    errorReason: z.string().nullable(),
    errorClass: z.string().nullable(),
    customerEmail: z.string().nullable(),
    customerName: z.string().nullable(),
    total: z.number().nullable(),
    currency: z.string().nullable(),
    createdAt: z.number(),
    updatedAt: z.number(),
    completedAt: z.number().nullable(),
  })
  .openapi("Transfer");

const listQuery = z.object({
  status: z.enum(TRANSFER_STATUSES).optional(),
  stage: stageSchema.optional(),
  connection: z.string().optional().openapi({ description: "Source connection id" }),
  target: z.string().optional().openapi({ description: "Target connection id of any of the transfer's steps" }),
  flow: z.string().optional(),
  order: z.string().optional().openapi({ description: "Source order id" }),
  from: z.coerce.number().int().optional().openapi({ description: "Created at or after (ms since epoch)" }),
  to: z.coerce.number().int().optional().openapi({ description: "Created before (ms since epoch)" }),
  ...pageQuery.shape,
});

const idParam = z.object({ id: z.string() });

/** The filters the list and the bulk retry share. */
interface LogFilters {
  status?: TransferStatus;
  stage?: string;
  connection?: string;
  target?: string;
  flow?: string;
  order?: string;
  from?: number;
  to?: number;
  cursor?: string;
  limit: number;
}

/** One page of the filtered log (+1 row to know whether another follows). */
function logPage(db: Db, tenantId: string, q: LogFilters) {
  const where: SQL[] = [eq(transfers.tenantId, tenantId)];
  if (q.status) where.push(withStatus(q.status));
  if (q.stage) where.push(eq(transfers.stage, q.stage));
  if (q.connection) where.push(eq(transfers.sourceConnectionId, q.connection));
  if (q.target) where.push(withStepTo(q.target));
  if (q.flow) where.push(eq(transfers.flowId, q.flow));
  if (q.order) where.push(eq(transfers.orderId, q.order));
  if (q.from !== undefined) where.push(gte(transfers.createdAt, q.from));
  if (q.to !== undefined) where.push(lt(transfers.createdAt, q.to));
  if (q.cursor) where.push(beforeCursor(transfers, ...decodeCursor(q.cursor)));
  const index = transferLogIndex({ exact: q.order ? "order" : undefined, status: q.status });
  return transferLogRows(db, index, and(...where) as SQL, q.limit + 1);
}

export const transferRoutes = apiRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      summary: "List transfers, newest first",
      request: { query: listQuery },
      responses: {
        200: {
          description: "A page of transfers",
          content: {
            "application/json": { schema: z.object({ transfers: z.array(transferSchema), nextCursor: z.string().nullable() }) },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      const rows = await logPage(database(c.env), c.var.tenantId, q);
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      const nextCursor = rows.length > q.limit && last ? encodeCursor(last) : null;
      return c.json({ transfers: page, nextCursor }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      summary: "A transfer with its steps, every snapshot and how each attempt went",
      request: { params: idParam },
      responses: {
        200: {
          description: "The transfer",
          content: {
            "application/json": {
              schema: transferSchema.extend({
                steps: z.array(z.record(z.string(), z.unknown())),
                snapshots: z.array(
                  z.object({
                    id: z.number(),
                    part: z
                      .number()
                      .describe(
                        "Position inside the stored row: snapshots stored together (one write of the log) share a row id.",
                      ),
                    kind: z.string(),
                    stepIndex: z.number().nullable(),
                    attempt: z.number().nullable(),
                    size: z.number(),
                    createdAt: z.number(),
                    data: z.unknown(),
                  }),
                ),
                attempts: z.array(
                  z.object({
                    stepIndex: z.number(),
                    attempt: z.number(),
                    outcome: z.enum(["ok", "retry", "failed"]),
                    errorClass: z.string().nullable(),
                    latencyMs: z.number(),
                    createdAt: z.number(),
                  }),
                ),
              }),
            },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const transfer = await findTransfer(c.env, c.var.tenantId, c.req.valid("param").id);
      const db = database(c.env);
      const [steps, rows, older] = await Promise.all([
        db.select().from(transferSteps).where(eq(transferSteps.transferId, transfer.id)).orderBy(asc(transferSteps.stepIndex)),
        db
          .select()
          .from(snapshots)
          .where(and(eq(snapshots.transferId, transfer.id), eq(snapshots.tenantId, c.var.tenantId)))
          .orderBy(asc(snapshots.id)),
        db
          .select()
          .from(attempts)
          .where(and(eq(attempts.transferId, transfer.id), eq(attempts.tenantId, c.var.tenantId))),
      ]);
      const history = await readHistory(c.env, rows);
      const tries = mergeAttempts(older, history.attempts).map(
        ({ stepIndex, attempt, outcome, errorClass, latencyMs, createdAt }) => ({
          stepIndex,
          attempt,
          outcome,
          errorClass,
          latencyMs,
          createdAt,
        }),
      );
      return c.json({ ...transfer, steps, snapshots: history.snapshots, attempts: tries }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/retry",
      summary: "Retry a failed transfer (or re-run a completed one from the start; targets adopt, never duplicate)",
      request: {
        params: idParam,
        body: {
          content: {
            "application/json": {
              schema: z.object({
                fromStart: z.boolean().default(false),
                useCurrentSettings: z
                  .boolean()
                  .default(false)
                  .openapi({ description: "Take the flow's current steps and settings" }),
                order: orderSchema.optional().openapi({
                  description:
                    "A corrected canonical order to use from now on (edit, then retry). Its source.connector, source.orderId and source.orderNumber must stay the transfer's own: another order's are refused (400 retry_order_mismatch).",
                }),
              }),
            },
          },
          required: false,
        },
      },
      responses: {
        202: { description: "Queued", content: { "application/json": { schema: z.object({ status: z.string() }) } } },
        409: { description: "Not retryable" },
        ...errorResponses,
      },
    }),
    async (c) => {
      const transfer = await findTransfer(c.env, c.var.tenantId, c.req.valid("param").id);
      const body = c.req.valid("json") ?? { fromStart: false, useCurrentSettings: false };
      const steps = body.useCurrentSettings ? (await findFlow(c.env, c.var.tenantId, transfer.flowId)).steps : undefined;
      const order = orderStub(c.env, orderObjectName(transfer.sourceConnectionId, transfer.orderId));
      let input: TransferInput | undefined;
      if (body.order) {
        const current = (await latestSnapshot(c.env, c.var.tenantId, transfer.id, "canonical")) as TransferInput | undefined;
        await refuseOtherOrder(c.env, transfer, current?.order, body.order);
        input = { ...(current?.refund ? { refund: current.refund } : {}), order: body.order };
      }
      const result = await order.retryTransfer({
        transferId: transfer.id,
        fromStart: body.fromStart,
        ...(steps ? { steps, identitySettings: await identitySettings(c.env, c.var.tenantId, steps) } : {}),
        ...(input ? { input } : {}),
      });
      if ("error" in result)
        throw new OrderlyError(`Cannot retry: ${result.error}.`, { errorClass: "conflict", code: "transfer_not_retryable" });
      return c.json({ status: result.status }, 202);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/retry",
      summary: "Bulk replay: retry every transfer matching a filter (failed ones by default), in pages",
      request: {
        body: {
          content: {
            "application/json": {
              schema: z
                .object({
                  status: z.enum(["failed", "completed"]).default("failed"),
                  stage: stageSchema.optional(),
                  connection: z.string().optional(),
                  target: listQuery.shape.target,
                  flow: z.string().optional(),
                  order: listQuery.shape.order,
                  from: z.number().int().optional(),
                  to: z.number().int().optional(),
                  fromStart: z.boolean().default(false),
                  useCurrentSettings: z.boolean().default(false),
                  limit: z.number().int().min(1).max(500).default(100),
                  cursor: z.string().optional(),
                })
                // A filter it does not know must not be dropped: that would replay every transfer.
                .strict()
                .openapi("BulkRetry"),
            },
          },
          required: true,
        },
      },
      responses: {
        202: {
          description: "Queued; call again with nextCursor for the next page",
          content: {
            "application/json": {
              schema: z.object({
                queued: z.number(),
                skipped: z.array(z.object({ id: z.string(), reason: z.string() })),
                nextCursor: z.string().nullable(),
              }),
            },
          },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const q = c.req.valid("json");
      if (q.status === "completed" && !q.fromStart) {
        throw new OrderlyError("Completed transfers can only be re-run from the start (set fromStart).", {
          errorClass: "validation",
          code: "bulk_retry_invalid",
        });
      }
      const rows = await logPage(database(c.env), c.var.tenantId, q);
      const page = rows.slice(0, q.limit);
      const flowSteps = new Map<string, CurrentSteps>();
      const skipped: Array<{ id: string; reason: string }> = [];
      let queued = 0;
      for (const transfer of page) {
        let current: CurrentSteps | undefined;
        if (q.useCurrentSettings) {
          if (!flowSteps.has(transfer.flowId)) {
            const flow = await findFlow(c.env, c.var.tenantId, transfer.flowId).catch(() => undefined);
            if (flow)
              flowSteps.set(transfer.flowId, {
                steps: flow.steps,
                identitySettings: await identitySettings(c.env, c.var.tenantId, flow.steps),
              });
          }
          current = flowSteps.get(transfer.flowId);
          if (!current) {
            skipped.push({ id: transfer.id, reason: "its flow was deleted" });
            continue;
          }
        }
        const order = orderStub(c.env, orderObjectName(transfer.sourceConnectionId, transfer.orderId));
        const result = await order.retryTransfer({
          transferId: transfer.id,
          fromStart: q.fromStart,
          priority: "bulk",
          ...(current ?? {}),
        });
        if ("error" in result) skipped.push({ id: transfer.id, reason: result.error });
        else queued++;
      }
      const last = page.at(-1);
      return c.json({ queued, skipped, nextCursor: rows.length > q.limit && last ? encodeCursor(last) : null }, 202);
    },
  );

/** The fields of `order.source` that say which order it is (`version` and `createdAt` only describe it). */
const ORDER_IDENTITY = ["connector", "orderId", "orderNumber"] as const;

/**
 * An edited order must be the transfer's own order, corrected: one naming another order would
 * have the transfer's documents booked under that order's number and id, where neither order's
 * later events (an update, a refund, a cancellation) find them. Compared with the order the
 * transfer last ran with, or, where no snapshot of it is left, with the transfer's own columns.
 */
async function refuseOtherOrder(
  env: Env,
  transfer: typeof transfers.$inferSelect,
  stored: CanonicalOrder | undefined,
  edited: CanonicalOrder,
): Promise<void> {
  const connector =
    stored?.source.connector ??
    (
      await database(env)
        .select({ connector: connections.connector })
        .from(connections)
        .where(and(eq(connections.id, transfer.sourceConnectionId), eq(connections.tenantId, transfer.tenantId)))
        .get()
    )?.connector;
  const expected = {
    connector,
    orderId: transfer.orderId,
    orderNumber: stored?.source.orderNumber ?? transfer.orderNumber ?? undefined,
  };
  const changed = ORDER_IDENTITY.filter((key) => expected[key] !== undefined && edited.source[key] !== expected[key]);
  if (changed.length === 0) return;
  const what = changed.map(
    (key) => `source.${key} is ${JSON.stringify(edited.source[key])}, not ${JSON.stringify(expected[key])}`,
  );
  throw new OrderlyError(
    `The edited order names another order than this transfer's (${what.join("; ")}). Edit what the order contains, not which order it is; to book another order, retry that order's transfer.`,
    {
      errorClass: "validation",
      code: "retry_order_mismatch",
      details: Object.fromEntries(changed.map((key) => [key, { expected: expected[key], got: edited.source[key] }])),
    },
  );
}

/** A flow's current steps, as a retry with current settings hands them to the order's object. */
interface CurrentSteps {
  steps: FlowStepConfig[];
  identitySettings: string[][];
}

/**
 * Per step, the settings that decide where its action looks for what it made before
 * (TargetAction.identitySettings). The order's object checks them against the transfer's steps,
 * but knows only each step's connection id, not its connector: the Worker looks that up.
 */
async function identitySettings(env: Env, tenantId: string, steps: readonly FlowStepConfig[]): Promise<string[][]> {
  const targets = [...new Set(steps.map((step) => step.target))];
  const rows =
    targets.length === 0
      ? []
      : await database(env)
          .select({ id: connections.id, connector: connections.connector })
          .from(connections)
          .where(and(eq(connections.tenantId, tenantId), inArray(connections.id, targets)))
          .all();
  const connectorOf = new Map(rows.map((row) => [row.id, row.connector]));
  return steps.map((step) => {
    const actions = getConnector(connectorOf.get(step.target) ?? "")?.actions;
    // Own keys only, as the flow's validation does: "constructor" would find Object's own member.
    const action = actions && Object.hasOwn(actions, step.action) ? actions[step.action] : undefined;
    return [...(action?.identitySettings ?? [])];
  });
}

/** Transfers with a step at the target connection: the list's `target` filter, for bulk replay. */
async function findTransfer(env: Env, tenantId: string, id: string) {
  const row = await database(env)
    .select()
    .from(transfers)
    .where(and(eq(transfers.id, id), eq(transfers.tenantId, tenantId)))
    .get();
  if (!row) throw notFound("Transfer", id);
  return row;
}
