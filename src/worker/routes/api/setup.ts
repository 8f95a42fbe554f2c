/**
 * /api/v1/setup: a shop's connections and flows as one document, and that document copied into
 * another shop. An agency sets up one shop the way it wants and starts the next from it; what
 * belongs to one shop only (credentials, webhook secrets, transfers, people) is never copied.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, sql } from "drizzle-orm";
import { getConnector } from "../../../connectors/registry";
import { database } from "../../../db/client";
import { connections, flows } from "../../../db/schema";
import { OrderlyError } from "../../../domain/errors";
import { checkFilter } from "../../../domain/flow-filter";
import { stageSchema } from "../../../domain/stage";
import { apiRouter, errorResponses, errorSchema } from "./api-env";
import { newConnection } from "./connections";
import { FILTER_DESCRIPTION, validateFlow } from "./flows";

/** Bounds of one document: well above a real shop's setup, well below what one D1 batch takes. */
export const SETUP_MAX_CONNECTIONS = 50;
export const SETUP_MAX_FLOWS = 100;

const setupConnection = z
  .object({
    ref: z.string().min(1).max(64).openapi({
      description: "The connection's id in the shop it was copied from; flows name their source and targets by it.",
    }),
    connector: z.string().openapi({ example: "economic" }),
    name: z.string().min(1).max(120),
    enabled: z.boolean().default(true),
    settings: z.record(z.string(), z.unknown()).default({}),
  })
  .openapi("SetupConnection");

const setupFlow = z
  .object({
    name: z.string().min(1).max(120),
    source: z.string().openapi({ description: "`ref` of the source connection" }),
    stage: stageSchema,
    filter: z.string().nullable().default(null).openapi({ description: FILTER_DESCRIPTION }),
    steps: z
      .array(
        z.object({
          target: z.string().openapi({ description: "`ref` of the target connection" }),
          action: z.string(),
          settings: z.record(z.string(), z.unknown()).default({}),
          mapping: z.string().nullable().optional().openapi({ description: "The step's mapping (docs/mapping.md), if any" }),
        }),
      )
      .min(1)
      .max(20),
    enabled: z.boolean().default(true),
  })
  .openapi("SetupFlow");

export const setupDocument = z
  .object({
    kind: z.literal("orderly.setup"),
    version: z.literal(1),
    exportedAt: z.number().optional(),
    connections: z.array(setupConnection).max(SETUP_MAX_CONNECTIONS),
    flows: z.array(setupFlow).max(SETUP_MAX_FLOWS),
  })
  .openapi("Setup");

export type SetupDocument = z.infer<typeof setupDocument>;

const copiedSchema = z
  .object({
    connections: z.array(
      z.object({
        ref: z.string(),
        id: z.string(),
        name: z.string(),
        connector: z.string(),
        enabled: z.boolean(),
        webhookUrl: z.string().optional(),
        webhookSecret: z.string().optional().openapi({ description: "Generated for a source; shown this once." }),
      }),
    ),
    flows: z.array(z.object({ id: z.string(), name: z.string() })),
    todo: z.array(z.string()).openapi({ description: "What must be done before the copied flows can run, in order." }),
  })
  .openapi("SetupCopied");

/** The tenant's connections (settings, never credentials) and flows, as a setup document. */
export async function exportSetup(env: Env, tenantId: string): Promise<SetupDocument> {
  const db = database(env);
  const [connectionRows, flowRows] = await Promise.all([
    db.select().from(connections).where(eq(connections.tenantId, tenantId)).orderBy(connections.createdAt),
    db.select().from(flows).where(eq(flows.tenantId, tenantId)).orderBy(flows.createdAt),
  ]);
  return {
    kind: "orderly.setup",
    version: 1,
    exportedAt: Date.now(),
    connections: connectionRows.map((c) => ({
      ref: c.id,
      connector: c.connector,
      name: c.name,
      enabled: c.enabled,
      settings: c.settings,
    })),
    flows: flowRows.map((f) => ({
      name: f.name,
      source: f.sourceConnectionId,
      stage: stageSchema.parse(f.triggerStage),
      filter: f.filter,
      steps: f.steps.map((s) => ({
        target: s.target,
        action: s.action,
        settings: s.settings ?? {},
        ...(s.mapping ? { mapping: s.mapping } : {}),
      })),
      enabled: f.enabled,
    })),
  };
}

function refused(message: string, details?: unknown): OrderlyError {
  return new OrderlyError(message, { errorClass: "validation", code: "setup_invalid", details });
}

/** Step settings that name another connection of the tenant (an e-mail step's mail connection). */
const CONNECTION_SETTINGS = ["mailConnection"] as const;

/** A step's settings with each connection they name replaced by its copy. */
function renamed(settings: Record<string, unknown>, ids: ReadonlyMap<string, string>): Record<string, unknown> {
  const copy = { ...settings };
  for (const key of CONNECTION_SETTINGS) {
    const value = copy[key];
    if (typeof value === "string" && ids.has(value)) copy[key] = ids.get(value);
  }
  return copy;
}

