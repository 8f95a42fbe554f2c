/**
 * /dead-letters ("Kept, not processed"): what Orderly kept instead of processing, newest first,
 * and one of them with its whole reason, kept headers and raw body. The alert e-mail links here: its
 * API twin (/api/v1/dead-letters) needs a bearer token, which a merchant's browser does not have.
 * Every member of the tenant reads them, as every API token does. Read through db/dead-letters.ts,
 * the API's own code, so both show the same rows and the same body. Owners and admins replay a kept
 * delivery, or a connection's all, or mark one handled, through routes/replay.ts, the API's own code
 * too (the UI's POST guard in index.tsx checks the form token and the role). A delivery whose reason
 * said to act by hand (or an older one) is left out of "Replay all", and its own Replay asks first,
 * showing that reason (a second POST with confirm=1: no script needed).
 */
import { and, eq, inArray } from "drizzle-orm";
import { type Context, Hono } from "hono";
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
import { OrderlyError } from "../../../domain/errors";
import { deadLetterPath } from "../../../notifications/alert-emails";
import { ConfirmReplayPage, DeadLetterPage, DeadLettersPage, type KeptRow, type ReplayAll } from "../../../ui/pages/dead-letters";
import {
  type BulkReplayResult,
  markHandled,
  REPLAY_BATCH,
  type ReplayContext,
  replayableCounts,
  replayableOfConnection,
  replayDeadLetter,
  replayFacts,
  replayMany,
} from "../replay";
import { audit } from "./audit";
import { notFoundPage, page, redirectWith } from "./render";
import { canEdit, type UiEnv } from "./ui-env";

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
  const editor = canEdit(c.var.session.role);
  const [names, orders, counts] = await Promise.all([
    connectionNames(c.env, tenantId),
    transferOrders(
      c.env,
      tenantId,
      rows.map((r) => r.transferId),
    ),
    editor ? replayableCounts(c.env, tenantId) : new Map<string, { bulk: number; checkFirst: number }>(),
  ]);
  const list = rows.map((row) => keptRow(row, keptFacts(row.body), names, orders));
  const nextHref = nextCursor ? `${deadLetterPath()}?cursor=${encodeURIComponent(nextCursor)}` : null;
  // After a "Replay all" that left some: its form goes on after the last row it replayed.
  const going = continueQuery.safeParse({ connection: c.req.query("connection"), after: c.req.query("after") });
  const replayAll: ReplayAll[] = [...counts]
    .filter(([id]) => names.has(id))
    .map(([id, count]) => ({
      connectionId: id,
      connectionName: names.get(id) ?? id,
      count: count.bulk,
      checkFirst: count.checkFirst,
      after: going.success && going.data.connection === id ? going.data.after : null,
    }));
  return page(
    c,
    { title: TITLE, active: "dead-letters" },
    <DeadLettersPage rows={list} nextHref={nextHref} canReplay={editor} csrf={c.var.session.csrfToken} replayAll={replayAll} />,
  );
});

const continueQuery = z.object({ connection: z.string().min(1), after: z.coerce.number().int().positive() });

deadLetterRoutes.post("/replay-all", async (c) => {
  const s = c.var.session;
  const form = replayAllForm.safeParse(await c.req.parseBody());
  if (!form.success) return redirectWith(c, deadLetterPath(), "Choose the connection whose deliveries to replay.", "error");
  const { connectionId, after } = form.data;
  const { rows, remaining } = await replayableOfConnection(c.env, s.tenantId, connectionId, after ?? 0, REPLAY_BATCH);
  const results = await replayMany(replayContext(c), rows);
  const tally = { taken: 0, ignored: 0, refused: 0, skipped: 0, failed: 0 };
  for (const r of results) tally[r.result]++;
  await audit(c.env, s, "dead_letter.replay_all", connectionId, { ...tally, remaining });
  const parts = [
    `${tally.taken} taken`,
    tally.ignored ? `${tally.ignored} with nothing to book (${ignoredNote(results)})` : "",
    tally.refused ? `${tally.refused} refused again (each shows why)` : "",
    tally.skipped ? `${tally.skipped} not replayable` : "",
    tally.failed ? `${tally.failed} failed for now (replay them again in a moment)` : "",
  ].filter(Boolean);
  const text =
    rows.length === 0
      ? "Nothing from this connection is waiting to be replayed."
      : `Replayed ${rows.length}: ${parts.join(", ")}.${remaining > 0 ? ` ${remaining} more are waiting: click "Replay all from this connection" again.` : ""}`;
  const last = rows.at(-1);
  const to =
    remaining > 0 && last
      ? `${deadLetterPath()}?connection=${encodeURIComponent(connectionId)}&after=${last.id}`
      : deadLetterPath();
  const done = results.every((r) => r.result === "taken" || (r.result === "ignored" && r.replayed));
  return redirectWith(c, to, text, done ? "ok" : "error");
});

