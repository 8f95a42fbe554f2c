/**
 * The reconciliation sweep: Orderly learns of orders by webhook, and a webhook can be lost for good
 * (Shopify gives up after 8 tries over 4 hours and may delete the subscription; WooCommerce never
 * retries and disables a webhook after 5 failures). Both vendors advise a periodic pull. For each
 * source connection with `reconcile` on, the cron asks the shop every RECONCILE_INTERVAL_MS for the
 * orders changed since its checkpoint (less RECONCILE_OVERLAP_MS, for clock skew and late commits),
 * oldest first, and hands each to takeDelivery (routes/hooks.ts), exactly as a webhook after its
 * signature check, under a delivery id made of the order and its version. The order's Durable
 * Object dedupes by delivery id and never runs a flow twice for a stage, so an order the webhooks
 * brought makes no second transfer; one they missed runs its flows as if it had just come.
 *
 * An order is handed on only when its object holds no version as new as the one listed (asked of
 * the object, describe()): the overlap of windows and the webhooks' own deliveries cost no inbox
 * row and no second event. A Shopify order's refunds are handed on after it, each as its
 * refunds/create delivery, when the object holds fewer refunds of that time than the order lists.
 *
 * The sweep is its own cron part, bounded per run by a budget (D1 queries, subrequests, time, kept
 * orders) rather than a number of connections; a window not read to its end goes on from its
 * cursor next run, and the checkpoint moves only when a window was read to its end. What a run
 * found is kept per connection (reconcile_state) for the connection's page, with running totals;
 * orders a webhook missed (no event at all, or a later stage than the object had) and a sweep that
 * keeps failing are alerted through the tenant's grouped alerts (alert_state, its window).
 */
import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { createHttpClient } from "../connectors/http";
import { shopifySweep } from "../connectors/shopify/shopify.reconcile";
import { woocommerceSweep } from "../connectors/woocommerce/woocommerce.reconcile";
import { database } from "../db/client";
import { type LoadedConnection, loadConnection } from "../db/connections";
import { reconcileState } from "../db/schema";
import { OrderlyError } from "../domain/errors";
import { isLadderStage, ladderRank, type Stage, type StageState } from "../domain/stage";
import { orderObjectName, orderStub } from "../durable/order-types";
import { alertSample, connectionPage, pageLink } from "../notifications/alert-emails";
import { notificationConfig } from "../notifications/notification-config";
import { raiseAlert } from "../notifications/notify-tenant";
import { alertRefusedDelivery } from "../notifications/refused-alerts";
import { runtimeConfig } from "./config";
import { type Refusal, storeRefusedDelivery } from "./kept-deliveries";
import type { FoundOrder, FoundRefund, SweepSource, SweepWindow } from "./reconcile-source";
import { textFetch } from "./reconcile-source";
import { takeDelivery } from "./routes/hooks";

/** The sources that can be swept, by connector id. */
export const SWEEP_SOURCES: Readonly<Record<string, SweepSource>> = {
  shopify: shopifySweep,
  woocommerce: woocommerceSweep,
};

/** How often a connection is swept (the cron runs every 5 minutes; a connection is due this long after its last run). */
export const RECONCILE_INTERVAL_MS = 15 * 60_000;
/** A new window starts this long before the last one ended: clock skew, and orders committed late. */
export const RECONCILE_OVERLAP_MS = 10 * 60_000;
/** Orders changed this recently are left for the next window: their webhooks may still be on the way. */
export const RECONCILE_SETTLE_MS = 5 * 60_000;
/** The first sweep of a connection looks this far back (never before the connection was made). */
export const RECONCILE_FIRST_LOOKBACK_MS = 24 * 3_600_000;
/**
 * What one run (its own cron part, beside the stuck-transfer sweeper and the notifications in the
 * 5-minute invocation, which has 1,000 D1 queries and 10,000 subrequests in all) may spend. A
 * connection is started, and a page read, only while the most it can cost still fits.
 */