/**
 * A connection's settings without those that belong to the shop it came from (the connector's
 * `notCopied`), and what the person must check: each setting left out, and an API address that
 * is not the vendor's (the credentials entered next would go there).
 */
function copiedSettings(c: SetupDocument["connections"][number]): { settings: Record<string, unknown>; checks: string[] } {
  const connector = getConnector(c.connector);
  const settings = { ...c.settings };
  const checks: string[] = [];
  for (const [key, why] of Object.entries(connector?.notCopied ?? {})) {
    if (!Object.hasOwn(settings, key)) continue;
    delete settings[key];
    checks.push(`"${c.name}": ${key} was not copied (${why}); set it for this shop.`);
  }
  const base = settings.baseUrl;
  if (typeof base === "string" && connector) {
    const defaults = connector.settings.safeParse({});
    const vendors = defaults.success ? (defaults.data as { baseUrl?: unknown }).baseUrl : undefined;
    if (base !== vendors) checks.push(`"${c.name}": check its address ${base}: the credentials you enter for it are sent there.`);
  }
  return { settings, checks };
}

/**
 * A shop that already has a connection of the document's connector and name has most likely had
 * this setup copied in before (a second click, a page reloaded): a second set of connections and
 * flows would book every order twice once both were switched on.
 */
async function refuseIfCopiedBefore(env: Env, tenantId: string, doc: SetupDocument): Promise<void> {
  const existing = await database(env)
    .select({ connector: connections.connector, name: connections.name })
    .from(connections)
    .where(eq(connections.tenantId, tenantId));
  const same = existing.find((e) => doc.connections.some((c) => c.connector === e.connector && c.name === e.name));
  if (same)
    throw new OrderlyError(
      `This shop already has a ${same.connector} connection named "${same.name}", as the setup has: it looks copied before, and a second copy would run every order twice once switched on. Rename or delete that connection first, or copy into a new shop.`,
      { errorClass: "conflict", code: "setup_copied_before", details: same },
    );
}

/**
 * `refuseIfCopiedBefore` inside the write: one read per connector and name of the document, run
 * first in the batch that writes the copy. D1 runs a batch as one transaction, after or before any
 * other, so a copy written by a request that passed the check at the same moment is seen here. The
 * read then makes `json()` parse text that is not JSON, a plain way to fail a statement on purpose
 * in SQLite without a trigger; the batch throws and none of its writes is applied. (Conditional
 * inserts instead would leave the flows to undo by hand.) One read per pair keeps each statement
 * well under D1's 100 bound parameters.
 */
function copiedBeforeGuards(env: Env, tenantId: string, doc: SetupDocument) {
  const db = database(env);
  const pairs = new Map(doc.connections.map((c) => [JSON.stringify([c.connector, c.name]), c]));
  return [...pairs.values()].map((c) =>
    db
      .select({ free: sql<string>`json(CASE WHEN COUNT(*) > 0 THEN 'setup_copied_before' ELSE '0' END)` })
      .from(connections)
      .where(and(eq(connections.tenantId, tenantId), eq(connections.connector, c.connector), eq(connections.name, c.name))),
  );
}

/**
 * Writes the document's connections and flows into the tenant, all or nothing, after checking all
 * of them as the connection and flow routes do. Connections come without credentials, so those
 * whose connector needs some are switched off until they are entered; every flow comes switched
 * off, to be switched on (and checked against the shop's other flows) once its connections work.
 */
