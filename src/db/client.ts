import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = ReturnType<typeof database>;

/** Drizzle over the D1 binding; cheap to create per request. */
export function database(env: Pick<Env, "DB">) {
  return drizzle(env.DB, { schema });
}

/** A drizzle query turned into plain SQL, so a Durable Object can keep it in its outbox and run it later. */
export interface SerializedStatement {
  sql: string;
  params: unknown[];
}

export function serialize(query: { toSQL(): { sql: string; params: unknown[] } }): SerializedStatement {
  const { sql, params } = query.toSQL();
  return { sql, params };
}

/** Runs serialized statements as one D1 batch (atomic: all or none). */
export async function runBatch(env: Pick<Env, "DB">, statements: SerializedStatement[]): Promise<void> {
  if (statements.length === 0) return;
  await env.DB.batch(statements.map((s) => env.DB.prepare(s.sql).bind(...s.params)));
}
