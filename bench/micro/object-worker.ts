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

export class Probe extends DurableObject<ProbeEnv> {
  async run(variant: string): Promise<number> {
    const storage = this.ctx.storage.sql;
    const sql = new ObjectSql(storage);
    switch (variant) {
      case "none":
        return 0;
      case "one-table":
        storage.exec("CREATE TABLE t (x INTEGER)");
        return 1;
      case "schema":
        sql.migrate(ORDER_DO_MIGRATIONS);
        return 2;
      case "schema+event": {
        sql.migrate(ORDER_DO_MIGRATIONS);
        storage.exec(
          `INSERT INTO events (delivery_id, event_key, topic, stage, occurrence, version, received_at, object,
             raw_body, raw_blob, raw_size, headers) VALUES (?, ?, 'orders/create', 'created', '', 1, 1, ?, ?, NULL, ?, '{}')`,
          crypto.randomUUID(),
          crypto.randomUUID(),
          BODY,
          BODY,
          BODY.length,
        );
        return 3;
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
