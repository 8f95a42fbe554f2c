/**
 * The one shape every connector has. A connector is a folder under src/connectors/<id>/ exporting
 * a `Connector`: a manifest (settings and credentials as zod schemas, from which the API validation
 * and the UI forms come), source handlers if it receives webhooks, and named target actions.
 */
import type { z } from "zod";
import type { CanonicalOrder, CanonicalRefund, TransferInput } from "../domain/order";
import type { Stage } from "../domain/stage";
import type { HttpClient } from "./http";

export type ConnectorCategory = "webshop" | "accounting" | "pos" | "wms" | "acquirer" | "subscription" | "files" | "mail";

/** One event parsed from a source delivery. */
export interface SourceEvent {
  /** Unique per delivery and stable across the sender's retries: the primary dedupe key. */
  deliveryId: string;
  /** Identifies the underlying change across subscriptions (e.g. Shopify event id + topic). */
  eventKey?: string;
  topic: string;
  /** The source's id of the order this event belongs to; names the order's Durable Object. */
  orderId: string;
  stage: Stage;
  /** Distinguishes repeatable stages: the refund id for `refunded`, else "". */
  occurrence: string;
  /** Monotonic version of the order at its source; a lower one is never applied over a higher. */
  version: number;
  object: { type: "order"; order: CanonicalOrder } | { type: "refund"; refund: CanonicalRefund };
}

/** A delivery's order and ids as a source's `route` reads them (see SourceEvent for each). */
export interface RoutedDelivery {
  orderId: string;
  deliveryId: string;
  eventKey?: string;
  /** The order as the shop names it (`#1001`), when the delivery says: alerts name it so. */
  orderName?: string;
}

