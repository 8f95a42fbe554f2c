/** /api/v1/flows: a trigger (source connection + stage) followed by ordered steps. */
import { createRoute, z } from "@hono/zod-openapi";
import { and, asc, eq, lt } from "drizzle-orm";
import type { ActionResult } from "../../../connectors/contract";
import { getConnector } from "../../../connectors/registry";
import { database } from "../../../db/client";
import { type FlowStepConfig, flows, transferSteps, transfers } from "../../../db/schema";
import { latestSnapshot } from "../../../db/snapshots";
import { OrderlyError } from "../../../domain/errors";
import { checkFilter, evaluateFilter, FILTER_MAX_LENGTH } from "../../../domain/flow-filter";
import type { TransferInput } from "../../../domain/order";
import { type Stage, stageSchema } from "../../../domain/stage";
import { applyMapping, checkMapping, MAPPING_MAX_LENGTH } from "../../../domain/step-mapping";
import { isLocalDevelopment } from "../../../mail/dev-outbox.provider";
import { mailConnectionProblem } from "../../../mail/mail-connection";
import { apiRouter, errorResponses, errorSchema, notFound } from "./api-env";
import { findOwned } from "./connections";

export const stepSchema = z
  .object({
    target: z.string().openapi({ description: "Target connection id" }),
    action: z.string().openapi({ example: "createInvoice" }),
    settings: z.record(z.string(), z.unknown()).default({}),
    mapping: z
      .string()
      .nullable()
      .optional()
      .openapi({
        description: `A JSONata expression over \`{ order, refund, previous }\` (the canonical input, and what the transfer's earlier steps on this step's connection returned, by index) returning the \`{ order, refund }\` this step's action receives; absent, null or empty: the input as it is. At most ${MAPPING_MAX_LENGTH} characters, bounded like a filter; one that does not parse is refused (400 \`flow_mapping_invalid\`, naming the step, with JSONata's message and position). Its result must be a valid canonical order (amounts in integer minor units) with the same \`source.connector\`, \`source.orderId\`, \`source.orderNumber\` and \`currency\`; one that fails, or breaks these, fails the step (\`step_mapping_failed\`). docs/mapping.md has recipes.`,
        example: '$ ~> |order|{"note": "Shop order " & source.orderNumber}|',
      }),
  })
  .openapi("FlowStep");

export const FILTER_DESCRIPTION = `A JSONata expression over the transfer input \`{ order, refund }\` (the canonical order, and the refund on refund stages): the flow runs for an order only when it is truthy. Null or empty: every order. At most ${FILTER_MAX_LENGTH} characters; one that does not parse is refused (400 \`flow_filter_invalid\`, with JSONata's message and position). One that fails on an order fails that order's transfer (\`flow_filter_failed\`), which is alerted and can be retried.`;

const filterField = z
  .string()
  .nullable()
  .openapi({ description: FILTER_DESCRIPTION, example: '$not("wholesale" in order.tags)' });

const flowSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    source: z.string(),
    stage: stageSchema,
    filter: filterField,
    steps: z.array(stepSchema),
    enabled: z.boolean(),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .openapi("Flow");

const createSchema = z
  .object({
    name: z.string().min(1).max(120),
    source: z.string().openapi({ description: "Source connection id" }),
    stage: stageSchema,
    filter: filterField.optional(),
    steps: z.array(stepSchema).min(1).max(20),
    enabled: z.boolean().default(true),
  })
  .openapi("NewFlow");

// Not `createSchema.partial()`: its `enabled` default would still fill in an omitted field, so a
// PATCH of the name alone would switch a disabled flow on.
const updateSchema = z
  .object({
    name: createSchema.shape.name.optional(),
    source: createSchema.shape.source.optional(),
    stage: stageSchema.optional(),
    filter: filterField
      .optional()
      .openapi({ description: `${FILTER_DESCRIPTION} Absent: kept as it is; null or empty: removed.` }),
    steps: createSchema.shape.steps.optional(),
    enabled: z.boolean().optional(),
  })
  .openapi("FlowUpdate");

