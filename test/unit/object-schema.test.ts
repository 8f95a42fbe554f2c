import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { INBOX_MIGRATIONS, type InboxDO } from "../../src/durable/inbox-do";
import type { OrderDO } from "../../src/durable/order-do";
import { ALL_STEPS, ORDER_DO_MIGRATIONS } from "../../src/durable/order-schema";
import { orderObjectName } from "../../src/durable/order-types";
import { ObjectSql } from "../../src/durable/sql";
import { inboxFor } from "../../src/worker/routes/hooks";
import { dropAll } from "../helpers/object-storage";
import { createWorld, eventually, orderObject as orderObjectOf, shopifyOrder } from "../helpers/world";

interface SchemaRow {
  type: string;
  name: string;
  tbl_name: string;
  sql: string | null;
}

/** The schema an object's storage holds (SQLite's own and the runtime's tables aside). */
function schemaOf(sql: SqlStorage): SchemaRow[] {
  return sql
    .exec<{ type: string; name: string; tbl_name: string; sql: string | null }>(
      // _schema: where an object made before its schema's `versionIn` keeps its version.
      "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE '_cf_%' AND name NOT IN ('sqlite_sequence', '_schema') ORDER BY type, name",
    )
    .toArray()
    .map((r) => ({ ...r }));
}

function orderObject() {
  return env.ORDERS.get(env.ORDERS.idFromName(`schema-test:${crypto.randomUUID()}`));
}

