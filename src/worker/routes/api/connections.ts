/** /api/v1/connections: a tenant's configured systems. Credentials are write-only. */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import type { Connector } from "../../../connectors/contract";
import { getConnector } from "../../../connectors/registry";
import { toHex } from "../../../connectors/signatures";
import { database } from "../../../db/client";
import { forgetConnection, openSecrets, type UnreadableSecrets } from "../../../db/connections";
import { encryptJson, encryptSecret } from "../../../db/credentials";
import { connections, type FlowStepConfig, flows, tenants } from "../../../db/schema";
import { OrderlyError } from "../../../domain/errors";
import { reconcileSettingsChanged } from "../../reconcile";
import { apiRouter, errorResponses, notFound } from "./api-env";

const connectionSchema = z
  .object({
    id: z.string(),
    connector: z.string(),
    name: z.string(),
    enabled: z.boolean(),
    settings: z.record(z.string(), z.unknown()),
    webhookUrl: z.string().optional().openapi({ description: "Where the source must send its webhooks (sources only)." }),
    setupSteps: z.array(z.string()).optional(),
    webhookSecret: z.string().optional().openapi({ description: "Shown once, when Orderly generated it." }),
    pausedUntil: z
      .number()
      .nullable()
      .openapi({ description: "Set while Orderly holds steps for this target after sustained failures." }),
    pauseReason: z.string().nullable(),
    unreadable: z
      .object({ parts: z.array(z.enum(["credentials", "webhookSecret"])), reason: z.string() })
      .optional()
      .openapi({
        description:
          "Set (on one connection, not in the list) when the stored credentials or webhook secret cannot be read: CREDENTIALS_KEY was replaced or lost, or the row was damaged. Send them again with PATCH; until then every step to the connection fails (unreadable credentials) or its webhooks are answered 503 (unreadable secret).",
      }),
    createdAt: z.number(),
    updatedAt: z.number(),
  })
  .openapi("Connection");

export const createSchema = z
  .object({
    connector: z.string().openapi({ example: "economic" }),
    name: z.string().min(1).max(120),
    settings: z.record(z.string(), z.unknown()).default({}),
    credentials: z.record(z.string(), z.unknown()).default({}),
    webhookSecret: z.string().min(8).optional().openapi({ description: "The source's signing secret; generated when omitted." }),
    enabled: z.boolean().default(true),
  })
  .openapi("NewConnection");

// Not `createSchema.partial()`: its defaults would still fill in an omitted field, so a PATCH of the
// name alone would reset the settings and replace the credentials with `{}`.
const updateSchema = z
  .object({
    name: createSchema.shape.name.optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    credentials: z.record(z.string(), z.unknown()).optional(),
    webhookSecret: createSchema.shape.webhookSecret,
    enabled: z.boolean().optional(),
  })
  .openapi("ConnectionUpdate");

const idParam = z.object({ id: z.string() });

type Row = typeof connections.$inferSelect;