const previewSchema = z
  .object({
    filter: z.string().openapi({ description: "The expression to try (as a flow's `filter`)" }),
    transferId: z
      .string()
      .openapi({ description: "A transfer of this tenant from the log: its order is what the filter is tried on" }),
  })
  .openapi("FlowFilterPreview");

const previewResult = z
  .object({
    transferId: z.string(),
    match: z.boolean().nullable().openapi({
      description: "Whether a flow with this filter would take the transfer's order; null when the expression failed on it",
    }),
    error: z.string().nullable().openapi({
      description: "Why the expression failed on this order: a flow with it would fail the transfer (`flow_filter_failed`)",
    }),
  })
  .openapi("FlowFilterPreviewResult");

const mappingPreviewSchema = z
  .object({
    mapping: z.string().openapi({ description: "The expression to try (as a step's `mapping`)" }),
    transferId: z
      .string()
      .openapi({ description: "A transfer of this tenant from the log: its order is what the mapping is tried on" }),
    stepIndex: z.number().int().min(0).max(19).default(0).openapi({
      description:
        "The step (from 0) the mapping is for: `previous` holds what the transfer's steps before it on the same connection returned. Default 0 (nothing before it).",
    }),
  })
  .openapi("FlowMappingPreview");

const mappingPreviewResult = z
  .object({
    transferId: z.string(),
    stepIndex: z.number(),
    input: z.record(z.string(), z.unknown()).nullable().openapi({
      description: "The `{ order, refund }` a step with this mapping would receive; null when the mapping failed on it",
    }),
    error: z.string().nullable().openapi({
      description: "Why the mapping failed on this order: a step with it would fail (`step_mapping_failed`)",
    }),
  })
  .openapi("FlowMappingPreviewResult");
const idParam = z.object({ id: z.string() });
type Row = typeof flows.$inferSelect;

