/**
 * OrderDO: one Durable Object per source order (`connectionId:orderId`). It is the only place
 * where the order's stage changes and where it is decided which flows run. It stores each event
 * before the webhook is answered, drops re-deliveries, releases one step of the order at a time,
 * and keeps every side effect (flow planning, D1 projections, queue sends) in an outbox that its
 * alarm drives until each one has happened.
 */
import { DurableObject } from "cloudflare:workers";
import { and, asc, eq } from "drizzle-orm";
import { type ActionResult, changedIdentitySetting, type OrderKey } from "../connectors/contract";
import { database, runBatch, type SerializedStatement } from "../db/client";
import { type FlowStepConfig, flows } from "../db/schema";
import {
  type AttemptRecord,
  historyRecords,
  inlineSnapshot,
  insertSnapshots,
  prepareSnapshot,
  type SnapshotRecord,
} from "../db/snapshots";
import { readUnplannedEntry, recordUnplanned, unplannedEntry } from "../db/unplanned-orders";
import { evaluateFilter, FILTER_FAILED, FILTER_NOT_TAKEN, filterFailure, filterNotTaken } from "../domain/flow-filter";
import type { CanonicalOrder, TransferInput } from "../domain/order";
import { showsPayment, showsPaymentToEnter } from "../domain/payment";
import { transferId as deriveTransferId, stepReference } from "../domain/reference";
import {
  advanceStage,
  initialStageState,
  isLadderStage,
  LADDER,
  ladderRank,
  type Stage,
  type StageState,
  stageOccurrence,
  stageSortKey,
} from "../domain/stage";
import { alertSample, parkedAlertText } from "../notifications/alert-emails";
import { alertTopic } from "../notifications/alert-throttle";
import { notificationConfig } from "../notifications/notification-config";
import { connectionNames, raiseAlert } from "../notifications/notify-tenant";
import { alertGoneRefunds } from "../notifications/refund-gone-alerts";
import { alertUnplannedOrder } from "../notifications/unplanned-alerts";
import { type RuntimeConfig, retryDelaySeconds, runtimeConfig } from "../worker/config";
import { type OrderIdentity, projectTransfer, type StepRow, type TransferRow } from "./order-projection";
import { ALL_STEPS, ORDER_DO_MIGRATIONS } from "./order-schema";
import type {
  HandedStep,
  IngestRequest,
  IngestResult,
  RetryRequest,
  RunClaim,
  StepClaim,
  StepError,
  StepMessage,
  StepReport,
  StepVerdict,
} from "./order-types";
import { ObjectSql } from "./sql";

type OutboxJob =
  /** The stages an event passed, in ladder order (objects of the previous release queued one stage per job). */
  (
    | ({ kind: "plan"; stages: PlannedStage[]; eventSeq: number } & PlanMode)
    | ({ kind: "plan"; stage: Stage; occurrence: string; eventSeq: number } & PlanMode)
    /**
     * Transfers made from an older version take the newest: after a material change all of them
     * (`payment` absent), after the first version that shows the payment only the paid stage's
     * transfers made from a version without it.
     */
    | ({ kind: "rerun"; eventSeq: number; payment?: true } & PlanMode)
    /** Written by the previous release: a projection serialised when it was queued. */
    | { kind: "d1"; statements: SerializedStatement[] }
    | ProjectJob
    | { kind: "send"; message: StepMessage }
    /** Stages planned while the source had no enabled flow: recorded in D1 and alerted (runUnplanned). */
    | UnplannedJob
  ) &
    JobStarts;

/**
 * A job's starts that have not finished (drain): the object died under them (out of memory, or
 * out of CPU). Absent: one, counted by the job's insert, so the common path writes nothing for it.
 */
interface JobStarts {
  starts?: number;
}

/**
 * A plan or re-run job that kept stopping the object runs on with every filter taken as failed
 * (countStart): neither is ever parked, as nothing may overtake it.
 */
interface PlanMode {
  filtersFailed?: true;
}

interface UnplannedJob {
  kind: "unplanned";
  stages: PlannedStage[];
  at: number;
}

/**
 * A transfer's D1 projection, built from the object's state when it runs, with the snapshots and
 * attempt outcomes of the changes it stands for (queueProjection).
 */
interface ProjectJob extends JobStarts {
  kind: "project";
  transferId: string;
  snapshots: SnapshotRecord[];
  /** Absent in jobs the previous release queued, which carry their attempt rows in `extra`. */
  attempts?: AttemptRecord[];
  /** Statements that run after the snapshots; kept (empty) so the previous release can read the job. */
  extra: SerializedStatement[];
}

/** What the object knows of its order besides events and transfers: the `state` meta row. */
interface OrderState {
  identity: OrderIdentity;
  stage: StageState;
  /** The newest version that is not stale; null while only a refund has come. */
  order: CanonicalOrder | null;
  /** Refunds the shop no longer lists whose deletion the tenant was told of (refundsGone). */
  refundsGone?: string[];
  /**
   * Refunds found gone whose alert is not on record yet (tellGoneRefunds): moved to `refundsGone`
   * once it is, tried again at `nextAt` (the alarm) until then.
   */
  refundsGoneUntold?: { ids: string[]; tries: number; nextAt: number };
}

/** What planReached did: planned (`made` transfers new now), or why nothing was. */
export type PlanReachedResult =
  | {
      /** cancelled: the order is cancelled, so its recorded ladder stages are dropped, not run (outOfTurn). */
      outcome: "planned" | "cancelled";
      made: number;
      /** Recorded entries done with: planned for the flows on now, or never to run (dropped). */
      settled: string[];
      /** Recorded entries that cannot be planned, and why (kept listed). */
      failed: Array<{ entry: string; reason: string }>;
    }
  /** The source has no enabled flow: nothing planned. */
  | { outcome: "no_flow" }
  /** The object holds no order (never had an event). */
  | { outcome: "unknown" };

interface PlannedStage {
  stage: Stage;
  occurrence: string;
}

interface OutboxRow {
  id: number;
  kind: string;
  payload: string;
  attempts: number;
}

/**
 * A claimed step may run this long before another dispatch may take it over; at least a few of
 * the slowest calls, because the consumer starts no call that could outlast it.
 */
const MIN_LEASE_MS = 10_000;
const LEASE_CALLS = 4;
/** How many times more tries a step answered only 429s gets before it fails. */
const RATE_LIMITED_ATTEMPTS_FACTOR = 4;
/** A released step that never reports back is re-sent this many times before it is failed. */
const MAX_RESENDS = 5;
const DAY_MS = 86_400_000;
/** A transfer unchanged but for its time is written again only when its time is this old. */
const TOUCH_REFRESH_MS = 1000;
/** A projection waiting for its transfer's next report (queueProjection); the parameter is now. */
const HELD = "parked = 0 AND kind = 'project' AND attempts = 0 AND next_at > ?";
/** The outbox jobs the pump takes in id order: not parked, and not a held projection. */
const IN_LINE = "parked = 0 AND NOT (kind = 'project' AND attempts = 0 AND next_at > ?)";
/** Failed tries (about an hour with the backoff) before a D1 projection is parked. */
const PARK_AFTER_ATTEMPTS = 60;
/** Tries a parked projection gets when it is un-parked a day later, before it is parked again. */
const UNPARKED_TRIES = 3;
/**
 * Tries a parked projection gets when the sweeper's nudge un-parks it: one that fails again is
 * parked again at once, holding up the order's line no longer than that try (the next sweep, five
 * minutes on, tries again).
 */
const NUDGED_TRIES = 1;
/** Events no queued plan or re-run job reads (SQL condition on `events`). */
const NOT_READ_BY_A_JOB = `seq NOT IN (SELECT json_extract(payload, '$.eventSeq') FROM outbox
  WHERE kind IN ('plan', 'rerun') AND json_extract(payload, '$.eventSeq') IS NOT NULL)`;
/**
 * The object of a refund event kept past the dedupe retention for its keys alone (housekeeping):
 * its body is gone, and no job reads it (it is trimmed only when none does).
 */
const KEPT_FOR_DEDUPE = '{"type":"kept"}';
/** A projection job that has grown to this size takes no more changes (a SQLite row holds 2 MB). */
const PROJECTION_JOB_MAX_BYTES = 512 * 1024;
/** A refund-gone alert that could not be raised is tried again after 1, 2, 4 … minutes, at most hourly. */
const GONE_RETRY_BASE_MS = 60_000;
const GONE_RETRY_MAX_MS = 3_600_000;
/** The database's error, as the parked-projection alert quotes it. */
const PARKED_REASON_LIMIT = 500;
/**
 * Starts an outbox job may make without finishing (the object died while it ran) before a
 * projection is parked: replayed on every wake, it would hold up every job behind it, unseen. No
 * other job is parked for it (nothing may overtake it): a plan or re-run job runs on with every
 * filter taken as failed (a plan's transfers fail visibly), any other is logged at each start.
 */
const MAX_UNFINISHED_STARTS = 3;
/** The shortest and the longest backstop a kick of the pump sets (the projection hold, within these). */
const KICK_BACKSTOP_MS = 1000;
const KICK_BACKSTOP_MAX_MS = 10_000;
/**
 * Not a projection parked for stopping the object (its starts used up): the sweeper's nudge, every
 * few minutes, would have it stop the object (and every other object of its isolate) again each
 * time; housekeeping, a day on, gives it one start. Only projections are parked so; any other job
 * parked (by its failures, or by its starts in the release before) the nudge puts back.
 */
const STARTS_LEFT = ` AND (kind != 'project' OR COALESCE(json_extract(payload, '$.starts'), 1) < ${MAX_UNFINISHED_STARTS})`;
/** Why a plan job past MAX_UNFINISHED_STARTS took every filter as failed. */
const FILTERS_STOPPED_OBJECT = `planning this order's flows stopped Orderly's work on the order ${MAX_UNFINISHED_STARTS} times (it ran out of memory or time, most likely in a filter), so this time no filter was evaluated for it`;

