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
 * Bounded per run (connections, pages, orders, time); a window not read to its end goes on from its
 * cursor next run, and the checkpoint moves only when a window was read to its end. What a run
 * found is kept per connection (reconcile_state) for the connection's page, and orders none of
 * whose events had reached Orderly (missed webhooks) are alerted to the tenant once per run.
 */
import { and, eq, sql } from "drizzle-orm";
import { createHttpClient } from "../connectors/http";
import { shopifySweep } from "../connectors/shopify/shopify.reconcile";
import { woocommerceSweep } from "../connectors/woocommerce/woocommerce.reconcile";
import { database } from "../db/client";
import { type LoadedConnection, loadConnection } from "../db/connections";
import { deadLetters, reconcileState } from "../db/schema";
import { OrderlyError } from "../domain/errors";
import { orderObjectName, orderStub } from "../durable/order-types";
import { connectionPage, pageLink } from "../notifications/alert-emails";
import { notifyTenant } from "../notifications/notify-tenant";
import { alertRefusedDelivery } from "../notifications/refused-alerts";
import { runtimeConfig } from "./config";
import type { FoundOrder, SweepSource, SweepWindow } from "./reconcile-source";
import { textFetch } from "./reconcile-source";
import { type Refusal, takeDelivery } from "./routes/hooks";

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
/** Connections swept per cron run: each costs about ten D1 queries of the notification invocation's 1,000. */
export const RECONCILE_CONNECTIONS_PER_RUN = 10;
/** Pages read per connection and run (250 Shopify orders, 100 WooCommerce orders a page). */
export const RECONCILE_PAGES_PER_RUN = 4;
/** Orders taken per cron run, over all connections: each is a Durable Object call or two. */
export const RECONCILE_ORDERS_PER_RUN = 1_000;
/** No connection is started after the run has taken this long. */
const RUN_TIME_BUDGET_MS = 3 * 60_000;
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
  /** Orders none of whose events had reached Orderly. */
  found: string[];
  kept: number;
  error?: { code: string; message: string };
}

/**
 * Sweeps the connections that are due (only those of `only` when given); returns how many were
 * swept. Never throws for one connection.
 */