export interface IncomingDelivery {
  body: Uint8Array;
  headers: Headers;
  /**
   * The body as strict UTF-8 text (a BOM kept), when the caller decoded it already; null when it is
   * not UTF-8. Absent: the source decodes `body` itself (jsonText in payload.ts).
   */
  text?: string | null;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** A delivery the source sends for housekeeping (a ping when a webhook is created): answer 200, store nothing. */
/**
 * A delivery read and found to hold nothing to book (a refund that returned no money, a test order,
 * a topic Orderly does not read). Something read that a person must book by hand is not ignored:
 * parse throws an error of class `conflict`, and the delivery is kept and alerted.
 */
export interface IgnoredDelivery {
  ignored: true;
  reason: string;
  /** Why, for logs and alerts (`test_order`, `refund_no_money`, ...). */
  code?: string;
  orderId?: string;
  /** The order as the shop names it (`#1001`). */
  orderName?: string;
}

export interface SourceHandlers {
  /**
   * False for a source that never sends a delivery again after a non-2xx answer (WooCommerce, which
   * also disables the webhook after more than 5 failures in a row). Such a delivery, once its signature
   * verifies, is kept and answered 200 even when it cannot be taken; by default (absent) the source
   * retries, and a non-2xx leaves the event with it.
   */
  retries?: boolean;
  /**
   * What stays the same when the sender sends a delivery again (Shopify's webhook id), from its
   * headers alone: a verified delivery kept as a dead letter before the answer is kept once under
   * it, however often it comes (an answer lost or late makes the sender retry). Absent, or undefined
   * for a delivery without one: each is kept on its own.
   */
  retryKey?(headers: Headers): string | undefined;
  /** True for deliveries that carry no data and are not signed (e.g. WooCommerce's creation ping). */
  isPing?(delivery: IncomingDelivery): boolean;
  /** Checks the delivery's signature over the raw bytes, in constant time. */
  verify(delivery: IncomingDelivery, secret: string): Promise<VerifyResult>;
  /**
   * Parses a verified delivery; throws OrderlyError(validation) naming what is wrong. `settings` are
   * the connection's, as its connector's schema validated them (defaults filled in): how a setting
   * such as Shopify's `processTestOrders` decides what is taken. Absent where no connection is at
   * hand (a parser called on its own); a source then reads its defaults.
   */
  parse(delivery: IncomingDelivery, settings?: Readonly<Record<string, unknown>>): SourceEvent[] | IgnoredDelivery;
  /**
   * What the inbox needs before the 2xx, read without validating or mapping the payload: the order
   * a delivery belongs to and its ids, or that it is to be ignored (a test order). Throws like
   * `parse` for a delivery that cannot even be routed. A source that has it has its payloads
   * validated and mapped after the acknowledgement (`parse` runs in the inbox's hand-off, and a
   * delivery it refuses is kept as a dead letter then). Its events should name the order `route`
   * gave, by which the shard keeps an order's events in order; one that names another still goes to
   * that order's object. Absent: `parse` runs before the answer.
   */
  route?(delivery: IncomingDelivery, settings?: Readonly<Record<string, unknown>>): RoutedDelivery | IgnoredDelivery;
  /** Steps a merchant follows to point the source at the webhook URL. */
  setupSteps(webhookUrl: string): string[];
}

export interface ActionContext<Settings, Credentials, ConnectionSettings> {
  connection: { id: string; tenantId: string; settings: ConnectionSettings; credentials: Credentials };
  settings: Settings;
  /** Stable per transfer and step: the target must never hold two records with it. */
  reference: string;
  /**
   * An earlier attempt of this step may have reached the target although no answer came back: it
   * timed out, was answered 5xx/408 (having sent something), or never reported (its lease ran out).
   * A target that cannot be searched may then take "already have it" as done.
   * Absent in contexts built by hand: false.
   */
  earlierAttemptUnsettled?: boolean;
  /**
   * No attempt of this step has run before, in this run of its transfer or an earlier one: nothing
   * in the target can carry its reference yet, so a search by it (for what an earlier attempt made)
   * can be left out. A search for what a person or another step made is still needed. Absent in
   * contexts built by hand: false.
   */
  firstAttempt?: boolean;
  /** Outbound HTTP with a deadline, error classification and request/response snapshots. */
  http: HttpClient;
  /** Records the target-shaped data the step will send (the `mapped` snapshot). */
  mapped(data: unknown): void;
  /**
   * Outputs of earlier steps of the same transfer on this step's own connection, by step index
   * (a step on another connection is undefined: what it made is not in this one's books).
   */
  previous: ReadonlyArray<ActionResult | undefined>;
  /**
   * What this same step (the same reference) returned when it last succeeded, when its transfer
   * runs again from the start (an update's re-run, a replay); absent on a first run. For an effect
   * no record in the target shows, such as an e-mail sent.
   */
  prior?: ActionResult;
  /**
   * Completed steps of the order's other transfers, oldest first: how a credit note finds the
   * invoice a paid-stage flow made, or an invoice the order a created-stage flow made.
   */
  history: ReadonlyArray<StepHistoryEntry>;
  /**
   * The order the step is for (from its order's object). Absent in contexts built by hand; then
   * `unfinishedSteps` finds the order through the transfer log.
   */
  order?: OrderKey;
  /** Bindings a built-in connector may use (the sandbox ledger keeps its books in D1). */
  env: Env;
  /**
   * Runs `work` while no other step of this connection runs work under the same key: how a
   * find-or-create (a customer or contact by the buyer's email ...) stays one record when two
   * orders need it at once. Absent where steps cannot overlap (no gate, contexts built by hand).
   */
  exclusive?: <T>(key: string, work: () => Promise<T>) => Promise<T>;
}

/** `work` under `ctx.exclusive` when the context has it; as it is otherwise. */
export function oneAtATime<T>(
  ctx: Pick<ActionContext<unknown, unknown, unknown>, "exclusive">,
  key: string,
  work: () => Promise<T>,
): Promise<T> {
  return ctx.exclusive ? ctx.exclusive(key, work) : work();
}

/** One order at its source, as the transfer log keys it. */
export interface OrderKey {
  tenantId: string;
  sourceConnectionId: string;
  orderId: string;
}

export interface StepHistoryEntry {
  transferId: string;
  stage: Stage;
  occurrence: string;
  stepIndex: number;
  /** Target connection id and action of the step. */
  target: string;
  action: string;
  result: ActionResult;
}

export interface ActionResult {
  /** Id of the record in the target system (invoice number, customer number ...). */
  externalId: string;
  /** True when this attempt created the record; false when it adopted one made before. */
  created: boolean;
  outputs: Record<string, unknown>;
}

export interface TargetAction<S extends z.ZodType = z.ZodType, C = unknown, CS = unknown> {
  description: string;
  /** Settings of a step that runs this action, validated when a flow is saved. */
  settings: S;
  /**
   * Settings that decide where the action looks for what it made before (a prefix written into
   * the reference it searches for, the journal it searches). Changed after the step ran, the step
   * would look elsewhere, find nothing and make it again: a retry with the flow's current settings
   * is refused then (OrderDO's retry guard; `changedIdentitySetting`).
   */
  identitySettings?: readonly string[];
  /**
   * The only stages whose flows may run this action (a credit note needs the refund that only a
   * refunded flow's input carries); a flow on another stage is refused when it is saved. Absent: any.
   */
  stages?: readonly Stage[];
  /** Why only those stages, for the refusal (default: it needs what only their input carries, such as the refund). */
  stagesWhy?: string;
  run(ctx: ActionContext<z.infer<S>, C, CS>, input: TransferInput): Promise<ActionResult>;
}

/** An identity setting whose value differs between two configurations of the same step, if any. */
export function changedIdentitySetting(
  keys: readonly string[],
  before: Readonly<Record<string, unknown>>,
  after: Readonly<Record<string, unknown>>,
): { key: string; before: unknown; after: unknown } | undefined {
  // Absent, null and "" all mean "not set" (an empty prefix writes the same reference as none).
  const value = (settings: Readonly<Record<string, unknown>>, key: string) => {
    const v = Object.hasOwn(settings, key) ? settings[key] : undefined;
    return v === null || v === "" ? undefined : v;
  };
  for (const key of keys) {
    const [was, now] = [value(before, key), value(after, key)];
    if (JSON.stringify(was) !== JSON.stringify(now)) return { key, before: was, after: now };
  }
  return undefined;
}

export interface Connector<CS extends z.ZodType = z.ZodType, CR extends z.ZodType = z.ZodType> {
  id: string;
  name: string;
  category: ConnectorCategory;
  /** Connection settings; every connector that calls an API has a `baseUrl` defaulting to the vendor's. */
  settings: CS;
  /** Write-only secrets of a connection; encrypted at rest and never shown again. */
  credentials: CR;
  source?: SourceHandlers;
  /**
   * Settings that name one shop's own account or address (a shop domain, a company id) or carry
   * its keys: a setup copied into another shop leaves them out, and says why (the value here).
   */
  notCopied?: Readonly<Record<string, string>>;
  /** The vendor's documented (or prudent) limits; every step to a connection of this connector keeps them. */
  limits?: { ratePerSecond: number; burst?: number; concurrency?: number };
  // biome-ignore lint/suspicious/noExplicitAny: each action narrows its own settings type.
  actions?: Record<string, TargetAction<any, z.infer<CR>, z.infer<CS>>>;
}

/** Helper that keeps an action's settings type tied to its schema. */
export function defineAction<S extends z.ZodType, C, CS>(action: TargetAction<S, C, CS>): TargetAction<S, C, CS> {
  return action;
}