const replayAllForm = z.object({
  connectionId: z.string().min(1),
  after: z.coerce.number().int().positive().optional(),
});

/** The tenant's kept row the path names, or null (a bad id reads as none). */
async function rowOfPath(c: Context<UiEnv>) {
  const id = z.coerce.number().int().positive().safeParse(c.req.param("id"));
  return id.success ? findDeadLetter(c.env, c.var.session.tenantId, id.data) : null;
}

deadLetterRoutes.post("/:id/replay", async (c) => {
  const s = c.var.session;
  const row = await rowOfPath(c);
  if (!row) return notFoundPage(c);
  const form = await c.req.parseBody();
  const back = form.back === "list" ? deadLetterPath() : deadLetterPath(row.id);
  const facts = replayFacts(row);
  // Its reason may have had the merchant book it by hand: they read it again before it books twice.
  if (facts.checkFirst && form.confirm !== "1") {
    const names = await connectionNames(c.env, s.tenantId);
    return page(
      c,
      { title: `Replay kept delivery #${row.id}?`, active: "dead-letters" },
      <ConfirmReplayPage
        kept={keptRow(row, keptFacts(row.body), names, new Map())}
        csrf={s.csrfToken}
        back={form.back === "list" ? "list" : "detail"}
      />,
    );
  }
  let text: string;
  let ok: boolean;
  try {
    const outcome = await replayDeadLetter(replayContext(c), row);
    ok = outcome.result === "taken" || (outcome.result === "ignored" && outcome.replayed);
    text =
      outcome.result === "refused"
        ? `Not replayed: ${outcome.reason}`
        : outcome.result === "ignored"
          ? outcome.replayed
            ? `Replayed: there was nothing to book (${outcome.reason}).`
            : `Replayed, but not booked: ${outcome.reason} It stays here, waiting: replay it again once the connection takes it.`
          : "Replayed: the delivery was handed to its order, which takes it once even if it had it already.";
    await audit(c.env, s, "dead_letter.replay", String(row.id), {
      result: outcome.result,
      ...(outcome.result === "taken" ? {} : { code: outcome.code }),
      ...(facts.checkFirst ? { confirmed: facts.checkFirst } : {}),
    });
  } catch (error) {
    // Not replayable, or the hand-over failed: nothing changed, and the person reads why.
    if (!(error instanceof OrderlyError)) throw error;
    ok = false;
    text = error.message;
  }
  return redirectWith(c, back, text, ok ? "ok" : "error");
});

deadLetterRoutes.post("/:id/handled", async (c) => {
  const s = c.var.session;
  const row = await rowOfPath(c);
  if (!row) return notFoundPage(c);
  const form = await c.req.parseBody();
  const back = form.back === "list" ? deadLetterPath() : deadLetterPath(row.id);
  try {
    await markHandled(replayContext(c), row);
  } catch (error) {
    if (!(error instanceof OrderlyError)) throw error;
    return redirectWith(c, back, error.message, "error");
  }
  await audit(c.env, s, "dead_letter.handled", String(row.id));
  return redirectWith(c, back, `Marked handled: Orderly will not replay kept delivery ${row.id}.`);
});

/** The ignored ones' codes, e.g. "test_order ×2", for the bulk notice. */
function ignoredNote(results: BulkReplayResult[]): string {
  const codes = new Map<string, number>();
  for (const r of results) if (r.result === "ignored") codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
  const waiting = results.some((r) => r.result === "ignored" && !r.replayed);
  return `${[...codes].map(([code, n]) => (n > 1 ? `${code} ×${n}` : code)).join(", ")}${waiting ? "; test orders stay here, waiting" : ""}`;
}

/** A replay by the signed-in person, recorded under their e-mail address. */
function replayContext(c: Context<UiEnv>): ReplayContext {
  return {
    env: c.env,
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    tenantId: c.var.session.tenantId,
    by: c.var.session.email,
  };
}

deadLetterRoutes.get("/:id", async (c) => {
  const tenantId = c.var.session.tenantId;
  const row = await rowOfPath(c);
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
      canReplay={canEdit(c.var.session.role)}
      csrf={c.var.session.csrfToken}
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
    ...replayFacts(row),
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
