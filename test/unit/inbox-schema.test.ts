import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { INBOX_MIGRATIONS, type InboxDO } from "../../src/durable/inbox-do";
import { orderObjectName } from "../../src/durable/order-types";
import { ObjectSql } from "../../src/durable/sql";
import { runtimeConfig } from "../../src/worker/config";
import { inboxFor, inboxShard } from "../../src/worker/routes/hooks";
import { inboxTestEntry } from "../helpers/inbox-entry";
import { dropAll } from "../helpers/object-storage";
import { createWorld, orderObject, shopifyOrder } from "../helpers/world";

const SHARDS = runtimeConfig(env).inboxShards;

/** The names of the indexes on a table of the shard. */
function indexesOf(sql: SqlStorage, table: string): string[] {
  return sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? ORDER BY name", table)
    .toArray()
    .map((r) => r.name);
}

/** Holds a shard's hand-off (its deliveries wait in it) until the mocks are restored. */
function holdHandOff(instance: InboxDO): void {
  vi.spyOn(instance as unknown as { forward(): Promise<void> }, "forward").mockImplementation(async () => {});
}

describe("the inbox shard's schema", () => {
  it("writes one row for a new delivery's pending insert (v3: no index on pending)", async () => {
    const shard = env.INBOXES.get(env.INBOXES.idFromName(`inbox-rows:${crypto.randomUUID()}`));
    await runInDurableObject(shard, async (instance: InboxDO, state) => {
      holdHandOff(instance);
      // The first accept creates the tables; the one measured is an ordinary delivery.
      await instance.acceptEach([[inboxTestEntry("con_rows", "warm")]]);
      const exec = vi.spyOn(Object.getPrototypeOf(state.storage.sql) as SqlStorage, "exec");
      let inserts: SqlStorageCursor<Record<string, SqlStorageValue>>[];
      try {
        expect(await instance.acceptEach([[inboxTestEntry("con_rows", "a")]])).toEqual([{ accepted: 1, duplicates: 0 }]);
        inserts = exec.mock.calls.flatMap((call, i) =>
          String(call[0]).startsWith("INSERT INTO pending") ? [exec.mock.results[i]!.value] : [],
        );
      } finally {
        vi.restoreAllMocks();
      }
      expect(inserts).toHaveLength(1);
      expect(inserts[0]!.rowsWritten).toBe(1);
      expect(indexesOf(state.storage.sql, "pending")).toEqual([]);
      expect(state.storage.sql.exec("SELECT version FROM _schema").one().version).toBe(INBOX_MIGRATIONS.length);
    });
  });

  it("a shard at v2 with deliveries waiting drops the index and hands them on, each order's in arrival order", async () => {
    const world = await createWorld();
    // Two orders on one shard, their events stored interleaved.
    const first = shopifyOrder({ financial_status: "pending" });
    const name = orderObjectName(world.shopId, String(first.id));
    let second = shopifyOrder({ financial_status: "pending" });
    while (inboxShard(orderObjectName(world.shopId, String(second.id)), SHARDS) !== inboxShard(name, SHARDS))
      second = shopifyOrder({ financial_status: "pending" });
    const secondName = orderObjectName(world.shopId, String(second.id));
    const shard = inboxFor(env, name);
    await runInDurableObject(shard, holdHandOff);
    const sends = [
      [first, "orders/create", "c-1"],
      [second, "orders/create", "c-2"],
      [first, "orders/paid", "p-1"],
      [second, "orders/paid", "p-2"],
    ] as const;
    const ids = new Map(sends.map(([, , id]) => [id, `${id}-${crypto.randomUUID()}`]));
    for (const [order, topic, id] of sends) {
      const body = topic === "orders/paid" ? { ...order, financial_status: "paid" } : order;
      expect((await world.sendShopify(topic, body, { "X-Shopify-Webhook-Id": ids.get(id)! })).status).toBe(200);
    }
    await runInDurableObject(shard, async (instance: InboxDO, state) => {
      await state.storage.deleteAlarm();
      const sql = state.storage.sql;
      const rows = sql
        .exec<{ seq: number; order_name: string; request: string; raw_body: string | null; next_at: number }>(
          "SELECT seq, order_name, request, raw_body, next_at FROM pending ORDER BY seq",
        )
        .toArray()
        .map((r) => ({ ...r }));
      expect(rows.map((r) => r.order_name)).toEqual([name, secondName, name, secondName]);
      // The same shard as the release before stored it: v2's tables and index.
      dropAll(sql);
      const v2 = new ObjectSql(state.storage);
      v2.migrate(INBOX_MIGRATIONS.slice(0, 2));
      for (const r of rows)
        v2.run(
          "INSERT INTO pending (seq, order_name, request, raw_body, next_at) VALUES (?, ?, ?, ?, ?)",
          r.seq,
          r.order_name,
          r.request,
          r.raw_body,
          r.next_at,
        );
      expect(indexesOf(sql, "pending")).toEqual(["pending_order"]);
      const v3 = new ObjectSql(state.storage);
      v3.migrate(INBOX_MIGRATIONS);
      expect(v3.one<{ version: number }>("SELECT version FROM _schema")?.version).toBe(INBOX_MIGRATIONS.length);
      expect(indexesOf(sql, "pending")).toEqual([]);
      expect(v3.all("SELECT seq, order_name FROM pending ORDER BY seq")).toEqual(
        rows.map((r) => ({ seq: r.seq, order_name: r.order_name })),
      );
      // A new instance knows nothing in memory: the alarm hands on what is stored.
      vi.restoreAllMocks();
      (instance as unknown as { accepted: Map<number, unknown> }).accepted.clear();
      await instance.alarm();
      expect(sql.exec("SELECT COUNT(*) AS n FROM pending").one().n).toBe(0);
    });
    const deliveries = async (order: { id: number }) =>
      ((await orderObject(world, order).describe()).events as Array<{ delivery_id: string }>).map((e) => e.delivery_id);
    expect(await deliveries(first)).toEqual([ids.get("c-1"), ids.get("p-1")]);
    expect(await deliveries(second)).toEqual([ids.get("c-2"), ids.get("p-2")]);
  });
});