export const RECONCILE_BUDGET = {
  /** D1 queries: a quiet connection takes 3 (claim, load, record), a kept order or an alert a few more. */
  queries: 350,
  /** Subrequests: a page is one call to the shop, one to each listed order's object, one per take. */
  subrequests: 5_000,
  /** No connection is started, and no page read, after the run has taken this long. */
  ms: 3 * 60_000,
  /** Orders kept (could not be taken) per run: each is a dead letter, an R2 write maybe, and an alert. */
  kept: 50,
};
/** Connections a run considers, oldest due first; the budget decides how many it sweeps. */
export const RECONCILE_DUE_PER_RUN = 500;
/** Pages read per connection and run (250 Shopify orders, 100 WooCommerce orders a page). */
export const RECONCILE_PAGES_PER_RUN = 4;
/** Orders taken per cron run, over all connections: each is a Durable Object call or two. */
export const RECONCILE_ORDERS_PER_RUN = 1_000;
/** A page that fails this often (not a rate limit, an outage or refused credentials) restarts its window from the checkpoint. */
export const RECONCILE_PAGE_FAILS = 3;
/** Runs in a row failing with the same error before the tenant is alerted (refused credentials: at once). */
export const RECONCILE_FAILING_RUNS = 3;
/** D1 queries a connection's run takes at most, besides kept orders and alerts. */
const CONNECTION_QUERIES = 4;
/** Objects asked at once whether they hold an order's version. */
const ASK_AT_ONCE = 25;
/** A run claims its connection for this long: another cron run overlapping it leaves it alone. */
const CLAIM_MS = 10 * 60_000;
/** After a 429 without Retry-After. */
const RATE_LIMITED_WAIT_MS = 60_000;
/** Order numbers named in the alert and on the page. */
const NAMED_ORDERS = 5;

/** Where a window is being read: its bounds and the page it goes on from (null: its first). */
interface Cursor extends SweepWindow {
  page: unknown;
}

/** What one run of one connection found. */
export interface SweepResult {
  connectionId: string;
  outcome: "ok" | "partial" | "error";
  looked: number;
  /** Orders a webhook missed: none of their events had reached Orderly, or not their stage or refund. */
  found: string[];
  kept: number;
  error?: { code: string; message: string };
}

/** What a run may still spend (RECONCILE_BUDGET), over all its connections. */
interface RunBudget {
  queries: number;
  subrequests: number;
  orders: number;
  kept: number;
  until: number;
}

/**
 * Sweeps the connections that are due (only those of `only` when given); returns how many were
 * swept. Never throws for one connection.
 */
export async function reconcileSources(env: Env, now = Date.now(), only?: readonly string[]): Promise<number> {
  const budget: RunBudget = {
    queries: RECONCILE_BUDGET.queries - 1,
    subrequests: RECONCILE_BUDGET.subrequests,
    orders: RECONCILE_ORDERS_PER_RUN,
    kept: RECONCILE_BUDGET.kept,
    until: Date.now() + RECONCILE_BUDGET.ms,
  };
  const due = await dueConnections(env, now, only);
  let swept = 0;
  for (const row of due) {
    if (!canStart(budget)) {
      console.warn(`reconcile: ${due.length - swept} due connections left for the next run (budget)`);
      break;
    }
    try {
      if (await sweepConnection(env, row, now, budget)) swept++;
    } catch (error) {
      console.error("reconcile: a connection's sweep failed; the next run tries again", {
        connectionId: row.id,
        error: String(error),
      });
    }
  }
  return swept;
}

/** Whether the budget still holds a connection's run with at least one full page of the largest source. */
function canStart(budget: RunBudget): boolean {
  const page = Math.max(...Object.values(SWEEP_SOURCES).map((s) => pageCost(s)));
  return (
    budget.queries >= CONNECTION_QUERIES &&
    budget.subrequests >= page &&
    budget.orders > 0 &&
    budget.kept > 0 &&
    Date.now() < budget.until
  );
}

/** Subrequests a page may take: the list (and a token), each order's object, its take, and a refund's. */
const pageCost = (source: SweepSource) => 2 + 3 * source.pageSize;

interface DueRow {
  id: string;
  tenantId: string;
  createdAt: number;
}

