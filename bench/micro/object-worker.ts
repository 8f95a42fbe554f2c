// The micro-benchmark's Worker (bench/micro/objects.mjs): one SQLite-backed Durable Object class
// whose RPC `run(variant)` does one slice of what a new OrderDO does, so the cost of creating an
// object can be split into the runtime's part and the schema's part. It imports the real schema.
import { DurableObject } from "cloudflare:workers";
import { ORDER_DO_MIGRATIONS } from "../../src/durable/order-schema";
import { ObjectSql } from "../../src/durable/sql";

interface ProbeEnv {
  PROBES: DurableObjectNamespace<Probe>;
}

const BODY = JSON.stringify({ filler: "x".repeat(4800) });

/** The OrderDO schema as it was before the one-script schema of a new object: v1, then v2–v4's ALTERs. */
const V4_STEPS = ORDER_DO_MIGRATIONS.steps.slice(0, 4);

/** ObjectSql.migrate as it was then (commit 9a7eee9): the steps in the constructor, committed on their own. */
function migrateStepByStep(storage: SqlStorage, steps: readonly string[]): void {
  storage.exec("CREATE TABLE IF NOT EXISTS _schema (version INTEGER NOT NULL)");
  const row = storage.exec<{ version: number }>("SELECT version FROM _schema").toArray()[0];
  const current = row?.version ?? 0;
  if (current >= steps.length) return;
  const bump = row ? `UPDATE _schema SET version = ${steps.length};` : `INSERT INTO _schema (version) VALUES (${steps.length});`;
  storage.exec(`${steps.slice(current).join(";\n")};\n${bump}`);
}

export class Probe extends DurableObject<ProbeEnv> {
  async run(variant: string): Promise<number> {
    const storage = this.ctx.storage.sql;
    const sql = new ObjectSql(this.ctx.storage);
    switch (variant) {
      case "none":
        return 0;
      case "one-table":
        storage.exec("CREATE TABLE t (x INTEGER)");
        return 1;
      case "schema-before":
        migrateStepByStep(storage, V4_STEPS);
        return 2;
      case "schema-after":
        // The DDL is deferred to the object's first statement (ObjectSql.migrate).
        sql.migrate(ORDER_DO_MIGRATIONS);
        sql.one("SELECT 1 AS x");
        return 2;
      case "schema-after+event":
        // As a new order: the schema and the first event in one transaction.
        sql.migrate(ORDER_DO_MIGRATIONS);
        sql.run(
          `INSERT INTO events (delivery_id, event_key, topic, stage, occurrence, version, received_at, object,
             raw_body, raw_blob, raw_size, headers) VALUES (?, ?, 'orders/create', 'created', '', 1, 1, ?, ?, NULL, ?, '{}')`,
          crypto.randomUUID(),
          crypto.randomUUID(),
          BODY,
          BODY,
          BODY.length,
        );
        return 3;
      case "schema-after+100-selects":
        // What one small statement costs on its own: the runtime's call, SQLite's step and the row's conversion.
        sql.migrate(ORDER_DO_MIGRATIONS);
        for (let i = 0; i < 100; i++) sql.one("SELECT MIN(next_at) AS t FROM outbox WHERE parked = 1");
        return 5;
      case "schema-before+event": {
        // As before: the schema committed by the constructor, the event by the first request.
        migrateStepByStep(storage, V4_STEPS);
        await scheduler.wait(0);
        storage.exec(
          `INSERT INTO events (delivery_id, event_key, topic, stage, occurrence, version, received_at, object,
             raw_body, raw_blob, raw_size, headers) VALUES (?, ?, 'orders/create', 'created', '', 1, 1, ?, ?, NULL, ?, '{}')`,
          crypto.randomUUID(),
          crypto.randomUUID(),
          BODY,
          BODY,
          BODY.length,
        );
        return 4;
      }
      default:
        throw new Error(`unknown variant ${variant}`);
    }
  }
}

export default {
  async fetch(request: Request, env: ProbeEnv): Promise<Response> {
    const url = new URL(request.url);
    const variant = url.searchParams.get("variant") ?? "none";
    const n = Number(url.searchParams.get("n") ?? 100);
    const concurrency = Number(url.searchParams.get("concurrency") ?? 16);
    let next = 0;
    const lane = async () => {
      while (next < n) {
        next++;
        const stub = env.PROBES.get(env.PROBES.idFromName(crypto.randomUUID()));
        await stub.run(variant);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    return Response.json({ ok: true, n });
  },
} satisfies ExportedHandler<ProbeEnv>;