describe("object schemas", () => {
  it("a new order object and one migrated step by step from v1 hold the same schema", async () => {
    const fresh = await runInDurableObject(orderObject(), async (instance: OrderDO, state) => {
      // The new object's tables are created with its first statement.
      expect(schemaOf(state.storage.sql)).toEqual([]);
      await instance.describe();
      return schemaOf(state.storage.sql);
    });
    const migrated = await runInDurableObject(orderObject(), (_instance: OrderDO, state) => {
      // An object as the first release made it (v1), then brought up step by step (v2–v4's ALTERs, v5's rebuilds).
      const v1 = new ObjectSql(state.storage);
      v1.migrate(ORDER_DO_MIGRATIONS.steps.slice(0, 1));
      expect(v1.one<{ version: number }>("SELECT version FROM _schema")?.version).toBe(1);
      const later = new ObjectSql(state.storage);
      later.migrate(ORDER_DO_MIGRATIONS);
      expect(later.one<{ version: number }>("SELECT version FROM _schema")?.version).toBe(ORDER_DO_MIGRATIONS.steps.length);
      return schemaOf(state.storage.sql);
    });
    expect(fresh.map((r) => r.name)).toContain("outbox");
    expect(migrated).toEqual(fresh);
  });

  it("an order object's meta, steps and outbox keep their rows through v5's table rebuilds", async () => {
    await runInDurableObject(orderObject(), (_instance: OrderDO, state) => {
      const v4 = new ObjectSql(state.storage);
      v4.migrate(ORDER_DO_MIGRATIONS.steps.slice(0, 4));
      v4.run(
        "INSERT INTO steps (transfer_id, step_index, status, attempts, dispatch_id, result) VALUES ('t1', 0, 'done', 1, 'd1', '{}'), ('t1', 1, 'released', 0, 'd2', NULL)",
      );
      for (const kind of ["plan", "d1", "send"]) v4.run("INSERT INTO outbox (kind, payload, next_at) VALUES (?, '{}', 1)", kind);
      v4.run("INSERT INTO meta (key, value) VALUES ('stage', '{}'), ('order_id', '42')");
      v4.run("DELETE FROM outbox WHERE kind = 'plan'");
      const v5 = new ObjectSql(state.storage);
      v5.migrate(ORDER_DO_MIGRATIONS);
      expect(
        // The rows, as v12 keeps them (the `steps` view shows only the steps of a stored transfer).
        v5.all("SELECT transfer_id, step_index, status, attempts, dispatch_id, result FROM step_rows ORDER BY step_index"),
      ).toEqual([
        { transfer_id: "t1", step_index: 0, status: "done", attempts: 1, dispatch_id: "d1", result: "{}" },
        { transfer_id: "t1", step_index: 1, status: "released", attempts: 0, dispatch_id: "d2", result: null },
      ]);
      expect(v5.all("SELECT id, kind, parked FROM outbox ORDER BY id")).toEqual([
        { id: 2, kind: "d1", parked: 0 },
        { id: 3, kind: "send", parked: 0 },
      ]);
      expect(v5.all("SELECT key, value FROM meta ORDER BY key")).toEqual([
        { key: "order_id", value: "42" },
        { key: "stage", value: "{}" },
      ]);
      // A job added now still comes after every job present.
      v5.run("INSERT INTO outbox (kind, payload, next_at) VALUES ('plan', '{}', 1)");
      expect(v5.all<{ kind: string }>("SELECT kind FROM outbox ORDER BY id").map((r) => r.kind)).toEqual(["d1", "send", "plan"]);
    });
  });

  it("v6 moves each step's attempts before its re-run from meta keys into the step", async () => {
    await runInDurableObject(orderObject(), (_instance: OrderDO, state) => {
      const v5 = new ObjectSql(state.storage);
      v5.migrate(ORDER_DO_MIGRATIONS.steps.slice(0, 5));
      v5.run(
        "INSERT INTO steps (transfer_id, step_index, status, attempts) VALUES ('t:1', 0, 'done', 3), ('t:1', 1, 'waiting', 5), ('t:2', 0, 'running', 1)",
      );
      v5.run(
        "INSERT INTO meta (key, value) VALUES ('attempts_before:t:1:0', '2'), ('attempts_before:t:1:1', '4'), ('order_id', '42')",
      );
      const v6 = new ObjectSql(state.storage);
      v6.migrate(ORDER_DO_MIGRATIONS);
      expect(
        v6.all("SELECT transfer_id, step_index, attempts, attempts_before FROM step_rows ORDER BY transfer_id, step_index"),
      ).toEqual([
        { transfer_id: "t:1", step_index: 0, attempts: 3, attempts_before: 2 },
        { transfer_id: "t:1", step_index: 1, attempts: 5, attempts_before: 4 },
        { transfer_id: "t:2", step_index: 0, attempts: 1, attempts_before: 0 },
      ]);
      expect(v6.all("SELECT key FROM meta")).toEqual([{ key: "order_id" }]);
    });
  });

  it("v8 keeps every event, its seq and its dedupe keys, and writes no counter row for a new event", async () => {
    await runInDurableObject(orderObject(), (_instance: OrderDO, state) => {
      const v7 = new ObjectSql(state.storage);
      v7.migrate(ORDER_DO_MIGRATIONS.steps.slice(0, 7));
      const insert = (delivery: string, key: string | null, applied: number) =>
        v7.run(
          `INSERT INTO events (delivery_id, event_key, topic, stage, occurrence, version, received_at, object, raw_body, raw_size, headers, applied)
           VALUES (?, ?, 'orders/paid', 'paid', 'paid', 1, 5, '{}', 'body', 4, '{}', ?)`,
          delivery,
          key,
          applied,
        );
      insert("d1", "e1", 1);
      insert("d2", null, 1);
      insert("d3", "e3", 0);
      v7.run("DELETE FROM events WHERE delivery_id = 'd2'");
      const v8 = new ObjectSql(state.storage);
      v8.migrate({ steps: ORDER_DO_MIGRATIONS.steps.slice(0, 8) });
      expect(v8.all("SELECT seq, delivery_id, event_key, raw_body, applied FROM events ORDER BY seq")).toEqual([
        { seq: 1, delivery_id: "d1", event_key: "e1", raw_body: "body", applied: 1 },
        { seq: 3, delivery_id: "d3", event_key: "e3", raw_body: "body", applied: 0 },
      ]);
      // The dedupe keys are still unique.
      expect(() =>
        v8.run(
          "INSERT INTO events (delivery_id, topic, stage, occurrence, version, received_at, object, raw_size, headers) VALUES ('d1', 't', 's', 'o', 1, 1, '{}', 0, '{}')",
        ),
      ).toThrow(/UNIQUE/);
      // A new event comes after every event present, and writes one row and its two key entries.
      const written = v8.run(
        "INSERT INTO events (delivery_id, topic, stage, occurrence, version, received_at, object, raw_size, headers) VALUES ('d4', 't', 's', 'o', 1, 1, '{}', 0, '{}')",
      );
      expect(v8.one<{ seq: number }>("SELECT seq FROM events WHERE delivery_id = 'd4'")?.seq).toBe(4);
      expect(written).toBe(3);
    });
  });

  it("v11 keeps every event and its seq, a new event writes one row, and a delivery is still taken once", async () => {
    await runInDurableObject(orderObject(), (_instance: OrderDO, state) => {
      const v10 = new ObjectSql(state.storage);
      v10.migrate({ steps: ORDER_DO_MIGRATIONS.steps.slice(0, 10) });
      const insert = (sql: ObjectSql, delivery: string, key: string | null) =>
        sql.run(
          `INSERT INTO events (delivery_id, event_key, topic, stage, occurrence, version, received_at, object, raw_body, raw_size, headers)
           VALUES (?, ?, 'orders/paid', 'paid', 'paid', 1, 5, '{}', 'body', 4, '{}')`,
          delivery,
          key,
        );
      insert(v10, "d1", "e1");
      insert(v10, "d2", null);
      insert(v10, "d3", "e3");
      v10.run("DELETE FROM events WHERE delivery_id = 'd3'");
      const v11 = new ObjectSql(state.storage);
      v11.migrate(ORDER_DO_MIGRATIONS);
      expect(v11.all("SELECT seq, delivery_id, event_key, raw_body FROM events ORDER BY seq")).toEqual([
        { seq: 1, delivery_id: "d1", event_key: "e1", raw_body: "body" },
        { seq: 2, delivery_id: "d2", event_key: null, raw_body: "body" },
      ]);
      // No index entries beside the row: one row written per event.
      expect(insert(v11, "d4", "e4")).toBe(1);
      expect(v11.all("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'")).toEqual([]);
    });
  });

  it("an order object takes a delivery, or its event under another delivery id, once (v11 has no UNIQUE to catch it)", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    const send = (webhookId: string, eventId: string) =>
      world.sendShopify("orders/paid", order, { "X-Shopify-Webhook-Id": webhookId, "X-Shopify-Event-Id": eventId });
    expect((await send("w-1", "e-1")).status).toBe(200);
    expect((await send("w-1", "e-1")).status).toBe(200);
    // The same event delivered again under a fresh delivery id (Shopify's retries keep both; a replay may not).
    expect((await send("w-2", "e-1")).status).toBe(200);
    const stub = orderObjectOf(world, order);
    // As after a wake: the keys are read again from the table.
    await eventually(async () => ((await stub.describe()).events as unknown[]).length === 1, "the first event");
    await runInDurableObject(stub, (instance: OrderDO) => {
      (instance as unknown as { eventKeys: Set<string> | null }).eventKeys = null;
    });
    expect((await send("w-1", "e-1")).status).toBe(200);
    expect((await send("w-4", "e-1")).status).toBe(200);
    // A new event of the order is taken.
    expect((await send("w-3", "e-3")).status).toBe(200);
    const deliveries = await eventually(async () => {
      const events = (await stub.describe()).events as Array<{ delivery_id: string }>;
      return events.length >= 2 ? events.map((e) => e.delivery_id) : undefined;
    }, "the order's events");
    // Each is handed on in order, so once the last is in, the duplicates were refused before it.
    expect(deliveries).toEqual(["w-1", "w-3"]);
  });

  it("v9 keeps every transfer, and a new transfer writes one row", async () => {
    await runInDurableObject(orderObject(), (_instance: OrderDO, state) => {
      const v8 = new ObjectSql(state.storage);
      v8.migrate(ORDER_DO_MIGRATIONS.steps.slice(0, 8));
      const insert = (sql: ObjectSql, id: string, seq: number) =>
        sql.run(
          `INSERT INTO transfers (id, seq, flow_id, stage, occurrence, status, steps, input, event_seq, created_at, updated_at, rerun_pending, priority)
           VALUES (?, ?, 'flow', 'paid', ?, 'completed', '[]', '{}', 1, 5, 6, 1, 'bulk')`,
          id,
          seq,
          `o${seq}`,
        );
      insert(v8, "t1", 1);
      insert(v8, "t2", 2);
      const v9 = new ObjectSql(state.storage);
      v9.migrate(ORDER_DO_MIGRATIONS);
      expect(v9.all("SELECT id, seq, occurrence, status, rerun_pending, priority FROM transfers ORDER BY seq")).toEqual([
        { id: "t1", seq: 1, occurrence: "o1", status: "completed", rerun_pending: 1, priority: "bulk" },
        { id: "t2", seq: 2, occurrence: "o2", status: "completed", rerun_pending: 1, priority: "bulk" },
      ]);
      expect(insert(v9, "t3", 3)).toBe(1);
      expect(() => insert(v9, "t3", 4)).toThrow(/UNIQUE|PRIMARY/);
    });
  });

  it("v12 keeps every step's row, ALL_STEPS shows a step without one as waiting, and the old table name is gone", async () => {
    await runInDurableObject(orderObject(), (_instance: OrderDO, state) => {
      const v11 = new ObjectSql(state.storage);
      v11.migrate({ steps: ORDER_DO_MIGRATIONS.steps.slice(0, 11) });
      const configs = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ target: "c", action: `a${i}` })));
      for (const [id, seq, n] of [
        ["t1", 1, 3],
        ["t2", 2, 2],
      ] as const)
        v11.run(
          `INSERT INTO transfers (id, seq, flow_id, stage, occurrence, status, steps, input, event_seq, created_at, updated_at)
           VALUES (?, ?, 'flow', 'paid', '', 'running', ?, '{}', 1, 5, 6)`,
          id,
          seq,
          configs(n),
        );
      // v11 wrote every step of a new transfer, waiting ones included.
      v11.run(
        "INSERT INTO steps (transfer_id, step_index, status, attempts, attempts_before) VALUES ('t1', 0, 'done', 2, 1), ('t1', 1, 'running', 1, 0), ('t1', 2, 'waiting', 0, 0)",
      );
      const v12 = new ObjectSql(state.storage);
      v12.migrate(ORDER_DO_MIGRATIONS);
      expect(
        v12.all(
          `SELECT transfer_id, step_index, status, attempts, attempts_before, resends FROM ${ALL_STEPS} ORDER BY transfer_id, step_index`,
        ),
      ).toEqual([
        { transfer_id: "t1", step_index: 0, status: "done", attempts: 2, attempts_before: 1, resends: 0 },
        { transfer_id: "t1", step_index: 1, status: "running", attempts: 1, attempts_before: 0, resends: 0 },
        { transfer_id: "t1", step_index: 2, status: "waiting", attempts: 0, attempts_before: 0, resends: 0 },
        { transfer_id: "t2", step_index: 0, status: "waiting", attempts: 0, attempts_before: 0, resends: 0 },
        { transfer_id: "t2", step_index: 1, status: "waiting", attempts: 0, attempts_before: 0, resends: 0 },
      ]);
      expect(v12.one<{ n: number }>("SELECT COUNT(*) AS n FROM step_rows")?.n).toBe(3);
      expect(() => v12.run("UPDATE steps SET status = 'done'")).toThrow(/no such table/);
    });
  });

  it("a schema step that fails part-way leaves nothing behind, so the next try can run it again", async () => {
    await runInDurableObject(orderObject(), (_instance: OrderDO, state) => {
      dropAll(state.storage.sql);
      const v1 = new ObjectSql(state.storage);
      v1.migrate(["CREATE TABLE a (x INTEGER)"]);
      v1.run("INSERT INTO a (x) VALUES (1)");
      const broken = new ObjectSql(state.storage);
      broken.migrate(["CREATE TABLE a (x INTEGER)", "CREATE TABLE a_v2 (x INTEGER); INSERT INTO a_v2 SELECT x FROM missing"]);
      expect(() => broken.one("SELECT x FROM a")).toThrow(/missing/);
      expect(schemaOf(state.storage.sql).map((r) => r.name)).not.toContain("a_v2");
      const fixed = new ObjectSql(state.storage);
      fixed.migrate(["CREATE TABLE a (x INTEGER)", "CREATE TABLE a_v2 (x INTEGER); INSERT INTO a_v2 SELECT x FROM a"]);
      expect(fixed.all("SELECT x FROM a_v2")).toEqual([{ x: 1 }]);
      expect(fixed.one<{ version: number }>("SELECT version FROM _schema")?.version).toBe(2);
    });
  });

  it("an object that keeps its version in meta takes a later step and records it there", async () => {
    await runInDurableObject(orderObject(), async (instance: OrderDO, state) => {
      await instance.describe();
      const next = { ...ORDER_DO_MIGRATIONS, steps: [...ORDER_DO_MIGRATIONS.steps, "CREATE TABLE later (x INTEGER)"] };
      const sql = new ObjectSql(state.storage);
      sql.migrate(next);
      expect(sql.version(next)).toBe(ORDER_DO_MIGRATIONS.steps.length + 1);
      expect(sql.all("SELECT x FROM later")).toEqual([]);
      expect(state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = '_schema'").toArray()).toEqual([]);
      // Taken once: the next object at this version runs nothing.
      const again = new ObjectSql(state.storage);
      again.migrate(next);
      expect(again.all("SELECT x FROM later")).toEqual([]);
    });
  });

  it("a new order object is at the latest version and does not migrate again", async () => {
    await runInDurableObject(orderObject(), async (instance: OrderDO, state) => {
      await instance.describe();
      // Its version is a row of meta, not a table of its own (each CREATE is billed as two rows).
      expect(state.storage.sql.exec("SELECT name FROM sqlite_master WHERE name = '_schema'").toArray()).toEqual([]);
      expect(state.storage.sql.exec("SELECT value FROM meta WHERE key = 'schema_version'").toArray()).toEqual([
        { value: String(ORDER_DO_MIGRATIONS.steps.length) },
      ]);
      const before = schemaOf(state.storage.sql);
      const again = new ObjectSql(state.storage);
      again.migrate(ORDER_DO_MIGRATIONS);
      expect(again.version(ORDER_DO_MIGRATIONS)).toBe(ORDER_DO_MIGRATIONS.steps.length);
      expect(schemaOf(state.storage.sql)).toEqual(before);
    });
  });

  it("an inbox shard with v1 rows waiting migrates them and still hands them on whole", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    const name = orderObjectName(world.shopId, String(order.id));
    const shard = inboxFor(env, name);
    // Hold the hand-over so the delivery waits in the shard.
    await runInDurableObject(shard, (instance: InboxDO) => {
      vi.spyOn(instance as unknown as { forward(): Promise<void> }, "forward").mockImplementation(async () => {});
    });
    const headers = { "X-Shopify-Webhook-Id": crypto.randomUUID() };
    expect((await world.sendShopify("orders/paid", order, headers)).status).toBe(200);
    vi.restoreAllMocks();
    const body = await runInDurableObject(shard, async (instance: InboxDO, state) => {
      const sql = state.storage.sql;
      const row = sql
        .exec<{ order_name: string; request: string; raw_body: string; next_at: number }>(
          "SELECT order_name, request, raw_body, next_at FROM pending WHERE order_name = ?",
          name,
        )
        .one();
      const seen = [{ key: `d:${world.shopId}:${headers["X-Shopify-Webhook-Id"]}`, received_at: Date.now() }];
      // The same shard as the first release stored it: v1 tables, the body inside the request's JSON.
      dropAll(sql);
      const v1 = new ObjectSql(state.storage);
      v1.migrate(INBOX_MIGRATIONS.slice(0, 1));
      const request = JSON.parse(row.request);
      request.raw.body = row.raw_body;
      v1.run(
        "INSERT INTO pending (order_name, request, next_at) VALUES (?, ?, ?)",
        row.order_name,
        JSON.stringify(request),
        row.next_at,
      );
      for (const s of seen) v1.run("INSERT INTO seen (key, received_at) VALUES (?, ?)", s.key, s.received_at);
      const v2 = new ObjectSql(state.storage);
      v2.migrate(INBOX_MIGRATIONS);
      expect(v2.one<{ version: number }>("SELECT version FROM _schema")?.version).toBe(INBOX_MIGRATIONS.length);
      // The seen keys are kept (a shard rolled back to the release before still writes them) but no
      // longer written: the order's object dedupes.
      expect(sql.exec("SELECT COUNT(*) AS n FROM seen").one().n).toBe(seen.length);
      // A new instance knows nothing in memory: the alarm hands on what is stored.
      (instance as unknown as { accepted: Map<number, unknown> }).accepted.clear();
      await instance.alarm();
      expect(sql.exec("SELECT COUNT(*) AS n FROM pending").one().n).toBe(0);
      return row.raw_body;
    });
    const stored = await eventually(
      () =>
        runInDurableObject(
          env.ORDERS.get(env.ORDERS.idFromName(name)),
          (_instance: OrderDO, state) =>
            state.storage.sql.exec<{ raw_body: string | null }>("SELECT raw_body FROM events").toArray()[0],
        ),
      "the order's object has the event",
    );
    expect(stored.raw_body).toBe(body);
    expect(JSON.parse(body).id).toBe(order.id);
    // A re-delivery is taken by the shard and dropped by the order's object, which keeps one event.
    const again = await world.sendShopify("orders/paid", order, headers);
    expect(await again.json()).toMatchObject({ accepted: 1, duplicates: 0 });
    const stub = env.ORDERS.get(env.ORDERS.idFromName(name));
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 10_000 }).toBe(0);
    expect((await stub.describe()).events).toHaveLength(1);
  });
});