async function dueConnections(env: Env, now: number, only?: readonly string[]): Promise<DueRow[]> {
  const { results } = await env.DB.prepare(
    `SELECT c.id, c.tenant_id AS tenantId, c.created_at AS createdAt FROM connections c
       LEFT JOIN reconcile_state r ON r.connection_id = c.id
     WHERE c.connector IN (SELECT value FROM json_each(?1)) AND c.enabled = 1
       AND json_extract(c.settings, '$.reconcile') = 1 AND COALESCE(r.next_run_at, 0) <= ?2
       AND (?4 IS NULL OR c.id IN (SELECT value FROM json_each(?4)))
     ORDER BY COALESCE(r.next_run_at, 0) LIMIT ?3`,
  )
    .bind(JSON.stringify(Object.keys(SWEEP_SOURCES)), now, RECONCILE_DUE_PER_RUN, only ? JSON.stringify(only) : null)
    .all<DueRow>();
  return results;
}

/**
 * Claims the connection for this run (no other run holds it), and returns its checkpoint and
 * cursor; null when another run has it.
 */
interface Claimed {
  checkpoint: number | null;
  cursor: Cursor | null;
  pageFails: number;
  failRuns: number;
  lastErrorCode: string | null;
  missedDays: Record<string, number>;
}

async function claim(env: Env, row: DueRow, now: number): Promise<Claimed | null> {
  const claimed = await env.DB.prepare(
    `INSERT INTO reconcile_state (connection_id, tenant_id, next_run_at, updated_at) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (connection_id) DO UPDATE SET next_run_at = ?3, updated_at = ?4 WHERE reconcile_state.next_run_at <= ?4
     RETURNING checkpoint, cursor, page_fails AS pageFails, fail_runs AS failRuns, last_error_code AS lastErrorCode,
       missed_days AS missedDays`,
  )
    .bind(row.id, row.tenantId, now + CLAIM_MS, now)
    .first<{
      checkpoint: number | null;
      cursor: string | null;
      pageFails: number;
      failRuns: number;
      lastErrorCode: string | null;
      missedDays: string | null;
    }>();
  if (!claimed) return null;
  return { ...claimed, cursor: readCursor(claimed.cursor), missedDays: readDays(claimed.missedDays) };
}

const daysSchema = z.record(z.string(), z.number().int().min(0));

function readDays(text: string | null): Record<string, number> {
  try {
    return daysSchema.safeParse(JSON.parse(text ?? "{}")).data ?? {};
  } catch {
    return {};
  }
}

/** The per-day counts with this run's added, days older than those kept dropped. */
function addDay(days: Record<string, number>, at: number, n: number): Record<string, number> {
  const oldest = day(at - (KEPT_DAYS - 1) * 86_400_000);
  const kept = Object.fromEntries(Object.entries(days).filter(([d]) => d >= oldest));
  if (n > 0) kept[day(at)] = (kept[day(at)] ?? 0) + n;
  return kept;
}

function readCursor(text: string | null): Cursor | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<Cursor>;
    return typeof value.from === "number" && typeof value.to === "number"
      ? { from: value.from, to: value.to, page: value.page ?? null }
      : null;
  } catch {
    return null;
  }
}

