/**
 * InboxDO: a few sharded objects that make the webhook's acknowledgement cheap. A delivery is
 * written to its shard's SQLite (durable before the 2xx, guarantee 1) and handed on to its
 * order's OrderDO right after, in arrival order per order; the OrderDO stays the only place where
 * an order's stage changes. Creating a fresh per-order object on the ack path was the dominant
 * cost (docs/performance.md); a shard is always warm.
 */
import { DurableObject } from "cloudflare:workers";
import { runtimeConfig } from "../worker/config";
import { type IngestRequest, orderStub } from "./order-types";
import { ObjectSql } from "./sql";

const MIGRATIONS = [
  `
  -- Deliveries stored and not yet handed to their order's object.
  CREATE TABLE pending (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    order_name TEXT NOT NULL,
    request TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL
  );
  CREATE INDEX pending_order ON pending (order_name, seq);
  -- Keys seen lately, to answer re-deliveries as duplicates at once (the OrderDO dedupes for good).
  CREATE TABLE seen (key TEXT PRIMARY KEY, received_at INTEGER NOT NULL);
  CREATE INDEX seen_time ON seen (received_at);
  `,
];

/** Orders handed on at the same time by one shard. */
const FORWARD_CONCURRENCY = 16;
const DAY_MS = 86_400_000;

export interface InboxAccept {
  orderName: string;
  request: IngestRequest;
}

export class InboxDO extends DurableObject<Env> {
  private readonly sql: ObjectSql;
  private forwarding: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new ObjectSql(ctx.storage.sql);
    this.sql.migrate(MIGRATIONS);
  }

  /** Stores the events of one delivery; answers only once they are durable. */
  async accept(events: InboxAccept[]): Promise<{ accepted: number; duplicates: number }> {
    const now = Date.now();
    let accepted = 0;
    for (const { orderName, request } of events) {
      const keys = [`d:${request.connectionId}:${request.event.deliveryId}`];
      if (request.event.eventKey) keys.push(`e:${request.connectionId}:${request.event.eventKey}`);
      if (keys.some((key) => this.sql.one("SELECT 1 AS x FROM seen WHERE key = ?", key))) continue;
      for (const key of keys) this.sql.run("INSERT OR IGNORE INTO seen (key, received_at) VALUES (?, ?)", key, now);
      this.sql.run(
        "INSERT INTO pending (order_name, request, next_at) VALUES (?, ?, ?)",
        orderName,
        JSON.stringify(request),
        now,
      );
      accepted++;
    }
    if (accepted > 0) {
      void this.ctx.storage.setAlarm(now + 2000);
      void this.forward().catch(() => {});
    }
    return { accepted, duplicates: events.length - accepted };
  }

  override async alarm(): Promise<void> {
    await this.forward();
    const retention = runtimeConfig(this.env).dedupeRetentionDays;
    this.sql.run("DELETE FROM seen WHERE received_at < ?", Date.now() - Math.min(retention, 7) * DAY_MS);
    const next = this.sql.one<{ t: number | null }>("SELECT MIN(next_at) AS t FROM pending")?.t;
    // Wake again for what is left, and at least daily to prune the seen keys.
    await this.ctx.storage.setAlarm(next ?? Date.now() + DAY_MS);
  }

  /** Hands pending events on, oldest first per order; a failure leaves the order's rest for later. */
  private forward(): Promise<void> {
    if (!this.forwarding) {
      this.forwarding = this.drain().finally(() => {
        this.forwarding = null;
      });
    }
    return this.forwarding;
  }

  private async drain(): Promise<void> {
    for (;;) {
      const orders = this.sql
        .all<{ order_name: string }>(
          `SELECT order_name FROM pending WHERE next_at <= ? GROUP BY order_name ORDER BY MIN(seq) LIMIT ${FORWARD_CONCURRENCY}`,
          Date.now(),
        )
        .map((r) => r.order_name);
      if (orders.length === 0) return;
      const progress = await Promise.all(orders.map((name) => this.forwardOrder(name)));
      if (!progress.some(Boolean)) return;
    }
  }

  private async forwardOrder(orderName: string): Promise<boolean> {
    const rows = this.sql.all<{ seq: number; request: string; attempts: number }>(
      "SELECT seq, request, attempts FROM pending WHERE order_name = ? ORDER BY seq LIMIT 20",
      orderName,
    );
    const order = orderStub(this.env, orderName);
    let moved = false;
    for (const row of rows) {
      try {
        await order.ingest(JSON.parse(row.request) as IngestRequest);
        this.sql.run("DELETE FROM pending WHERE seq = ?", row.seq);
        moved = true;
      } catch (error) {
        const delay = Math.min(60_000, 500 * 2 ** row.attempts);
        this.sql.run(
          "UPDATE pending SET attempts = attempts + 1, next_at = ? WHERE order_name = ?",
          Date.now() + delay,
          orderName,
        );
        console.error("inbox could not hand an event to its order", { orderName, error: String(error) });
        break;
      }
    }
    return moved;
  }
}