function view(
  row: Row,
  origin: string,
  extra: { webhookSecret?: string; unreadable?: UnreadableSecrets } = {},
): z.infer<typeof connectionSchema> {
  const connector = getConnector(row.connector);
  const webhookUrl = connector?.source ? `${origin}/hooks/${row.id}` : undefined;
  return {
    id: row.id,
    connector: row.connector,
    name: row.name,
    enabled: row.enabled,
    pausedUntil: row.pausedUntil,
    pauseReason: row.pauseReason,
    settings: row.settings,
    ...(webhookUrl ? { webhookUrl, setupSteps: connector?.source?.setupSteps(webhookUrl) ?? [] } : {}),
    ...extra,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * What of the row's stored secrets cannot be read, for the view. Only a lost value is reported: a
 * missing or malformed CREDENTIALS_KEY fails every connection alike, and reading one connection
 * should not fail over it (the connection's test and its steps say so).
 */
async function unreadableOf(env: Env, row: Row): Promise<{ unreadable?: UnreadableSecrets }> {
  const secrets = await openSecrets(env, row).catch(() => null);
  return secrets?.unreadable ? { unreadable: secrets.unreadable } : {};
}

/**
 * A connection row checked against its connector's schemas, its credentials and webhook secret
 * encrypted; a source without a given secret gets a generated one, returned to be shown once.
 * `credentialsLater`: a connection copied from another shop, whose credentials are never copied;
 * one whose connector needs some is stored switched off, and cannot be switched on until they are
 * given (the PATCH below).
 */
export async function newConnection(
  env: Env,
  tenantId: string,
  input: z.infer<typeof createSchema>,
  options: { credentialsLater?: boolean } = {},
): Promise<{ row: Row; generatedSecret?: string }> {
  const connector = requireConnector(input.connector);
  const settings = validate(connector.settings, input.settings, "settings") as Record<string, unknown>;
  const credentials = options.credentialsLater ? {} : validate(connector.credentials, input.credentials, "credentials");
  // A connector that needs no credentials (the sandbox ledger) may keep the state it was copied with.
  const waitsForCredentials = options.credentialsLater === true && !connector.credentials.safeParse({}).success;
  const generatedSecret =
    connector.source && !input.webhookSecret ? toHex(crypto.getRandomValues(new Uint8Array(24))) : undefined;
  const secret = input.webhookSecret ?? generatedSecret;
  const now = Date.now();
  const row: Row = {
    id: `con_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`,
    tenantId,
    connector: connector.id,
    name: input.name,
    settings,
    credentials: await encryptJson(env, credentials),
    webhookSecret: secret ? await encryptSecret(env, secret) : null,
    enabled: input.enabled && !waitsForCredentials,
    pausedUntil: null,
    pauseReason: null,
    createdAt: now,
    updatedAt: now,
  };
  return generatedSecret ? { row, generatedSecret } : { row };
}

function requireConnector(id: string): Connector {
  const connector = getConnector(id);
  if (!connector)
    throw new OrderlyError(`Unknown connector "${id}". GET /api/v1/connectors lists them.`, {
      errorClass: "validation",
      code: "connector_unknown",
    });
  return connector;
}

/** Settings that say where a connection's credentials are sent (contract.ts: an API connector calls its `baseUrl`). */
const DESTINATION_SETTINGS = ["baseUrl"];

/**
 * The destination settings that differ between two versions of a connection's settings, each read
 * with the connector's defaults. When one moves, the stored credentials must not follow it
 * unasked: whoever may edit the connection could otherwise point it at their own server and
 * receive the credentials, which no one can read back. The PATCH route refuses such a change
 * unless the credentials come with it, and the UI uses this to know not to fill in stored ones.
 */
export function movedDestinations(connector: Connector, before: unknown, after: unknown): string[] {
  const read = (settings: unknown): Record<string, unknown> => {
    const parsed = connector.settings.safeParse(settings);
    return ((parsed.success ? parsed.data : settings) ?? {}) as Record<string, unknown>;
  };
  const [was, is] = [read(before), read(after)];
  return DESTINATION_SETTINGS.filter((key) => was[key] !== is[key]);
}

function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join(".") || what}: ${i.message}`).join("; ");
  throw new OrderlyError(`Invalid ${what}: ${issues}`, {
    errorClass: "validation",
    code: `${what}_invalid`,
    details: parsed.error.issues,
  });
}

export const connectionRoutes = apiRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      summary: "List connections",
      responses: {
        200: {
          description: "The tenant's connections",
          content: { "application/json": { schema: z.object({ connections: z.array(connectionSchema) }) } },
        },
      },
    }),
    async (c) => {
      const rows = await database(c.env)
        .select()
        .from(connections)
        .where(eq(connections.tenantId, c.var.tenantId))
        .orderBy(connections.createdAt);
      const origin = new URL(c.req.url).origin;
      return c.json({ connections: rows.map((r) => view(r, origin)) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      summary: "Add a connection",
      request: { body: { content: { "application/json": { schema: createSchema } }, required: true } },
      responses: {
        201: { description: "Created", content: { "application/json": { schema: connectionSchema } } },
        ...errorResponses,
      },
    }),
    async (c) => {
      const { row, generatedSecret } = await newConnection(c.env, c.var.tenantId, c.req.valid("json"));
      await database(c.env).insert(connections).values(row);
      return c.json(view(row, new URL(c.req.url).origin, generatedSecret ? { webhookSecret: generatedSecret } : {}), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      summary: "Get a connection",
      request: { params: idParam },
      responses: {
        200: { description: "The connection", content: { "application/json": { schema: connectionSchema } } },
        ...errorResponses,
      },
    }),
    async (c) => {
      const row = await findOwned(c.env, c.var.tenantId, c.req.valid("param").id);
      return c.json(view(row, new URL(c.req.url).origin, await unreadableOf(c.env, row)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      summary:
        "Change a connection (settings and credentials given are replaced whole, also when the stored ones cannot be read; credentials are never shown)",
      request: { params: idParam, body: { content: { "application/json": { schema: updateSchema } }, required: true } },
      responses: {
        200: { description: "Updated", content: { "application/json": { schema: connectionSchema } } },
        409: { description: "Switching off the tenant's mail connection, or one an enabled flow's step sends e-mail through" },
        ...errorResponses,
      },
    }),
    async (c) => {
      const row = await findOwned(c.env, c.var.tenantId, c.req.valid("param").id);
      const input = c.req.valid("json");
      const connector = requireConnector(row.connector);
      const changes: Partial<Row> = { updatedAt: Date.now() };
      if (input.name !== undefined) changes.name = input.name;
      if (input.enabled === false && row.enabled) {
        await refuseIfMailConnection(c.env, row, "switch off");
        await refuseIfFlowsSendMail(c.env, row);
      }
      if (input.enabled === true && !row.enabled && input.credentials === undefined)
        await refuseIfNoCredentials(c.env, connector, row);
      if (input.enabled !== undefined) changes.enabled = input.enabled;
      if (input.settings !== undefined)
        changes.settings = validate(connector.settings, input.settings, "settings") as Record<string, unknown>;
      const moved = movedDestinations(connector, row.settings, changes.settings ?? row.settings);
      if (moved.length > 0 && input.credentials === undefined)
        throw new OrderlyError(
          `Changing ${moved.join(", ")} sends this connection's credentials to a new address, so they are not carried over: send the credentials again in the same request.`,
          { errorClass: "validation", code: "credentials_required" },
        );
      if (input.credentials !== undefined)
        changes.credentials = await encryptJson(c.env, validate(connector.credentials, input.credentials, "credentials"));
      if (input.webhookSecret !== undefined) changes.webhookSecret = await encryptSecret(c.env, input.webhookSecret);
      await database(c.env).update(connections).set(changes).where(eq(connections.id, row.id));
      forgetConnection(row.id);
      // Switched on again, or new credentials: the reconciliation sweep starts from now.
      await reconcileSettingsChanged(c.env, {
        connectionId: row.id,
        tenantId: row.tenantId,
        connector: row.connector,
        wasOn: row.settings.reconcile === true,
        isOn: (changes.settings ?? row.settings).reconcile === true,
        credentials: input.credentials !== undefined,
      });
      const updated = { ...row, ...changes };
      return c.json(view(updated, new URL(c.req.url).origin, await unreadableOf(c.env, updated)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      summary: "Delete a connection that no flow uses",
      request: { params: idParam },
      responses: {
        204: { description: "Deleted" },
        409: { description: "Still used by a flow, or the tenant's mail connection" },
        ...errorResponses,
      },
    }),
    async (c) => {
      const row = await findOwned(c.env, c.var.tenantId, c.req.valid("param").id);
      await refuseIfMailConnection(c.env, row, "delete");
      const tenantFlows = await database(c.env).select().from(flows).where(eq(flows.tenantId, c.var.tenantId));
      const users = tenantFlows.filter(
        (f) => f.sourceConnectionId === row.id || f.steps.some((s) => s.target === row.id || sendsMailThrough(s, row.id)),
      );
      if (users.length > 0) {
        throw new OrderlyError(
          `Connection is used by flow(s) ${users.map((f) => `"${f.name}"`).join(", ")}; change or delete them first.`,
          {
            errorClass: "conflict",
            code: "connection_in_use",
          },
        );
      }
      await database(c.env).delete(connections).where(eq(connections.id, row.id));
      forgetConnection(row.id);
      return c.body(null, 204);
    },
  );