/** One connection's run: read, take, record, alert. False when another run holds it. */
async function sweepConnection(env: Env, row: DueRow, now: number, budget: RunBudget): Promise<boolean> {
  budget.queries -= 3;
  const state = await claim(env, row, now);
  if (!state) return false;
  const result: SweepResult = { connectionId: row.id, outcome: "ok", looked: 0, found: [], kept: 0 };
  let checkpoint = state.checkpoint;
  let cursor = state.cursor;
  let pageFails = state.pageFails;
  let nextRunAt = now + RECONCILE_INTERVAL_MS;
  const connection = await loadConnection(env, row.id, row.tenantId);
  const source = connection ? SWEEP_SOURCES[connection.connector.id] : undefined;
  const access =
    !connection || !source
      ? null
      : connection.unreadable?.parts.includes("credentials")
        ? ({
            ok: false,
            code: "reconcile_credentials_unreadable",
            reason: `${connection.unreadable.reason} The reconciliation sweep waits until then.`,
          } as const)
        : source.access(connection.settings, connection.credentials);
  if (!connection || !source || !access) return false;
  let failure: unknown;
  if (!access.ok) {
    result.outcome = "error";
    result.error = { code: access.code, message: access.reason };
  } else {
    const window: Cursor = cursor ?? {
      from: checkpoint !== null ? checkpoint - RECONCILE_OVERLAP_MS : Math.max(row.createdAt, now - RECONCILE_FIRST_LOOKBACK_MS),
      to: now - RECONCILE_SETTLE_MS,
      page: null,
    };
    const http = createHttpClient({
      timeoutMs: runtimeConfig(env).outboundTimeoutMs,
      vendor: source.vendor,
      redact: source.redact,
      fetch: textFetch,
    });
    let pages = 0;
    try {
      while (window.to > window.from) {
        const page = await access.read(http, window, window.page);
        budget.subrequests -= 1;
        pages++;
        const done = await takeOrders(env, connection, page.orders, result, budget);
        // Kept orders hit the run's cap mid-page: the page is read again next run (what was taken is skipped then).
        if (!done) {
          result.outcome = "partial";
          break;
        }
        budget.orders -= page.orders.length;
        window.page = page.next;
        pageFails = 0;
        if (page.next === null) break;
        if (page.slowDown || pages >= RECONCILE_PAGES_PER_RUN || budget.orders <= 0 || !canReadPage(budget, source)) {
          result.outcome = "partial";
          break;
        }
      }
      if (result.outcome === "partial") {
        cursor = window;
        // The rest of the window on the next cron run, not in 15 minutes.
        nextRunAt = now;
      } else {
        // Read to its end: only now does the checkpoint move.
        checkpoint = window.to;
        cursor = null;
      }
    } catch (error) {
      failure = error;
      result.outcome = "error";
      result.error = describe(error, source);
      // The pages read so far are taken; the window goes on from the page that failed.
      cursor = window;
      nextRunAt = retryAt(error, now);
      // A page that cannot be read (a bad next link, an answer that is not a list, an expired
      // page_info) fails the same way every run: after a few, the window starts again from the checkpoint.
      if (permanent(error) && ++pageFails >= RECONCILE_PAGE_FAILS) {
        console.warn("reconcile: a page failed too often; its window starts again from the checkpoint", {
          connectionId: row.id,
          error: result.error.code,
        });
        cursor = null;
        pageFails = 0;
      }
    }
  }
  const failRuns = !result.error ? 0 : result.error.code === state.lastErrorCode ? state.failRuns + 1 : 1;
  const missedDays = addDay(state.missedDays, now, result.found.length);
  await record(env, row, result, { checkpoint, cursor, nextRunAt, at: now, pageFails, failRuns, missedDays });
  if (result.found.length > 0) {
    budget.queries -= 3;
    await alertMissed(env, connection, result, now);
  }
  const refused = failure instanceof OrderlyError && failure.errorClass === "auth";
  if (result.error && (refused || failRuns >= RECONCILE_FAILING_RUNS)) {
    budget.queries -= 3;
    await alertFailing(env, connection, result.error, failRuns, now);
  }
  console.info("reconcile: swept", {
    connectionId: row.id,
    outcome: result.outcome,
    looked: result.looked,
    missed: result.found.length,
    kept: result.kept,
    error: result.error?.code,
  });
  return true;
}

/** Whether another page of this source still fits the run's budget. */
function canReadPage(budget: RunBudget, source: SweepSource): boolean {
  return budget.subrequests >= pageCost(source) && budget.queries >= 2 && budget.kept > 0 && Date.now() < budget.until;
}

/** An error a later run of the same page would meet again: not a rate limit, an outage, a timeout or refused credentials. */
function permanent(error: unknown): boolean {
  if (!(error instanceof OrderlyError)) return true;
  return !["rate_limited", "unavailable", "timeout", "auth"].includes(error.errorClass);
}

/** What an order's object holds: its newest order version, its stage, and its refunds by time. */
interface Held {
  events: number;
  /** The newest version of the order itself (refund events aside); null before any. */
  version: number | null;
  stage: StageState;
  /** Refund events by version (a Shopify refund's version is its creation time). */
  refunds: Map<number, number>;
}

/**
 * Hands the page's orders to the webhook's intake, each only when its object holds no version as
 * new (so the overlap and the webhooks' own deliveries cost nothing), and its refunds after it.
 * Counts what a webhook missed, keeps what cannot be taken. False when the run's kept orders ran
 * out before the page's end (the page is read again next run).
 */
