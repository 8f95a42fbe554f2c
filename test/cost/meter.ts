/**
 * Counts the Cloudflare operations the real code performs inside workerd. The Worker's handlers,
 * the Durable Object classes, the queue consumer and the D1, R2, Queue and SQLite bindings all live
 * in the test's isolate, so wrapping their prototypes sees every call. A wrapper only counts and
 * then calls the original: behaviour is unchanged.
 */
import { env, runInDurableObject } from "cloudflare:test";
import worker, { InboxDO, OrderDO, TargetGate } from "../../src/worker/index";

/** What one metered run used. Keys are `Class.method`, `Class:objectName`, table names, R2 methods. */
export interface Usage {
  worker: { webhook: number; api: number; otherFetch: number; queueBatches: number; dlqBatches: number };
  queue: { stepSends: number; stepSendOps: number; dlqSends: number; delivered: number; acked: number; retried: number };
  /** Billed Durable Object requests per `Class.method` (every RPC call and every alarm). */
  doCalls: Record<string, number>;
  /** Requests per object, `Class:name`, and per object and method, `Class:name.method`. */
  doObjects: Record<string, number>;
  doObjectCalls: Record<string, number>;
  /** When each object's requests and each D1 round trip started (ms), to find the busiest second. */
  timeline: Record<string, number[]>;
  /** Object instances constructed (a fresh or evicted object runs its constructor). */
  doInstances: Record<string, number>;
  /** Wall time objects were busy (requests, alarms, their outbox pump), union per object, summed per class. */
  doActiveMs: Record<string, number>;
  /** SQLite rows per class; `alarms` counts setAlarm() calls, each billed as one row written. */
  doSql: Record<string, { read: number; written: number; alarms: number }>;
  /** SQLite rows per `Class verb table` (DDL for schema statements), to see what the rows are for. */
  doSqlByStatement: Record<string, { read: number; written: number; count: number }>;
  /** D1 rows and statements per table; `calls` is round trips (a batch is one). */
  d1: Record<string, { read: number; written: number; statements: number }>;
  d1Calls: number;
  /** Largest `size_after` D1 reported: the database file size. */
  d1SizeBytes: number;
  r2: Record<string, number>;
}

type Fn = (...args: unknown[]) => unknown;
type Owned = { ctx: DurableObjectState };

let current: Usage | null = null;
let inflight = 0;
let lastActivity = Date.now();
const intervals = new Map<string, Array<[number, number]>>();
const cursors: Array<{ sql: object; query: string; cursor: { rowsRead: number; rowsWritten: number } }> = [];
const owners = new WeakMap<object, string>();
const instances = new WeakSet<object>();
let installed = false;

function emptyUsage(): Usage {
  return {
    worker: { webhook: 0, api: 0, otherFetch: 0, queueBatches: 0, dlqBatches: 0 },
    queue: { stepSends: 0, stepSendOps: 0, dlqSends: 0, delivered: 0, acked: 0, retried: 0 },
    doCalls: {},
    doObjects: {},
    doObjectCalls: {},
    timeline: {},
    doInstances: {},
    doActiveMs: {},
    doSql: {},
    doSqlByStatement: {},
    d1: {},
    d1Calls: 0,
    d1SizeBytes: 0,
    r2: {},
  };
}

const bump = (record: Record<string, number>, key: string, by = 1) => {
  record[key] = (record[key] ?? 0) + by;
};

/** The record's entry for `key`, made first when missing. */
function slot<T>(record: Record<string, T>, key: string, make: () => T): T {
  if (!(key in record)) record[key] = make();
  return record[key]!;
}
const rows = () => ({ read: 0, written: 0, alarms: 0 });

/**
 * Alarms set to go off within a minute, per object (its storage): `settle` waits for them, since
 * what they do is part of the order that set them. A later `setAlarm` of the object replaces its
 * entry (an alarm moved out to housekeeping's is not waited for); the alarm's handler starting
 * removes it. One whose handler has not started `ALARM_GRACE_MS` after its time (deleted, never
 * to go off) is waited for no longer.
 */
const soonAlarms = new Map<object, number>();
const SOON_MS = 60_000;
const ALARM_GRACE_MS = 10_000;

