/** Storage schema of an OrderDO, one entry per version; never edit a shipped entry, append a new one. */
export const ORDER_DO_MIGRATIONS = [
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
] as const;
