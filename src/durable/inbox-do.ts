/**
 * InboxDO: a few sharded objects that make the webhook's acknowledgement cheap. A delivery is
 * written to its shard's SQLite (durable before the 2xx, guarantee 1) and handed on to its
 * order's OrderDO right after, in arrival order per order; the OrderDO stays the only place where
 * an order's stage changes. Creating a fresh per-order object on the ack path was the dominant
 * cost (docs/performance.md); a shard is always warm. A delivery stored before its payload was
 * validated and mapped (a Shopify one) is parsed on its way out (src/worker/deferred-intake.ts).
 */
import { DurableObject } from "cloudflare:workers";
import { alertHeldEvent, HELD_ALERT_TRIES, heldOrder } from "../notifications/held-alerts";
import { runtimeConfig } from "../worker/config";
import { withDeadline } from "../worker/deadline";
import { takeDeferred } from "../worker/deferred-intake";
import { type InboxAccept, inboxEntry, storedIngest } from "./inbox-entry";
import type { OrderDO } from "./order-do";
import { type IngestRequest, orderObjectName, orderStub, type StoredIngest } from "./order-types";
import { ObjectSql } from "./sql";

export const INBOX_MIGRATIONS = [
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
  // v2: fewer rows and pages written per accepted delivery (docs/performance.md, "the inbox").
  // - pending.seq is a plain rowid: a new row still gets a seq above every row present, which is
  //   all the per-order order needs (nothing refers to a deleted seq), and the AUTOINCREMENT
  //   counter no longer takes a write per delivery;
  // - the raw body has its own column instead of being escaped into the request's JSON (rows
  //   from v1 keep it in `request` and have raw_body NULL);
  // - seen is keyed by its key alone (WITHOUT ROWID: one b-tree instead of a table, its key index
  //   and a time index); the daily prune scans it.
  `
  CREATE TABLE pending_v2 (
    seq INTEGER PRIMARY KEY,
    order_name TEXT NOT NULL,
    request TEXT NOT NULL,
    raw_body TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL
  );
  INSERT INTO pending_v2 (seq, order_name, request, attempts, next_at)
    SELECT seq, order_name, request, attempts, next_at FROM pending;
  DROP TABLE pending;
  ALTER TABLE pending_v2 RENAME TO pending;
  CREATE INDEX pending_order ON pending (order_name, seq);
  CREATE TABLE seen_v2 (key TEXT PRIMARY KEY, received_at INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO seen_v2 (key, received_at) SELECT key, received_at FROM seen;
  DROP TABLE seen;
  ALTER TABLE seen_v2 RENAME TO seen;
  `,
  // v3: one row written per accepted delivery instead of two (docs/performance.md, "the inbox"): the
  // index's entry was a billed row of its own. The hand-off reads the backlog in seq (rowid) order,
  // a page at a time, and groups it by order in memory, so it needs no lookup by order. No `fresh`
  // script: a deployment makes INBOX_SHARDS shards once, and the steps cost an empty shard little.
  `
  DROP INDEX pending_order;
  `,
];
// No seen keys are written since 2026-11-26 (the order's object dedupes every delivery for good,
// by its UNIQUE delivery id and event key; a shard's key answered a re-delivery a little sooner,
// at a row written for every delivery, another deleted at the daily prune, and an alarm a day).
// The table stays for a release: a shard rolled back to the release before writes and prunes it.
// Drop it (a later step) a release later.

/**
 * Tries between reminders while an event stays held: about an hour at the backoff's 60 s cap. Each
 * reminder also stands in for an alert whose sending failed (the alert is best effort).
 */
const HELD_REMIND_TRIES = 60;

/** Whether a held event's `tries`-th failed try tells the tenant (throttled by its topic). */
export function heldAlertDue(tries: number): boolean {
  return tries === HELD_ALERT_TRIES || (tries > HELD_ALERT_TRIES && (tries - HELD_ALERT_TRIES) % HELD_REMIND_TRIES === 0);
}

/** An order object's answer to a hand-off is awaited this long, then the event is tried again later. */
const HAND_OFF_DEADLINE_MS = 30_000;
/** Orders handed on at the same time by one shard. */
const FORWARD_CONCURRENCY = 8;
/**
 * Pending rows read per round of the hand-off, oldest first. A backlog (an outage of order objects
 * can leave tens of thousands of rows in a shard) is read once, in pages, never order by order.
 */
