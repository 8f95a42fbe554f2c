import type { SchemaMigrations } from "./sql";

/** Storage schema of an OrderDO, one entry per version; never edit a shipped entry, append a new one. */
const STEPS = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  -- Every delivery received for this order; delivery_id and event_key are the dedupe keys.
  CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id TEXT NOT NULL UNIQUE,
    event_key TEXT UNIQUE,
    topic TEXT NOT NULL,
    stage TEXT NOT NULL,
    occurrence TEXT NOT NULL,
    version INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    object TEXT NOT NULL,
    raw_body TEXT,
    raw_blob TEXT,
    raw_size INTEGER NOT NULL,
    headers TEXT NOT NULL,
    stale INTEGER NOT NULL DEFAULT 0,
    -- 0 while a refund waits for the order it belongs to
    applied INTEGER NOT NULL DEFAULT 1
  );
  -- One run of a flow for this order at one stage; a stage never triggers a flow twice.
  CREATE TABLE transfers (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    flow_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    occurrence TEXT NOT NULL,
    status TEXT NOT NULL,
    steps TEXT NOT NULL,
    input TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (flow_id, stage, occurrence)
  );
  -- Steps of the transfers; at most one of the order's steps is released at a time.
  CREATE TABLE steps (
    transfer_id TEXT NOT NULL,
    step_index INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    dispatch_id TEXT,
    lease_token TEXT,
    lease_until INTEGER,
    due_at INTEGER,
    resends INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT,
    PRIMARY KEY (transfer_id, step_index)
  );
  -- Side effects waiting to happen, in order: flow planning, D1 projections, queue sends.
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    last_error TEXT
  );
  `,
  // v2: an update to an order re-runs its transfers; one that is still running re-runs when it ends.
  `
  ALTER TABLE transfers ADD COLUMN rerun_pending INTEGER NOT NULL DEFAULT 0;
  `,
  // v3: bulk re-runs yield to live orders at a target's rate limit.
  `
  ALTER TABLE transfers ADD COLUMN priority TEXT NOT NULL DEFAULT 'order';
  `,
  // v4: a D1 projection that keeps failing is parked so it cannot hold up the order's steps.
  `
  ALTER TABLE outbox ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;
  `,
  // v5: fewer rows and pages written per order (docs/performance.md, "the order object's schema").
  // - meta and steps are keyed by their primary key alone (WITHOUT ROWID): one b-tree instead of a
  //   table and its key index, so inserting a key or a step writes one row, not two;
  // - outbox ids are plain rowids: a new job still gets an id above every job present, which is all
  //   the line's order needs (a job's id is not used after its row is deleted), and the
  //   AUTOINCREMENT counter no longer takes a write per job. events keeps AUTOINCREMENT: transfers
  //   refer to an event's seq, which must never be given to another event.
  `
  CREATE TABLE meta_v5 (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  INSERT INTO meta_v5 (key, value) SELECT key, value FROM meta;
  DROP TABLE meta;
  ALTER TABLE meta_v5 RENAME TO meta;
  CREATE TABLE steps_v5 (
    transfer_id TEXT NOT NULL,
    step_index INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    dispatch_id TEXT,
    lease_token TEXT,
    lease_until INTEGER,
    due_at INTEGER,
    resends INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT,
    PRIMARY KEY (transfer_id, step_index)
  ) WITHOUT ROWID;
  INSERT INTO steps_v5 (transfer_id, step_index, status, attempts, dispatch_id, lease_token, lease_until, due_at, resends, result, error)
    SELECT transfer_id, step_index, status, attempts, dispatch_id, lease_token, lease_until, due_at, resends, result, error FROM steps;
  DROP TABLE steps;
  ALTER TABLE steps_v5 RENAME TO steps;
  CREATE TABLE outbox_v5 (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    last_error TEXT,
    parked INTEGER NOT NULL DEFAULT 0
  );
  INSERT INTO outbox_v5 (id, kind, payload, attempts, next_at, last_error, parked)
    SELECT id, kind, payload, attempts, next_at, last_error, parked FROM outbox;
  DROP TABLE outbox;
  ALTER TABLE outbox_v5 RENAME TO outbox;
  `,
  // v6: a step's attempts before its current run (a re-run goes on numbering attempts, and counts
  // its tries from here) is a column of the step; v5 kept it as a meta key per step and re-run.
  `
  ALTER TABLE steps ADD COLUMN attempts_before INTEGER NOT NULL DEFAULT 0;
  UPDATE steps SET attempts_before = COALESCE(
    (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'attempts_before:' || transfer_id || ':' || step_index), 0);
  DELETE FROM meta WHERE key LIKE 'attempts_before:%';
  `,
  // v7: a projection job names its transfer, so a later change of the transfer can join the job
  // while it waits (docs/architecture.md, "The transfer log catches up within seconds").
  `
  ALTER TABLE outbox ADD COLUMN transfer_id TEXT;
  `,
  // v8: events.seq is a plain rowid: the AUTOINCREMENT counter took a row written with every event
  // (every webhook). A seq may now be given again once the newest events were dropped at the dedupe
  // retention; nothing reads a dropped event's seq (a queued plan or re-run job keeps its event, and
  // transfers.event_seq is a record, never looked up).
  `
  CREATE TABLE events_v8 (
    seq INTEGER PRIMARY KEY,
    delivery_id TEXT NOT NULL UNIQUE,
    event_key TEXT UNIQUE,
    topic TEXT NOT NULL,
    stage TEXT NOT NULL,
    occurrence TEXT NOT NULL,
    version INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    object TEXT NOT NULL,
    raw_body TEXT,
    raw_blob TEXT,
    raw_size INTEGER NOT NULL,
    headers TEXT NOT NULL,
    stale INTEGER NOT NULL DEFAULT 0,
    -- 0 while a refund waits for the order it belongs to
    applied INTEGER NOT NULL DEFAULT 1
  );
  INSERT INTO events_v8 (seq, delivery_id, event_key, topic, stage, occurrence, version, received_at, object, raw_body, raw_blob, raw_size, headers, stale, applied)
    SELECT seq, delivery_id, event_key, topic, stage, occurrence, version, received_at, object, raw_body, raw_blob, raw_size, headers, stale, applied FROM events;
  DROP TABLE events;
  ALTER TABLE events_v8 RENAME TO events;
  `,
  // v9: transfers keyed by their id alone (WITHOUT ROWID), and without UNIQUE (flow_id, stage,
  // occurrence): the id is a hash of the order, flow, stage and occurrence, so that index only
  // repeated the key. A new transfer writes one row instead of three (the row, the id's index and
  // the UNIQUE index).
  `
  CREATE TABLE transfers_v9 (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    flow_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    occurrence TEXT NOT NULL,
    status TEXT NOT NULL,
    steps TEXT NOT NULL,
    input TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    rerun_pending INTEGER NOT NULL DEFAULT 0,
    priority TEXT NOT NULL DEFAULT 'order'
  ) WITHOUT ROWID;
  INSERT INTO transfers_v9 (id, seq, flow_id, stage, occurrence, status, steps, input, event_seq, error, created_at, updated_at, rerun_pending, priority)
    SELECT id, seq, flow_id, stage, occurrence, status, steps, input, event_seq, error, created_at, updated_at, rerun_pending, priority FROM transfers;
  DROP TABLE transfers;
  ALTER TABLE transfers_v9 RENAME TO transfers;
  `,
  // v10: a step's attempts that failed before sending anything that could make something
  // (OrderlyError.madeNothing): a retry with the flow's current settings may move or replace a
  // step all of whose attempts were such (OrderDO.stepMovedAway).
  `
  ALTER TABLE steps ADD COLUMN idle_attempts INTEGER NOT NULL DEFAULT 0;
  `,
  // v11: events without UNIQUE on delivery_id and event_key. Each was an index entry, a row written
  // with every event (every webhook); the dedupe check (OrderDO.storeEvent) reads the order's few
  // events and runs with the insert in one synchronous block, so nothing can come between them.
  `
  CREATE TABLE events_v11 (
    seq INTEGER PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    event_key TEXT,
    topic TEXT NOT NULL,
    stage TEXT NOT NULL,
    occurrence TEXT NOT NULL,
    version INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    object TEXT NOT NULL,
    raw_body TEXT,
    raw_blob TEXT,
    raw_size INTEGER NOT NULL,
    headers TEXT NOT NULL,
    stale INTEGER NOT NULL DEFAULT 0,
    -- 0 while a refund waits for the order it belongs to
    applied INTEGER NOT NULL DEFAULT 1
  );
  INSERT INTO events_v11 (seq, delivery_id, event_key, topic, stage, occurrence, version, received_at, object, raw_body, raw_blob, raw_size, headers, stale, applied)
    SELECT seq, delivery_id, event_key, topic, stage, occurrence, version, received_at, object, raw_body, raw_blob, raw_size, headers, stale, applied FROM events;
  DROP TABLE events;
  ALTER TABLE events_v11 RENAME TO events;
  `,
  // v12: a step that has not started has no row. Each row written is billed, and a new transfer's
  // steps were each written at planning (waiting) and again when they started: now a step's row is
  // written first when it is released (or fails at planning). Readers that need every step read
  // ALL_STEPS, which shows a step with no row as waiting with nothing counted. The table is renamed so
  // that no statement written for the old rule (a row per step) can still run.
  `
  ALTER TABLE steps RENAME TO step_rows;
  `,
] as const;

/**
 * The schema at the latest version (v12), created in one script by a new object instead of v1's
 * DDL followed by v2–v4's ALTERs, v5's table rebuilds, v6's and v7's ALTERs, v8's and v9's
 * rebuilds, v10's ALTER, v11's rebuild and v12's rename: each ALTER rewrites sqlite_master and
 * makes SQLite parse the whole schema again, in every one of the objects (one per order). The text
 * is what SQLite keeps in sqlite_master after the steps (an added column goes after the last column
 * definition; a renamed table's name is quoted), so a new object and one migrated from v1 hold the
 * same schema, byte for byte (test/unit/object-schema.test.ts). A new step must come with this
 * script brought up to date.
 */
const FRESH = `
  CREATE TABLE "meta" (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE "events" (
    seq INTEGER PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    event_key TEXT,
    topic TEXT NOT NULL,
    stage TEXT NOT NULL,
    occurrence TEXT NOT NULL,
    version INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    object TEXT NOT NULL,
    raw_body TEXT,
    raw_blob TEXT,
    raw_size INTEGER NOT NULL,
    headers TEXT NOT NULL,
    stale INTEGER NOT NULL DEFAULT 0,
    -- 0 while a refund waits for the order it belongs to
    applied INTEGER NOT NULL DEFAULT 1
  );
  CREATE TABLE "transfers" (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    flow_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    occurrence TEXT NOT NULL,
    status TEXT NOT NULL,
    steps TEXT NOT NULL,
    input TEXT NOT NULL,
    event_seq INTEGER NOT NULL,
    error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    rerun_pending INTEGER NOT NULL DEFAULT 0,
    priority TEXT NOT NULL DEFAULT 'order'
  ) WITHOUT ROWID;
  CREATE TABLE "step_rows" (
    transfer_id TEXT NOT NULL,
    step_index INTEGER NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    dispatch_id TEXT,
    lease_token TEXT,
    lease_until INTEGER,
    due_at INTEGER,
    resends INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT, attempts_before INTEGER NOT NULL DEFAULT 0, idle_attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (transfer_id, step_index)
  ) WITHOUT ROWID;
  CREATE TABLE "outbox" (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    last_error TEXT,
    parked INTEGER NOT NULL DEFAULT 0
  , transfer_id TEXT);
`;

// Since v12 a new object keeps its version in `meta` (one row) instead of a `_schema` table (two
// rows for its CREATE and one for its row, in every order's object).
export const ORDER_DO_MIGRATIONS: SchemaMigrations = {
  steps: STEPS,
  fresh: FRESH,
  versionIn: { table: "meta", key: "schema_version" },
};

/**
 * Every step of the order's transfers, as rows (a FROM item): the flow's steps (`transfers.steps`)
 * with their row in step_rows, or, for a step not started yet (no row since v12), waiting with
 * nothing counted. Not a view: each schema object a new order object creates is billed as rows
 * written, and there is one object per order. A reader that looks only at steps that have started
 * (a status other than waiting, a result, an error) reads step_rows.
 */
export const ALL_STEPS = `(SELECT t.id AS transfer_id, c.key AS step_index, COALESCE(s.status, 'waiting') AS status,
    COALESCE(s.attempts, 0) AS attempts, s.dispatch_id, s.lease_token, s.lease_until, s.due_at,
    COALESCE(s.resends, 0) AS resends, s.result, s.error, COALESCE(s.attempts_before, 0) AS attempts_before,
    COALESCE(s.idle_attempts, 0) AS idle_attempts
  FROM transfers t JOIN json_each(t.steps) c LEFT JOIN step_rows s ON s.transfer_id = t.id AND s.step_index = c.key)`;