/**
 * The tenant's mail connection carries every alert: deleted or switched off, each alert would
 * fail at sending, so it is refused until another mail connection (or none) is chosen.
 */
async function refuseIfMailConnection(env: Env, row: Row, verb: "delete" | "switch off"): Promise<void> {
  const tenant = await database(env)
    .select({ mail: tenants.mailConnectionId })
    .from(tenants)
    .where(eq(tenants.id, row.tenantId))
    .get();
  if (tenant?.mail !== row.id) return;
  throw new OrderlyError(
    `Connection "${row.name}" sends this tenant's alert emails, so it cannot be ${verb === "delete" ? "deleted" : "switched off"}; choose another mail connection (or none) under Notifications first.`,
    { errorClass: "conflict", code: "connection_is_mail_connection" },
  );
}

/**
 * A connection copied from another shop has no credentials (newConnection's `credentialsLater`):
 * switched on as it is, every step to it would fail over them, so it is refused until they come.
 * Credentials that cannot be decrypted are not this case: the connection's own view says so.
 */
async function refuseIfNoCredentials(env: Env, connector: Connector, row: Row): Promise<void> {
  const secrets = await openSecrets(env, row).catch(() => null);
  if (!secrets || secrets.unreadable || connector.credentials.safeParse(secrets.credentials).success) return;
  throw new OrderlyError(
    `Connection "${row.name}" has no credentials yet (a connection copied from another shop comes without them): send them in the same request that switches it on.`,
    { errorClass: "validation", code: "credentials_required" },
  );
}

