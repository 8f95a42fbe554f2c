/**
 * D1 schema: everything the API and UI search. The order's Durable Object is the source of truth
 * for an order's stage and steps; these tables are its searchable projection plus configuration.
 */
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { DocumentLine } from "../domain/accounting/document";

const now = sql`(unixepoch('subsec') * 1000)`;

export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** Who gets error alerts and reports. */
  alertEmails: text("alert_emails", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
  /** The tenant's Resend/Postmark connection for its email; none means the dev outbox. */
  mailConnectionId: text("mail_connection_id"),
  /** Days the transfer log (transfers, snapshots, attempts, emails) is kept. */
  retentionDays: integer("retention_days").notNull().default(90),
  /** Status report by email: off, daily or weekly. */
  reportSchedule: text("report_schedule").$type<"off" | "daily" | "weekly">().notNull().default("off"),
  /** Alert when a source that normally sends has sent nothing for this many hours; null: off. */
  silenceHours: integer("silence_hours"),
  createdAt: integer("created_at").notNull().default(now),
});

export const apiTokens = sqliteTable(
  "api_tokens",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    /** SHA-256 of the token; the token itself is shown once and never stored. */
    tokenHash: text("token_hash").notNull(),
    /**
     * The user who made it; their tokens are revoked when they leave the tenant or become a viewer.
     * Null for tokens made before this was recorded (and for tokens made outside the UI).
     */
    createdBy: text("created_by"),
    createdAt: integer("created_at").notNull().default(now),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [uniqueIndex("api_tokens_hash").on(t.tokenHash)],
);

export const connections = sqliteTable(
  "connections",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    connector: text("connector").notNull(),
    name: text("name").notNull(),
    settings: text("settings", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    /** AES-GCM ciphertext of the credentials JSON (`keyId.iv.data`, base64). */
    credentials: text("credentials").notNull(),
    /** AES-GCM ciphertext of the webhook signing secret, for sources. */
    webhookSecret: text("webhook_secret"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    /** Set while the target's circuit is open: steps wait until a probe succeeds. */
    pausedUntil: integer("paused_until"),
    pauseReason: text("pause_reason"),
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [index("connections_tenant").on(t.tenantId)],
);

export interface FlowStepConfig {
  target: string;
  action: string;
  settings: Record<string, unknown>;
  /**
   * A JSONata expression over `{ order, refund, previous }` returning the `{ order, refund }` the
   * action receives (src/domain/step-mapping.ts). Absent: the canonical input as it is. Kept in
   * the step's JSON (flows.steps, and frozen with each transfer's steps), so no column of its own.
   */
  mapping?: string;
}

export const flows = sqliteTable(
  "flows",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id),
    name: text("name").notNull(),
    sourceConnectionId: text("source_connection_id")
      .notNull()
      .references(() => connections.id),
    triggerStage: text("trigger_stage").notNull(),
    steps: text("steps", { mode: "json" }).$type<FlowStepConfig[]>().notNull(),
    /**
     * A JSONata expression over the transfer input (`{ order, refund? }`): the flow runs for an
     * order only when it is truthy (src/domain/flow-filter.ts). Null: every order, as before 0013.
     */
    filter: text("filter"),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    createdAt: integer("created_at").notNull().default(now),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [index("flows_trigger").on(t.sourceConnectionId, t.triggerStage), index("flows_tenant").on(t.tenantId)],
);

export const TRANSFER_STATUSES = ["pending", "running", "retrying", "completed", "failed"] as const;
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];

/**
 * The term that lets a query use `transfers_tenant_status_time` or `transfers_status_updated`,
 * which hold only transfers that are not completed (an index entry is a D1 row written; most
 * transfers reach D1 completed, and a list of completed ones walks a time index instead). SQLite
 * takes a partial index only for a query whose WHERE carries the index's own term as written, so
 * every query for a status other than completed adds this one, with the literal, never a bound
 * value (`alias`: the query's name for transfers, with its dot).
 */
export const notCompleted = (alias = "") => `${alias}status <> 'completed'`;