async function takeOrders(
  env: Env,
  connection: LoadedConnection,
  orders: FoundOrder[],
  result: SweepResult,
  budget: RunBudget,
): Promise<boolean> {
  // Asked before they are handed on: afterwards every one of them would be held.
  const held = await heldOrders(env, connection, orders);
  budget.subrequests -= held.size;
  const waitUntil = (promise: Promise<unknown>) => {
    promise.catch((error) => console.error("reconcile: background work failed", String(error)));
  };
  for (const order of orders) {
    if (budget.kept <= 0) return false;
    result.looked++;
    const before = held.get(order.orderId);
    const newer =
      before === undefined ||
      before === null ||
      before.version === null ||
      order.changedAt === 0 ||
      order.changedAt > before.version;
    if (newer) {
      budget.subrequests -= 1;
      const taken = await takeDelivery({ env, waitUntil, connection, delivery: order.delivery, replay: true });
      if ("refused" in taken)
        await keep(env, connection, sweepKey(order), order.label, order.delivery, taken.refused, result, budget);
      else if ("taken" in taken && taken.taken.accepted > 0 && before !== null) {
        const missed = missedStage(connection, order, before);
        if (missed) result.found.push(missed);
      }
    }
    for (const refund of refundsToTake(order.refunds ?? [], before)) {
      if (budget.kept <= 0) return false;
      budget.subrequests -= 1;
      const taken = await takeDelivery({ env, waitUntil, connection, delivery: refund.delivery, replay: true });
      const label = `${order.label} (refund ${refund.refundId})`;
      if ("refused" in taken)
        await keep(env, connection, `reconcile:refund:${refund.refundId}`, label, refund.delivery, taken.refused, result, budget);
      else if ("taken" in taken && taken.taken.accepted > 0 && before !== null) result.found.push(label);
    }
  }
  return true;
}

/** One key per order version the sweep found: the kept row's, so a version refused once is kept once. */
const sweepKey = (order: FoundOrder) => `reconcile:${order.orderId}:${order.changedAt}`;

/**
 * How a taken order is named among those a webhook missed, or null when none was: the order as
 * the shop names it when its object held no event at all, with its stage when the object held the
 * order at an earlier stage (a lost orders/paid, say). `before` undefined: never seen.
 */
function missedStage(connection: LoadedConnection, order: FoundOrder, before: Held | undefined): string | null {
  if (!before || before.events === 0) return order.label;
  let stage: Stage | undefined;
  try {
    const parsed = connection.connector.source?.parse(order.delivery, connection.settings);
    stage = parsed && !("ignored" in parsed) ? parsed.find((e) => e.object.type === "order")?.stage : undefined;
  } catch {
    return null;
  }
  if (!stage) return null;
  const later =
    stage === "cancelled"
      ? !before.stage.cancelled
      : isLadderStage(stage) && !before.stage.cancelled && ladderRank(stage) > ladderRank(before.stage.reached);
  return later ? `${order.label} (${stage})` : null;
}

/** The refunds its object does not hold yet: fewer refund events of that time than the order lists. */
function refundsToTake(refunds: FoundRefund[], before: Held | null | undefined): FoundRefund[] {
  if (refunds.length === 0) return [];
  if (!before) return refunds;
  const listed = new Map<number, number>();
  for (const r of refunds) listed.set(r.version, (listed.get(r.version) ?? 0) + 1);
  return refunds.filter((r) => (before.refunds.get(r.version) ?? 0) < (listed.get(r.version) ?? 0));
}

/**
 * What each order's object holds (one call per order, a few at a time). undefined: an id the
 * page could not read; null: the object could not be asked, so the order is taken (a duplicate
 * changes nothing) but not counted as missed: an alert of missed webhooks that were not missed
 * would send the merchant looking for nothing.
 */
async function heldOrders(env: Env, connection: LoadedConnection, orders: FoundOrder[]): Promise<Map<string, Held | null>> {
  const ids = [...new Set(orders.map((o) => o.orderId).filter((id) => id !== ""))];
  const held = new Map<string, Held | null>();
  for (let i = 0; i < ids.length; i += ASK_AT_ONCE) {
    await Promise.all(
      ids.slice(i, i + ASK_AT_ONCE).map(async (id) => {
        try {
          const order = await orderStub(env, orderObjectName(connection.id, id)).describe();
          const refunds = new Map<number, number>();
          let version: number | null = null;
          for (const e of order.events) {
            if (e.stage === "refunded") refunds.set(e.version, (refunds.get(e.version) ?? 0) + 1);
            else version = Math.max(version ?? e.version, e.version);
          }
          held.set(id, { events: order.events.length, version, stage: order.stage, refunds });
        } catch (error) {
          console.warn("reconcile: could not ask an order's object what it holds", { id, error: String(error) });
          held.set(id, null);
        }
      }),
    );
  }
  return held;
}

