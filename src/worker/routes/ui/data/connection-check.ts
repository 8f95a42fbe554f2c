/**
 * "Test connection", kept honest. Sources: is a secret set, does the connector refuse an unsigned
 * delivery, and when did the last delivery make a transfer. Targets: do the stored settings and
 * credentials still pass the connector's schemas, is it paused, and how did its last step go. No
 * outside call is made: the connectors have no read-only check call, so a flow's first step is
 * the live test, and its outcome is shown here.
 */
import { and, eq } from "drizzle-orm";
import { database } from "../../../../db/client";
import { loadConnection } from "../../../../db/connections";
import { connections, transfers } from "../../../../db/schema";
import { transferLogRows } from "../../../../db/transfer-filters";
import { UPDATED_AT_REFRESH_MS } from "../../../../durable/order-projection";

/** How far back the check looks for the target's last step: an unused one reads no further. */
export const LAST_STEP_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * The newest step on a target (?2) of the tenant (?1) changed since ?3, found through the tenant's
 * transfers newest first (`transfers_tenant_updated`), each transfer's steps by their primary key:
 * steps have no index by tenant and time (a D1 row billed on every step written). A transfer's
 * `updated_at` may lag its steps' by less than UPDATED_AT_REFRESH_MS, so the newest transfer with
 * such a step may not hold the newest step: `newest` finds the first match (the index walked
 * backwards, stopping there), and the answer is the newest step among the transfers that could
 * hold a newer one, those updated at most a refresh before that step. CROSS JOIN keeps the
 * transfers the outer loop: with statistics from a young database SQLite scanned every step.
 */
export const LAST_STEP_SQL = `WITH newest AS (
    SELECT s.updated_at AS at FROM transfers t CROSS JOIN transfer_steps s ON s.transfer_id = t.id
     WHERE t.tenant_id = ?1 AND t.updated_at >= ?3 - ${UPDATED_AT_REFRESH_MS} AND s.target_connection_id = ?2 AND s.updated_at >= ?3
     ORDER BY t.updated_at DESC LIMIT 1)
  SELECT s.status, s.updated_at AS at, s.error_reason AS error, s.transfer_id AS transferId
    FROM transfers t CROSS JOIN transfer_steps s ON s.transfer_id = t.id
   WHERE t.tenant_id = ?1 AND t.updated_at >= (SELECT at FROM newest) - ${UPDATED_AT_REFRESH_MS}
     AND s.target_connection_id = ?2 AND s.updated_at >= ?3
   ORDER BY s.updated_at DESC, s.step_index DESC LIMIT 1`;

export interface CheckLine {
  ok: boolean | null;
  text: string;
}