const BACKLOG_PAGE = 256;
/**
 * Requests kept in memory for the hand-off, at most this many and this many UTF-16 units (an event
 * may be 1.8 MB, and a shard has 128 MB); beyond that they are read back from SQLite.
 */
const MAX_CACHED = 256;
const MAX_CACHED_UNITS = 8_000_000;
/** The alarm that hands on what an evicted shard still holds, this long after an accept. */
const BACKSTOP_MS = 2000;
/**
 * Acknowledgements first: while webhooks overlap (the Worker that delivers one is answering
 * BUSY_INFLIGHT or more at that moment), the shard's hand-off waits until no such delivery came
 * for QUIET_MS, or until it has waited `inboxMaxHoldMs`. A webhook's answer has a deadline
 * (Shopify: 5 s, then retries that add load); an order's processing does not, and catches up after
 * the burst. The signal comes from the Worker because one shard sees only its share of a burst;
 * overlapping requests are the sign, since a lone sender waits for each answer before the next
 * (docs/performance.md, "Acknowledgements first").
 */
export const BUSY_INFLIGHT = 2;
// A second: a shorter pause (locally, the runtime evicting a burst's order objects stalls the thread
// for a few hundred ms) read as the burst's end and let every shard's hand-off into it.
const QUIET_MS = 1000;

/**
 * The shape a Worker of the release before sends (the request as an object). During a gradual
 * deployment an older Worker can still call a newer shard; its deliveries must not fail.
 */
interface PreviousInboxAccept {
  orderName: string;
  request: IngestRequest;
}

function currentShape(entry: InboxAccept | PreviousInboxAccept): InboxAccept {
  if (typeof entry.request === "string") return entry as InboxAccept;
  return inboxEntry(entry.orderName, entry.request);
}

/**
 * What a shard answers for one delivery. `duplicates` stays 0 (the order's object drops a
 * re-delivery when it is handed on); it is kept for the shape the Worker of the release before reads.
 */
export interface AcceptResult {
  accepted: number;
  duplicates: number;
}

/** A pending row as the hand-off reads it (the request is taken from the cache or read per event). */
interface PendingRow {
  seq: number;
  order_name: string;
  attempts: number;
  next_at: number;
}

/**
 * What one hand-off (a drain) knows of the orders it met: it reads the backlog a page at a time, and
 * an order's events must still go in seq order and stop behind one that is not taken.
 */
interface HandOff {
  /**
   * Orders whose events wait for a later hand-off: their oldest was not due, or was not taken. The
   * value is when they are due again (null: not known).
   */
  held: Map<string, number | null>;
  /**
   * Orders with an event taken in this hand-off. Their next event goes though it was not due (it
   * waited behind the one taken), and the attempts stored on it were not its own tries.
   */
  moved: Set<string>;
}

