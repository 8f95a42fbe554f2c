/**
 * /dead-letters ("Kept, not processed"): what Orderly kept instead of processing, newest first,
 * and one of them with its whole reason, kept headers and raw body. The alert e-mail links here: its
 * API twin (/api/v1/dead-letters) needs a bearer token, which a merchant's browser does not have.
 * Every member of the tenant reads them, as every API token does. Read through db/dead-letters.ts,
 * the API's own code, so both show the same rows and the same body.
 */
import { and, eq, inArray } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { database } from "../../../db/client";
import { readCursor } from "../../../db/cursor";
import {
  type DeadLetterRow,
  deadLetterPage,
  findDeadLetter,
  type KeptFacts,
  keptFacts,
  keptRawBody,
} from "../../../db/dead-letters";
import { connections, transfers } from "../../../db/schema";
import { deadLetterPath } from "../../../notifications/alert-emails";
import { DeadLetterPage, DeadLettersPage, type KeptRow } from "../../../ui/pages/dead-letters";
import { notFoundPage, page } from "./render";
import type { UiEnv } from "./ui-env";

export const deadLetterRoutes = new Hono<UiEnv>();
const LIMIT = 50;
/** The most of a body a page shows: the rest stays in R2 (the API returns it whole). */
export const BODY_SHOWN_BYTES = 256 * 1024;
const TITLE = "Kept, not processed";

deadLetterRoutes.get("/", async (c) => {
  const tenantId = c.var.session.tenantId;
  // A cursor this page did not give out starts from the newest.
  const cursor = readCursor(c.req.query("cursor"));
  const cursorId = Number(cursor?.[1]);
  const after: [number, number] | undefined = cursor && Number.isSafeInteger(cursorId) ? [cursor[0], cursorId] : undefined;
  const { rows, nextCursor } = await deadLetterPage(c.env, tenantId, after, LIMIT);
  const [names, orders] = await Promise.all([
    connectionNames(c.env, tenantId),
    transferOrders(
      c.env,
      tenantId,
      rows.map((r) => r.transferId),
    ),
  ]);
  const list = rows.map((row) => keptRow(row, keptFacts(row.body), names, orders));
  const nextHref = nextCursor ? `${deadLetterPath()}?cursor=${encodeURIComponent(nextCursor)}` : null;
  return page(c, { title: TITLE, active: "dead-letters" }, <DeadLettersPage rows={list} nextHref={nextHref} />);
});

deadLetterRoutes.get("/:id", async (c) => {
  const id = z.coerce.number().int().positive().safeParse(c.req.param("id"));
  if (!id.success) return notFoundPage(c);
  const tenantId = c.var.session.tenantId;
  const row = await findDeadLetter(c.env, tenantId, id.data);
  if (!row) return notFoundPage(c);
  const f = keptFacts(row.body);
  const [names, orders, body] = await Promise.all([
    connectionNames(c.env, tenantId),
    transferOrders(c.env, tenantId, [row.transferId]),
    keptRawBody(c.env, row.body, BODY_SHOWN_BYTES),
  ]);
  return page(
    c,
    { title: `${TITLE} #${row.id}`, active: "dead-letters" },
    <DeadLetterPage
      kept={keptRow(row, f, names, orders)}
      headers={f.headers ?? null}
      rawSize={f.raw?.size ?? null}
      body={body}
      shownBytes={BODY_SHOWN_BYTES}
      stored={row.body}
    />,
  );
});

/** A row as the pages show it: a refused delivery names its source, a failed step its target. */
function keptRow(row: DeadLetterRow, f: KeptFacts, names: Map<string, string>, orders: Map<string, string>): KeptRow {
  const refused = f.kind === "refused_delivery";
  const connectionId = (refused ? f.connectionId : f.target) ?? null;
  return {
    id: row.id,
    createdAt: row.createdAt,
    refused,
    code: f.code ?? null,
    action: f.action ?? null,
    stepIndex: f.stepIndex ?? null,
    connectionId,
    connectionName: connectionId ? (names.get(connectionId) ?? null) : null,
    order: refused ? (f.order ?? null) : row.transferId ? (orders.get(row.transferId) ?? null) : null,
    transferId: row.transferId,
    reason: row.reason,
  };
}

/** The tenant's connection names by id (few per tenant; the transfer pages read them the same way). */
async function connectionNames(env: Env, tenantId: string): Promise<Map<string, string>> {
  const rows = await database(env)
    .select({ id: connections.id, name: connections.name })
    .from(connections)
    .where(eq(connections.tenantId, tenantId));
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** A failed step's order as the merchant knows it, from its transfer (its message names only the order's object). */
async function transferOrders(env: Env, tenantId: string, ids: Array<string | null>): Promise<Map<string, string>> {
  const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
  if (wanted.length === 0) return new Map();
  const rows = await database(env)
    .select({ id: transfers.id, orderNumber: transfers.orderNumber, orderId: transfers.orderId })
    .from(transfers)
    .where(and(eq(transfers.tenantId, tenantId), inArray(transfers.id, wanted)));
  return new Map(rows.map((r) => [r.id, r.orderNumber ?? r.orderId]));
}