function view(row: Row): z.infer<typeof flowSchema> {
  return {
    id: row.id,
    name: row.name,
    source: row.sourceConnectionId,
    stage: stageSchema.parse(row.triggerStage),
    filter: row.filter,
    steps: row.steps,
    enabled: row.enabled,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * How strictly a step's mail connection is checked: `run` (the flow is to be enabled: it must be
 * a mail connection of this tenant and switched on), `save` (steps sent for a disabled flow: it
 * must exist and be a mail connection; it may be switched on later), `skip` (a disabled flow
 * renamed or switched off with its stored steps: not refused over a connection it does not use).
 */
type MailCheck = "run" | "save" | "skip";

/**
 * A step naming a `mailConnection` (sendInvoiceEmail) sends through it: a typo, a connection of
 * another connector or a switched-off one would let every order's invoice be booked and then fail
 * its e-mail step, so the flow is refused instead.
 */
async function checkMailConnection(
  env: Env,
  tenantId: string,
  index: number,
  settings: Record<string, unknown>,
  mode: MailCheck,
  needsMail: boolean,
  find: FindConnection,
): Promise<void> {
  if (mode === "skip") return;
  const id = settings.mailConnection;
  if (id === undefined && needsMail && mode === "run" && !isLocalDevelopment(env))
    throw new OrderlyError(
      `Step ${index + 1}: mailConnection: this step e-mails the invoice, and deployed, it needs a mail connection: choose one of the tenant's Resend or Postmark connections (or save the flow disabled until there is one).`,
      { errorClass: "validation", code: "flow_mail_connection_invalid", details: { step: index + 1 } },
    );
  if (typeof id !== "string") return;
  const refuse = (reason: string) =>
    new OrderlyError(`Step ${index + 1}: mailConnection: ${reason}`, {
      errorClass: "validation",
      code: "flow_mail_connection_invalid",
      details: { step: index + 1, mailConnection: id },
    });
  const row = await find(env, tenantId, id).catch((error: unknown) => {
    // A 404 here would read as "flow not found" (the UI shows its not-found page): it is the body's fault.
    if (error instanceof OrderlyError && error.errorClass === "not_found") return null;
    throw error;
  });
  if (!row) throw refuse(`connection ${id} was not found in this tenant; choose one of its Resend or Postmark connections.`);
  // mailConnectionProblem also refuses a switched-off one; a disabled flow may keep it until enabled.
  const problem = mailConnectionProblem(mode === "run" ? row : { ...row, enabled: true });
  if (problem) throw refuse(problem);
}

/** How a flow's check finds a connection of the tenant (a 404 OrderlyError when it has none by that id). */
export type FindConnection = typeof findOwned;

/**
 * Checks the source and every step against the tenant's connections and the connectors' schemas.
 * `find`: the tenant's stored connections, or those a setup copy is about to write.
 */
export async function validateFlow(
  env: Env,
  tenantId: string,
  source: string,
  steps: Array<{ target: string; action: string; settings: Record<string, unknown>; mapping?: string | null | undefined }>,
  mailCheck: MailCheck,
  /** The flow's stage, to check each action runs on it; null: not checked (a rename or a switch-off). */
  stage: Stage | null,
  find: FindConnection = findOwned,
): Promise<FlowStepConfig[]> {
  const sourceRow = await find(env, tenantId, source);
  if (!getConnector(sourceRow.connector)?.source) {
    throw new OrderlyError(`Connection ${source} (${sourceRow.connector}) cannot trigger flows: it is not a source.`, {
      errorClass: "validation",
      code: "flow_source_invalid",
    });
  }
  const checked: FlowStepConfig[] = [];
  for (const [index, step] of steps.entries()) {
    const target = await find(env, tenantId, step.target);
    const connector = getConnector(target.connector);
    // Own keys only: "constructor" or "__proto__" would find Object's own members otherwise.
    const actions = connector?.actions;
    const action = actions && Object.hasOwn(actions, step.action) ? actions[step.action] : undefined;
    if (!connector || !action) {
      const known = Object.keys(connector?.actions ?? {}).join(", ") || "none";
      throw new OrderlyError(`Step ${index + 1}: ${target.connector} has no action "${step.action}" (it has: ${known}).`, {
        errorClass: "validation",
        code: "flow_action_invalid",
      });
    }
    if (stage !== null && action.stages && !action.stages.includes(stage))
      throw new OrderlyError(
        `Step ${index + 1}: ${step.action} runs only in flows on the ${action.stages.join(" or ")} stage (${action.stagesWhy ?? "it needs what only they carry, such as the refund"}); this flow is on "${stage}". Put it in a ${action.stages.join(" or ")} flow.`,
        {
          errorClass: "validation",
          code: "flow_action_stage",
          details: { step: index + 1, action: step.action, stages: action.stages },
        },
      );
    const settings = action.settings.safeParse(step.settings);
    if (!settings.success) {
      const issues = settings.error.issues
        .map((i: { path: PropertyKey[]; message: string }) => `${i.path.join(".")}: ${i.message}`)
        .join("; ");
      throw new OrderlyError(`Step ${index + 1} settings are invalid: ${issues}`, {
        errorClass: "validation",
        code: "flow_settings_invalid",
      });
    }
    // An action whose settings name a mail connection sends through it (e-conomic's sendInvoiceEmail;
    // Billy's has Billy send it): without one, deployed, every order's e-mail step would fail.
    const shape = (action.settings as { shape?: Record<string, unknown> }).shape;
    const needsMail = shape !== undefined && Object.hasOwn(shape, "mailConnection");
    await checkMailConnection(env, tenantId, index, settings.data as Record<string, unknown>, mailCheck, needsMail, find);
    const mapping = checkMapping(step.mapping, index);
    checked.push({
      target: step.target,
      action: step.action,
      settings: settings.data as Record<string, unknown>,
      ...(mapping ? { mapping } : {}),
    });
  }
  return checked;
}

/** What a flow is written as: its id and the columns the duplicate guard reads. */
interface FlowWrite {
  id: string;
  tenantId: string;
  name: string;
  source: string;
  stage: string;
  filter: string | null;
  steps: FlowStepConfig[];
  enabled: boolean;
  now: number;
}

/**
 * Another enabled flow of the same source and stage with a step of the same target and action as
 * one of `?4`'s steps. OrderDO runs every enabled matching flow, each under its own reference, so
 * the target adopts nothing and makes the effect (an invoice) a second time for every order.
 * Parameters: ?1 tenant, ?2 source, ?3 stage, ?4 steps (JSON), ?5 the flow's own id.
 */
const OTHER_FLOW_SAME_STEP = `SELECT f.id AS id, f.name AS name, n.key + 1 AS step,
      json_extract(n.value, '$.target') AS target, json_extract(n.value, '$.action') AS action,
      (SELECT c.name FROM connections c WHERE c.id = json_extract(n.value, '$.target')) AS targetName
    FROM flows f, json_each(f.steps) s, json_each(?4) n
    WHERE f.tenant_id = ?1 AND f.source_connection_id = ?2 AND f.trigger_stage = ?3 AND f.enabled = 1 AND f.id <> ?5
      AND json_extract(s.value, '$.target') = json_extract(n.value, '$.target')
      AND json_extract(s.value, '$.action') = json_extract(n.value, '$.action')`;

function writeParams(w: FlowWrite): unknown[] {
  return [w.tenantId, w.source, w.stage, JSON.stringify(w.steps), w.id, w.name, w.enabled ? 1 : 0, w.now, w.filter];
}

/**
 * Writes the flow in one statement that does nothing when it would be enabled beside a flow
 * running one of its steps (so two saves at once, a double-click, cannot both pass), and explains
 * with a 409. Returns false when an update found no row (the flow was deleted meanwhile).
 */
async function guardedWrite(env: Env, w: FlowWrite, kind: "insert" | "update"): Promise<boolean> {
  const guard = `(?7 = 0 OR NOT EXISTS (${OTHER_FLOW_SAME_STEP}))`;
  const statement =
    kind === "insert"
      ? `INSERT INTO flows (id, tenant_id, name, source_connection_id, trigger_stage, steps, enabled, created_at, updated_at, filter)
         SELECT ?5, ?1, ?6, ?2, ?3, ?4, ?7, ?8, ?8, ?9 WHERE ${guard}`
      : `UPDATE flows SET name = ?6, source_connection_id = ?2, trigger_stage = ?3, steps = ?4, enabled = ?7, updated_at = ?8, filter = ?9
         WHERE id = ?5 AND tenant_id = ?1 AND ${guard}`;
  const result = await env.DB.prepare(statement)
    .bind(...writeParams(w))
    .run();
  if (result.meta.changes > 0) return true;
  if (!w.enabled) return false;
  const other = await env.DB.prepare(`${OTHER_FLOW_SAME_STEP} LIMIT 1`)
    .bind(...writeParams(w).slice(0, 5))
    .first<{ id: string; name: string; step: number; target: string; action: string; targetName: string | null }>();
  if (!other) return false;
  throw new OrderlyError(
    `Step ${other.step} (${other.action} at ${other.targetName ? `"${other.targetName}" (${other.target})` : other.target}) is already run for ${w.stage} orders of this source by the enabled flow "${other.name}" (${other.id}): both would run, and the target would get it twice for every order. Change the step, or disable or delete that flow first.`,
    {
      errorClass: "conflict",
      code: "flow_duplicate",
      details: { flow: other.id, step: other.step, target: other.target, action: other.action },
    },
  );
}

const duplicateResponse = {
  description:
    "`flow_duplicate`: another enabled flow of the same source and stage has a step with the same target and action; the message and `details` name it and the step.",
  content: { "application/json": { schema: errorSchema } },
};

export const flowRoutes = apiRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      summary: "List flows",
      responses: {
        200: {
          description: "The tenant's flows",
          content: { "application/json": { schema: z.object({ flows: z.array(flowSchema) }) } },
        },
      },
    }),
    async (c) => {
      const rows = await database(c.env).select().from(flows).where(eq(flows.tenantId, c.var.tenantId)).orderBy(flows.createdAt);
      return c.json({ flows: rows.map(view) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      summary: "Create a flow",
      request: { body: { content: { "application/json": { schema: createSchema } }, required: true } },
      responses: {
        201: { description: "Created", content: { "application/json": { schema: flowSchema } } },
        409: duplicateResponse,
        ...errorResponses,
      },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const filter = checkFilter(input.filter);
      const steps = await validateFlow(
        c.env,
        c.var.tenantId,
        input.source,
        input.steps,
        input.enabled ? "run" : "save",
        input.stage,
      );
      const now = Date.now();
      const row: Row = {
        id: `flw_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`,
        tenantId: c.var.tenantId,
        name: input.name,
        sourceConnectionId: input.source,
        triggerStage: input.stage,
        filter,
        steps,
        enabled: input.enabled,
        createdAt: now,
        updatedAt: now,
      };
      const written = await guardedWrite(c.env, writeOf(row), "insert");
      if (!written)
        throw new OrderlyError("Another flow changed while this one was saved, so it was not; save it again.", {
          errorClass: "conflict",
          code: "flow_not_saved",
        });
      return c.json(view(row), 201);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/filter-preview",
      summary: "Try a filter on a transfer from the log",
      description:
        "Evaluates the expression on the order (and refund) the transfer was made from, as a flow's filter would, without saving or sending anything. An expression that does not parse is refused (400 `flow_filter_invalid`); another tenant's transfer is not found (404).",
      request: { body: { content: { "application/json": { schema: previewSchema } }, required: true } },
      responses: {
        200: { description: "What a flow with this filter would do", content: { "application/json": { schema: previewResult } } },
        ...errorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const filter = checkFilter(body.filter);
      const input = await transferInput(c.env, c.var.tenantId, body.transferId);
      if (filter === null) return c.json({ transferId: body.transferId, match: true, error: null }, 200);
      const outcome = await evaluateFilter(filter, input);
      return c.json(
        "match" in outcome
          ? { transferId: body.transferId, match: outcome.match, error: null }
          : { transferId: body.transferId, match: null, error: outcome.error },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/mapping-preview",
      summary: "Try a step's mapping on a transfer from the log",
      description:
        "Evaluates the expression on the order (and refund) the transfer was made from, as a step's mapping would (with `previous` from the transfer's steps before `stepIndex`), and checks what it makes, without saving or sending anything. An expression that does not parse is refused (400 `flow_mapping_invalid`); another tenant's transfer is not found (404).",
      request: { body: { content: { "application/json": { schema: mappingPreviewSchema } }, required: true } },
      responses: {
        200: {
          description: "What a step with this mapping would receive",
          content: { "application/json": { schema: mappingPreviewResult } },
        },
        ...errorResponses,
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const mapping = checkMapping(body.mapping, body.stepIndex);
      const input = await transferInput(c.env, c.var.tenantId, body.transferId);
      const answer = { transferId: body.transferId, stepIndex: body.stepIndex };
      if (mapping === null) return c.json({ ...answer, input: { ...input }, error: null }, 200);
      const previous = await previousOutputs(c.env, c.var.tenantId, body.transferId, body.stepIndex);
      const outcome = await applyMapping(mapping, input, previous);
      return c.json(
        "input" in outcome
          ? { ...answer, input: { ...outcome.input }, error: null }
          : { ...answer, input: null, error: outcome.error },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      summary: "Get a flow",
      request: { params: idParam },
      responses: { 200: { description: "The flow", content: { "application/json": { schema: flowSchema } } }, ...errorResponses },
    }),
    async (c) => c.json(view(await findFlow(c.env, c.var.tenantId, c.req.valid("param").id)), 200),
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      summary: "Change a flow (applies to transfers created from now on)",
      request: { params: idParam, body: { content: { "application/json": { schema: updateSchema } }, required: true } },
      responses: {
        200: { description: "Updated", content: { "application/json": { schema: flowSchema } } },
        409: duplicateResponse,
        ...errorResponses,
      },
    }),
    async (c) => {
      const row = await findFlow(c.env, c.var.tenantId, c.req.valid("param").id);
      const input = c.req.valid("json");
      const filter = input.filter === undefined ? row.filter : checkFilter(input.filter);
      const source = input.source ?? row.sourceConnectionId;
      const enabled = input.enabled ?? row.enabled;
      // Checked when steps are sent or the flow is switched on: a rename of an enabled flow is not
      // refused over a mail connection deleted before these checks existed.
      const mailCheck = input.steps || (enabled && !row.enabled) ? (enabled ? "run" : "save") : "skip";
      // A flow already saved on a stage its actions do not run on can still be renamed or switched off.
      const stageCheck =
        input.steps || input.stage || (enabled && !row.enabled) ? (input.stage ?? stageSchema.parse(row.triggerStage)) : null;
      const steps = await validateFlow(c.env, c.var.tenantId, source, input.steps ?? row.steps, mailCheck, stageCheck);
      const updated: Row = {
        ...row,
        name: input.name ?? row.name,
        sourceConnectionId: source,
        triggerStage: input.stage ?? row.triggerStage,
        filter,
        steps,
        enabled,
        updatedAt: Date.now(),
      };
      if (!(await guardedWrite(c.env, writeOf(updated), "update"))) throw notFound("Flow", row.id);
      return c.json(view(updated), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      summary: "Delete a flow (its transfers stay in the log)",
      request: { params: idParam },
      responses: { 204: { description: "Deleted" }, ...errorResponses },
    }),
    async (c) => {
      const row = await findFlow(c.env, c.var.tenantId, c.req.valid("param").id);
      await database(c.env).delete(flows).where(eq(flows.id, row.id));
      return c.body(null, 204);
    },
  );

function writeOf(row: Row): FlowWrite {
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    source: row.sourceConnectionId,
    stage: row.triggerStage,
    filter: row.filter,
    steps: row.steps,
    enabled: row.enabled,
    now: row.updatedAt,
  };
}

export async function findFlow(env: Env, tenantId: string, id: string): Promise<Row> {
  const row = await database(env)
    .select()
    .from(flows)
    .where(and(eq(flows.id, id), eq(flows.tenantId, tenantId)))
    .get();
  if (!row) throw notFound("Flow", id);
  return row;
}

/** The input a transfer of this tenant was made from (its newest canonical snapshot). */
async function transferInput(env: Env, tenantId: string, transferId: string): Promise<TransferInput> {
  const row = await database(env)
    .select({ id: transfers.id })
    .from(transfers)
    .where(and(eq(transfers.id, transferId), eq(transfers.tenantId, tenantId)))
    .get();
  if (!row) throw notFound("Transfer", transferId);
  const input = (await latestSnapshot(env, tenantId, row.id, "canonical")) as TransferInput | undefined;
  if (!input?.order)
    throw new OrderlyError(
      `Transfer ${transferId} has no stored order to try the expression on (its history may have passed the tenant's retention); choose a more recent transfer.`,
      { errorClass: "not_found", code: "transfer_snapshot_missing" },
    );
  return input;
}

/**
 * What the transfer's steps before `stepIndex` returned, as the step's `previous` holds them when
 * it runs: only those on the step's own connection (OrderDO.runClaim), from the transfer log.
 */
async function previousOutputs(
  env: Env,
  tenantId: string,
  transferId: string,
  stepIndex: number,
): Promise<Array<ActionResult | null>> {
  const rows = await database(env)
    .select()
    .from(transferSteps)
    .where(
      and(
        eq(transferSteps.transferId, transferId),
        eq(transferSteps.tenantId, tenantId),
        lt(transferSteps.stepIndex, stepIndex + 1),
      ),
    )
    .orderBy(asc(transferSteps.stepIndex))
    .all();
  const own = rows.find((r) => r.stepIndex === stepIndex)?.targetConnectionId;
  const previous: Array<ActionResult | null> = Array.from({ length: stepIndex }, () => null);
  for (const row of rows)
    if (row.stepIndex < stepIndex && row.targetConnectionId === own && row.status === "completed" && row.externalId !== null)
      previous[row.stepIndex] = { externalId: row.externalId, created: row.created ?? false, outputs: row.output ?? {} };
  return previous;
}
