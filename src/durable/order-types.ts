/** What crosses the boundary of an OrderDO: RPC inputs and results, and the step queue message. */
import type { ActionResult, OrderKey, RoutedDelivery, SourceEvent, StepHistoryEntry } from "../connectors/contract";
import type { FlowStepConfig } from "../db/schema";
import type { SnapshotRecord } from "../db/snapshots";
import type { ErrorClass } from "../domain/errors";
import type { TransferInput } from "../domain/order";
import type { Stage } from "../domain/stage";

export interface RawDelivery {
  /** The body as received, when small enough to keep inline. */
  body: string | null;
  /** R2 key of the body when it was too large to keep inline. */
  blobKey: string | null;
  size: number;
  headers: Record<string, string>;
}

export interface IngestRequest {
  tenantId: string;
  connectionId: string;
  event: SourceEvent;
  raw: RawDelivery;
  receivedAt: number;
}

/**
 * A delivery stored before its payload was validated and mapped (a source that can `route`): what
 * the Worker read before its 2xx, the connection's settings then, and the raw body. The inbox's
 * hand-off parses it into IngestRequests, or keeps it as a dead letter (src/worker/deferred-intake.ts).
 */
export interface DeferredIngest {
  tenantId: string;
  connectionId: string;
  deferred: RoutedDelivery & { connector: string; settings: Readonly<Record<string, unknown>> };
  raw: RawDelivery;
  receivedAt: number;
}

/** What an inbox shard stores for one accepted event: parsed, or still to parse. */
export type StoredIngest = IngestRequest | DeferredIngest;

export interface IngestResult {
  duplicate: boolean;
  /** The event is older than the order's newest version: kept in history, not applied. */
  stale: boolean;
  /** Stages whose flows this event set off, in the order they run. */
  passed: Stage[];
}

/** The step queue's message: ids only, the order's object holds the data. */
export interface StepMessage {
  kind: "step";
  /** Name of the order's Durable Object (`connectionId:orderId`). */
  order: string;
  tenantId: string;
  transferId: string;
  stepIndex: number;
  dispatchId: string;
  /** Target connection and action of the step, so the consumer can ask the target's gate first. */
  target: string;
  action: string;
  priority: "order" | "bulk";
}

export type StepClaim = RunClaim | { action: "busy"; retryAfterSeconds: number } | { action: "drop"; reason: string };

export interface RunClaim {
  action: "run";
  attempt: number;
  /** An earlier attempt may have reached the target unanswered (ActionContext.earlierAttemptUnsettled). */
  earlierAttemptUnsettled?: boolean;
  tenantId: string;
  /** The order the step is for, as the transfer log keys it. */
  order: OrderKey;
  transferId: string;
  stepIndex: number;
  step: FlowStepConfig;
  input: TransferInput;
  previous: Array<ActionResult | undefined>;
  /** This step's own result from its last success, when the transfer runs again from the start. */
  prior?: ActionResult;
  history: StepHistoryEntry[];
  reference: string;
  /** The lease ends then: the consumer starts no call that could outlast it. */
  leaseUntil: number;
}

/** The next step of a transfer, handed to the consumer that reported the one before, claimed for it. */
export interface HandedStep {
  message: StepMessage;
  token: string;
  claim: RunClaim;
}

export interface StepError {
  message: string;
  code: string;
  errorClass: ErrorClass;
  /** The attempt sent nothing that could make something (OrderlyError.madeNothing). */
  madeNothing?: boolean;
}

export type StepOutcome =
  | { kind: "ok"; result: ActionResult }
  | { kind: "retry"; error: StepError; retryAfterSeconds?: number }
  | { kind: "failed"; error: StepError };

export interface StepReport {
  transferId: string;
  stepIndex: number;
  token: string;
  outcome: StepOutcome;
  snapshots: SnapshotRecord[];
  latencyMs: number;
  /**
   * The consumer will run the order's next step itself, in the same invocation: the object hands
   * it over in the verdict instead of sending it through the queue. Absent from the previous
   * release's consumer, which gets every step through the queue.
   */
  takeNext?: boolean;
}

export type StepVerdict =
  | { next: "ack"; handOver?: HandedStep }
  | { next: "retry"; delaySeconds: number }
  | { next: "dead-letter"; reason: string; handOver?: HandedStep }
  /** Another consumer holds the step now; this one must not touch it. */
  | { next: "stale" };

export interface RetryRequest {
  transferId: string;
  /** Bulk replays yield to live orders at the target's rate limit. */
  priority?: "order" | "bulk";
  /** Run every step again (adopting what exists) instead of resuming at the failed step. */
  fromStart: boolean;
  /** Replacement step settings (the flow's current ones), when retrying with current settings. */
  steps?: FlowStepConfig[];
  /**
   * Per step of `steps`, its action's identity settings (TargetAction.identitySettings): the Worker
   * knows each target's connector, the object does not. Absent (a Worker of the release before),
   * no setting is checked.
   */
  identitySettings?: string[][];
  /** A corrected input (edit-the-payload-then-retry); kept as a new canonical snapshot. */
  input?: TransferInput;
}

export function orderObjectName(connectionId: string, orderId: string): string {
  return `${connectionId}:${orderId}`;
}

export function orderStub(env: Pick<Env, "ORDERS">, name: string) {
  return env.ORDERS.get(env.ORDERS.idFromName(name));
}