export async function checkConnection(env: Env, tenantId: string, id: string): Promise<CheckLine[] | null> {
  const db = database(env);
  const row = await db
    .select()
    .from(connections)
    .where(and(eq(connections.id, id), eq(connections.tenantId, tenantId)))
    .get();
  if (!row) return null;
  const lines: CheckLine[] = [];
  let loaded: Awaited<ReturnType<typeof loadConnection>> = null;
  try {
    loaded = await loadConnection(env, id, tenantId);
    // Loaded so it can be edited, but every call refused: its base URL breaks the outbound rule,
    // or its credentials cannot be read.
    if (loaded?.refusedDestination)
      lines.push({ ok: false, text: `Its stored settings do not pass the connector's checks: ${loaded.refusedDestination}` });
    if (loaded?.unreadable) lines.push({ ok: false, text: loaded.unreadable.reason });
    if (!loaded?.refusedDestination && !loaded?.unreadable)
      lines.push({ ok: true, text: "Its settings and credentials are stored and pass the connector's checks." });
  } catch (error) {
    lines.push({
      ok: false,
      text: `Its stored settings or credentials do not pass the connector's checks: ${(error as Error).message}`,
    });
  }
  const source = loaded?.connector.source;
  if (!row.enabled) {
    // Whatever the source: a 503 would lose the order (WooCommerce never re-sends, Shopify gives up
    // after about 4 hours), so the webhook route keeps it instead.
    lines.push({
      ok: false,
      text: source
        ? 'The connection is disabled: its signed deliveries are kept under dead letters (the "Kept, not processed" page, /dead-letters) and alerted, not processed, and no step runs. Enable it, then have the shop send those orders again (each one there says how).'
        : "The connection is disabled: no step runs.",
    });
  }
  if (source) {
    if (loaded?.connector.id === "woocommerce" && !loaded.settings.storeUrl)
      lines.push({
        ok: null,
        text: "No store URL is set: deliveries from a copy of the shop (a staging site keeps the webhooks and their secret) would be booked as real orders. Set it to the shop's Site Address.",
      });
    lines.push(
      loaded?.unreadable?.parts.includes("webhookSecret")
        ? {
            ok: false,
            text: "The stored webhook secret cannot be read: no delivery is processed until it is entered again (Shopify's are answered 503 and sent again later; WooCommerce's are kept unchecked under Kept, not processed).",
          }
        : loaded?.webhookSecret
          ? {
              ok: true,
              text: `A webhook secret is set (${loaded.webhookSecret.length} characters); deliveries signed with it verify.`,
            }
          : { ok: false, text: "No webhook secret is set: every delivery will be refused. Paste the source's signing key." },
    );
    const unsigned = await source.verify(
      { body: new TextEncoder().encode("{}"), headers: new Headers({ "content-type": "application/json" }) },
      loaded?.webhookSecret ?? "x",
    );
    lines.push(
      unsigned.ok
        ? { ok: false, text: "An unsigned sample delivery was accepted: this connector does not check signatures." }
        : { ok: true, text: `An unsigned sample delivery is refused (${unsigned.reason}).` },
    );
    const [last] = await transferLogRows(
      db,
      "transfers_tenant_time",
      and(eq(transfers.tenantId, tenantId), eq(transfers.sourceConnectionId, id))!,
      1,
    );
    lines.push(
      last
        ? {
            ok: true,
            text: `Last delivery that started a transfer: ${new Date(last.createdAt).toISOString()} (order ${last.orderNumber ?? "?"}).`,
          }
        : {
            ok: null,
            text: "No delivery has started a transfer yet. Send a test order from the shop, or follow the setup steps.",
          },
    );
    return lines;
  }
  const baseUrl = typeof loaded?.settings.baseUrl === "string" ? loaded.settings.baseUrl : null;
  lines.push({
    ok: null,
    text: baseUrl
      ? `Orderly made no call to ${baseUrl} now: the first step of a flow is the live test, and its outcome shows here.`
      : "This target lives inside Orderly; it needs no outside call.",
  });
  if (row.pausedUntil && row.pausedUntil > Date.now()) {
    lines.push({
      ok: false,
      text: `Paused until ${new Date(row.pausedUntil).toISOString()}: ${row.pauseReason ?? "sustained failures"}.`,
    });
  }
  const step = await env.DB.prepare(LAST_STEP_SQL)
    .bind(tenantId, id, Date.now() - LAST_STEP_DAYS * DAY_MS)
    .first<{ status: string; at: number; error: string | null; transferId: string }>();
  if (!step) lines.push({ ok: null, text: `No step has run against it in the last ${LAST_STEP_DAYS} days.` });
  else if (step.status === "completed")
    lines.push({ ok: true, text: `Its last step succeeded at ${new Date(step.at).toISOString()}.` });
  else if (step.status === "failed")
    lines.push({
      ok: false,
      text: `Its last step failed at ${new Date(step.at).toISOString()}: ${step.error ?? "no reason recorded"}.`,
    });
  else lines.push({ ok: null, text: `Its last step is ${step.status} (since ${new Date(step.at).toISOString()}).` });
  return lines;
}