export const transfers = sqliteTable(
  "transfers",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    flowId: text("flow_id").notNull(),
    sourceConnectionId: text("source_connection_id").notNull(),
    orderId: text("order_id").notNull(),
    orderNumber: text("order_number"),
    stage: text("stage").notNull(),
    occurrence: text("occurrence").notNull().default(""),
    status: text("status").$type<TransferStatus>().notNull(),
    stepCount: integer("step_count").notNull(),
    stepsDone: integer("steps_done").notNull().default(0),
    errorReason: text("error_reason"),
    errorClass: text("error_class"),
    customerEmail: text("customer_email"),
    customerName: text("customer_name"),
    total: integer("total"),
    currency: text("currency"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    completedAt: integer("completed_at"),
    /**
     * When this transfer's failure was counted for the tenant's alerts. A failure is alerted when
     * `alertedAt >= updatedAt`; a later failure (after a retry) moves `updatedAt` past it again.
     */
    alertedAt: integer("alerted_at"),
  },
  (t) => [
    index("transfers_tenant_time").on(t.tenantId, t.createdAt),
    index("transfers_tenant_order").on(t.tenantId, t.orderId),
    // The cron's sweeps of stuck and failed transfers; no completed ones (see notCompleted).
    index("transfers_status_updated").on(t.status, t.updatedAt).where(sql.raw(notCompleted())),
    index("transfers_tenant_updated").on(t.tenantId, t.updatedAt),
    // The UI's transfer log: a status filter and exact searches by order number or email.
    index("transfers_tenant_status_time").on(t.tenantId, t.status, t.createdAt).where(sql.raw(notCompleted())),
    index("transfers_tenant_number").on(t.tenantId, t.orderNumber),
    index("transfers_tenant_email").on(t.tenantId, t.customerEmail),
  ],
);

export const transferSteps = sqliteTable(
  "transfer_steps",
  {
    transferId: text("transfer_id").notNull(),
    stepIndex: integer("step_index").notNull(),
    tenantId: text("tenant_id").notNull(),
    targetConnectionId: text("target_connection_id").notNull(),
    action: text("action").notNull(),
    status: text("status").$type<TransferStatus>().notNull(),
    attempts: integer("attempts").notNull().default(0),
    externalId: text("external_id"),
    created: integer("created", { mode: "boolean" }),
    output: text("output", { mode: "json" }).$type<Record<string, unknown>>(),
    errorReason: text("error_reason"),
    updatedAt: integer("updated_at").notNull(),
    /** When this step's `output.differences` (a booked invoice that could not change) was alerted; as `transfers.alertedAt`. */
    alertedAt: integer("alerted_at"),
  },
  // No index by tenant and time (migration 0011): each is a row D1 bills on every step written.
  // Readers go through their transfers (`transfers_tenant_updated`) and this primary key.
  (t) => [primaryKey({ columns: [t.transferId, t.stepIndex] })],
);

export const SNAPSHOT_KINDS = ["received", "canonical", "mapped", "request", "response", "error"] as const;
/**
 * What a reader sees; "attempt" is how one attempt's snapshots are stored together (one row), and
 * "history" how one projection's snapshots and attempt outcomes are (src/db/snapshots.ts).
 */
export type SnapshotKind = (typeof SNAPSHOT_KINDS)[number] | "attempt" | "history";

export const snapshots = sqliteTable(
  "snapshots",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    transferId: text("transfer_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    stepIndex: integer("step_index"),
    attempt: integer("attempt"),
    kind: text("kind").$type<SnapshotKind>().notNull(),
    /** JSON text, or null when the body lives in R2 under `blobKey`. */
    body: text("body"),
    blobKey: text("blob_key"),
    size: integer("size").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  // No index by tenant and time: retention finds a tenant's history through its transfers.
  (t) => [index("snapshots_transfer").on(t.transferId, t.id)],
);

/**
 * How each attempt went, one row per attempt, as releases before the history rows wrote it; newer
 * attempts are kept in their projection's `history` snapshot row. Read for older transfers, and
 * emptied by retention.
 */
export const attempts = sqliteTable(
  "attempts",
  {
    transferId: text("transfer_id").notNull(),
    stepIndex: integer("step_index").notNull(),
    attempt: integer("attempt").notNull(),
    tenantId: text("tenant_id").notNull(),
    outcome: text("outcome").$type<"ok" | "retry" | "failed">().notNull(),
    errorClass: text("error_class"),
    latencyMs: integer("latency_ms").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.transferId, t.stepIndex, t.attempt] })],
);

export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    transferId: text("transfer_id"),
    tenantId: text("tenant_id"),
    body: text("body", { mode: "json" }).notNull(),
    reason: text("reason"),
    createdAt: integer("created_at").notNull(),
    /**
     * When a kept delivery's alert was counted (refused-alerts.ts), the claim and the count in one
     * batch; null until then, so the cron raises whatever the webhook route's own try did not.
     * A step's dead letter stays null: its transfer's failure alert tells of it.
     */
    alertedAt: integer("alerted_at"),
    /**
     * The delivery a row keeps, when keeping it may be tried twice: the inbox's hand-off keeps a
     * delivery refused after its acknowledgement, and tries again whole if it cannot tell that it
     * did (D1's answer lost, the shard stopped before it let go of the delivery). Null elsewhere.
     */
    deliveryKey: text("delivery_key"),
  },
  (t) => [
    index("dead_letters_tenant_time").on(t.tenantId, t.createdAt),
    // The cron's sweep reads only the last 48 hours of untold rows, not the whole table.
    index("dead_letters_unalerted").on(t.createdAt).where(sql`alerted_at IS NULL`),
    // One row per kept delivery; only keyed rows have an entry (an index row is a D1 row written).
    uniqueIndex("dead_letters_delivery").on(t.tenantId, t.deliveryKey).where(sql`delivery_key IS NOT NULL`),
  ],
);