/** Whether a step's settings name the connection as the one its e-mail is sent through (sendInvoiceEmail). */
function sendsMailThrough(step: FlowStepConfig, connectionId: string): boolean {
  return step.settings?.mailConnection === connectionId;
}

/**
 * An enabled flow whose step sends e-mail through the connection would book every order's
 * invoice and then fail to e-mail it, so switching the connection off is refused while one does.
 * Disabled flows do not run; enabling one checks its mail connection again (flows.ts).
 */
async function refuseIfFlowsSendMail(env: Env, row: Row): Promise<void> {
  const tenantFlows = await database(env)
    .select()
    .from(flows)
    .where(and(eq(flows.tenantId, row.tenantId), eq(flows.enabled, true)));
  const users = tenantFlows.filter((f) => f.steps.some((s) => sendsMailThrough(s, row.id)));
  if (users.length === 0) return;
  throw new OrderlyError(
    `Connection "${row.name}" sends e-mail for the enabled flow(s) ${users.map((f) => `"${f.name}" (${f.id})`).join(", ")}, so it cannot be switched off; choose another mail connection in their steps, or disable them first.`,
    { errorClass: "conflict", code: "connection_in_use", details: { flows: users.map((f) => f.id) } },
  );
}

export async function findOwned(env: Env, tenantId: string, id: string): Promise<Row> {
  const row = await database(env)
    .select()
    .from(connections)
    .where(and(eq(connections.id, id), eq(connections.tenantId, tenantId)))
    .get();
  if (!row) throw notFound("Connection", id);
  return row;
}