/**
 * An order the intake refused (unreadable, too large, another site ...) is kept under "Kept, not
 * processed" as a refused webhook is, and alerted the same way, once per version: a later window
 * (the overlap) finding the same version again finds its kept row (`sweepKey` in its body) and
 * keeps nothing more. The kept row replays through the same intake once its cause is gone.
 */
async function keep(
  env: Env,
  connection: LoadedConnection,
  key: string,
  label: string,
  delivery: FoundOrder["delivery"],
  refusal: Refusal,
  result: SweepResult,
  budget: RunBudget,
): Promise<void> {
  budget.queries -= 1;
  const before = await env.DB.prepare(
    `SELECT id FROM dead_letters WHERE tenant_id = ?1 AND json_extract(body, '$.connectionId') = ?2
       AND json_extract(body, '$.sweepKey') = ?3 LIMIT 1`,
  )
    .bind(connection.tenantId, connection.id, key)
    .first<{ id: number }>();
  if (before) return;
  budget.queries -= 4;
  budget.kept -= 1;
  result.kept++;
  const reason = `Found by the reconciliation sweep (its webhook never reached Orderly). ${refusal.reason}`;
  const row = await storeRefusedDelivery(env, {
    connection,
    body: delivery.body,
    contentType: "application/json",
    headers: Object.fromEntries(delivery.headers),
    refusal: { ...refusal, order: refusal.order ?? label },
    verified: true,
    reason,
    extra: { sweepKey: key },
  });
  console.warn("reconcile: order kept, not taken", {
    connectionId: connection.id,
    deadLetterId: row.id,
    code: refusal.code,
    reason: refusal.reason,
  });
  await alertRefusedDelivery(env, {
    tenantId: connection.tenantId,
    connectionId: connection.id,
    deadLetterId: row.id,
    order: refusal.order ?? label,
    reason,
  });
}

/** A failed read as the merchant reads it on the connection's page. */
function describe(error: unknown, source: SweepSource): { code: string; message: string } {
  if (!(error instanceof OrderlyError)) return { code: "reconcile_failed", message: `The sweep failed: ${String(error)}` };
  switch (error.errorClass) {
    case "auth":
      return { code: "reconcile_auth_refused", message: `${source.refused} (${error.message})` };
    case "rate_limited":
      return {
        code: "reconcile_rate_limited",
        message: `${source.vendor} asked Orderly to slow down (429); the sweep waits ${error.retryAfterSeconds ?? RATE_LIMITED_WAIT_MS / 1000} seconds, then goes on where it stopped.`,
      };
    case "unavailable":
    case "timeout":
      return { code: error.code, message: `${error.message} The sweep goes on where it stopped at its next run.` };
    default:
      return { code: error.code, message: error.message };
  }
}

/** When a connection whose read failed is tried again: a 429's wait, else the next cron run (a 5xx may pass) or the interval. */
function retryAt(error: unknown, now: number): number {
  if (!(error instanceof OrderlyError)) return now;
  if (error.errorClass === "rate_limited")
    return now + (error.retryAfterSeconds === undefined ? RATE_LIMITED_WAIT_MS : error.retryAfterSeconds * 1000);
  if (error.errorClass === "unavailable" || error.errorClass === "timeout") return now;
  // Credentials or settings to fix: tried again at the usual interval.
  return now + RECONCILE_INTERVAL_MS;
}

/** Days the page's weekly total covers. */
const WEEK_DAYS = 7;
/**
 * Days the per-day counts are kept: a week and the day before it, so a weekly report sent on the
 * day after its week still finds that week's first day.
 */
const KEPT_DAYS = WEEK_DAYS + 1;
const day = (at: number) => new Date(at).toISOString().slice(0, 10);

