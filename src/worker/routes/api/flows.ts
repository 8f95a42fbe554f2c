/** /api/v1/flows: a trigger (source connection + stage) followed by ordered steps. */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { getConnector } from "../../../connectors/registry";
import { database } from "../../../db/client";
import { type FlowStepConfig, flows } from "../../../db/schema";
import { OrderlyError } from "../../../domain/errors";
import { stageSchema } from "../../../domain/stage";
import { apiRouter, errorResponses, notFound } from "./api-env";
import { findOwned } from "./connections";

const stepSchema = z
  .object({
    target: z.string().openapi({ description: "Target connection id" }),
    action: z.string().openapi({ example: "createInvoice" }),
    settings: z.record(z.string(), z.unknown()).default({}),
  })
  .openapi("FlowStep");

const flowSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    source: z.string(),
    stage: stageSchema,
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
    steps: z.array(stepSchema).min(1).max(20),
    enabled: z.boolean().default(true),
  })
  .openapi("NewFlow");

const updateSchema = createSchema.partial().openapi("FlowUpdate");
const idParam = z.object({ id: z.string() });
type Row = typeof flows.$inferSelect;

function view(row: Row): z.infer<typeof flowSchema> {
  return {
    id: row.id,
    name: row.name,
    source: row.sourceConnectionId,
    stage: stageSchema.parse(row.triggerStage),
    steps: row.steps,
    enabled: row.enabled,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** Checks the source and every step against the tenant's connections and the connectors' schemas. */
async function validateFlow(
  env: Env,
  tenantId: string,
  source: string,
  steps: Array<z.infer<typeof stepSchema>>,
): Promise<FlowStepConfig[]> {
  const sourceRow = await findOwned(env, tenantId, source);
  if (!getConnector(sourceRow.connector)?.source) {
    throw new OrderlyError(`Connection ${source} (${sourceRow.connector}) cannot trigger flows: it is not a source.`, {
      errorClass: "validation",
      code: "flow_source_invalid",
    });
  }
  const checked: FlowStepConfig[] = [];
  for (const [index, step] of steps.entries()) {
    const target = await findOwned(env, tenantId, step.target);
    const connector = getConnector(target.connector);
    const action = connector?.actions?.[step.action];
    if (!connector || !action) {
      const known = Object.keys(connector?.actions ?? {}).join(", ") || "none";
      throw new OrderlyError(`Step ${index + 1}: ${target.connector} has no action "${step.action}" (it has: ${known}).`, {
        errorClass: "validation",
        code: "flow_action_invalid",
      });
    }
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
    checked.push({ target: step.target, action: step.action, settings: settings.data as Record<string, unknown> });
  }
  return checked;
}

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
      responses: { 201: { description: "Created", content: { "application/json": { schema: flowSchema } } }, ...errorResponses },
    }),
    async (c) => {
      const input = c.req.valid("json");
      const steps = await validateFlow(c.env, c.var.tenantId, input.source, input.steps);
      const now = Date.now();
      const row: Row = {
        id: `flw_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`,
        tenantId: c.var.tenantId,
        name: input.name,
        sourceConnectionId: input.source,
        triggerStage: input.stage,
        steps,
        enabled: input.enabled,
        createdAt: now,
        updatedAt: now,
      };
      await database(c.env).insert(flows).values(row);
      return c.json(view(row), 201);
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
      responses: { 200: { description: "Updated", content: { "application/json": { schema: flowSchema } } }, ...errorResponses },
    }),
    async (c) => {
      const row = await findFlow(c.env, c.var.tenantId, c.req.valid("param").id);
      const input = c.req.valid("json");
      const source = input.source ?? row.sourceConnectionId;
      const steps = await validateFlow(c.env, c.var.tenantId, source, input.steps ?? row.steps);
      const updated: Row = {
        ...row,
        name: input.name ?? row.name,
        sourceConnectionId: source,
        triggerStage: input.stage ?? row.triggerStage,
        steps,
        enabled: input.enabled ?? row.enabled,
        updatedAt: Date.now(),
      };
      await database(c.env).update(flows).set(updated).where(eq(flows.id, row.id));
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

export async function findFlow(env: Env, tenantId: string, id: string): Promise<Row> {
  const row = await database(env)
    .select()
    .from(flows)
    .where(and(eq(flows.id, id), eq(flows.tenantId, tenantId)))
    .get();
  if (!row) throw notFound("Flow", id);
  return row;
}