export async function reconcileSources(env: Env, now = Date.now(), only?: readonly string[]): Promise<number> {
  const due = await dueConnections(env, now, only);
  const started = Date.now();
  const budget = { orders: RECONCILE_ORDERS_PER_RUN };
  let swept = 0;
  for (const row of due) {
    if (Date.now() - started > RUN_TIME_BUDGET_MS || budget.orders <= 0) break;
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
    .bind(JSON.stringify(Object.keys(SWEEP_SOURCES)), now, RECONCILE_CONNECTIONS_PER_RUN, only ? JSON.stringify(only) : null)
    .all<DueRow>();
  return results;
}

/**
 * Claims the connection for this run (no other run holds it), and returns its checkpoint and
 * cursor; null when another run has it.
 */
async function claim(env: Env, row: DueRow, now: number): Promise<{ checkpoint: number | null; cursor: Cursor | null } | null> {
  const claimed = await env.DB.prepare(
    `INSERT INTO reconcile_state (connection_id, tenant_id, next_run_at, updated_at) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (connection_id) DO UPDATE SET next_run_at = ?3, updated_at = ?4 WHERE reconcile_state.next_run_at <= ?4
     RETURNING checkpoint, cursor`,
  )
    .bind(row.id, row.tenantId, now + CLAIM_MS, now)
    .first<{ checkpoint: number | null; cursor: string | null }>();
  if (!claimed) return null;
  return { checkpoint: claimed.checkpoint, cursor: readCursor(claimed.cursor) };
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
async function sweepConnection(env: Env, row: DueRow, now: number, budget: { orders: number }): Promise<boolean> {
  const state = await claim(env, row, now);
  if (!state) return false;
  const result: SweepResult = { connectionId: row.id, outcome: "ok", looked: 0, found: [], kept: 0 };
  let checkpoint = state.checkpoint;
  let cursor = state.cursor;
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
        pages++;
        await takeOrders(env, connection, page.orders, result);
        budget.orders -= page.orders.length;
        window.page = page.next;
        if (page.next === null) break;
        if (page.slowDown || pages >= RECONCILE_PAGES_PER_RUN || budget.orders <= 0) {
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
      result.outcome = "error";
      result.error = describe(error, source);
      // The pages read so far are taken; the window goes on from the page that failed.
      cursor = window;
      nextRunAt = retryAt(error, now);
    }
  }
  await record(env, row, result, { checkpoint, cursor, nextRunAt, at: now });
  if (result.found.length > 0) await alertMissed(env, connection, result, now);
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

/** Each order through the webhook's intake; counts those Orderly had never seen, keeps those it cannot take. */
async function takeOrders(env: Env, connection: LoadedConnection, orders: FoundOrder[], result: SweepResult): Promise<void> {
  // Asked before they are handed on: afterwards every one of them would be known.
  const known = await knownOrders(env, connection, orders);
  const waitUntil = (promise: Promise<unknown>) => {
    promise.catch((error) => console.error("reconcile: background work failed", String(error)));
  };
  for (const order of orders) {
    const taken = await takeDelivery({ env, waitUntil, connection, delivery: order.delivery, replay: true });
    result.looked++;
    if ("refused" in taken) {
      await keep(env, connection, order, taken.refused);
      result.kept++;
    } else if ("taken" in taken && taken.taken.accepted > 0 && !known.has(order.orderId)) {
      result.found.push(order.label);
    }
  }
}

/**
 * The orders Orderly has had an event of: a transfer or an unplanned-order row names it (one query
 * for the page), else its Durable Object holds an event. An object that cannot be asked counts as
 * knowing it: an alert of missed webhooks that were not missed would send the merchant looking for
 * nothing.
 */
async function knownOrders(env: Env, connection: LoadedConnection, orders: FoundOrder[]): Promise<Set<string>> {
  const ids = [...new Set(orders.map((o) => o.orderId).filter((id) => id !== ""))];
  if (ids.length === 0) return new Set();
  const { results } = await env.DB.prepare(
    `SELECT order_id AS orderId FROM transfers WHERE tenant_id = ?1 AND source_connection_id = ?2
       AND order_id IN (SELECT value FROM json_each(?3))
     UNION SELECT order_id FROM unplanned_orders WHERE connection_id = ?2 AND order_id IN (SELECT value FROM json_each(?3))`,
  )
    .bind(connection.tenantId, connection.id, JSON.stringify(ids))
    .all<{ orderId: string }>();
  const known = new Set(results.map((r) => r.orderId));
  for (const id of ids) {
    if (known.has(id)) continue;
    try {
      const order = await orderStub(env, orderObjectName(connection.id, id)).describe();
      if (order.events.length > 0) known.add(id);
    } catch (error) {
      console.warn("reconcile: could not ask an order's object whether it knew the order", { id, error: String(error) });
      known.add(id);
    }
  }
  return known;
}

/**
 * An order the intake refused (unreadable, too large, another site ...) is kept under "Kept, not
 * processed" as a refused webhook is, and alerted the same way: the sweep will not see this version
 * again once its window is read, and the kept row replays through the same intake once its cause is gone.
 */
async function keep(env: Env, connection: LoadedConnection, order: FoundOrder, refusal: Refusal): Promise<void> {
  const receivedAt = Date.now();
  const { body, headers } = order.delivery;
  const inline = body.byteLength <= runtimeConfig(env).inlineBodyLimit;
  const text = inline ? new TextDecoder().decode(body) : null;
  const blobKey = inline ? null : `raw/${connection.tenantId}/${connection.id}/refused-${receivedAt}-${crypto.randomUUID()}`;
  if (blobKey) await env.BLOBS.put(blobKey, body, { httpMetadata: { contentType: "application/json" } });
  const reason = `Found by the reconciliation sweep (its webhook never reached Orderly). ${refusal.reason}`;
  const row = await database(env)
    .insert(deadLetters)
    .values({
      transferId: null,
      tenantId: connection.tenantId,
      body: {
        kind: "refused_delivery",
        code: refusal.code,
        verified: true,
        manual: refusal.manual === true,
        connectionId: connection.id,
        connector: connection.connector.id,
        order: refusal.order ?? order.label,
        receivedAt,
        headers: Object.fromEntries(headers),
        raw: { body: text, blobKey, size: body.byteLength },
      },
      reason,
      createdAt: receivedAt,
    })
    .returning({ id: deadLetters.id })
    .get();
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
    order: refusal.order ?? order.label,
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

async function record(
  env: Env,
  row: DueRow,
  result: SweepResult,
  next: { checkpoint: number | null; cursor: Cursor | null; nextRunAt: number; at: number },
): Promise<void> {
  const failed = result.error;
  await database(env)
    .update(reconcileState)
    .set({
      checkpoint: next.checkpoint,
      cursor: next.cursor as Record<string, unknown> | null,
      nextRunAt: next.nextRunAt,
      lastRunAt: next.at,
      lastOutcome: result.outcome,
      lastLooked: result.looked,
      lastNew: result.found.length,
      lastNewOrders: result.found.slice(0, NAMED_ORDERS),
      lastKept: result.kept,
      lastError: failed?.message ?? null,
      lastErrorCode: failed?.code ?? null,
      lastErrorAt: failed ? next.at : null,
      updatedAt: Date.now(),
    })
    .where(and(eq(reconcileState.connectionId, row.id), eq(reconcileState.tenantId, row.tenantId)));
}

/**
 * Once per run that found orders the webhooks missed: how many, and the first few. Through the
 * tenant's alert path, under a key of the connection and the run, so it is mailed once; a failed
 * send stays in the outbox, and the cron sends it again.
 */
async function alertMissed(env: Env, connection: LoadedConnection, result: SweepResult, at: number): Promise<void> {
  const n = result.found.length;
  const named = result.found.slice(0, NAMED_ORDERS).join(", ");
  const more = n > NAMED_ORDERS ? ` and ${n - NAMED_ORDERS} more` : "";
  const vendor = connection.connector.name;
  try {
    await notifyTenant(env, connection.tenantId, {
      key: `reconcile/${connection.id}/${at}`,
      subject: `${n} order${n === 1 ? "" : "s"} from "${connection.name}" had not reached Orderly by webhook`,
      text: [
        `Orderly's reconciliation sweep asked ${vendor} for its recent orders and found ${n} that no webhook had brought: ${named}${more}. They have now been taken as if their webhooks had arrived, and their flows run as usual (nothing is booked twice).`,
        `Webhooks that go missing usually mean the webhook in ${vendor} failed, was disabled or was deleted (${vendor === "WooCommerce" ? "WooCommerce disables a webhook after 5 failed deliveries in a row" : "Shopify may remove a webhook after repeated failures"}). Check the webhooks in ${vendor} against the setup steps on the connection's page: ${pageLink(connectionPage(connection.id, connection.name))}`,
      ].join("\n\n"),
    });
  } catch (error) {
    console.error("reconcile: missed-orders alert not sent now; the outbox keeps it", {
      connectionId: connection.id,
      error: String(error),
    });
  }
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
