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
}

const CACHE_MS = 30_000;
const cache = new Map<string, { at: number; value: LoadedConnection }>();

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
  return {
    id: row.id,
    tenantId: row.tenantId,
    name: row.name,
    connector,
    enabled: row.enabled,
    settings: connector.settings.parse(row.settings) as Record<string, unknown>,
    credentials: connector.credentials.parse(await decryptJson(env, row.credentials)) as Record<string, unknown>,
    webhookSecret: row.webhookSecret ? await decryptSecret(env, row.webhookSecret) : null,
  };
}

/** The webhook path's lookup: cached for a few seconds per isolate. */
export async function loadSourceConnection(env: Env, id: string): Promise<LoadedConnection | null> {
  const hit = cache.get(id);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.value;
  const value = await loadConnection(env, id);
  if (value) cache.set(id, { at: Date.now(), value });
  return value;
}

/** Called when a connection changes so this isolate stops using the old secret at once. */
export function forgetConnection(id: string): void {
  cache.delete(id);
}