/** Runs `work` on each item in turn, at most `limit` at the same time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class InboxDO extends DurableObject<Env> {
  private readonly sql: ObjectSql;
  private forwarding: Promise<void> | null = null;
  /**
   * Requests accepted by this instance and not yet handed on, by seq: the hand-off takes them from
   * here instead of reading and parsing the stored JSON again. SQLite stays the record (a new
   * instance after eviction reads it from there); an entry goes when its row is deleted.
   */
  private readonly accepted = new Map<number, { request: string; rawBody: string | null }>();
  /** UTF-16 units held in `accepted`. */
  private cachedUnits = 0;
  /**
   * Seqs already taken by their order's object whose rows are not deleted yet. The delete rides
   * along with the next accept (or the alarm), whose transaction writes the same pages anyway,
   * instead of committing on its own; until then the hand-off skips these rows. After a restart
   * the list is gone and those rows are handed on again, which the order's object drops as
   * duplicates (the hand-off was at-least-once already).
   */
  private handed: number[] = [];
  /** When the alarm this instance last set will ring (0: unknown, as after a restart). */
  private alarmAt = 0;
  /** When a delivery last came in a burst (see BUSY_INFLIGHT). */
  private burstAt = 0;
  /** How long after the last delivery of a burst the hand-off resumes (a field so tests can stretch it). */
  private quietMs = QUIET_MS;
  /** How long an order object's answer to a hand-off is awaited (a field so tests can shorten it). */
  private handOffDeadlineMs = HAND_OFF_DEADLINE_MS;
  /** When the hand-off began to wait for a burst to end (0: not waiting). */
  private holdingSince = 0;
  /** Rows read per round of the hand-off (a field so tests can shrink it). */
  private backlogPage = BACKLOG_PAGE;
  /**
   * The lowest seq stored since the running hand-off last read a page. A new row's seq is one above
   * the highest present, so after handed rows are deleted it can fall behind the page already read.
   */
  private storedFrom = Number.POSITIVE_INFINITY;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new ObjectSql(ctx.storage);
    this.sql.migrate(INBOX_MIGRATIONS);
  }

  /**
   * Stores the events of one delivery; answers only once they are durable. `inflight`: the
   * webhooks the calling Worker is answering at the moment, this one included. The Worker of this
   * release calls acceptEach; this and acceptMany stay for the Workers of the releases before.
   */
  async accept(events: (InboxAccept | PreviousInboxAccept)[], inflight = 1): Promise<AcceptResult> {
    return (await this.acceptMany([events.map(currentShape)], inflight))[0]!;
  }

  /**
   * Stores the events of several deliveries in one call (the Worker sends together the deliveries
   * that arrived for this shard while its previous call was under way); one result per delivery,
   * in order. They commit together, before the answer.
   */
  async acceptMany(deliveries: InboxAccept[][], inflight = 1): Promise<AcceptResult[]> {
    const outcomes = await this.acceptEach(deliveries, inflight);
    const failed = outcomes.find((o): o is { error: string } => "error" in o);
    if (failed) throw new Error(failed.error);
    return outcomes as AcceptResult[];
  }

  /**
   * As acceptMany, with an outcome per delivery: one that cannot be stored fails alone, and the
   * others of the call, stored, are answered as stored. (With acceptMany the whole call failed,
   * and a source that never re-sends had its stored deliveries kept as dead letters and alerted.)
   */
  async acceptEach(deliveries: InboxAccept[][], inflight = 1): Promise<Array<AcceptResult | { error: string }>> {
    const now = Date.now();
    if (inflight >= BUSY_INFLIGHT) this.burstAt = now;
    this.deleteHanded();
    let stored = 0;
    try {
      return deliveries.map((events) => {
        try {
          const accepted = this.store(events, now);
          stored += accepted;
          return { accepted, duplicates: events.length - accepted };
        } catch (error) {
          return { error: error instanceof Error ? error.message : String(error) };
        }
      });
    } finally {
      if (stored > 0) {
        // The backstop alarm: set unless one already rings within the window (each set is a write).
        if (this.alarmAt < now || this.alarmAt > now + BACKSTOP_MS) {
          this.alarmAt = now + BACKSTOP_MS;
          void this.ctx.storage.setAlarm(this.alarmAt);
        }
        void this.forward().catch(() => {});
      }
    }
  }

  /**
   * Writes a delivery's events; returns how many. All or none: a delivery half stored would be
   * handed on in part, and its retry would bring the rest after the order moved on.
   */
  private store(events: InboxAccept[], now: number): number {
    const kept = new Map<number, { request: string; rawBody: string | null }>();
    const accepted = this.sql.transaction(() => this.storeEach(events, now, kept));
    // Cached only once committed: a rolled-back row's seq is given to the next row stored.
    for (const [seq, entry] of kept) {
      this.storedFrom = Math.min(this.storedFrom, seq);
      const units = entry.request.length + (entry.rawBody?.length ?? 0);
      if (this.accepted.size >= MAX_CACHED || this.cachedUnits + units > MAX_CACHED_UNITS) continue;
      this.accepted.set(seq, entry);
      this.cachedUnits += units;
    }
    return accepted;
  }

  private storeEach(events: InboxAccept[], now: number, kept: Map<number, { request: string; rawBody: string | null }>): number {
    let accepted = 0;
    // No dedupe here: the order's object checks the delivery id and the event's key for good.
    for (const { orderName, request, rawBody } of events) {
      const seq = this.sql.one<{ seq: number }>(
        "INSERT INTO pending (order_name, request, raw_body, next_at) VALUES (?, ?, ?, ?) RETURNING seq",
        orderName,
        request,
        rawBody,
        now,
      )!.seq;
      kept.set(seq, { request, rawBody });
      accepted++;
    }
    return accepted;
  }

  override async alarm(): Promise<void> {
    this.alarmAt = 0;
    await this.forward();
    this.deleteHanded();
    const now = Date.now();
    // Wake again when a backed-off event is due, and for events accepted meanwhile (the live
    // hand-off has them) after the backstop's delay. An empty shard sleeps: the next accept sets one.
    const next = this.sql.one<{ t: number | null }>(
      "SELECT MIN(CASE WHEN next_at > ? THEN next_at ELSE ? END) AS t FROM pending",
      now,
      now + BACKSTOP_MS,
    )?.t;
    if (next === null || next === undefined) return;
    this.alarmAt = next;
    await this.ctx.storage.setAlarm(this.alarmAt);
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

  /**
   * Reads the pending rows in seq order, a page per round, and hands each page's events on grouped
   * by order: FORWARD_CONCURRENCY orders at a time, each order's events one after the other. An order
   * whose oldest event is not due or not taken keeps its later events for a later hand-off (`held`).
   */
  private async drain(): Promise<void> {
    const handOff: HandOff = { held: new Map(), moved: new Set() };
    let after = 0;
    for (;;) {
      await this.waitForQuiet();
      // A row stored meanwhile may have a seq behind the pages read (see storedFrom): read on from it.
      if (this.storedFrom <= after) after = this.storedFrom - 1;
      this.storedFrom = Number.POSITIVE_INFINITY;
      const rows = this.sql.all<PendingRow>(
        `SELECT seq, order_name, attempts, next_at FROM pending
         WHERE seq > ? AND seq NOT IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT ${this.backlogPage}`,
        after,
        JSON.stringify(this.handed.filter((seq) => seq > after)),
      );
      if (rows.length === 0) {
        // The backlog is handed on: the next burst may hold the hand-off again (waitForQuiet).
        this.holdingSince = 0;
        return;
      }
      after = rows[rows.length - 1]!.seq;
      const orders = this.byOrder(rows, handOff);
      await eachLimited([...orders], FORWARD_CONCURRENCY, async ([orderName, events]) => {
        const moved = await this.forwardOrder(orderName, events, handOff);
        this.handed.push(...moved);
        if (moved.length > 0) handOff.moved.add(orderName);
        if (moved.length < events.length && !handOff.held.has(orderName)) handOff.held.set(orderName, null);
      });
    }
  }

  /**
   * A page's rows to hand on now, by order in the order of their oldest row (a Map keeps it). The
   * rows of a held order wait; those due before it are set to its time, so the alarm does not wake
   * for them (the release before moved every row of the order with its oldest).
   */
  private byOrder(rows: PendingRow[], handOff: HandOff): Map<string, PendingRow[]> {
    const now = Date.now();
    const orders = new Map<string, PendingRow[]>();
    const behind = new Map<string, number[]>();
    for (const row of rows) {
      const name = row.order_name;
      // An order's first row in this hand-off decides: not due, the order waits (it was backing off).
      if (!orders.has(name) && !handOff.held.has(name)) {
        if (row.next_at <= now || handOff.moved.has(name)) orders.set(name, []);
        else handOff.held.set(name, row.next_at);
      }
      const events = orders.get(name);
      if (events) {
        events.push(row);
        continue;
      }
      const until = handOff.held.get(name);
      if (!until || row.next_at >= until) continue;
      const seqs = behind.get(name);
      if (seqs) seqs.push(row.seq);
      else behind.set(name, [row.seq]);
    }
    for (const [name, seqs] of behind)
      this.sql.run(
        "UPDATE pending SET next_at = ? WHERE seq IN (SELECT value FROM json_each(?))",
        handOff.held.get(name)!,
        JSON.stringify(seqs),
      );
    return orders;
  }

  /**
   * Waits while webhooks come in a burst (see BUSY_INFLIGHT), for at most the configured hold.
   * The hold is over for good once it has lasted that long, until the backlog is handed on (drain):
   * a pause of a second in a sale must not start a new hold for events held through the last one.
   */
  private async waitForQuiet(): Promise<void> {
    const maxHold = runtimeConfig(this.env).inboxMaxHoldMs;
    for (;;) {
      const now = Date.now();
      const quietIn = this.burstAt + this.quietMs - now;
      if (quietIn <= 0) return;
      if (this.holdingSince === 0) this.holdingSince = now;
      // Past the hold the hand-off runs beside the acks (and keeps doing so until the burst ends).
      const holdLeft = this.holdingSince + maxHold - now;
      if (holdLeft <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(quietIn, holdLeft)));
    }
  }

  /**
   * Hands on one order's events of a page, oldest first, and stops at one its object does not take
   * (the rest wait behind it); returns the seqs its object took.
   */
  private async forwardOrder(orderName: string, rows: PendingRow[], handOff: HandOff): Promise<number[]> {
    const order = orderStub(this.env, orderName);
    const moved: number[] = [];
    // The attempts stored on an event that waited behind one taken were that one's tries (the release
    // before counted them on every waiting event): each event's own tries decide its backoff and alert.
    let waited = handOff.moved.has(orderName);
    for (const [i, row] of rows.entries()) {
      // Before every event, not every round: a round already under way would otherwise run on into
      // a new burst (locally, 16 shards' rounds of new order objects are seconds of one thread).
      await this.waitForQuiet();
      let request: StoredIngest | null = null;
      try {
        const cached = this.accepted.get(row.seq);
        request = cached ? storedIngest(cached.request, cached.rawBody) : this.stored(row.seq);
        // A call that never answers would hold this shard's whole hand-off (every order on it).
        const ingest = (to: DurableObjectStub<OrderDO>, event: IngestRequest) =>
          withDeadline(to.ingest(event), this.handOffDeadlineMs, "the order's object did not answer in time");
        if (!("deferred" in request)) await ingest(order, request);
        else {
          // Validated and mapped now (src/worker/deferred-intake.ts): none when it is kept or ignored.
          // Tried again whole: the order's object takes an event it already has as a duplicate.
          for (const event of await takeDeferred(this.env, request)) {
            const name = orderObjectName(event.connectionId, event.event.orderId);
            await ingest(name === orderName ? order : orderStub(this.env, name), event);
          }
        }
        this.forget(row.seq);
        moved.push(row.seq);
        waited = true;
      } catch (error) {
        const tries = (waited ? 0 : row.attempts) + 1;
        const retryAt = Date.now() + Math.min(60_000, 500 * 2 ** (tries - 1));
        // The page's later events of the order wait as long (by seq: pending has no index by order);
        // the hand-off sets those of later pages as it meets them (byOrder).
        this.sql.run(
          `UPDATE pending SET attempts = CASE seq WHEN ? THEN ? ELSE attempts END, next_at = ?
           WHERE seq IN (SELECT value FROM json_each(?))`,
          row.seq,
          tries,
          retryAt,
          JSON.stringify(rows.slice(i).map((r) => r.seq)),
        );
        handOff.held.set(orderName, retryAt);
        console.error("inbox could not hand an event to its order", { orderName, error: String(error) });
        // Kept and tried again for good (it was acknowledged; later events of the order wait
        // behind it), and the tenant is told once it has failed for a while.
        if (request && heldAlertDue(tries)) {
          // Not awaited: a slow mail provider must not hold this round's other orders.
          void alertHeldEvent(this.env, {
            tenantId: request.tenantId,
            connectionId: request.connectionId,
            ...heldOrder("deferred" in request ? request.deferred : request.event),
            deliveryId: "deferred" in request ? request.deferred.deliveryId : request.event.deliveryId,
            tries,
            reason: error instanceof Error ? error.message : String(error),
          });
        }
        break;
      }
    }
    return moved;
  }

  /** Drops a handed-on request from the cache. */
  private forget(seq: number): void {
    const entry = this.accepted.get(seq);
    if (!entry) return;
    this.accepted.delete(seq);
    this.cachedUnits -= entry.request.length + (entry.rawBody?.length ?? 0);
  }

  /** Deletes the rows of events their order's objects have taken (see `handed`). */
  private deleteHanded(): void {
    if (this.handed.length === 0) return;
    this.sql.run("DELETE FROM pending WHERE seq IN (SELECT value FROM json_each(?))", JSON.stringify(this.handed));
    this.handed = [];
  }

  /** A pending request as stored (after a restart, or by an earlier instance). */
  private stored(seq: number): StoredIngest {
    const row = this.sql.one<{ request: string; raw_body: string | null }>(
      "SELECT request, raw_body FROM pending WHERE seq = ?",
      seq,
    )!;
    return storedIngest(row.request, row.raw_body);
  }
}
