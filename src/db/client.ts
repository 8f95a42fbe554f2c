import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

function over(db: D1Database) {
  return drizzle(db, { schema });
}

export type Db = ReturnType<typeof over>;

/**
 * Drizzle with the schema walks every table to build its relational config (about 20–40 µs), and
 * a step asked for it a dozen times: one per D1 binding, kept for the isolate's life. It holds no
 * request's state, only the binding, which every request of the isolate shares.
 */
const made = new WeakMap<D1Database, Db>();

/** Drizzle over the D1 binding. */
export function database(env: Pick<Env, "DB">): Db {
  let db = made.get(env.DB);
  if (!db) {
    db = over(env.DB);
    made.set(env.DB, db);
  }
  return db;
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