export async function importSetup(
  env: Env,
  tenantId: string,
  document: SetupDocument,
  origin: string,
): Promise<z.infer<typeof copiedSchema>> {
  // Checked here too: the UI copies a shop's export without going through the API's validation.
  const parsed = setupDocument.safeParse(document);
  if (!parsed.success)
    throw refused(
      `The setup cannot be copied: ${parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join(".") || "(document)"}: ${i.message}`)
        .join("; ")}.`,
      parsed.error.issues.slice(0, 3),
    );
  const doc = parsed.data;
  await refuseIfCopiedBefore(env, tenantId, doc);
  const refs = new Set<string>();
  for (const c of doc.connections) {
    if (refs.has(c.ref)) throw refused(`Two connections have the ref "${c.ref}"; each needs its own.`);
    refs.add(c.ref);
  }
  const made = new Map<string, Awaited<ReturnType<typeof newConnection>>>();
  const checks: string[] = [];
  for (const c of doc.connections) {
    try {
      const { settings, checks: own } = copiedSettings(c);
      checks.push(...own);
      made.set(c.ref, await newConnection(env, tenantId, { ...c, settings, credentials: {} }, { credentialsLater: true }));
    } catch (error) {
      if (error instanceof OrderlyError)
        throw refused(`Connection "${c.name}" (${c.ref}): ${error.message}`, { ref: c.ref, code: error.code });
      throw error;
    }
  }
  const ids = new Map([...made].map(([ref, { row }]) => [ref, row.id]));
  const byId = new Map([...made.values()].map(({ row }) => [row.id, row]));
  const find = async (_env: Env, _tenant: string, id: string) => {
    const row = byId.get(id);
    if (!row) throw refused(`No connection in the document has the ref "${id}".`);
    return row;
  };
  const now = Date.now();
  const flowRows: Array<typeof flows.$inferInsert & { id: string; name: string }> = [];
  for (const [index, f] of doc.flows.entries()) {
    const where = `Flow ${index + 1} ("${f.name}")`;
    try {
      const source = ids.get(f.source) ?? f.source;
      const steps = f.steps.map((s) => ({ ...s, target: ids.get(s.target) ?? s.target, settings: renamed(s.settings, ids) }));
      const checked = await validateFlow(env, tenantId, source, steps, "save", f.stage, find);
      flowRows.push({
        id: `flw_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`,
        tenantId,
        name: f.name,
        sourceConnectionId: source,
        triggerStage: f.stage,
        filter: checkFilter(f.filter),
        steps: checked,
        enabled: false,
        createdAt: now,
        updatedAt: now,
      });
    } catch (error) {
      if (error instanceof OrderlyError) throw refused(`${where}: ${error.message}`, { flow: index + 1, code: error.code });
      throw error;
    }
  }
  const db = database(env);
  const writes = [
    ...copiedBeforeGuards(env, tenantId, doc),
    ...[...made.values()].map(({ row }) => db.insert(connections).values(row)),
    ...flowRows.map((row) => db.insert(flows).values(row)),
  ];
  const [first, ...rest] = writes;
  try {
    if (first) await db.batch([first, ...rest]);
  } catch (error) {
    // A guard threw: a copy that passed the check above at the same moment (a double click) wrote
    // first, and this batch wrote nothing. Said as the check says it; any other failure as it is.
    await refuseIfCopiedBefore(env, tenantId, doc);
    throw error;
  }

  const copied = [...made.values()].map(({ row, generatedSecret }) => {
    const source = getConnector(row.connector)?.source;
    return {
      ref: doc.connections.find((c) => ids.get(c.ref) === row.id)!.ref,
      id: row.id,
      name: row.name,
      connector: row.connector,
      enabled: row.enabled,
      ...(source ? { webhookUrl: `${origin}/hooks/${row.id}` } : {}),
      ...(generatedSecret ? { webhookSecret: generatedSecret } : {}),
    };
  });
  const todo = [
    ...copied
      .filter((c) => !c.enabled)
      .map((c) => `Enter the credentials of "${c.name}" (${c.connector}) and switch it on: credentials are never copied.`),
    ...checks,
    ...copied
      .filter((c) => c.webhookUrl)
      .map((c) => `Point the shop's webhooks for "${c.name}" at ${c.webhookUrl}, signed with the secret shown for it.`),
    ...(flowRows.length > 0
      ? ["Check each copied flow's settings (accounts, layouts, numbers belong to one shop's books), then switch it on."]
      : []),
  ];
  return { connections: copied, flows: flowRows.map((f) => ({ id: f.id, name: f.name })), todo };
}

export const setupRoutes = apiRouter()
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      summary: "This shop's setup: connections (without credentials) and flows",
      description:
        "A document to copy this shop's setup into another with `POST /api/v1/setup`. Credentials, webhook secrets, transfers and people are not in it.",
      responses: {
        200: { description: "The setup", content: { "application/json": { schema: setupDocument } } },
        ...errorResponses,
      },
    }),
    async (c) => c.json(await exportSetup(c.env, c.var.tenantId), 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      summary: "Copy a setup into this shop",
      description:
        "Adds the document's connections and flows to this shop, all or none, each checked as its own route would. Connections come without credentials: those that need some are switched off until they are entered (switching one on without them is refused, `credentials_required`). Flows come switched off. A step's `mailConnection` names the copy of the connection it named. Settings that name the other shop's own account or address (Shopify `shopDomain`, WooCommerce `storeUrl`, Billy `organizationId`, an endpoint's extra `headers`, `reconcile`) are left out, and `todo` says so, as it does for an API address that is not the vendor's. 400 `setup_invalid` names the connection or flow at fault; 409 `setup_copied_before` when the shop already has a connection of the same connector and name.",
      request: { body: { content: { "application/json": { schema: setupDocument } }, required: true } },
      responses: {
        201: { description: "Copied; `todo` says what is left to do", content: { "application/json": { schema: copiedSchema } } },
        409: {
          description:
            "`setup_copied_before`: the shop already has a connection of the same connector and name as the setup has (copied before?); nothing was written.",
          content: { "application/json": { schema: errorSchema } },
        },
        ...errorResponses,
      },
    }),
    async (c) => c.json(await importSetup(c.env, c.var.tenantId, c.req.valid("json"), new URL(c.req.url).origin), 201),
  );