async function record(
  env: Env,
  row: DueRow,
  result: SweepResult,
  next: {
    checkpoint: number | null;
    cursor: Cursor | null;
    nextRunAt: number;
    at: number;
    pageFails: number;
    failRuns: number;
    missedDays: Record<string, number>;
  },
): Promise<void> {
  const failed = result.error;
  const n = result.found.length;
  await database(env)
    .update(reconcileState)
    .set({
      checkpoint: next.checkpoint,
      cursor: next.cursor as Record<string, unknown> | null,
      nextRunAt: next.nextRunAt,
      lastRunAt: next.at,
      lastOutcome: result.outcome,
      lastLooked: result.looked,
      lastNew: n,
      lastNewOrders: result.found.slice(0, NAMED_ORDERS),
      lastKept: result.kept,
      lastError: failed?.message ?? null,
      lastErrorCode: failed?.code ?? null,
      lastErrorAt: failed ? next.at : null,
      failRuns: next.failRuns,
      pageFails: next.pageFails,
      missedTotal: sql`${reconcileState.missedTotal} + ${n}`,
      missedDays: next.missedDays,
      onSince: sql`COALESCE(${reconcileState.onSince}, ${next.at})`,
      updatedAt: Date.now(),
    })
    .where(and(eq(reconcileState.connectionId, row.id), eq(reconcileState.tenantId, row.tenantId)));
}

/** Alert topics of the sweep (alert_state), one per connection: orders it found missed, and a sweep that keeps failing. */
export const missedTopic = (connectionId: string) => `reconcile:${connectionId}`;
export const failingTopic = (connectionId: string) => `reconcile-failing:${connectionId}`;

/**
 * A run that found orders the webhooks missed, through the tenant's grouped alerts: the first of a
 * window is mailed at once, the rest of the window in one grouped email at its end (ALERT_WINDOW_MINUTES).
 */
async function alertMissed(env: Env, connection: LoadedConnection, result: SweepResult, at: number): Promise<void> {
  const n = result.found.length;
  const named = result.found.slice(0, NAMED_ORDERS).join(", ");
  const more = n > NAMED_ORDERS ? ` and ${n - NAMED_ORDERS} more` : "";
  const vendor = connection.connector.name;
  const windowMs = notificationConfig(env).alertWindowMs;
  try {
    await raiseAlert(
      env,
      {
        tenantId: connection.tenantId,
        topic: missedTopic(connection.id),
        at,
        sample: alertSample(
          named + more,
          `${n} order${n === 1 ? "" : "s"} (or stages, refunds) no webhook brought; taken by the reconciliation sweep`,
        ),
        first: () => ({
          subject: `${n} order${n === 1 ? "" : "s"} from "${connection.name}" had not reached Orderly by webhook`,
          text: [
            `Orderly's reconciliation sweep asked ${vendor} for its recent orders and found ${n} that no webhook had brought (or brought only at an earlier stage): ${named}${more}. They have now been taken as if their webhooks had arrived, and their flows run as usual (nothing is booked twice).`,
            `Webhooks that go missing usually mean the webhook in ${vendor} failed, was disabled or was deleted (${vendor === "WooCommerce" ? "WooCommerce disables a webhook after 5 failed deliveries in a row" : "Shopify may remove a webhook after repeated failures"}). Check the webhooks in ${vendor} against the setup steps on the connection's page: ${pageLink(connectionPage(connection.id, connection.name))}`,
            `More found within ${windowMs / 60_000} minutes come in one email at the end of that time; the connection's page keeps the running total.`,
          ].join("\n\n"),
        }),
      },
      windowMs,
    );
  } catch (error) {
    console.error("reconcile: missed-orders alert not sent now; the outbox keeps it", {
      connectionId: connection.id,
      error: String(error),
    });
  }
}

/**
 * A sweep that keeps failing (the same error RECONCILE_FAILING_RUNS runs in a row, or refused
 * credentials at once): the reason and what to do, once per alert window through the grouped path.
 */
