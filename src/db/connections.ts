/**
 * Loading a connection: its connector, its settings parsed by the connector's schema, and its
 * credentials decrypted. The webhook path keeps a short per-isolate cache so a burst of
 * deliveries does not read and decrypt the same row for each one.
 */
import { and, eq } from "drizzle-orm";
import type { Connector } from "../connectors/contract";
import { getConnector } from "../connectors/registry";
import { OrderlyError } from "../domain/errors";
import { database } from "./client";
import { decryptJson, decryptSecret } from "./credentials";
import { connections } from "./schema";

export interface LoadedConnection {
  id: string;
  tenantId: string;
  name: string;
  connector: Connector;
  enabled: boolean;
  settings: Record<string, unknown>;
  credentials: Record<string, unknown>;
  webhookSecret: string | null;
  /**
   * Set when the stored address (`baseUrl`) fails today's rule (src/connectors/base-url.ts), e.g.
   * saved before it: why no call is made. The connection still loads so it can be edited, but
   * every step to it fails with this reason.
   */
  refusedDestination?: string;
}

/** A cached connection is re-read after this long (while it is served, see loadSourceConnection). */
const CACHE_MS = 30_000;
/** Beyond this age a cached connection is no longer served: the request waits for the read. */
const MAX_STALE_MS = 5 * 60_000;
const cache = new Map<string, { at: number; value: LoadedConnection }>();
const refreshing = new Set<string>();

/** Loads a connection, scoped to a tenant when one is given; null when it does not exist. */
export async function loadConnection(env: Env, id: string, tenantId?: string): Promise<LoadedConnection | null> {
  const where = tenantId ? and(eq(connections.id, id), eq(connections.tenantId, tenantId)) : eq(connections.id, id);
  const row = await database(env).select().from(connections).where(where).get();
  if (!row) return null;
  const connector = getConnector(row.connector);
  if (!connector) {
    throw new OrderlyError(`Connection ${id} uses connector "${row.connector}", which this version of Orderly does not have.`, {
      errorClass: "validation",
      code: "connector_unknown",
    });
  }
  const settings = connector.settings.safeParse(row.settings);
  const destination = settings.success ? [] : settings.error.issues.filter((issue) => issue.path[0] === "baseUrl");
  // Any other stored setting that no longer passes fails the load, as it always has.
  if (!settings.success && destination.length === 0) throw settings.error;
  const loaded: LoadedConnection = {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    connector,
    enabled: row.enabled,
    settings: settings.success ? (settings.data as Record<string, unknown>) : row.settings,
    credentials: connector.credentials.parse(await decryptJson(env, row.credentials)) as Record<string, unknown>,
    webhookSecret: row.webhookSecret ? await decryptSecret(env, row.webhookSecret) : null,
  };
  if (settings.success) return loaded;
  const reason = `Connection "${row.name}" has a base URL Orderly does not call (${destination.map((i) => i.message).join("; ")}). Edit the connection's Base URL, then retry.`;
  return { ...loaded, connector: refusingCalls(connector, reason), refusedDestination: reason };
}

/**
 * The connector with every action failing at once with `reason`, before any call: the step fails
 * through the usual path (its transfer shows why, the alert goes out) instead of the load throwing,
 * which would leave the step message retrying unseen and the connection's edit page unreachable.
 */
function refusingCalls(connector: Connector, reason: string): Connector {
  const refuse = async (): Promise<never> => {
    throw new OrderlyError(reason, { errorClass: "validation", code: "connection_base_url_refused" });
  };
  const actions = Object.fromEntries(
    Object.entries(connector.actions ?? {}).map(([name, action]) => [name, { ...action, run: refuse }]),
  );
  return { ...connector, actions };
}

/**
 * The webhook path's lookup, cached per isolate. When the entry is due, the request that finds it
 * starts one re-read in the background (`waitUntil`) and every request goes on with the cached
 * value meanwhile: under load D1 can be seconds behind with the orders' history, and a burst that
 * all waited for the same read would stall its acknowledgements (measured: p99 9 s, bench notes).
 * A changed secret or a disabled connection therefore takes effect one re-read after 30 s.
 */
export async function loadSourceConnection(
  env: Env,
  id: string,
  waitUntil?: (promise: Promise<unknown>) => void,
): Promise<LoadedConnection | null> {
  const hit = cache.get(id);
  const age = hit ? Date.now() - hit.at : Number.POSITIVE_INFINITY;
  if (hit && age < CACHE_MS) return hit.value;
  if (hit && age < MAX_STALE_MS && waitUntil) {
    if (!refreshing.has(id)) {
      refreshing.add(id);
      // Each request waits only on its own I/O; a read shared across requests could be cancelled with the one that started it.
      waitUntil(
        loadAndCache(env, id)
          .catch((error) =>
            console.error("connection re-read failed; the cached one is still used", { id, error: String(error) }),
          )
          .finally(() => refreshing.delete(id)),
      );
    }
    return hit.value;
  }
  return loadAndCache(env, id);
}

async function loadAndCache(env: Env, id: string): Promise<LoadedConnection | null> {
  const value = await loadConnection(env, id);
  if (value) cache.set(id, { at: Date.now(), value });
  else cache.delete(id);
  return value;
}

/** Called when a connection changes so this isolate stops using the old secret at once. */
export function forgetConnection(id: string): void {
  cache.delete(id);
}