function noteAlarm(storage: unknown, at: unknown): void {
  const time = typeof at === "number" ? at : at instanceof Date ? at.getTime() : Number.NaN;
  if (Number.isFinite(time) && time - Date.now() < SOON_MS) soonAlarms.set(storage as object, time);
  else soonAlarms.delete(storage as object);
}

function touch(delta: number): void {
  inflight += delta;
  lastActivity = Date.now();
}

/**
 * Replaces `proto[name]` with a wrapper; `around` gets the receiver, the arguments and the original
 * call, and runs only while metering. Outside it, asynchronous calls are still tracked as activity
 * so `settle` can wait for work started before the meter was.
 */
function wrap(
  proto: object,
  name: string,
  around: (self: unknown, args: unknown[], call: () => unknown) => unknown,
  idle: (self: unknown, call: () => unknown, args: unknown[]) => unknown = (_self, call) => timed(null, call),
): void {
  const target = proto as Record<string, Fn>;
  const original = target[name];
  if (typeof original !== "function") throw new Error(`cannot meter ${name}: not a function`);
  target[name] = function (this: unknown, ...args: unknown[]) {
    const call = () => original.apply(this, args);
    return current ? around(this, args, call) : idle(this, call, args);
  };
}

const direct = (_self: unknown, call: () => unknown) => call();

async function timed<T>(key: string | null, call: () => T): Promise<Awaited<T>> {
  const start = Date.now();
  touch(1);
  try {
    return await call();
  } finally {
    touch(-1);
    if (key) intervals.set(key, [...(intervals.get(key) ?? []), [start, Date.now()]]);
  }
}

/** Names the object and remembers its storage; an instance first seen while metering is a new one. */
function objectKey(className: string, self: unknown): string {
  const { ctx } = self as Owned;
  owners.set(ctx.storage.sql, className);
  owners.set(ctx.storage, className);
  if (!instances.has(self as object)) {
    instances.add(self as object);
    if (current) bump(current.doInstances, className);
  }
  return `${className}:${ctx.id.name ?? ctx.id.toString().slice(0, 12)}`;
}

function meterObject(className: string, proto: object, requests: string[], busy: string[]): void {
  for (const method of requests) {
    wrap(
      proto,
      method,
      (self, _args, call) => {
        const key = objectKey(className, self);
        if (method === "alarm") soonAlarms.delete((self as Owned).ctx.storage);
        bump(current!.doCalls, `${className}.${method}`);
        bump(current!.doObjects, key);
        bump(current!.doObjectCalls, `${key}.${method}`);
        slot(current!.timeline, key, () => []).push(Date.now());
        return timed(key, call);
      },
      (self, call) => {
        objectKey(className, self);
        if (method === "alarm") soonAlarms.delete((self as Owned).ctx.storage);
        return timed(null, call);
      },
    );
  }
  // The outbox pump runs after a request has answered; the object is still busy (and billed) then.
  for (const method of busy) wrap(proto, method, (self, _args, call) => timed(objectKey(className, self), call));
}