export class OrderDO extends DurableObject<Env> {
  private readonly sql: ObjectSql;
  private readonly config: RuntimeConfig;
  private pumping: Promise<void> | null = null;
  /** The order's identity once read or written (it never changes). */
  /** The committed state row, once read; an ingest replaces it when its transaction commits. */
  private stateCache: OrderState | null = null;
  /** The state an ingest is changing, written as one row when the event is stored (store). */
  private draft: OrderState | null = null;
  /**
   * The stored events' delivery ids (`d:`) and event keys (`e:`), read once per wake: the table has
   * no index on them since v11 (each was a billed row per webhook), and an order under a storm of
   * updates can hold thousands of events. Added to only after a commit, so an event rolled back is
   * never taken for a duplicate; dropped when events are pruned.
   */
  private eventKeys: Set<string> | null = null;
  /** When the alarm this instance last set goes off; null when unknown (a new instance) or gone off. */
  private alarmAt: number | null = null;
  /** The outbox job the pump is running. */
  private runningJob: number | null = null;
  /**
   * Jobs whose next start is already counted in their row (queued by this instance, or failed
   * under it): their start writes nothing. Another instance counts a start in the row first.
   */
  private readonly counted = new Set<number>();
  /** Step messages sent and not yet answered by the queue (sendStep). */
  private readonly sending = new Set<Promise<void>>();
  /** The refund-gone alert being raised (tellGoneRefunds): one at a time, or it would be told twice. */
  private telling: Promise<void> | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new ObjectSql(ctx.storage);
    this.sql.migrate(ORDER_DO_MIGRATIONS);
    this.config = runtimeConfig(env);
  }

  /** Stores one event. Returns only after the write is durable; flows are planned after the answer. */
  async ingest(request: IngestRequest): Promise<IngestResult> {
    // All or none: an event row left behind by a failed write would answer the inbox's retry as a
    // duplicate, and the event's flows would never be planned.
    const { result, pump, state, gone } = this.sql.transaction(() => this.store(request));
    this.stateCache = state;
    if (!result.duplicate) {
      this.eventKeys?.add(`d:${request.event.deliveryId}`);
      if (request.event.eventKey) this.eventKeys?.add(`e:${request.event.eventKey}`);
    }
    // Not awaited: the alert must not hold the inbox's hand-off. The refunds are stored as untold
    // with the event, so one not raised now is raised by a later alarm.
    if (gone.length > 0) void this.tellGoneRefunds();
    if (pump) this.kick();
    else if (!result.duplicate) await this.keepHousekeepingAlarm();
    return result;
  }

  /**
   * An event that queued nothing still has its delivery id to drop some day: an alarm already set
   * (for an earlier id's expiry, or for work) goes off first and sets the next, so only an object
   * that sleeps with none sets one, once.
   */
  private async keepHousekeepingAlarm(): Promise<void> {
    if (this.alarmAt !== null && this.alarmAt > Date.now()) return;
    if ((await this.ctx.storage.getAlarm()) !== null) return;
    await this.scheduleAlarm();
  }

  /**
   * Whose order this is, its stage and its newest version change as one row, written once per
   * event and only when it changed: each row written is billed, and an event touched all three.
   * `pump`: the event may have queued outbox jobs. `state`: as committed.
   */
  private store(request: IngestRequest): { result: IngestResult; pump: boolean; state: OrderState; gone: string[] } {
    const saved = this.getMeta("state");
    this.draft = this.readState(saved) ?? {
      identity: { tenantId: request.tenantId, connectionId: request.connectionId, orderId: request.event.orderId },
      stage: initialStageState,
      order: null,
    };
    try {
      const stored = this.storeEvent(request);
      const gone = stored.gone ?? [];
      if (gone.length > 0) {
        const untold = this.draft.refundsGoneUntold;
        this.draft.refundsGoneUntold = { ids: [...(untold?.ids ?? []), ...gone], tries: untold?.tries ?? 0, nextAt: Date.now() };
      }
      const next = JSON.stringify(this.draft);
      if (next !== saved && !stored.result.duplicate) this.setMeta("state", next);
      return { ...stored, state: this.draft, gone };
    } finally {
      this.draft = null;
    }
  }

  private storedKeys(): Set<string> {
    if (this.eventKeys) return this.eventKeys;
    const keys = new Set<string>();
    for (const row of this.sql.all<{ delivery_id: string; event_key: string | null }>(
      "SELECT delivery_id, event_key FROM events",
    )) {
      keys.add(`d:${row.delivery_id}`);
      if (row.event_key !== null) keys.add(`e:${row.event_key}`);
    }
    this.eventKeys = keys;
    return keys;
  }

  private storeEvent(request: IngestRequest): { result: IngestResult; pump: boolean; gone?: string[] } {
    const { event, raw } = request;
    const keys = this.storedKeys();
    const seen = keys.has(`d:${event.deliveryId}`) || (event.eventKey !== undefined && keys.has(`e:${event.eventKey}`));
    if (seen) return { result: { duplicate: true, stale: false, passed: [] }, pump: false };

    const current = this.latestOrder();
    const isOrder = event.object.type === "order";
    const stale = isOrder && current !== null && event.version < current.source.version;
    const waitsForOrder = !isOrder && current === null;
    const seq = this.sql.one<{ seq: number }>(
      `INSERT INTO events (delivery_id, event_key, topic, stage, occurrence, version, received_at, object,
         raw_body, raw_blob, raw_size, headers, stale, applied)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
      event.deliveryId,
      event.eventKey ?? null,
      event.topic,
      event.stage,
      event.occurrence,
      event.version,
      request.receivedAt,
      JSON.stringify(event.object),
      raw.body,
      raw.blobKey,
      raw.size,
      JSON.stringify(raw.headers),
      stale ? 1 : 0,
      waitsForOrder ? 0 : 1,
    )!.seq;
    // The version that becomes the order's newest. One stamped as the newest (the same second) may
    // be the older state delivered last (Shopify's orders/create after orders/paid): it replaces the
    // newest unless it shows the order behind it, so the order never loses its stage or payment.
    const taken =
      event.object.type === "order" &&
      !stale &&
      (current === null || event.version > current.source.version || notBehind(event.object.order, current))
        ? event.object.order
        : null;
    const changed = taken !== null && current !== null && materialKey(current) !== materialKey(taken);
    // A refund (or a fulfilment) before orders/paid made the paid flows from a version without a
    // payment to enter (none, or a deposit); the first version that shows one runs them again
    // (docs/guarantees.md, gap 5).
    const paymentArrived = taken !== null && current !== null && !showsPaymentToEnter(current) && showsPaymentToEnter(taken);
    if (taken) this.draft!.order = taken;
    if (waitsForOrder) {
      // A refund can arrive before any order event; it is applied when the order is known.
      return { result: { duplicate: false, stale: false, passed: [] }, pump: false };
    }
    // Transfers made from the old version are re-run first, then the stages this event passes.
    if (changed) this.enqueue({ kind: "rerun", eventSeq: seq });
    else if (paymentArrived) this.enqueue({ kind: "rerun", eventSeq: seq, payment: true });
    // Only a version newer than any seen can take a cancelled order back (domain/stage.ts): one of
    // the same second may be older (WooCommerce's modified time has whole seconds).
    const newer = isOrder && (current === null || event.version > current.source.version);
    // A late delivery of a cancellation older than the order's newest version must not cancel an
    // order that was taken back since (it would undo the work done after it).
    const passed = stale && event.stage === "cancelled" ? [] : this.applyStage(event.stage, event.occurrence, seq, newer);
    // Only a version newer than any seen can say a refund was deleted: one of the same second may
    // be older than the refund.
    const gone = newer ? this.refundsGone(event.object) : [];
    if (isOrder) passed.push(...this.applyWaitingRefunds());
    // An event that passed no stage and changed nothing material queued nothing: no pump, and no
    // alarm set for it (each is billed, and Shopify sends an order several such updates).
    return { result: { duplicate: false, stale, passed }, pump: passed.length > 0 || changed || paymentArrived, gone };
  }

  /**
   * A consumer asks to run a released step; only one holder of the lease may run it.
   * `options.orderInClaim`: the consumer takes the order's key from the claim. The previous
   * release's consumer does not; it finds the order through the running transfer's row in D1, so
   * for it the transfer's projection is written before the claim is answered.
   */
  async claimStep(message: StepMessage, token: string, options: { orderInClaim?: boolean } = {}): Promise<StepClaim> {
    const now = Date.now();
    const step = this.step(message.transferId, message.stepIndex);
    if (!step) return { action: "drop", reason: "the order has no such step" };
    if (step.status === "done" || step.status === "failed") return { action: "drop", reason: `step already ${step.status}` };
    if (step.status === "waiting" || step.status === "deferred") return { action: "drop", reason: `step is ${step.status}` };
    if (step.dispatch_id !== message.dispatchId) return { action: "drop", reason: "superseded by a newer dispatch" };
    if (step.lease_until !== null && !this.leaseOver(step.lease_until, now) && step.lease_token !== token) {
      return { action: "busy", retryAfterSeconds: Math.ceil((step.lease_until + this.config.outboundTimeoutMs - now) / 1000) };
    }
    const attempt = step.attempts + 1;
    const unsettled = this.earlierAttemptUnsettled(message.transferId, message.stepIndex, step);
    const leaseUntil = this.leaseEnd(now);
    this.sql.run(
      `UPDATE step_rows SET status = 'running', attempts = ?, lease_token = ?, lease_until = ?, due_at = ?
       WHERE transfer_id = ? AND step_index = ?`,
      attempt,
      token,
      leaseUntil,
      leaseUntil + this.config.stepResendAfterMs,
      message.transferId,
      message.stepIndex,
    );
    this.touchTransfer(message.transferId, "running", null);
    const claim = this.runClaim(message.transferId, message.stepIndex, attempt, leaseUntil);
    if (!options.orderInClaim) await this.projectNow(message.transferId);
    return unsettled ? { ...claim, earlierAttemptUnsettled: true } : claim;
  }

  /**
   * Whether the step's last attempt may have reached its target unanswered: it never reported (its
   * lease ran out: the step is still `running`, or was released again with the lease it had), or it
   * ended with no answer in time (`timeout`) or with an answered 5xx/408 (`outbound_unavailable`),
   * having sent something. A refusal, a 429, a network error (nothing may have left: connection
   * refused, a name that does not resolve) or an error before the call settled it; so did a
   * deferral or a retry from the log, which replace the error. Leaning to "settled" makes a
   * receiver's bare repeat a visible failure rather than an order taken as sent that never was.
   */
  private earlierAttemptUnsettled(
    transferId: string,
    stepIndex: number,
    step: { status: string; lease_until: number | null },
  ): boolean {
    if (step.status === "running" || (step.status === "released" && step.lease_until !== null)) return true;
    const row = this.sql.one<{ error: string | null }>(
      "SELECT error FROM step_rows WHERE transfer_id = ? AND step_index = ?",
      transferId,
      stepIndex,
    );
    if (!row?.error) return false;
    const error = JSON.parse(row.error) as StepError;
    if (error.madeNothing === true) return false;
    return error.errorClass === "timeout" || error.code === "outbound_unavailable";
  }

  /** A claimed step may run until then; another dispatch may take it over after. */
  private leaseEnd(now: number): number {
    return now + Math.max(MIN_LEASE_MS, LEASE_CALLS * this.config.outboundTimeoutMs);
  }

  /**
   * Whether another message may take a claimed step over: a call's time after its lease, which its
   * holder has to settle the gate, store snapshots and report a call that ended with the lease
   * (taken sooner, that success would be thrown away as stale and the step run again).
   */
  private leaseOver(leaseUntil: number, now: number): boolean {
    return leaseUntil + this.config.outboundTimeoutMs <= now;
  }

  /** The order as the transfer log keys it. */
  private orderKey(): OrderKey {
    const { tenantId, connectionId, orderId } = this.identity();
    return { tenantId, sourceConnectionId: connectionId, orderId };
  }

  /** What the holder of a step's lease needs to run it: its settings, input and what came before. */
  private runClaim(transferId: string, stepIndex: number, attempt: number, leaseUntil: number): RunClaim {
    const transfer = this.transfer(transferId)!;
    const configs = JSON.parse(transfer.steps) as FlowStepConfig[];
    // Only what earlier steps made on this step's own connection: a bookInvoice on e-conomic B after
    // a createInvoice on e-conomic A would otherwise book draft number N in B's books, another's.
    const own = configs[stepIndex]?.target;
    const previous = this.sql
      .all<{ step_index: number; result: string | null }>(
        `SELECT step_index, result FROM ${ALL_STEPS} WHERE transfer_id = ? AND step_index < ? ORDER BY step_index`,
        transferId,
        stepIndex,
      )
      .map((row) =>
        row.result && configs[row.step_index]?.target === own ? (JSON.parse(row.result) as ActionResult) : undefined,
      );
    // What this same step returned when it last succeeded (a run from the start keeps it): an
    // action whose effect no record in the target shows (an e-mail) tells by it that it is done.
    const ownResult = this.sql.one<{ result: string | null }>(
      "SELECT result FROM step_rows WHERE transfer_id = ? AND step_index = ?",
      transferId,
      stepIndex,
    )?.result;
    const history = this.sql
      .all<{ transfer_id: string; stage: Stage; occurrence: string; step_index: number; steps: string; result: string }>(
        `SELECT s.transfer_id, t.stage, t.occurrence, s.step_index, t.steps, s.result FROM step_rows s JOIN transfers t ON t.id = s.transfer_id
         WHERE s.result IS NOT NULL AND s.transfer_id != ? ORDER BY t.seq, s.step_index`,
        transferId,
      )
      .map((row) => {
        const config = (JSON.parse(row.steps) as FlowStepConfig[])[row.step_index];
        return {
          transferId: row.transfer_id,
          stage: row.stage,
          occurrence: row.occurrence,
          stepIndex: row.step_index,
          target: config?.target ?? "",
          action: config?.action ?? "",
          result: JSON.parse(row.result) as ActionResult,
        };
      });
    return {
      action: "run",
      attempt,
      tenantId: this.identity().tenantId,
      order: this.orderKey(),
      transferId,
      stepIndex,
      step: configs[stepIndex]!,
      input: JSON.parse(transfer.input) as TransferInput,
      previous,
      ...(ownResult ? { prior: JSON.parse(ownResult) as ActionResult } : {}),
      history,
      reference: stepReference(transferId, stepIndex),
      leaseUntil,
    };
  }

  /**
   * The target's gate said "not now" (rate limit, pause): the step waits in the object, not in
   * the queue, and is dispatched again when due. Waiting is not an attempt and not a loss.
   */
  async deferStep(
    message: StepMessage,
    untilMs: number,
    reason: string,
    token?: string,
  ): Promise<{ retryAfterSeconds: number } | undefined> {
    const step = this.step(message.transferId, message.stepIndex);
    if (!step || step.dispatch_id !== message.dispatchId) return undefined;
    const now = Date.now();
    // A step handed over comes claimed: its holder gives the claim back, and it was no attempt.
    const handed = token !== undefined && step.status === "running" && step.lease_token === token;
    // A claim whose lease is over (its consumer died, and this is its message again) is taken back
    // too; it was an attempt. One under a live lease is not the caller's: it asks after the lease
    // (before, the message was acked and the step waited for the alarm, a quarter of an hour).
    const lapsed = !handed && step.status === "running" && this.leaseOver(step.lease_until ?? 0, now);
    if (!handed && !lapsed && step.status === "running")
      return {
        retryAfterSeconds: Math.max(1, Math.ceil(((step.lease_until ?? now) + this.config.outboundTimeoutMs - now) / 1000)),
      };
    if (!handed && !lapsed && step.status !== "released" && step.status !== "retrying") return undefined;
    this.sql.run(
      `UPDATE step_rows SET status = 'deferred', due_at = ?, error = ?, attempts = attempts - ?, lease_token = NULL, lease_until = NULL
       WHERE transfer_id = ? AND step_index = ?`,
      untilMs,
      JSON.stringify({ message: `Waiting for the target: ${reason}`, code: "deferred", errorClass: "rate_limited" }),
      handed ? 1 : 0,
      message.transferId,
      message.stepIndex,
    );
    // The log shows the step waiting. Held like a step out: it joins the transfer's held job (no
    // extra write in the common case), or, once that was written (a queue delivery slower than
    // the hold), a new one written when the hold ends, unless the step reports first.
    this.queueProjection(message.transferId, [], [], { hold: true });
    await this.scheduleAlarm();
    return undefined;
  }

  /** The consumer reports how an attempt went; the object decides what happens next. */
  async reportStep(report: StepReport): Promise<StepVerdict> {
    const step = this.step(report.transferId, report.stepIndex);
    if (!step || step.lease_token !== report.token || step.status !== "running") return { next: "stale" };
    const now = Date.now();
    let verdict: StepVerdict;
    const { outcome } = report;
    const tries = step.attempts - step.attempts_before;
    // A report means the last dispatch arrived: lost messages count again from none (`resends`),
    // or losses spread over a step's retries would add up to step_lost. Not at the claim: a step
    // that keeps crashing its consumer claims and never reports, and must still end step_lost.
    if (outcome.kind === "ok") {
      this.sql.run(
        `UPDATE step_rows SET status = 'done', result = ?, error = NULL, lease_token = NULL, lease_until = NULL, due_at = NULL,
           resends = 0
         WHERE transfer_id = ? AND step_index = ?`,
        JSON.stringify(outcome.result),
        report.transferId,
        report.stepIndex,
      );
      const remaining = this.sql.one<{ n: number }>(
        `SELECT COUNT(*) AS n FROM ${ALL_STEPS} WHERE transfer_id = ? AND status != 'done'`,
        report.transferId,
      )!.n;
      this.touchTransfer(report.transferId, remaining === 0 ? "completed" : "running", null);
      if (remaining === 0) this.rerunIfPending(report.transferId);
      verdict = { next: "ack" };
    } else if (outcome.kind === "retry" && tries < this.attemptLimit(outcome.error)) {
      const delaySeconds = retryDelaySeconds(this.config, tries, outcome.retryAfterSeconds);
      this.sql.run(
        `UPDATE step_rows SET status = 'retrying', error = ?, lease_token = NULL, lease_until = NULL, due_at = ?,
           idle_attempts = idle_attempts + ?, resends = 0
         WHERE transfer_id = ? AND step_index = ?`,
        JSON.stringify(outcome.error),
        now + delaySeconds * 1000 + this.config.stepResendAfterMs,
        outcome.error.madeNothing === true ? 1 : 0,
        report.transferId,
        report.stepIndex,
      );
      this.touchTransfer(report.transferId, "retrying", outcome.error);
      verdict = { next: "retry", delaySeconds };
    } else {
      const error: StepError =
        outcome.kind === "retry"
          ? { ...outcome.error, message: `${outcome.error.message} (gave up after ${tries} attempts)` }
          : outcome.error;
      this.failStep(report.transferId, report.stepIndex, error, error.madeNothing === true);
      verdict = { next: "dead-letter", reason: error.message };
    }
    const outcomeRecord: AttemptRecord = {
      stepIndex: report.stepIndex,
      attempt: step.attempts,
      outcome: verdict.next === "ack" ? "ok" : verdict.next === "retry" ? "retry" : "failed",
      errorClass: outcome.kind === "ok" ? null : outcome.error.errorClass,
      latencyMs: report.latencyMs,
      createdAt: now,
    };
    // The next step is released before the report is projected, so one projection shows both.
    // The reporting consumer runs the transfer's next step at once, already claimed for it: no
    // queue message, no consumer invocation, no claim. If that consumer dies, the step's lease
    // runs out and the alarm re-sends it, as for any claimed step. (Another transfer's step goes
    // through the queue.)
    const found = verdict.next === "retry" ? null : this.nextStep();
    const handing = found !== null && report.takeNext === true && found.transferId === report.transferId;
    const token = handing ? crypto.randomUUID() : undefined;
    const next = found ? this.dispatch(found.transferId, found.stepIndex, false, token) : null;
    this.queueProjection(report.transferId, report.snapshots, [outcomeRecord]);
    let handOver: HandedStep | undefined;
    if (next && token) {
      const step = this.step(next.transferId, next.stepIndex)!;
      handOver = {
        message: next,
        token,
        claim: this.runClaim(next.transferId, next.stepIndex, step.attempts, step.lease_until!),
      };
    } else if (next) {
      this.sendStep(next, next.transferId === report.transferId);
    }
    this.kick();
    // The consumer's failure alert reads the failed transfer from D1: it is written first.
    if (verdict.next === "dead-letter") await this.pump().catch(() => {});
    return handOver && verdict.next !== "retry" ? { ...verdict, handOver } : verdict;
  }

  /**
   * A 429 says the target is up and busy, not that the step is wrong: it does not use up the
   * step's tries (calls already wait for their slot and retry 429s in place), within a far
   * higher bound so a target that never stops answering 429 still ends in a visible failure.
   */
  private attemptLimit(error: StepError): number {
    return error.errorClass === "rate_limited"
      ? RATE_LIMITED_ATTEMPTS_FACTOR * this.config.stepMaxAttempts
      : this.config.stepMaxAttempts;
  }

  /** Re-runs a failed (or, from the start, a completed) transfer; targets adopt what exists. */
  async retryTransfer(request: RetryRequest): Promise<{ status: string } | { error: string }> {
    const transfer = this.transfer(request.transferId);
    if (!transfer) return { error: "transfer not found in its order" };
    if (transfer.status !== "failed" && !(request.fromStart && transfer.status === "completed")) {
      return {
        error: `a ${transfer.status} transfer cannot be retried${transfer.status === "completed" ? " except from the start" : ""}`,
      };
    }
    const outOfTurn = this.outOfTurn(transfer.stage, transfer.occurrence);
    if (outOfTurn) return { error: outOfTurn };
    const filtered = await this.retryFilter(transfer, request.input);
    if (filtered) return filtered;
    // An update came after some of its steps were done: what they made is from the older version,
    // so the retry runs them again from the start (they adopt and update it), not from the failed one.
    const updated =
      this.sql.one<{ rerun_pending: number }>("SELECT rerun_pending FROM transfers WHERE id = ?", transfer.id)!.rerun_pending ===
      1;
    const fromStart = request.fromStart === true || updated;
    if (request.steps) {
      const before = JSON.parse(transfer.steps) as FlowStepConfig[];
      const moved = this.stepMovedAway(transfer.id, before, request.steps, fromStart, request.identitySettings);
      if (moved) return { error: moved };
      this.sql.run("UPDATE transfers SET steps = ? WHERE id = ?", JSON.stringify(request.steps), transfer.id);
      // A step now on another connection (or another action) made nothing there yet: the result
      // it keeps belongs to the old one, and other transfers would read it as the new one's.
      request.steps.forEach((step, index) => {
        const old = before[index];
        if (old && (old.target !== step.target || old.action !== step.action))
          this.sql.run("UPDATE step_rows SET result = NULL WHERE transfer_id = ? AND step_index = ?", transfer.id, index);
      });
    }
    this.sql.run("UPDATE transfers SET priority = ? WHERE id = ?", request.priority ?? "order", transfer.id);
    const snapshots: SnapshotRecord[] = [];
    if (request.input) {
      this.sql.run("UPDATE transfers SET input = ? WHERE id = ?", JSON.stringify(request.input), transfer.id);
      snapshots.push(
        inlineSnapshot({ transferId: transfer.id, tenantId: this.identity().tenantId, kind: "canonical", data: request.input }),
      );
    }
    this.resetSteps(transfer.id, request.steps ?? (JSON.parse(transfer.steps) as FlowStepConfig[]), fromStart);
    const status = this.transfer(transfer.id)!.status;
    // Finished at once, it may be what a later transfer's re-run was waiting for.
    if (status === "completed") this.rerunIfPending(transfer.id);
    this.queueProjection(transfer.id, snapshots);
    this.releaseNext();
    this.kick();
    return { status };
  }

  /**
   * A transfer its flow's filter failed on (or, on an earlier retry, left out) runs only if the
   * flow's filter as it is now takes the order: a merchant who fixed a filter that failed on every
   * order and replays them all must not get the orders the fixed filter leaves out booked. Not
   * taken: completed, nothing sent, with the reason (filterNotTaken); failing again: failed with
   * the new error. Null: the retry goes on (the filter takes the order, the flow has none now, or
   * the transfer's failure was not its filter's).
   */
  private async retryFilter(
    transfer: TransferRow,
    edited?: TransferInput,
  ): Promise<{ status: string } | { error: string } | null> {
    const code = transfer.error ? (JSON.parse(transfer.error) as { code?: string }).code : undefined;
    if (code !== FILTER_FAILED && code !== FILTER_NOT_TAKEN) return null;
    const flow = await database(this.env)
      .select({ filter: flows.filter })
      .from(flows)
      .where(eq(flows.id, transfer.flow_id))
      .get();
    if (!flow)
      return {
        error: "its flow was deleted, so no filter can say whether the flow takes this order; the transfer stays as it is",
      };
    if (flow.filter === null) return null;
    const outcome = await evaluateFilter(flow.filter, edited ?? (JSON.parse(transfer.input) as TransferInput));
    // Read again after the waits: another retry may have run it meanwhile.
    const now = this.transfer(transfer.id);
    if (!now || now.status !== transfer.status || now.error !== transfer.error)
      return { error: "the transfer changed while its flow's filter was evaluated; look at it again" };
    if ("match" in outcome && outcome.match) return null;
    const error = "error" in outcome ? filterFailure(outcome.error) : filterNotTaken();
    const status = "error" in outcome ? "failed" : "completed";
    const steps = (JSON.parse(transfer.steps) as FlowStepConfig[]).length;
    // Steps that never ran: a failure names the first (as planning does); left out, none is to run.
    // The first carries the reason either way, so it gets a row; the others need one only if they have
    // one (a step with no row is waiting).
    if (steps > 0)
      this.sql.run(
        `INSERT INTO step_rows (transfer_id, step_index, status, error) VALUES (?1, 0, ?2, ?3)
       ON CONFLICT (transfer_id, step_index) DO UPDATE SET status = ?2, error = ?3 WHERE status IN ('waiting', 'failed')`,
        transfer.id,
        status === "failed" ? "failed" : "waiting",
        JSON.stringify(error),
      );
    this.sql.run(
      "UPDATE step_rows SET status = 'waiting', error = NULL WHERE transfer_id = ? AND step_index BETWEEN 1 AND ? AND status IN ('waiting', 'failed')",
      transfer.id,
      steps - 1,
    );
    this.touchTransfer(transfer.id, status, error);
    if (status === "completed") this.rerunIfPending(transfer.id);
    this.queueProjection(transfer.id, []);
    this.kick();
    return { status };
  }

  /**
   * Why a transfer must not run now, where the order stands, or null. A retry or a re-run checks
   * only the transfer's own state: a cancelled order's ladder flows would make documents for an
   * order the shop cancelled (a failed invoice retried after the cancel flow found nothing to
   * delete), and a cancellation the order came back from would undo what was made since (its
   * cancelOrder deletes the reopened order's new invoice). The cancellation the order is in runs.
   */
  private outOfTurn(stage: string, occurrence: string): string | null {
    const state = this.stageState();
    if (isLadderStage(stage as Stage) && state.cancelled)
      return `the order is cancelled, so its ${stage} stage's flows do not run again (they would make documents for a cancelled order); if the shop takes the order back, the stages it reaches then run by themselves`;
    if (stage !== "cancelled") return null;
    if (!state.cancelled)
      return "the order was taken back after this cancellation, so it does not run again (it would undo what was made for the order since); if the order is cancelled again, that cancellation runs the cancel flows by itself";
    if (String(occurrence) !== stageOccurrence("cancelled", state, ""))
      return "the order was taken back after this cancellation and cancelled again since; retry the transfer of its newest cancellation instead";
    return null;
  }

  /**
   * Why the flow's current steps cannot be taken for this transfer, if they cannot: a step's
   * reference (what the target finds it by) and its kept result go by its place in the flow, so a
   * done step must keep its place. Another action there would have its result taken for
   * that step's (a payment never entered), and the step itself, moved, a new reference (an
   * invoice made twice). A step that failed after an attempt counts as done here: it may have made
   * something (a draft left by a totals mismatch, a POST that landed but timed out) that it finds
   * again only under its own reference; unless each of its attempts failed before sending anything
   * that could (OrderlyError.madeNothing: no booked invoice to pay yet, a disabled connection). Steps added after the last, and settings changed in place,
   * are fine, except a setting that decides where the step looks for what it made (`identity`,
   * per step of `after`: TargetAction.identitySettings), which would have it look elsewhere too.
   */
  private stepMovedAway(
    transferId: string,
    before: FlowStepConfig[],
    after: FlowStepConfig[],
    fromStart: boolean,
    identity: ReadonlyArray<readonly string[]> = [],
  ): string | null {
    const ran = this.sql.all<{ step_index: number; status: string }>(
      // An attempt counts unless it failed before sending anything that could make something (a
      // check of its own, reads only: idle_attempts); a claimed attempt never reported counts.
      "SELECT step_index, status FROM step_rows WHERE transfer_id = ? AND (status = 'done' OR attempts > idle_attempts) ORDER BY step_index",
      transferId,
    );
    // A step that never ran runs with whatever is in its place now. Only a done step's result is
    // kept: that result (a draft invoice's number, say) belongs to the connection it ran on, and
    // the steps after it would use it on another, so a changed connection is refused too, unless
    // the retry starts from the start (each step then finds its own by reference). A failed step
    // keeps no result: it may be pointed at another connection.
    for (const { step_index: index, status } of ran) {
      const old = before[index];
      const now = after[index];
      if (!old || !now) continue;
      const done = status === "done";
      const what = `step ${index + 1} (${old.action}) ${done ? "is done" : "has run and may have made something (a draft, or a call that landed but timed out)"}`;
      if (old.action !== now.action)
        return `${what}, and the flow now has ${now.action} in its place; a step that ran keeps its place in the flow (its target finds what it made by it). Retry without the flow's current settings, or put ${old.action} back as step ${index + 1}`;
      // The same action on another connection in its place, and the step itself further on (a step
      // added in front of it): there it would look under another reference and make it again.
      const moved = old.target === now.target ? -1 : after.findIndex((s) => s.action === old.action && s.target === old.target);
      if (moved !== -1)
        return `${what}, and the flow now has it as step ${moved + 1}; a step that ran keeps its place in the flow (its target finds what it made by it, and would make it again from another place). Retry without the flow's current settings, or put it back as step ${index + 1}`;
      // On another connection the step has made nothing yet, so only the same connection's count.
      const changed =
        old.target === now.target
          ? changedIdentitySetting(identity[index] ?? [], old.settings ?? {}, now.settings ?? {})
          : undefined;
      if (changed)
        return `${what}, and its ${changed.key} setting changed from ${shown(changed.before)} to ${shown(changed.after)} since; ${old.action} looks for what it made by that setting, so it would not find it and would make it again. Retry without the flow's current settings (on the transfer page: Edit the order, then retry), or set ${changed.key} of step ${index + 1} back to ${shown(changed.before)} in the flow`;
      if (done && old.target !== now.target && !fromStart)
        return `step ${index + 1} (${old.action}) is done on another connection than the flow now names; what it made is there, so the steps after it cannot go on with the new one. Retry from the start, or without the flow's current settings`;
    }
    return null;
  }

  /** The order's state, for the API and for tests. */
  async describe() {
    return {
      stage: this.stageState(),
      order: this.latestOrder(),
      events: this.sql.all<{
        seq: number;
        delivery_id: string;
        topic: string;
        stage: string;
        version: number;
        stale: number;
        applied: number;
      }>("SELECT seq, delivery_id, topic, stage, version, stale, applied FROM events ORDER BY seq"),
      transfers: this.sql.all<{
        id: string;
        flow_id: string;
        stage: string;
        occurrence: string;
        status: string;
        error: string | null;
      }>("SELECT id, flow_id, stage, occurrence, status, error FROM transfers ORDER BY seq"),
      steps: this.sql.all<StepRow & { dispatch_id: string | null; resends: number }>(
        `SELECT transfer_id, step_index, status, attempts, result, error, dispatch_id, resends FROM ${ALL_STEPS} ORDER BY transfer_id, step_index`,
      ),
      outbox: this.sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM outbox")!.n,
    };
  }

  /**
   * Wakes the object: re-sends overdue steps, puts parked projections back in line and drains the
   * outbox. The cron sweeper calls this for an order whose transfer D1 shows unfinished and
   * unchanged for a while: D1 answers the sweeper, so it is back, and a projection parked during
   * its outage is what keeps the log stale (until housekeeping, a day after it was parked).
   */
  async nudge(): Promise<void> {
    this.unpark(Number.MAX_SAFE_INTEGER, NUDGED_TRIES, "sweeper");
    this.resendOverdueSteps();
    await this.pump();
    await this.sent();
  }

  override async alarm(): Promise<void> {
    // It went off: none is set until this handler sets the next.
    this.alarmAt = null;
    this.resendOverdueSteps();
    this.housekeeping();
    await this.pump();
    await this.sent();
    await this.tellGoneRefunds();
    await this.scheduleAlarm();
  }

  /**
   * Raises the alert for the refunds found gone and not yet told, when due. They count as told
   * only once the alert is on record (alertGoneRefunds), so a failure leaves them for a later
   * alarm, with backoff; one pass at a time, so an alarm during an ingest's pass does not tell
   * them again. Never throws.
   */
  private tellGoneRefunds(): Promise<void> {
    this.telling ??= this.tellGone()
      .catch((error) => console.error("order: refund-gone alert not handled", { ...this.identity(), error: String(error) }))
      .finally(() => {
        this.telling = null;
      });
    return this.telling;
  }

  private async tellGone(): Promise<void> {
    for (;;) {
      const untold = this.state()?.refundsGoneUntold;
      if (!untold || untold.nextAt > Date.now()) return;
      const { tenantId, connectionId, orderId } = this.identity();
      const ids = untold.ids;
      const told = await alertGoneRefunds(this.env, { tenantId, connectionId, orderId, refundIds: ids });
      // Read again after the wait: an ingest may have found more refunds gone meanwhile.
      const next = afterTelling(this.state()!, ids, told, Date.now());
      this.setMeta("state", JSON.stringify(next));
      this.stateCache = next;
      if (!told) {
        await this.scheduleAlarm();
        return;
      }
    }
  }

  // ---- stage and planning -------------------------------------------------------------

  private applyStage(stage: Stage, occurrence: string, eventSeq: number, reopens = false): Stage[] {
    const { state, passed } = advanceStage(this.stageState(), stage, { reopens });
    this.draft!.stage = state;
    const planned = passed.map((s) => ({ stage: s, occurrence: stageOccurrence(s, state, occurrence) }));
    planned.sort((a, b) => stageSortKey(a.stage) - stageSortKey(b.stage));
    // One job (one outbox row, one read of the flows) for every stage the event passed.
    if (planned.length > 0) this.enqueue({ kind: "plan", stages: planned, eventSeq });
    return passed;
  }

  private applyWaitingRefunds(): Stage[] {
    const waiting = this.sql.all<{ seq: number; occurrence: string }>(
      "SELECT seq, occurrence FROM events WHERE applied = 0 ORDER BY seq",
    );
    const passed: Stage[] = [];
    for (const refund of waiting) {
      this.sql.run("UPDATE events SET applied = 1 WHERE seq = ?", refund.seq);
      passed.push(...this.applyStage("refunded", refund.occurrence, refund.seq));
    }
    return passed;
  }

  /**
   * Creates the transfers of the flows triggered by the stages an event passed, stage by stage in
   * ladder order; idempotent per (flow, stage, occurrence). A flow with a filter takes the order
   * only when its filter is truthy for the transfer's input; a filter that fails to evaluate makes
   * the transfer failed (`flow_filter_failed`): alerted and retryable, not an order dropped unseen.
   *
   * The source's enabled flows are read in one query whatever their stage (a source has few), so
   * a source with none at all is known without another: the order is recorded in D1
   * (`unplanned_orders`) and the tenant alerted, or it would leave no trace (its stage is reached,
   * so no later event plans it): by a job of its own (`unplanned`), which backs off and parks
   * when D1 fails, so a failed record does not hold up the order's line.
   * `recovery`: planReached's call, which records nothing. `eventSeq` may name no event (one
   * dropped after the dedupe retention, for planReached): the transfers then get no received snapshot.
   */
  private async plan(
    stages: PlannedStage[],
    eventSeq: number,
    options: { recovery?: boolean; filtersFailed?: boolean } = {},
  ): Promise<{ flows: number; made: number }> {
    const who = this.identity();
    const enabled = await database(this.env)
      .select({ id: flows.id, steps: flows.steps, stage: flows.triggerStage, filter: flows.filter })
      .from(flows)
      .where(and(eq(flows.sourceConnectionId, who.connectionId), eq(flows.enabled, true)))
      .orderBy(asc(flows.createdAt), asc(flows.id));
    if (enabled.length === 0) {
      if (!options.recovery) this.enqueue({ kind: "unplanned", stages, at: Date.now() });
      return { flows: 0, made: 0 };
    }
    const passed = new Set(stages.map((s) => s.stage));
    const triggered = enabled.filter((f) => passed.has(f.stage as Stage));
    if (triggered.length === 0) return { flows: enabled.length, made: 0 };
    const event = this.sql.one<{
      object: string;
      raw_body: string | null;
      raw_blob: string | null;
      raw_size: number;
      headers: string;
    }>("SELECT object, raw_body, raw_blob, raw_size, headers FROM events WHERE seq = ?", eventSeq);
    const order = this.latestOrder();
    if (!order || (!event && !options.recovery)) return { flows: enabled.length, made: 0 };
    const object = (event ? JSON.parse(event.object) : { type: "order" }) as { type: string; refund?: TransferInput["refund"] };
    const now = Date.now();
    const prepared: Array<{
      id: string;
      flowId: string;
      planned: PlannedStage;
      input: TransferInput;
      steps: FlowStepConfig[];
      snapshots: SnapshotRecord[];
      /** The filter could not be evaluated: the transfer is made failed with this error. */
      error?: ReturnType<typeof filterFailure>;
    }> = [];
    for (const planned of stages) {
      const input: TransferInput = planned.stage === "refunded" && object.refund ? { order, refund: object.refund } : { order };
      for (const flow of triggered.filter((f) => f.stage === planned.stage)) {
        const id = await deriveTransferId(who.connectionId, who.orderId, flow.id, planned.stage, planned.occurrence);
        if (this.transfer(id)) continue;
        const filtered =
          flow.filter === null
            ? { match: true }
            : options.filtersFailed
              ? { error: FILTERS_STOPPED_OBJECT }
              : await evaluateFilter(flow.filter, input);
        if ("match" in filtered && !filtered.match) {
          console.info("flow filter: order not taken", { flowId: flow.id, orderId: who.orderId, stage: planned.stage });
          continue;
        }
        const received = !event
          ? null
          : event.raw_blob
            ? {
                transferId: id,
                tenantId: who.tenantId,
                stepIndex: null,
                attempt: null,
                kind: "received" as const,
                body: null,
                blobKey: event.raw_blob,
                size: event.raw_size,
                createdAt: now,
              }
            : await prepareSnapshot(
                this.env,
                {
                  transferId: id,
                  tenantId: who.tenantId,
                  kind: "received",
                  data: { headers: JSON.parse(event.headers), body: parseMaybeJson(event.raw_body) },
                },
                now,
              );
        const canonical = await prepareSnapshot(
          this.env,
          { transferId: id, tenantId: who.tenantId, kind: "canonical", data: input },
          now,
        );
        prepared.push({
          id,
          flowId: flow.id,
          planned,
          input,
          steps: flow.steps,
          snapshots: received ? [received, canonical] : [canonical],
          ...("error" in filtered ? { error: filterFailure(filtered.error) } : {}),
        });
      }
    }
    // From here on no await: the transfers and their first release are written together.
    let made = 0;
    // With no step of the order out or waiting, the first new transfer that can run has its first
    // step released below: it is written as running at once, not pending and then running (each
    // write of a row is billed). Only its status depends on this; releaseStep decides the release.
    let releasing = !this.stepOut() && this.nextStep() === null;
    for (const p of prepared) {
      if (this.transfer(p.id)) continue;
      made++;
      const runs = releasing && !p.error && p.steps.length > 0;
      if (runs) releasing = false;
      const seq = (this.sql.one<{ n: number | null }>("SELECT MAX(seq) AS n FROM transfers")?.n ?? 0) + 1;
      this.sql.run(
        `INSERT INTO transfers (id, seq, flow_id, stage, occurrence, status, steps, input, event_seq, error, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        p.id,
        seq,
        p.flowId,
        p.planned.stage,
        p.planned.occurrence,
        p.error ? "failed" : runs ? "running" : "pending",
        JSON.stringify(p.steps),
        JSON.stringify(p.input),
        eventSeq,
        p.error ? JSON.stringify(p.error) : null,
        now,
        now,
      );
      // A failed filter fails the first step (none ran): the alert names its target, a retry starts
      // there. Steps that wait have no row until they are released (ALL_STEPS reads them, schema v12).
      if (p.error && p.steps.length > 0)
        this.sql.run(
          "INSERT INTO step_rows (transfer_id, step_index, status, error) VALUES (?, 0, 'failed', ?)",
          p.id,
          JSON.stringify(p.error),
        );
    }
    // The first step is released before the new transfers are projected: one projection each.
    const next = this.releaseStep();
    for (const p of prepared) this.queueProjection(p.id, p.snapshots);
    if (next)
      this.sendStep(
        next,
        prepared.some((p) => p.id === next.transferId),
      );
    return { flows: enabled.length, made };
  }

  /**
   * The order reached these stages while its source had no enabled flow: recorded in D1 (stages
   * merged into its row, a refund or a repeated cancellation with its occurrence, so running its
   * flows later plans exactly these) and, for an order recorded now, the tenant alerted.
   */
  private async recordUnplanned(stages: PlannedStage[], at: number): Promise<void> {
    const { tenantId, connectionId, orderId } = this.identity();
    const order = this.latestOrder()?.source.orderNumber || null;
    const entries = [...new Set(stages.map((s) => unplannedEntry(s.stage, s.occurrence)))];
    const created = await recordUnplanned(this.env, { tenantId, connectionId, orderId, orderNumber: order, stages: entries, at });
    const reached = [...new Set(stages.map((s) => s.stage))];
    if (created) await alertUnplannedOrder(this.env, { tenantId, connectionId, order: order ?? orderId, stages: reached });
  }

  /**
   * The `unplanned` job (plan queues it). Its own job, not the plan's: a record D1 refuses (an
   * outage, its migration not applied) backs off like a projection and, after as many tries, is
   * parked out of the order's line, tried again a day later (housekeeping) or on the sweeper's
   * nudge. drain() parks only projections, so the last try re-queues the job parked itself and
   * returns; nothing waits on it, so its place in the line does not matter.
   */
  private async runUnplanned(job: UnplannedJob): Promise<void> {
    try {
      await this.recordUnplanned(job.stages, job.at);
    } catch (error) {
      const attempts =
        this.sql.one<{ attempts: number }>("SELECT attempts FROM outbox WHERE id = ?", this.runningJob)?.attempts ?? 0;
      if (attempts + 1 < PARK_AFTER_ATTEMPTS) throw error;
      this.sql.run(
        "INSERT INTO outbox (kind, payload, attempts, next_at, last_error, parked) VALUES ('unplanned', ?, ?, ?, ?, 1)",
        JSON.stringify({ stages: job.stages, at: job.at }),
        attempts + 1,
        Date.now() + DAY_MS,
        String(error),
      );
      console.error("order outbox: unplanned-order record parked; the order is not listed on the Flows page yet", {
        ...this.identity(),
        attempts: attempts + 1,
        error: String(error),
      });
    }
  }

  /**
   * Runs the flows for an order recorded while its source had no enabled flow
   * (/api/v1/unplanned-orders/run): plans the `recorded` entries (unplanned_orders.stages) for the
   * flows enabled now, and nothing else: a stage reached while a flow was on was that flow's (a
   * flow switched on since must not book it again). Never automatic: an order booked by hand while
   * no flow was on would be booked twice. Idempotent per transfer id, as every plan.
   *
   * An entry no enabled flow starts at is left (kept listed). A cancelled order's ladder stages are
   * dropped (documents for an order the shop cancelled), its cancellation and refunds planned; a
   * cancellation the order was reopened from since is dropped too. A refund whose event is past the
   * dedupe retention (its body gone) cannot be credited: failed, with the reason.
   */
  async planReached(recorded: string[]): Promise<PlanReachedResult> {
    const state = this.state();
    if (!state?.order) return { outcome: "unknown" };
    const who = this.identity();
    const triggers = new Set(
      (
        await database(this.env)
          .selectDistinct({ stage: flows.triggerStage })
          .from(flows)
          .where(and(eq(flows.sourceConnectionId, who.connectionId), eq(flows.enabled, true)))
      ).map((f) => f.stage),
    );
    if (triggers.size === 0) return { outcome: "no_flow" };
    const entries = recorded.map((entry) => ({ entry, ...readUnplannedEntry(entry) }));
    const settled: string[] = [];
    const failed: Array<{ entry: string; reason: string }> = [];
    let made = 0;
    // The newest order event still held gives the received snapshot; past the dedupe retention
    // none is (plan makes the transfers without one).
    const latest =
      this.sql.one<{ seq: number }>(
        "SELECT seq FROM events WHERE stale = 0 AND json_extract(object, '$.type') = 'order' ORDER BY seq DESC LIMIT 1",
      )?.seq ?? 0;
    const ladder = LADDER.filter((stage) => entries.some((e) => e.stage === stage));
    const ladderEntries = entries.filter((e) => isLadderStage(e.stage as Stage)).map((e) => e.entry);
    if (state.stage.cancelled) settled.push(...ladderEntries);
    else {
      const run = ladder.filter((stage) => triggers.has(stage));
      const stages = run.map((stage) => ({ stage, occurrence: "" }));
      if (run.length > 0) made += (await this.plan(stages, latest, { recovery: true })).made;
      const planned = new Set<string>(run);
      // A stage below the highest one run that no flow starts at has nothing left to run: listing it
      // on would keep nearly every order (created, with a paid flow only) until a person dismissed it.
      const rank = (stage: string) => (LADDER as readonly string[]).indexOf(stage);
      const top = run.length > 0 ? rank(run[run.length - 1] ?? "") : -1;
      const passedOver = (stage: string) => rank(stage) >= 0 && !triggers.has(stage) && rank(stage) < top;
      settled.push(...entries.filter((e) => planned.has(e.stage) || passedOver(e.stage)).map((e) => e.entry));
    }
    const cancelledNow = stageOccurrence("cancelled", state.stage, "");
    for (const e of entries.filter((x) => x.stage === "cancelled")) {
      // Reopened since: that cancellation is over, and crediting now would undo the order's new work.
      if (!state.stage.cancelled || (e.occurrence ?? "") !== cancelledNow) settled.push(e.entry);
      else if (triggers.has("cancelled")) {
        made += (await this.plan([{ stage: "cancelled", occurrence: cancelledNow }], latest, { recovery: true })).made;
        settled.push(e.entry);
      }
    }
    if (triggers.has("refunded"))
      for (const e of entries.filter((x) => x.stage === "refunded")) {
        // A bare `refunded` was recorded before occurrences were: it stands for each of the order's refunds.
        const refunds = this.sql.all<{ seq: number; occurrence: string; object: string }>(
          `SELECT seq, occurrence, object FROM events WHERE stage = 'refunded' AND applied = 1 ${e.occurrence === undefined ? "" : "AND occurrence = ?"} ORDER BY seq`,
          ...(e.occurrence === undefined ? [] : [e.occurrence]),
        );
        // A refund past the dedupe retention keeps only its keys (housekeeping): not enough to credit.
        const gone = refunds.filter((r) => r.object === KEPT_FOR_DEDUPE).map((r) => String(r.occurrence));
        if (refunds.length === 0 || gone.length > 0) {
          failed.push({ entry: e.entry, reason: this.refundGoneReason(gone.length > 0 ? gone : [e.occurrence ?? ""]) });
          continue;
        }
        for (const refund of refunds)
          made += (
            await this.plan([{ stage: "refunded", occurrence: String(refund.occurrence) }], refund.seq, { recovery: true })
          ).made;
        settled.push(e.entry);
      }
    this.releaseNext();
    // The log shows the new transfers when this answers, if D1 takes them now (else the outbox does, later).
    this.kick();
    await this.pump().catch(() => {});
    return { outcome: state.stage.cancelled ? "cancelled" : "planned", made, settled, failed };
  }

  /** Why a recorded refund cannot be credited by a flow now: what a person does instead. */
  private refundGoneReason(occurrences: string[]): string {
    const named = occurrences.filter(Boolean).join(", ");
    return `Orderly no longer holds the details of this order's refund${named ? ` ${named}` : ""} (it came more than ${this.config.dedupeRetentionDays} days ago), so no flow can credit it. Book the refund by hand in the accounting system, then dismiss the order.`;
  }

  /**
   * The order changed after transfers were made from it: every transfer takes the new version.
   * Finished ones run again from the start (their targets adopt and update what exists, and
   * report what they could not change), unfinished ones once they end; one transfer at a time,
   * oldest first (`startReruns`). A failed one only takes the new version, for its retry.
   *
   * `payment`: the first version that shows the payment arrived after the paid stage's transfers
   * were made from one that did not (a refund or a fulfilment caught the ladder up before
   * orders/paid). Only those transfers run again; the others did not depend on it.
   * `filtersFailed`: the job kept stopping the object (countStart), so no filter is evaluated:
   * each is taken as failed, which takes the order.
   */
  private async rerunForUpdate(payment = false, filtersFailed = false): Promise<void> {
    const order = this.latestOrder();
    if (!order) return;
    const who = this.identity();
    // A reopened order's cancellation is over: running it again would undo the order's new work.
    const cancelledNow = this.stageState().cancelled;
    const affected = this.sql
      .all<TransferRow>(
        `SELECT id, flow_id, stage, occurrence, status, steps, input, error, created_at, updated_at FROM transfers
         WHERE ${payment ? "stage = 'paid'" : `stage != 'refunded'${cancelledNow ? "" : " AND stage != 'cancelled'"}`} ORDER BY seq`,
      )
      .filter((t) => !payment || !showsPaymentToEnter((JSON.parse(t.input) as TransferInput).order));
    if (affected.length === 0) return;
    // A flow switched off or deleted since runs nothing more, updates included (each would be a
    // draft changed, or a failure and an alert, in a target the merchant has left); its transfers
    // still take the new version, for a retry once it is back. The ladder's transfers of a
    // cancelled order are marked to run again but wait (startReruns passes over them while it is
    // out of turn): re-run now, they would make documents for a cancelled order; once the shop
    // takes the order back (the plan of the stage that reopens it starts them), they must, or the
    // reopened order keeps a draft of the version before the update with no word. A cancellation
    // the order came back from never runs again. (Two bound values whatever the number of flows:
    // D1 takes at most 100 a statement.)
    const liveFlows = await database(this.env)
      .select({ id: flows.id, stage: flows.triggerStage, filter: flows.filter })
      .from(flows)
      .where(and(eq(flows.sourceConnectionId, who.connectionId), eq(flows.enabled, true)));
    const live = new Set(liveFlows.map((f) => f.id));
    // Not where the cancellation runs a flow: a cancel flow may delete the draft, and the re-run
    // would make a new invoice, which the merchant of an order taken back after its invoice was
    // cancelled makes by hand (docs/architecture.md, "Stages"): one rule, not one that turns on
    // whether an update happened to come meanwhile. Read from the flows as well as the
    // cancellation's transfers: this job may run before the cancellation's plan job made them
    // (one event both changed and cancelled the order, or both came in one batch).
    // A cancel flow with a filter runs only if its filter takes the order (a failing one makes a
    // failed transfer, which counts): asked as its plan asks, on the newest version. A transfer
    // its filter left out on retry (not taken: completed, nothing sent) ran nothing.
    const cancellationRan =
      cancelledNow &&
      (this.sql.one<{ n: number }>(
        `SELECT COUNT(*) AS n FROM transfers WHERE stage = 'cancelled' AND occurrence = ?
           AND (status != 'completed' OR error IS NULL OR json_extract(error, '$.code') IS NOT ?)`,
        stageOccurrence("cancelled", this.stageState(), ""),
        FILTER_NOT_TAKEN,
      )!.n > 0 ||
        (await this.someFlowTakes(
          liveFlows.filter((f) => f.stage === "cancelled"),
          { order },
          filtersFailed,
        )));
    const waitsForReopen = (stage: string) => cancelledNow && !cancellationRan && isLadderStage(stage as Stage);
    const snapshots = new Map<string, SnapshotRecord>();
    for (const transfer of affected) {
      const input = { ...(JSON.parse(transfer.input) as TransferInput), order };
      snapshots.set(
        transfer.id,
        await prepareSnapshot(this.env, { transferId: transfer.id, tenantId: who.tenantId, kind: "canonical", data: input }),
      );
    }
    // From here on no await; statuses are read again, as steps may have reported meanwhile. A
    // transfer none of whose steps has started needs no re-run: its steps get the new version.
    for (const transfer of affected) {
      const input = { ...(JSON.parse(transfer.input) as TransferInput), order };
      // A failed transfer is not re-run now, but its retry must start from the start if steps of it
      // are done (they made what they made from the older version). An update's re-run is the
      // order's own work, not a bulk replay's: it goes at the order's priority.
      this.sql.run(
        `UPDATE transfers SET input = ?, priority = 'order', rerun_pending = CASE
           WHEN status = 'failed'
             THEN CASE WHEN EXISTS (SELECT 1 FROM step_rows WHERE transfer_id = transfers.id AND status = 'done') THEN 1 ELSE rerun_pending END
           WHEN NOT ? OR NOT EXISTS (SELECT 1 FROM step_rows WHERE transfer_id = transfers.id AND status != 'waiting')
           THEN rerun_pending ELSE 1 END
         WHERE id = ?`,
        JSON.stringify(input),
        live.has(transfer.flow_id) && (!this.outOfTurn(transfer.stage, transfer.occurrence) || waitsForReopen(transfer.stage))
          ? 1
          : 0,
        transfer.id,
      );
    }
    const ids = new Set(affected.map((t) => t.id));
    this.startReruns(ids);
    for (const transfer of affected) {
      const snapshot = snapshots.get(transfer.id);
      this.queueProjection(transfer.id, snapshot ? [snapshot] : []);
    }
    this.releaseNext();
  }

  /**
   * Whether any of these flows takes the order: one without a filter does, and one whose filter is
   * truthy or fails (`filtersFailed`: taken as failed, not evaluated).
   */
  private async someFlowTakes(
    candidates: Array<{ filter: string | null }>,
    input: TransferInput,
    filtersFailed = false,
  ): Promise<boolean> {
    for (const flow of candidates) {
      if (flow.filter === null || filtersFailed) return true;
      const outcome = await evaluateFilter(flow.filter, input);
      if (!("match" in outcome) || outcome.match) return true;
    }
    return false;
  }

  /**
   * A finished transfer's re-run that waited (behind an earlier transfer, or while the order was
   * cancelled) is dropped once its flow was switched off or deleted, as an update leaves such a
   * flow's transfers alone: it would change a draft, or fail and alert, in a target the merchant
   * has left. Read from D1 only when a re-run waits and the order is not cancelled.
   */
  private async dropRerunsOfFlowsGone(): Promise<void> {
    // Nothing starts while the order is cancelled: no read for the marks an order never taken
    // back keeps.
    if (this.stageState().cancelled) return;
    const waiting = this.sql.all<{ id: string; flow_id: string }>(
      "SELECT id, flow_id FROM transfers WHERE status = 'completed' AND rerun_pending = 1",
    );
    if (waiting.length === 0) return;
    const live = new Set(
      (
        await database(this.env)
          .select({ id: flows.id })
          .from(flows)
          .where(and(eq(flows.sourceConnectionId, this.identity().connectionId), eq(flows.enabled, true)))
      ).map((f) => f.id),
    );
    for (const t of waiting)
      if (!live.has(t.flow_id))
        this.sql.run("UPDATE transfers SET rerun_pending = 0 WHERE id = ? AND status = 'completed'", t.id);
  }

  /** A transfer ended: a re-run waiting for it (or for it to end) may start. */
  private rerunIfPending(transferId: string): void {
    this.startReruns(new Set([transferId]));
  }

  /**
   * Starts the next re-run: the oldest finished transfer waiting to run again, once every
   * transfer made before it has ended (failed ones hold up nothing) and none of them waits to
   * run again. So re-runs go one transfer at a time, in the order the transfers were made, and
   * while one runs again the history its steps get still holds what the later ones made: a draft
   * order's re-run sees that the paid flow turned it into an invoice (docs/guarantees.md, gap 6).
   * `projected`: transfers the caller writes to D1 itself.
   */
  private startReruns(projected: ReadonlySet<string> = new Set()): void {
    const transfers = this.sql.all<{
      id: string;
      stage: string;
      occurrence: string;
      status: string;
      rerun_pending: number;
      steps: string;
    }>("SELECT id, stage, occurrence, status, rerun_pending, steps FROM transfers ORDER BY seq");
    for (const transfer of transfers) {
      if (transfer.status === "failed") continue;
      if (transfer.status !== "completed") return;
      if (!transfer.rerun_pending) continue;
      // An update that came while it was running, before the order was cancelled (or taken back
      // from this cancellation): it must not run now, and like a failed one it holds up nothing.
      if (this.outOfTurn(transfer.stage, transfer.occurrence)) continue;
      this.resetSteps(transfer.id, JSON.parse(transfer.steps) as FlowStepConfig[], true);
      if (!projected.has(transfer.id)) this.queueProjection(transfer.id, []);
      return;
    }
  }

  /** Puts a transfer's steps back to waiting: all of them, or only those not done. */
  private resetSteps(transferId: string, configs: FlowStepConfig[], fromStart: boolean): void {
    // Running again from the start with the newest version is the re-run an update asked for.
    if (fromStart) this.sql.run("UPDATE transfers SET rerun_pending = 0 WHERE id = ?", transferId);
    // A step the flow no longer has keeps its row, emptied: no reader sees past the flow's steps
    // (ALL_STEPS), and its attempts still count should a step come back in its place, whose first
    // attempt would otherwise skip the search for what the one before made under the same
    // reference (ActionContext.firstAttempt).
    this.sql.run(
      `UPDATE step_rows SET status = 'waiting', attempts_before = attempts, result = NULL, error = NULL, resends = 0,
         lease_token = NULL, lease_until = NULL, due_at = NULL, dispatch_id = NULL
       WHERE transfer_id = ? AND step_index >= ?`,
      transferId,
      configs.length,
    );
    // Attempt numbers go on counting (each attempt is a row in D1, keyed by its number); the step's
    // tries in this run count from attempts_before. (SET reads the row as it was.) A step with no
    // row never ran: it is waiting with none to count.
    this.sql.run(
      `UPDATE step_rows SET
         status = CASE WHEN ?2 OR status != 'done' THEN 'waiting' ELSE status END,
         attempts_before = CASE WHEN ?2 OR status != 'done' THEN attempts ELSE attempts_before END,
         resends = 0, lease_token = NULL, lease_until = NULL, due_at = NULL, dispatch_id = NULL, error = NULL
       WHERE transfer_id = ?1`,
      transferId,
      fromStart ? 1 : 0,
    );
    // A retry with the flow's current steps, not from the start, may leave nothing to run (the
    // step that failed was removed): the transfer is done, not pending for ever.
    const left = this.sql.one<{ n: number }>(
      `SELECT COUNT(*) AS n FROM ${ALL_STEPS} WHERE transfer_id = ? AND status != 'done'`,
      transferId,
    )!.n;
    this.touchTransfer(transferId, left === 0 ? "completed" : "pending", null);
  }

  // ---- steps --------------------------------------------------------------------------

  /** Releases the order's next step and sends it through the queue. */
  private releaseNext(): void {
    const message = this.releaseStep();
    if (message) this.sendStep(message);
  }

  /** Releases the order's next step unless one is already out. */
  private releaseStep(): StepMessage | null {
    const next = this.nextStep();
    return next ? this.dispatch(next.transferId, next.stepIndex, false) : null;
  }

  /** The order's next step to release, unless one is already out: steps of one order never overlap. */
  private nextStep(): { transferId: string; stepIndex: number } | null {
    if (this.stepOut()) return null;
    const next = this.sql.one<{ transfer_id: string; step_index: number }>(
      `SELECT s.transfer_id, s.step_index FROM ${ALL_STEPS} s JOIN transfers t ON t.id = s.transfer_id
       WHERE s.status = 'waiting' AND t.status IN ('pending', 'running')
       ORDER BY t.seq, s.step_index LIMIT 1`,
    );
    return next ? { transferId: next.transfer_id, stepIndex: next.step_index } : null;
  }

  /** Whether one of the order's steps is out (released, running, or waiting to be dispatched again). */
  private stepOut(): boolean {
    return (
      this.sql.one<{ n: number }>(
        "SELECT COUNT(*) AS n FROM step_rows WHERE status IN ('released', 'running', 'retrying', 'deferred')",
      )!.n > 0
    );
  }

  /**
   * Marks a step released under a new dispatch id, due back before its re-send time; with
   * `claimFor`, also claimed for that token in the same write (a step handed over).
   */
  private dispatch(transferId: string, stepIndex: number, isResend: boolean, claimFor?: string): StepMessage {
    const dispatchId = crypto.randomUUID();
    const now = Date.now();
    if (claimFor) {
      // No message is on its way for a handed-over step, so nothing to wait for past its lease but
      // its report: a consumer whose last call ended as the lease did still releases the gate,
      // stores snapshots and reports (one call's time is left for that). If it is gone (or the
      // answer never reached it), the step is re-sent then; a re-send any sooner would throw away
      // a success as stale and run the step again.
      const leaseUntil = this.leaseEnd(now);
      // A step's first release writes its row (a waiting step has none): one row either way.
      this.sql.run(
        `INSERT INTO step_rows (transfer_id, step_index, status, dispatch_id, attempts, lease_token, lease_until, due_at)
         VALUES (?1, ?2, 'running', ?3, 1, ?4, ?5, ?6)
         ON CONFLICT (transfer_id, step_index) DO UPDATE SET status = 'running', dispatch_id = ?3,
           attempts = attempts + 1, lease_token = ?4, lease_until = ?5, due_at = ?6`,
        transferId,
        stepIndex,
        dispatchId,
        claimFor,
        leaseUntil,
        leaseUntil + this.config.outboundTimeoutMs,
      );
    } else {
      // Each re-send waits twice as long as the one before: a slow queue (a backlog on a peak day)
      // gets hours to deliver before a step is declared lost, and re-sends do not add to the backlog.
      const resends =
        this.sql.one<{ resends: number }>(
          "SELECT resends FROM step_rows WHERE transfer_id = ? AND step_index = ?",
          transferId,
          stepIndex,
        )?.resends ?? 0;
      const wait = this.config.stepResendAfterMs * 2 ** (resends + (isResend ? 1 : 0));
      this.sql.run(
        `INSERT INTO step_rows (transfer_id, step_index, status, dispatch_id, due_at, resends)
         VALUES (?1, ?2, 'released', ?3, ?4, ?5)
         ON CONFLICT (transfer_id, step_index) DO UPDATE SET status = 'released', dispatch_id = ?3, due_at = ?4,
           resends = resends + ?5`,
        transferId,
        stepIndex,
        dispatchId,
        now + wait,
        isResend ? 1 : 0,
      );
    }
    this.touchTransfer(transferId, "running", null);
    const { tenantId, connectionId, orderId } = this.identity();
    const transfer = this.sql.one<{ steps: string; priority: "order" | "bulk" }>(
      "SELECT steps, priority FROM transfers WHERE id = ?",
      transferId,
    )!;
    const config = (JSON.parse(transfer.steps) as FlowStepConfig[])[stepIndex];
    return {
      kind: "step",
      order: `${connectionId}:${orderId}`,
      tenantId,
      transferId,
      stepIndex,
      dispatchId,
      target: config?.target ?? "",
      action: config?.action ?? "",
      priority: transfer.priority,
    };
  }

  /**
   * Sends a released step's message, and queues its transfer's projection (which waits while the
   * step is out, and is passed over: queueProjection). `projected`: the caller has just queued it.
   *
   * With nothing ahead of it in the outbox, the message goes out at once: the released step's row
   * already is its record (its `due_at` makes the alarm send it again if no claim comes), so a send
   * job would only add a row written and deleted for every step. A send that fails becomes an outbox job,
   * tried again with the outbox's backoff; a message sent before its release commits names a
   * dispatch the object does not have, and its claim is dropped.
   */
  private sendStep(message: StepMessage, projected = false): void {
    if (!projected) this.queueProjection(message.transferId, []);
    // A job in the line ahead (a projection due, a job backing off) goes first, as the message
    // always did: a step may read the order's other transfers from D1 (cancelOrder finds the
    // drafts a failed transfer left), so they must be in the log before it is sent.
    const ahead =
      this.sql.one<{ n: number }>(
        `SELECT COUNT(*) AS n FROM outbox WHERE ${IN_LINE} AND id IS NOT ?`,
        Date.now(),
        this.runningJob,
      )!.n > 0;
    if (ahead) {
      this.enqueue({ kind: "send", message });
      return;
    }
    const sending: Promise<void> = this.env.STEPS.send(message, { contentType: "json" })
      .then(() => {})
      .catch((error: unknown) => {
        console.error("order: a step message was not sent; queued in the outbox", { error: String(error) });
        this.enqueue({ kind: "send", message });
        this.kick();
      })
      .finally(() => this.sending.delete(sending));
    this.sending.add(sending);
  }

  /** Waits for the step messages on their way, so a handler (the alarm) ends only after them. */
  private async sent(): Promise<void> {
    while (this.sending.size > 0) await Promise.all(this.sending);
  }

  /** Queues lose messages (in memory under local dev; rarely anywhere): re-send what never reported. */
  private resendOverdueSteps(): void {
    const now = Date.now();
    const deferred = this.sql.all<{ transfer_id: string; step_index: number }>(
      "SELECT transfer_id, step_index FROM step_rows WHERE status = 'deferred' AND due_at <= ?",
      now,
    );
    for (const step of deferred) this.sendStep(this.dispatch(step.transfer_id, step.step_index, false));
    const overdue = this.sql.all<{ transfer_id: string; step_index: number; resends: number }>(
      `SELECT transfer_id, step_index, resends FROM step_rows
       WHERE status IN ('released', 'running', 'retrying') AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)`,
      now,
      now,
    );
    for (const step of overdue) {
      if (step.resends >= MAX_RESENDS) {
        this.failStep(step.transfer_id, step.step_index, {
          message: `No result came back for this step after ${MAX_RESENDS + 1} dispatches over several hours; the step queue's consumer may be failing.`,
          code: "step_lost",
          errorClass: "internal",
        });
        this.queueProjection(step.transfer_id, []);
        this.releaseNext();
      } else {
        this.sendStep(this.dispatch(step.transfer_id, step.step_index, true));
      }
    }
  }

  /** `idle`: the attempt that failed sent nothing that could make something (StepError.madeNothing). */
  private failStep(transferId: string, stepIndex: number, error: StepError, idle = false): void {
    this.sql.run(
      `UPDATE step_rows SET status = 'failed', error = ?, lease_token = NULL, lease_until = NULL, due_at = NULL,
         idle_attempts = idle_attempts + ?
       WHERE transfer_id = ? AND step_index = ?`,
      JSON.stringify(error),
      idle ? 1 : 0,
      transferId,
      stepIndex,
    );
    this.touchTransfer(transferId, "failed", error);
    // A failed transfer holds up no re-run of the transfers after it.
    this.startReruns();
  }

  // ---- outbox ---------------------------------------------------------------------------

  private enqueue(job: OutboxJob): void {
    const { kind, ...payload } = job;
    const id = this.sql.one<{ id: number }>(
      "INSERT INTO outbox (kind, payload, next_at) VALUES (?, ?, ?) RETURNING id",
      kind,
      JSON.stringify(payload),
      Date.now(),
    )!.id;
    this.counted.add(id);
  }

  /**
   * Queues a transfer's D1 projection with the snapshots and attempt outcomes of a change. The
   * projection is built when the job runs, from the object's state then, so one job can stand for
   * several changes: while the transfer has a step out (it reports again in moments) the job waits
   * up to `projectionHoldMs` (PROJECTION_HOLD_SECONDS), and what the transfer does meanwhile joins
   * it instead of writing the same rows again. Any other change makes the job due at once. A
   * transfer whose steps all run within the hold reaches D1 once, in its final state
   * (docs/performance.md, "The transfer log catches up within seconds"). `hold`: the job waits
   * as if a step were out (a step the gate deferred: its change is not worth a write of its own).
   */
  private queueProjection(
    transferId: string,
    snapshots: SnapshotRecord[],
    outcomes: AttemptRecord[] = [],
    options: { hold?: boolean } = {},
  ): void {
    const now = Date.now();
    const stepOut =
      options.hold === true ||
      this.sql.one<{ n: number }>(
        "SELECT COUNT(*) AS n FROM step_rows WHERE transfer_id = ? AND status IN ('released', 'running')",
        transferId,
      )!.n > 0;
    // The transfer's newest projection job that has not started (not the one the pump is running).
    const pending = this.sql.one<{ id: number; payload: string; next_at: number }>(
      `SELECT id, payload, next_at FROM outbox
       WHERE kind = 'project' AND transfer_id = ? AND attempts = 0 AND parked = 0 AND id IS NOT ?
       ORDER BY id DESC LIMIT 1`,
      transferId,
      this.runningJob,
    );
    if (pending) {
      const job = JSON.parse(pending.payload) as Omit<ProjectJob, "kind">;
      const payload = JSON.stringify({
        transferId,
        snapshots: [...job.snapshots, ...snapshots],
        attempts: [...(job.attempts ?? []), ...outcomes],
        extra: job.extra,
        ...(job.starts === undefined ? {} : { starts: job.starts }),
      });
      if (payload.length <= PROJECTION_JOB_MAX_BYTES) {
        this.sql.run(
          "UPDATE outbox SET payload = ?, next_at = ? WHERE id = ?",
          payload,
          stepOut ? pending.next_at : now,
          pending.id,
        );
        return;
      }
      // Full: a new job takes the change, and the full one goes first (snapshot ids follow the order).
      if (pending.next_at > now) this.sql.run("UPDATE outbox SET next_at = ? WHERE id = ?", now, pending.id);
    }
    const id = this.sql.one<{ id: number }>(
      "INSERT INTO outbox (kind, transfer_id, payload, next_at) VALUES ('project', ?, ?, ?) RETURNING id",
      transferId,
      JSON.stringify({ transferId, snapshots, attempts: outcomes, extra: [] }),
      stepOut ? now + this.config.projectionHoldMs : now,
    )!.id;
    this.counted.add(id);
  }

  /**
   * Makes a transfer's waiting projection due and runs the outbox, for a reader that needs the
   * transfer in D1 now.
   */
  private async projectNow(transferId: string): Promise<void> {
    this.sql.run(
      "UPDATE outbox SET next_at = ? WHERE kind = 'project' AND transfer_id = ? AND attempts = 0 AND parked = 0 AND next_at > ?",
      Date.now(),
      transferId,
      Date.now(),
    );
    await this.pump();
  }

  /** A projection job's statements: the transfer as it is now, then its history rows. */
  private projection(job: ProjectJob): SerializedStatement[] {
    return [
      ...this.transferNow(job.transferId),
      ...insertSnapshots(
        this.env,
        historyRecords({ transferId: job.transferId, tenantId: this.identity().tenantId }, job.snapshots, job.attempts ?? []),
      ),
      ...job.extra,
    ];
  }

  /** A transfer's D1 rows as they are now (none for a transfer the object does not have). */
  private transferNow(transferId: string): SerializedStatement[] {
    const transfer = this.transfer(transferId);
    if (!transfer) return [];
    const steps = this.sql.all<StepRow>(
      `SELECT transfer_id, step_index, status, attempts, result, error FROM ${ALL_STEPS} WHERE transfer_id = ? ORDER BY step_index`,
      transferId,
    );
    return projectTransfer(this.identity(), transfer, steps);
  }

  /** The current rows of the order's transfers whose id is bound in these statements. */
  private transfersNamedIn(statements: SerializedStatement[]): SerializedStatement[] {
    const named = new Set(statements.flatMap((s) => s.params));
    return this.sql
      .all<{ id: string }>("SELECT id FROM transfers ORDER BY seq")
      .filter((t) => named.has(t.id))
      .flatMap((t) => this.transferNow(t.id));
  }

  /**
   * Starts the outbox pump now; the alarm is the durable backstop if this isolate dies. The
   * backstop goes off within the projection hold, not a second: the hold's own alarm, set by
   * the new order's first pump, then serves as the backstop of every report made within it, and
   * one alarm an order stands for what were two set, fired and set again (each `setAlarm()` a
   * row written, each alarm a billed request; docs/performance.md). An outbox job whose isolate
   * died runs up to the hold later than it would have (10 s at most, however long the hold).
   */
  private kick(): void {
    const backstop = Math.min(KICK_BACKSTOP_MAX_MS, Math.max(KICK_BACKSTOP_MS, this.config.projectionHoldMs));
    void this.alarmBy(Date.now() + backstop);
    void this.pump().catch(() => {});
  }

  /**
   * Makes sure the alarm goes off no later than `at`. Each `setAlarm()` is billed as a row
   * written, and an alarm that goes off early only looks and sets the next one: so an alarm
   * already set, not yet gone off and no later than `at` is kept as it is.
   */
  private alarmBy(at: number): Promise<void> {
    const set = this.alarmAt;
    if (set !== null && set > Date.now() && set <= at) return Promise.resolve();
    this.alarmAt = at;
    return this.ctx.storage.setAlarm(at);
  }

  /** Runs due outbox jobs strictly in order; a failure stops the line and is retried with backoff. */
  private pump(): Promise<void> {
    if (!this.pumping) {
      this.pumping = this.drain().finally(() => {
        this.pumping = null;
      });
    }
    return this.pumping;
  }

  private async drain(): Promise<void> {
    for (;;) {
      // A projection held for its transfer's next report (queueProjection) is passed over, not
      // waited for: nothing after it depends on it.
      const job = this.sql.one<OutboxRow & { next_at: number }>(
        `SELECT id, kind, payload, attempts, next_at FROM outbox WHERE ${IN_LINE} ORDER BY id LIMIT 1`,
        Date.now(),
      );
      if (!job || job.next_at > Date.now()) break;
      const payload = this.countStart(job);
      if (!payload) continue;
      this.runningJob = job.id;
      try {
        // A start counted just now is on disk before the job runs: the job may be what kills the object.
        if (!this.counted.delete(job.id)) await this.ctx.storage.sync();
        await this.runJob({ kind: job.kind, ...payload } as OutboxJob);
        this.sql.run("DELETE FROM outbox WHERE id = ?", job.id);
      } catch (error) {
        // A projection (history in D1) that keeps failing is parked after about an hour so it cannot
        // hold up the order's steps, and is tried again a day later (housekeeping). Sends,
        // planning and re-runs never park (by failures or by starts): nothing may overtake them.
        const park = (job.kind === "d1" || job.kind === "project") && job.attempts + 1 >= PARK_AFTER_ATTEMPTS;
        const delay = park ? DAY_MS : Math.min(60_000, 500 * 2 ** job.attempts);
        // The start ended (in an error): the next one is counted in this same write, from one.
        this.sql.run(
          "UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ?, parked = ?, payload = json_set(payload, '$.starts', 1) WHERE id = ?",
          Date.now() + delay,
          String(error),
          park ? 1 : 0,
          job.id,
        );
        this.counted.add(job.id);
        if (park) {
          this.logParked(job, error);
          // Not awaited, and never throws: the alert writes to D1 too, and must neither hold up nor
          // stop the line. A projection parked again (after its next tries) raises it again.
          void this.alertParked(job, error);
        }
        if (!park) break;
      } finally {
        this.runningJob = null;
      }
    }
    await this.scheduleAlarm();
  }

  /**
   * Counts a start of the job before it runs, and returns its payload to run with; null when a
   * projection has started MAX_UNFINISHED_STARTS times without finishing and is parked instead
   * (logged and alerted as one parked by its failures is). A job's insert (or its last failure)
   * counted its next start, so the common path writes nothing here; a job this instance did not
   * queue may have been started by one that died under it, so its start is written first (on this
   * rare path a start may be counted that never happened: a job queued by an instance that went
   * away first). No other job is parked by its starts (nothing may overtake planning, a re-run or
   * a send, whose step the alarm re-sends anyway: resendOverdueSteps): past the limit a plan or
   * re-run job runs with every filter taken as failed (a filter that exhausts the object makes
   * failed, alerted, retryable transfers instead of none), and each further start is logged.
   */
  private countStart(job: OutboxRow): (Record<string, unknown> & JobStarts & PlanMode) | null {
    const payload = JSON.parse(job.payload) as Record<string, unknown> & JobStarts & PlanMode;
    if (this.counted.has(job.id)) return payload;
    const starts = (payload.starts ?? 1) + 1;
    if (starts > MAX_UNFINISHED_STARTS) {
      if (job.kind === "project") {
        const error = `started ${starts - 1} times without finishing: the order's object stopped while running it (out of memory or CPU time)`;
        this.sql.run(
          "UPDATE outbox SET parked = 1, next_at = ?, last_error = ? WHERE id = ?",
          Date.now() + DAY_MS,
          error,
          job.id,
        );
        this.logParked(job, error, starts - 1);
        void this.alertParked(job, error);
        return null;
      }
      const filtering = (job.kind === "plan" || job.kind === "rerun") && !payload.filtersFailed;
      if (filtering) payload.filtersFailed = true;
      console.error(
        filtering
          ? `order outbox: a ${job.kind} job kept stopping the object; run with every filter taken as failed`
          : `order outbox: a ${job.kind} job keeps stopping the object; started again, not parked (nothing may overtake it)`,
        { ...this.identity(), id: job.id, kind: job.kind, starts: starts - 1 },
      );
    }
    payload.starts = starts;
    this.sql.run("UPDATE outbox SET payload = ? WHERE id = ?", JSON.stringify(payload), job.id);
    return payload;
  }

  /**
   * A parked projection leaves its transfer in the log as it was (a finished one shown running,
   * a failure no alert or replay finds) until the sweeper's nudge or, a day on, housekeeping: the
   * operator sees it here, with how many this order has parked; the tenant is told too
   * (alertParked).
   */
  private logParked(job: OutboxRow, error: unknown, starts?: number): void {
    const parked = this.sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE parked = 1")!.n;
    const transferId = job.kind === "project" ? (JSON.parse(job.payload) as ProjectJob).transferId : null;
    console.error(`order outbox: ${job.kind === "project" || job.kind === "d1" ? "projection" : `${job.kind} job`} parked`, {
      ...this.identity(),
      id: job.id,
      kind: job.kind,
      transferId,
      // Parked by its starts: those are what ran out, not its tries.
      ...(starts === undefined ? { attempts: job.attempts + 1 } : { starts }),
      parked,
      error: String(error),
    });
  }

  /**
   * Tells the tenant, throttled under `parked:<source connection>`, that the order's history in
   * Orderly is behind: while the projection is parked, the failure alerts and the sweeper (which
   * read D1) may not see what became of the order. Best effort: during a D1 outage this fails
   * too (logged), and the projection's next park, after its next tries, raises it again.
   */
  private async alertParked(job: OutboxRow, error: unknown): Promise<void> {
    const { tenantId, connectionId, orderId } = this.identity();
    try {
      if (!tenantId) return;
      const transferId = job.kind === "project" ? (JSON.parse(job.payload) as ProjectJob).transferId : null;
      const order = this.orderName(transferId);
      const raw = String(error);
      const reason = raw.length > PARKED_REASON_LIMIT ? `${raw.slice(0, PARKED_REASON_LIMIT - 1)}…` : raw;
      const windowMs = notificationConfig(this.env).alertWindowMs;
      await raiseAlert(
        this.env,
        {
          tenantId,
          topic: alertTopic("parked", connectionId),
          at: Date.now(),
          sample: alertSample(order, `history in Orderly behind: ${reason}`),
          first: async () => {
            const names = await connectionNames(this.env, tenantId, [connectionId]);
            return parkedAlertText({ sourceName: names.get(connectionId) ?? connectionId, order, reason, windowMs });
          },
        },
        windowMs,
      );
    } catch (alerting) {
      console.error("parked projection alert not sent; the projection's next park raises it again", {
        tenantId,
        connectionId,
        orderId,
        id: job.id,
        error: String(alerting),
      });
    }
  }

  /** The order as the shop names it (`#1001`) where the object knows it, else the shop's id of it. */
  private orderName(transferId: string | null): string {
    const input = transferId ? this.transfer(transferId)?.input : undefined;
    const number =
      this.latestOrder()?.source.orderNumber ?? (input ? (JSON.parse(input) as TransferInput).order.source.orderNumber : null);
    return number || this.identity().orderId;
  }

  private async runJob(job: OutboxJob): Promise<void> {
    switch (job.kind) {
      case "plan":
        // A stage that took the order back from a cancellation: the updates that came meanwhile
        // re-run first (rerunForUpdate marked them), ahead of the new stage's transfers, as an
        // update's re-run goes ahead of the stages its event passes; otherwise nothing is pending
        // and this does nothing.
        await this.dropRerunsOfFlowsGone();
        this.startReruns();
        await this.plan("stages" in job ? job.stages : [{ stage: job.stage, occurrence: job.occurrence }], job.eventSeq, {
          filtersFailed: job.filtersFailed === true,
        });
        this.releaseNext();
        return;
      case "rerun":
        return this.rerunForUpdate(job.payment === true, job.filtersFailed === true);
      case "d1":
        // Serialised by the previous release, whose guard lets an older state over a newer one (the
        // job may have been parked while newer projections ran): each transfer it names is written
        // again as it is now, in the same batch. Same state: those statements write nothing.
        return runBatch(this.env, [...job.statements, ...this.transfersNamedIn(job.statements)]);
      case "project":
        return runBatch(this.env, this.projection(job));
      case "send":
        await this.env.STEPS.send(job.message, { contentType: "json" });
        return;
      case "unplanned":
        return this.runUnplanned(job);
    }
  }

  private async scheduleAlarm(): Promise<void> {
    // The pump runs the line's first job before any other (a held projection is not in the line
    // until its hold ends): a later job that is due cannot run while the first waits for its
    // retry, so waking for it would find nothing to do and set the alarm 10 ms ahead, again and
    // again for as long as the first job fails (a Queue or D1 outage).
    const now = Date.now();
    const first = this.sql.one<{ t: number }>(`SELECT next_at AS t FROM outbox WHERE ${IN_LINE} ORDER BY id LIMIT 1`, now)?.t;
    const heldUntil = this.sql.one<{ t: number | null }>(`SELECT MIN(next_at) AS t FROM outbox WHERE ${HELD}`, now)?.t ?? null;
    const outbox = first === undefined ? heldUntil : heldUntil === null ? first : Math.min(first, heldUntil);
    const due =
      this.sql.one<{ t: number | null }>(
        "SELECT MIN(MAX(due_at, COALESCE(lease_until, 0))) AS t FROM step_rows WHERE status IN ('released', 'running', 'retrying', 'deferred')",
      )?.t ?? null;
    const untold = this.state()?.refundsGoneUntold?.nextAt ?? null;
    const times = [outbox, due, this.housekeepingDue(), untold].filter((t): t is number => t !== null);
    // Nothing to wake for: the object sleeps until its next request (an alarm set before, if any,
    // goes off, finds nothing and sets none).
    if (times.length === 0) return;
    await this.alarmBy(Math.max(Math.min(...times), now + 10));
  }

  /**
   * When the object next has housekeeping to do; null when it has none. Delivery ids are kept for
   * the dedupe retention and dropped when the newest one expires; a parked projection is tried
   * again a day after it was parked. Read from the rows themselves, nothing written for it. Once
   * its ids are gone and its projections written, an order has nothing to wake for: before, every
   * order object woke once a day for ever, a billed alarm and two rows written a day each
   * (docs/performance.md, "An order object sleeps when its work is done").
   */
  private housekeepingDue(): number | null {
    // The newest id's expiry: one pass drops them all (keeping the older ones longer only
    // strengthens the dedupe), instead of a wake-up per event. An event a queued job still reads
    // is not counted: it goes with a later pass, not in an alarm that would find it kept again.
    const newest =
      this.sql.one<{ t: number | null }>(
        `SELECT MAX(received_at) AS t FROM events WHERE applied = 1 AND object != ? AND ${NOT_READ_BY_A_JOB}`,
        KEPT_FOR_DEDUPE,
      )?.t ?? null;
    const parked = this.sql.one<{ t: number | null }>("SELECT MIN(next_at) AS t FROM outbox WHERE parked = 1")?.t ?? null;
    const times = [newest === null ? null : newest + this.config.dedupeRetentionDays * DAY_MS, parked];
    const due = times.filter((t): t is number => t !== null);
    return due.length === 0 ? null : Math.min(...due);
  }

  /**
   * Drops delivery ids past the dedupe retention (with their bodies) and un-parks projections due
   * again. An event a queued plan or re-run job still reads is kept: a refund that waited for its
   * order is applied late with its old arrival time. A refund keeps its row, without its body:
   * WooCommerce lists every refund in every later delivery of the order, so a refund forgotten
   * would be stored as new and credited again by any refund flow made or switched on since (its
   * transfer id is new). The kept row names no R2 body: like every event's, one is deleted by the
   * transfer log's retention with the last received snapshot that names it, never here.
   */
  private housekeeping(): void {
    const now = Date.now();
    // An un-parked projection gets a few tries, not another hour of them ahead of the order's line.
    this.unpark(now, UNPARKED_TRIES, "housekeeping");
    const expired = `received_at <= ? AND applied = 1 AND ${NOT_READ_BY_A_JOB}`;
    const cutoff = now - this.config.dedupeRetentionDays * DAY_MS;
    this.sql.run(
      `UPDATE events SET object = ?, raw_body = NULL, raw_blob = NULL, headers = '{}'
       WHERE stage = 'refunded' AND object != ? AND ${expired}`,
      KEPT_FOR_DEDUPE,
      KEPT_FOR_DEDUPE,
      cutoff,
    );
    this.sql.run(`DELETE FROM events WHERE stage != 'refunded' AND ${expired}`, cutoff);
    this.eventKeys = null;
    // The previous release kept the next daily pass's time here.
    this.sql.run("DELETE FROM meta WHERE key = 'cleanup_at'");
  }

  /**
   * Puts the projections parked until `dueBy` back in line, at once, each with `tries` before it
   * is parked again. Logged: a parked projection is a transfer the log shows as it was.
   */
  private unpark(dueBy: number, tries: number, by: "sweeper" | "housekeeping"): void {
    const now = Date.now();
    const jobs = this.sql.all<{ id: number; kind: string; transfer_id: string | null }>(
      // One start that may not finish: a job that stopped the object is parked again after it.
      `UPDATE outbox SET parked = 0, attempts = ?, next_at = ?, payload = json_set(payload, '$.starts', ?)
       WHERE parked = 1 AND next_at <= ?${by === "sweeper" ? STARTS_LEFT : ""} RETURNING id, kind, transfer_id`,
      PARK_AFTER_ATTEMPTS - tries,
      now,
      MAX_UNFINISHED_STARTS - 1,
      dueBy,
    );
    if (jobs.length === 0) return;
    for (const job of jobs) this.counted.delete(job.id);
    console.error("order outbox: parked projections tried again", {
      ...this.identity(),
      by,
      count: jobs.length,
      jobs: jobs.map((job) => ({ id: job.id, kind: job.kind, transferId: job.transfer_id })),
    });
  }

  // ---- small accessors ------------------------------------------------------------------

  /**
   * The order's state: the `state` meta row, or for an object made before it the rows it kept
   * (`identity`, or `tenant_id`, `connection_id` and `order_id` before that; `stage`; `order`).
   * Null before the first event.
   */
  private readState(saved = this.getMeta("state")): OrderState | null {
    if (saved) return JSON.parse(saved) as OrderState;
    const identity = this.getMeta("identity");
    const tenantId = this.getMeta("tenant_id");
    if (!identity && !tenantId) return null;
    const stage = this.getMeta("stage");
    const order = this.getMeta("order");
    return {
      identity: identity
        ? (JSON.parse(identity) as OrderIdentity)
        : { tenantId: tenantId!, connectionId: this.getMeta("connection_id")!, orderId: this.getMeta("order_id")! },
      stage: stage ? (JSON.parse(stage) as StageState) : initialStageState,
      order: order ? (JSON.parse(order) as CanonicalOrder) : null,
    };
  }

  /**
   * Refunds whose transfers here made something and that the order's newest version, which lists
   * all its refunds (WooCommerce), no longer lists: deleted in the shop. Each is told once.
   */
  private refundsGone(object: IngestRequest["event"]["object"]): string[] {
    if (object.type !== "order" || !object.order.refundIds) return [];
    const listed = new Set(object.order.refundIds);
    const told = new Set([...(this.draft?.refundsGone ?? []), ...(this.draft?.refundsGoneUntold?.ids ?? [])]);
    // Only refunds whose flows made something (a step with a result): a failed credit note left
    // nothing to reverse.
    return this.sql
      .all<{ occurrence: string }>(
        `SELECT DISTINCT t.occurrence FROM transfers t WHERE t.stage = 'refunded'
           AND EXISTS (SELECT 1 FROM step_rows s WHERE s.transfer_id = t.id AND s.result IS NOT NULL) ORDER BY t.occurrence`,
      )
      .map((r) => String(r.occurrence))
      .filter((id) => !listed.has(id) && !told.has(id));
  }

  /** During an ingest its draft; otherwise as committed (kept in memory once read). */
  private state(): OrderState | null {
    if (this.draft) return this.draft;
    this.stateCache ??= this.readState();
    return this.stateCache;
  }

  private identity(): OrderIdentity {
    // An object asked before its first event has none yet.
    return this.state()?.identity ?? ({} as OrderIdentity);
  }

  private stageState(): StageState {
    return this.state()?.stage ?? initialStageState;
  }

  private latestOrder(): CanonicalOrder | null {
    return this.state()?.order ?? null;
  }

  private transfer(id: string): TransferRow | undefined {
    return this.sql.one<TransferRow>(
      "SELECT id, flow_id, stage, occurrence, status, steps, input, error, created_at, updated_at FROM transfers WHERE id = ?",
      id,
    );
  }

  private step(transferId: string, stepIndex: number) {
    return this.sql.one<{
      status: string;
      attempts: number;
      attempts_before: number;
      dispatch_id: string | null;
      lease_token: string | null;
      lease_until: number | null;
    }>(
      `SELECT status, attempts, attempts_before, dispatch_id, lease_token, lease_until FROM ${ALL_STEPS} WHERE transfer_id = ? AND step_index = ?`,
      transferId,
      stepIndex,
    );
  }

  /**
   * A row written is billed whether or not it changed: a transfer whose status and error stay as
   * they are is not written again while its `updated_at` is younger than a second (the steps of
   * a flow claim and report within milliseconds of each other). Its time never goes back (a clock
   * a little behind after the object moved): D1 takes no state older than the one it holds.
   */
  private touchTransfer(id: string, status: string, error: StepError | null): void {
    const now = Date.now();
    this.sql.run(
      "UPDATE transfers SET status = ?1, error = ?2, updated_at = MAX(?3, updated_at) WHERE id = ?4 AND (status IS NOT ?1 OR error IS NOT ?2 OR updated_at <= ?3 - ?5)",
      status,
      error ? JSON.stringify(error) : null,
      now,
      id,
      TOUCH_REFRESH_MS,
    );
  }

  private getMeta(key: string): string | undefined {
    return this.sql.one<{ value: string }>("SELECT value FROM meta WHERE key = ?", key)?.value;
  }

  private setMeta(key: string, value: string): void {
    this.sql.run(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }
}

function parseMaybeJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    // A body is stored as signed, a UTF-8 BOM included; JSON.parse does not read past one.
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return text;
  }
}

/**
 * Of two versions stamped alike, whether `next` is not behind `stored`: no lower stage on the
 * ladder, and the payment (and a payment to enter) still shown if `stored` showed it. Which of the two is the newer the
 * stamps cannot tell; a state the order has reached does not go back, and otherwise the last
 * delivered wins (two edits within a second, as before).
 */
function notBehind(next: CanonicalOrder, stored: CanonicalOrder): boolean {
  const rank = (order: CanonicalOrder) => (isLadderStage(order.stage) ? ladderRank(order.stage) : 0);
  const losesPayment = showsPayment(stored) && !showsPayment(next);
  // Paid in full, then a deposit of the same second: the payment to enter would go back.
  const losesPaymentToEnter = showsPaymentToEnter(stored) && !showsPaymentToEnter(next);
  return rank(next) >= rank(stored) && !losesPayment && !losesPaymentToEnter;
}

/** What makes an order version worth re-running transfers for: its money, lines and parties. */
function materialKey(order: CanonicalOrder): string {
  const { lines, shipping, fees, discounts, totals, customer, billingAddress, shippingAddress, currency, pricesIncludeTax } =
    order;
  return JSON.stringify({
    lines,
    shipping,
    fees,
    discounts,
    totals,
    customer,
    billingAddress,
    shippingAddress,
    currency,
    pricesIncludeTax,
  });
}

/**
 * The state after raising the alert for the gone refunds `ids`: told, they move to `refundsGone`
 * (any found gone meanwhile stay untold, due as they are); not told, the next try backs off.
 */
function afterTelling(state: OrderState, ids: string[], told: boolean, now: number): OrderState {
  const { refundsGoneUntold: untold, ...rest } = state;
  if (!untold) return state;
  if (!told) {
    const tries = untold.tries + 1;
    const nextAt = now + Math.min(GONE_RETRY_MAX_MS, GONE_RETRY_BASE_MS * 2 ** (tries - 1));
    return { ...rest, refundsGoneUntold: { ...untold, tries, nextAt } };
  }
  const left = untold.ids.filter((id) => !ids.includes(id));
  return {
    ...rest,
    refundsGone: [...(rest.refundsGone ?? []), ...ids],
    ...(left.length > 0 ? { refundsGoneUntold: { ...untold, ids: left, tries: 0 } } : {}),
  };
}

/** A step setting's value as a retry's refusal names it. */
function shown(value: unknown): string {
  return value === undefined ? "not set" : JSON.stringify(value);
}