/** The built-in sandbox ledger: an accounting target whose books live in D1. */
export const ledgerCustomers = sqliteTable(
  "ledger_customers",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    connectionId: text("connection_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    matchKey: text("match_key").notNull(),
    name: text("name").notNull(),
    email: text("email"),
    country: text("country"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("ledger_customers_match").on(t.connectionId, t.matchKey)],
);

export const ledgerInvoices = sqliteTable(
  "ledger_invoices",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    connectionId: text("connection_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    reference: text("reference").notNull(),
    customerId: integer("customer_id").notNull(),
    orderNumber: text("order_number"),
    state: text("state").$type<"draft" | "booked">().notNull(),
    type: text("type").$type<"invoice" | "credit-note">().notNull().default("invoice"),
    /** For a credit note: the invoice it credits. */
    creditedInvoiceId: integer("credited_invoice_id"),
    currency: text("currency").notNull(),
    vatCase: text("vat_case"),
    lines: text("lines", { mode: "json" }).$type<LedgerLine[]>().notNull(),
    net: integer("net").notNull(),
    vat: integer("vat").notNull(),
    total: integer("total").notNull(),
    /** Sum of registered payments, minor units. */
    paid: integer("paid").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at"),
  },
  (t) => [
    uniqueIndex("ledger_invoices_reference").on(t.connectionId, t.reference),
    index("ledger_invoices_tenant").on(t.tenantId, t.id),
  ],
);

/** A sandbox ledger line, as the accounting document gives it. */
export type LedgerLine = Pick<
  DocumentLine,
  "kind" | "description" | "sku" | "quantity" | "unitNet" | "net" | "vatRateBp" | "vat"
>;

export const ledgerPayments = sqliteTable(
  "ledger_payments",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    connectionId: text("connection_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    reference: text("reference").notNull(),
    invoiceId: integer("invoice_id").notNull(),
    amount: integer("amount").notNull(),
    method: text("method").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("ledger_payments_reference").on(t.connectionId, t.reference)],
);

/** Every email Orderly sends, kept as sent; with the dev provider this is the only delivery. */
export const mailOutbox = sqliteTable(
  "mail_outbox",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    provider: text("provider").notNull(),
    /** Provider's message id once accepted. */
    providerId: text("provider_id"),
    /** Caller's idempotency key: the same key never sends twice. */
    idempotencyKey: text("idempotency_key").notNull(),
    fromAddress: text("from_address").notNull(),
    toAddresses: text("to_addresses", { mode: "json" }).$type<string[]>().notNull(),
    subject: text("subject").notNull(),
    text: text("text"),
    html: text("html"),
    /** Attachment names, sizes and R2 keys (bodies live in R2). */
    attachments: text("attachments", { mode: "json" }).$type<
      Array<{ filename: string; contentType: string; size: number; blobKey: string }>
    >(),
    status: text("status").$type<"sent" | "failed">().notNull(),
    error: text("error"),
    createdAt: integer("created_at").notNull(),
    /**
     * When the last attempt that may have handed the email to the provider began (migration 0012);
     * null on rows of earlier releases, read as `createdAt`. A Postmark retry's search counts from it.
     */
    attemptedAt: integer("attempted_at"),
  },
  (t) => [
    uniqueIndex("mail_outbox_idempotency").on(t.tenantId, t.idempotencyKey),
    index("mail_outbox_tenant_time").on(t.tenantId, t.createdAt),
  ],
);

/** People who sign in to the UI. An agency user can belong to several tenants. */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    name: text("name").notNull(),
    /** PBKDF2-SHA256 `pbkdf2$<iterations>$<salt b64>$<hash b64>`, per-user salt. */
    passwordHash: text("password_hash"),
    createdAt: integer("created_at").notNull().default(now),
    lastLoginAt: integer("last_login_at"),
  },
  (t) => [uniqueIndex("users_email").on(t.email)],
);

export const ROLES = ["owner", "admin", "viewer"] as const;
export type Role = (typeof ROLES)[number];

export const memberships = sqliteTable(
  "memberships",
  {
    userId: text("user_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    role: text("role").$type<Role>().notNull(),
    createdAt: integer("created_at").notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.userId, t.tenantId] }), index("memberships_tenant").on(t.tenantId)],
);

export const sessions = sqliteTable(
  "sessions",
  {
    /** SHA-256 of the cookie value; the value itself is never stored. */
    idHash: text("id_hash").primaryKey(),
    userId: text("user_id").notNull(),
    /** The tenant the user is working in now. */
    tenantId: text("tenant_id"),
    csrfToken: text("csrf_token").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("sessions_user").on(t.userId)],
);