async function alertFailing(
  env: Env,
  connection: LoadedConnection,
  error: { code: string; message: string },
  runs: number,
  at: number,
): Promise<void> {
  const windowMs = notificationConfig(env).alertWindowMs;
  try {
    await raiseAlert(
      env,
      {
        tenantId: connection.tenantId,
        topic: failingTopic(connection.id),
        at,
        sample: alertSample(
          null,
          `reconciliation sweep failed (${error.code}, ${runs} run${runs === 1 ? "" : "s"} in a row): ${error.message}`,
        ),
        first: () => ({
          subject: `The reconciliation sweep of "${connection.name}" is failing`,
          text: [
            `Orderly's reconciliation sweep could not read the orders of "${connection.name}" (${runs} run${runs === 1 ? "" : "s"} in a row): ${error.message}`,
            `Until it reads them again, an order whose webhook is lost is not found. What to do is in the message above; the connection's page shows the sweep's last error: ${pageLink(connectionPage(connection.id, connection.name))}`,
          ].join("\n\n"),
        }),
      },
      windowMs,
    );
  } catch (failure) {
    console.error("reconcile: failing-sweep alert not sent now", { connectionId: connection.id, error: String(failure) });
  }
}

/**
 * A source's reconcile settings or credentials changed (the PATCH route): switched on again after
 * being off, or new credentials, the sweep starts from now (checkpoint now less the overlap, no
 * cursor, no failure streak) rather than read the months it was off or failing, unannounced.
 * Switched on again also starts its running totals afresh. A connection never swept has no row:
 * its first run looks back RECONCILE_FIRST_LOOKBACK_MS, as documented.
 */
export async function reconcileSettingsChanged(
  env: Env,
  change: { connectionId: string; tenantId: string; connector: string; wasOn: boolean; isOn: boolean; credentials: boolean },
  now = Date.now(),
): Promise<void> {
  if (!SWEEP_SOURCES[change.connector] || !change.isOn) return;
  const switchedOn = !change.wasOn;
  if (!switchedOn && !change.credentials) return;
  await database(env)
    .update(reconcileState)
    .set({
      checkpoint: now - RECONCILE_OVERLAP_MS,
      cursor: null,
      nextRunAt: 0,
      pageFails: 0,
      failRuns: 0,
      lastError: null,
      lastErrorCode: null,
      lastErrorAt: null,
      ...(switchedOn ? { missedTotal: 0, missedDays: {}, onSince: now } : {}),
      updatedAt: now,
    })
    .where(and(eq(reconcileState.connectionId, change.connectionId), eq(reconcileState.tenantId, change.tenantId)));
}

/** Orders a webhook missed in the last 7 days, from the row's per-day counts. */
export function missedThisWeek(status: ReconcileStatus, now = Date.now()): number {
  const oldest = day(now - (WEEK_DAYS - 1) * 86_400_000);
  return Object.entries(status.missedDays).reduce((sum, [d, n]) => (d >= oldest ? sum + n : sum), 0);
}

/**
 * Orders a webhook missed on the UTC days from `start`'s up to (not including) `end`'s, of the days
 * the row keeps at `now` (the last 8): the count and the first and last day counted, or null when
 * the row keeps none of them. Consecutive periods so count each day once.
 */
export function missedOnDays(
  missedDays: Record<string, number>,
  start: number,
  end: number,
  now: number,
): { missed: number; from: string; to: string } | null {
  const from = day(Math.max(start, now - (KEPT_DAYS - 1) * 86_400_000));
  const to = day(Date.parse(`${day(end)}T00:00:00Z`) - 1);
  if (from > to) return null;
  const missed = Object.entries(missedDays).reduce((sum, [d, n]) => (d >= from && d <= to ? sum + n : sum), 0);
  return { missed, from, to };
}

export type ReconcileStatus = typeof reconcileState.$inferSelect;

/**
 * What the connection's page shows of its sweep; null before its first run. Scoped to the tenant;
 * without one (the page, which the route renders only for the tenant's own connection), to the
 * tenant the connection belongs to.
 */
export async function reconcileStatus(env: Env, connectionId: string, tenantId?: string): Promise<ReconcileStatus | null> {
  const tenant = tenantId ?? sql<string>`(SELECT tenant_id FROM connections WHERE id = ${connectionId})`;
  const row = await database(env)
    .select()
    .from(reconcileState)
    .where(and(eq(reconcileState.connectionId, connectionId), eq(reconcileState.tenantId, tenant)))
    .get();
  return row ?? null;
}