/** The table a statement writes to, or else reads from. */
export function tableOf(sql: string): string {
  const write = /^\s*(?:insert(?:\s+or\s+\w+)?\s+into|update|delete\s+from)\s+["`]?(\w+)/i.exec(sql);
  if (write) return write[1]!;
  return /\bfrom\s+["`]?(\w+)/i.exec(sql)?.[1] ?? "other";
}

function recordD1(statements: string[], result: unknown): void {
  if (!current) return;
  const results = (Array.isArray(result) ? result : [result]) as Array<{ meta?: Record<string, number> }>;
  current.d1Calls++;
  slot(current.timeline, "d1", () => []).push(Date.now());
  statements.forEach((sql, i) => {
    const meta = results[i]?.meta ?? {};
    const table = tableOf(sql);
    const row = slot(current!.d1, table, () => ({ read: 0, written: 0, statements: 0 }));
    row.statements++;
    row.read += meta.rows_read ?? 0;
    row.written += meta.rows_written ?? 0;
    current!.d1SizeBytes = Math.max(current!.d1SizeBytes, meta.size_after ?? 0);
  });
}

const R2_METHODS = ["head", "get", "put", "createMultipartUpload", "delete", "list"];
/** R2 operation classes as priced: writes and lists are Class A, reads Class B, deletes free. */
export const R2_CLASS: Record<string, "A" | "B" | "free"> = {
  put: "A",
  list: "A",
  createMultipartUpload: "A",
  get: "B",
  head: "B",
  delete: "free",
};

/** Installs the wrappers once per test file; they count only between startMeter and stopMeter. */
export async function installMeter(): Promise<void> {
  if (installed) return;
  installed = true;

  meterObject(
    "OrderDO",
    OrderDO.prototype,
    ["ingest", "claimStep", "deferStep", "reportStep", "retryTransfer", "nudge", "alarm"],
    ["drain"],
  );
  meterObject("InboxDO", InboxDO.prototype, ["acceptEach", "alarm"], ["drain"]);
  meterObject(
    "TargetGate",
    TargetGate.prototype,
    ["acquire", "call", "sentLate", "rateLimited", "release", "status", "hold", "letGo"],
    [],
  );

  // SQLite inside objects: cursors carry the billed row counts once consumed; read them at the end.
  const probe = env.INBOXES.get(env.INBOXES.idFromName("inbox-0"));
  const { sqlProto, storageProto } = await runInDurableObject(probe, (_instance, state) => ({
    sqlProto: Object.getPrototypeOf(state.storage.sql) as object,
    storageProto: Object.getPrototypeOf(state.storage) as object,
  }));
  wrap(
    sqlProto,
    "exec",
    (self, args, call) => {
      const cursor = call() as { rowsRead: number; rowsWritten: number };
      cursors.push({ sql: self as object, query: String(args[0]), cursor });
      return cursor;
    },
    direct,
  );
  wrap(
    storageProto,
    "setAlarm",
    (self, args, call) => {
      const owner = owners.get(self as object) ?? "unknown";
      slot(current!.doSql, owner, rows).alarms++;
      noteAlarm(self, args[0]);
      return call();
    },
    (self, call, args) => {
      noteAlarm(self, args[0]);
      return direct(self, call);
    },
  );

  // D1: every round trip goes through the session's _send (HTTP form) or _queryOrThrow (RPC form).
  const session = Object.getPrototypeOf(
    Object.getPrototypeOf((env.DB.prepare("SELECT 1") as unknown as { dbSession: object }).dbSession),
  );
  wrap(session, "_send", (_self, args, call) => {
    const query = args[1] as string | string[];
    return timed(null, async () => {
      const result = await call();
      recordD1(Array.isArray(query) ? query : [query], result);
      return result;
    });
  });
  wrap(session, "_queryOrThrow", (_self, args, call) => {
    const request = args[0] as { queries: Array<{ sql: string }> };
    return timed(null, async () => {
      const result = await call();
      recordD1(
        request.queries.map((q) => q.sql),
        result,
      );
      return result;
    });
  });

  // Queues: a write is billed per 64 KB (1 KB = 1,000 bytes) plus ~100 bytes of metadata per message.
  const queueProto = Object.getPrototypeOf(env.STEPS) as object;
  const countSend = (body: unknown) => {
    const isDeadLetter = typeof body === "object" && body !== null && "reason" in body;
    if (isDeadLetter) current!.queue.dlqSends++;
    else {
      current!.queue.stepSends++;
      current!.queue.stepSendOps += Math.ceil((JSON.stringify(body).length + 100) / 64_000);
    }
  };
  wrap(queueProto, "send", (_self, args, call) => {
    countSend(args[0]);
    return timed(null, call);
  });
  wrap(queueProto, "sendBatch", (_self, args, call) => {
    for (const message of args[0] as Array<{ body: unknown }>) countSend(message.body);
    return timed(null, call);
  });

  const r2Proto = Object.getPrototypeOf(env.BLOBS) as object;
  for (const method of R2_METHODS) {
    wrap(r2Proto, method, (_self, _args, call) => {
      bump(current!.r2, method);
      return timed(null, call);
    });
  }

  // The Worker's own entry points: the runtime looks them up on the default export at each event.
  const handlers = worker as unknown as Record<string, Fn>;
  wrap(handlers, "fetch", (_self, args, call) => {
    const path = new URL((args[0] as Request).url).pathname;
    const kind = path.startsWith("/hooks/") ? "webhook" : path.startsWith("/api/") ? "api" : "otherFetch";
    current!.worker[kind]++;
    return timed(null, call);
  });
  wrap(handlers, "queue", (_self, args, call) => {
    const batch = args[0] as MessageBatch<unknown>;
    const usage = current!;
    if (batch.queue.includes("dlq")) usage.worker.dlqBatches++;
    else {
      usage.worker.queueBatches++;
      usage.queue.delivered += batch.messages.length;
      slot(usage.timeline, "queue.batch", () => []).push(Date.now());
      for (const message of batch.messages) {
        const { ack, retry } = message;
        Object.assign(message, {
          ack: () => {
            usage.queue.acked++;
            ack.call(message);
          },
          retry: (options?: QueueRetryOptions) => {
            usage.queue.retried++;
            retry.call(message, options);
          },
        });
      }
    }
    return timed(null, call);
  });
}

/** Starts counting from zero. */
export function startMeter(): void {
  intervals.clear();
  cursors.length = 0;
  current = emptyUsage();
}

/** Stops counting and returns what was used, with SQLite rows and busy time folded in. */
export function stopMeter(): Usage {
  const usage = current ?? emptyUsage();
  current = null;
  for (const { sql, query, cursor } of cursors) {
    const owner = owners.get(sql) ?? "unknown";
    const row = slot(usage.doSql, owner, rows);
    row.read += cursor.rowsRead;
    row.written += cursor.rowsWritten;
    const verb = /^\s*(\w+)/.exec(query)?.[1]?.toUpperCase() ?? "?";
    const key = `${owner} ${/^(CREATE|ALTER|DROP)$/.test(verb) ? "DDL" : `${verb} ${tableOf(query)}`}`;
    const detail = slot(usage.doSqlByStatement, key, () => ({ read: 0, written: 0, count: 0 }));
    detail.read += cursor.rowsRead;
    detail.written += cursor.rowsWritten;
    detail.count++;
  }
  for (const [key, list] of intervals) bump(usage.doActiveMs, key.split(":")[0]!, unionMs(list));
  return usage;
}

/** Milliseconds covered by a set of possibly overlapping intervals. */
export function unionMs(list: Array<[number, number]>): number {
  const sorted = [...list].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let [start, end] = sorted[0] ?? [0, 0];
  for (const [s, e] of sorted.slice(1)) {
    if (s > end) {
      total += end - start;
      [start, end] = [s, e];
    } else end = Math.max(end, e);
  }
  return total + (end - start);
}

/** The most events of one timeline that fell within any window of `windowMs`. */
export function peakPerWindow(times: number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}

/**
 * Resolves once nothing metered has run for `quietMs`; with `alarms`, also once no alarm set
 * within the next minute is still to go off (the cost of one order counts what its alarms do).
 */
export async function settle(quietMs: number, timeoutMs = 60_000, options: { alarms?: boolean } = {}): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const alarmDue = options.alarms === true && [...soonAlarms.values()].some((at) => at > Date.now() - ALARM_GRACE_MS);
    if (inflight === 0 && !alarmDue && Date.now() - lastActivity >= quietMs) return;
  }
  throw new Error(`metered work did not settle within ${timeoutMs} ms`);
}

/**
 * Gives the objects the deployed step re-send window (wrangler.toml, 900 s) until the returned
 * function puts the test configuration's back. The test configuration re-sends a step after 2 s
 * without a result: with hundreds of orders in one local isolate every step would be re-sent until
 * it failed as lost (the run would measure the re-send storm, docs/scale.md), and an order alone
 * would wake its object for that 2 s deadline, which a deployed object never does: either way the
 * count would be of the test's setting, not of what an order costs.
 */
export async function useDeployedResendWindow(): Promise<() => Promise<void>> {
  const shared = await runInDurableObject(
    env.INBOXES.get(env.INBOXES.idFromName("inbox-0")),
    (instance) => (instance as unknown as { env: Env }).env,
  );
  const before = shared.STEP_RESEND_AFTER_SECONDS;
  shared.STEP_RESEND_AFTER_SECONDS = "900";
  return async () => {
    shared.STEP_RESEND_AFTER_SECONDS = before;
  };
}