/** One-time tokens: invitations and password resets (hashed, expiring, single use). */
export const userTokens = sqliteTable(
  "user_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    kind: text("kind").$type<"invite" | "reset">().notNull(),
    email: text("email").notNull(),
    tenantId: text("tenant_id"),
    role: text("role").$type<Role>(),
    createdBy: text("created_by"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [index("user_tokens_email").on(t.email)],
);

/** Who changed which setting when. */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    tenantId: text("tenant_id").notNull(),
    /** User id, or `token:<id>` for API calls. */
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target"),
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("audit_log_tenant_time").on(t.tenantId, t.createdAt)],
);

/** Alert throttling: one email per burst of the same kind of failure, with the count. */
export const alertState = sqliteTable(
  "alert_state",
  {
    tenantId: text("tenant_id").notNull(),
    /** What the alert is about, e.g. `failures:<connectionId>`. */
    topic: text("topic").notNull(),
    /** Events since the last email. */
    pending: integer("pending").notNull().default(0),
    firstPendingAt: integer("first_pending_at"),
    lastSentAt: integer("last_sent_at"),
    /** A sample of what happened, for the email. */
    samples: text("samples", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.topic] })],
);

/**
 * Orders that reached a stage while their source had no enabled flow at all (OrderDO.plan): no
 * transfer names them, so without this row nothing would show they came. Listed on the Flows
 * page and by /api/v1/unplanned-orders until flows are run for them, or until the tenant's
 * retention. One row per order: a later stage merges into `stages`.
 */
export const unplannedOrders = sqliteTable(
  "unplanned_orders",
  {
    tenantId: text("tenant_id").notNull(),
    connectionId: text("connection_id").notNull(),
    orderId: text("order_id").notNull(),
    orderNumber: text("order_number"),
    /** The stages the order passed with no flow on (JSON array, no repeats). */
    stages: text("stages", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    firstSeenAt: integer("first_seen_at").notNull(),
    lastSeenAt: integer("last_seen_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.connectionId, t.orderId] }),
    index("unplanned_orders_tenant_time").on(t.tenantId, t.firstSeenAt),
  ],
);

/**
 * The reconciliation sweep of a source connection (src/worker/reconcile.ts): where it has read the
 * shop's orders up to, where an unfinished window goes on, and what its last run found, for the
 * connection's page. One row per connection, made by its first sweep.
 */
export const reconcileState = sqliteTable(
  "reconcile_state",
  {
    connectionId: text("connection_id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    /** Every order the shop shows modified at or before this time (ms) was taken. Null before the first window ends. */
    checkpoint: integer("checkpoint"),
    /** The window being read (bounds and where its next page starts); null between windows. */
    cursor: text("cursor", { mode: "json" }).$type<Record<string, unknown>>(),
    /** No run starts before this (the interval, a 429's Retry-After, or a run's claim). */
    nextRunAt: integer("next_run_at").notNull().default(0),
    lastRunAt: integer("last_run_at"),
    /** `ok`, `partial` (more pages next run) or `error`. */
    lastOutcome: text("last_outcome"),
    lastLooked: integer("last_looked").notNull().default(0),
    /** Orders of the last run none of whose events had reached Orderly: their webhooks were missed. */
    lastNew: integer("last_new").notNull().default(0),
    /** The first few of those, as the shop names them (`#1001`). */
    lastNewOrders: text("last_new_orders", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    /** Orders of the last run Orderly could not take: kept under "Kept, not processed". */
    lastKept: integer("last_kept").notNull().default(0),
    lastError: text("last_error"),
    lastErrorCode: text("last_error_code"),
    lastErrorAt: integer("last_error_at"),
    /** Runs in a row that ended with last_error_code: a sweep that keeps failing is alerted (migration 0016). */
    failRuns: integer("fail_runs").notNull().default(0),
    /** Failed reads of the cursor's page: after a few the window starts again from the checkpoint. */
    pageFails: integer("page_fails").notNull().default(0),
    /** Orders a webhook missed, since the sweep was (last) switched on. */
    missedTotal: integer("missed_total").notNull().default(0),
    /** The same per UTC day (`YYYY-MM-DD`), the last 7 days only: the page's weekly total. */
    missedDays: text("missed_days", { mode: "json" }).$type<Record<string, number>>().notNull().default(sql`'{}'`),
    /** When the sweep was switched on (its first run, or a reset: switched on again, credentials changed). */
    onSince: integer("on_since"),
    updatedAt: integer("updated_at").notNull().default(now),
  },
  (t) => [index("reconcile_state_tenant").on(t.tenantId), index("reconcile_state_due").on(t.nextRunAt)],
);
