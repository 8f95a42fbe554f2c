/**
 * Replaying a kept delivery (a `refused_delivery` dead letter; routes/hooks.ts keeps them): its
 * stored headers and raw body go through takeDelivery, the path a new delivery takes after its
 * signature check, so it is parsed, refused and handed to the inbox exactly as then, under its own
 * delivery id: the order's object takes it once, however often it is replayed or the shop re-sends
 * it. One kept without a signature check (the secret could not be read) is checked first against
 * the connection's current secret. The API (/api/v1/dead-letters) and the UI (/dead-letters) both
 * replay through here.
 *
 * Outcomes: taken (the row is marked `replayed`), refused again (the row keeps its place with the
 * new reason and code; no new row, no alert), or an error that changes nothing (try again).
 */
import { and, asc, count, eq, gt, inArray, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { database } from "../../db/client";
import { loadConnection } from "../../db/connections";
import { type DeadLetterRow, keptFacts } from "../../db/dead-letters";
import { deadLetters } from "../../db/schema";
import { OrderlyError } from "../../domain/errors";
import { type Refusal, type Taken, takeDelivery } from "./hooks";

/** The most rows one bulk replay takes on: each is a few reads, an inbox call and a write. */
export const REPLAY_BATCH = 100;

export interface ReplayContext {
  env: Env;
  waitUntil: (promise: Promise<unknown>) => void;
  tenantId: string;
  /** Who replays, as people read it (an e-mail address, an API token's name). */
  by: string;
}

export type ReplayResult =
  | { id: number; result: "taken"; accepted: number; ignored: string | null }
  | { id: number; result: "refused"; code: string; reason: string };

/** A bulk replay's outcome per row: also `skipped` (not replayable, row unchanged) and `failed` (try again). */
export type BulkReplayResult = ReplayResult | { id: number; result: "skipped" | "failed"; code: string; reason: string };

/** What replay adds to a kept delivery's stored body (older rows have none of it). */
const replaySchema = z.object({
  /** False when kept without a signature check (`unverifiable` in hooks.ts). */
  verified: z.boolean().optional().catch(undefined),
  replayed: z
    .object({ at: z.number(), by: z.string(), accepted: z.number(), ignored: z.string().nullable() })
    .optional()
    .catch(undefined),
  lastRefused: z.object({ at: z.number(), by: z.string(), code: z.string() }).optional().catch(undefined),
});

export type Replayed = NonNullable<z.infer<typeof replaySchema>["replayed"]>;

/** What a row says about replay: whether it can be, and when it was taken. */
export function replayFacts(row: DeadLetterRow): {
  replayable: boolean;
  replayed: Replayed | null;
  lastRefused: { at: number; by: string; code: string } | null;
} {
  const facts = replaySchema.safeParse(row.body);
  const data = facts.success ? facts.data : {};
  return {
    replayable: keptFacts(row.body).kind === "refused_delivery",
    replayed: data.replayed ?? null,
    lastRefused: data.lastRefused ?? null,
  };
}

/**
 * Replays one of the tenant's dead letters. Throws `not_replayable` (409) for a failed step or a
 * delivery whose body is gone, and `replay_failed` (503) when the hand-over failed: nothing changed.
 */
export async function replayDeadLetter(ctx: ReplayContext, row: DeadLetterRow): Promise<ReplayResult> {
  const facts = keptFacts(row.body);
  if (row.tenantId !== ctx.tenantId) throw notReplayable(row.id, "it is not in this tenant");
  if (facts.kind !== "refused_delivery")
    throw notReplayable(
      row.id,
      row.transferId
        ? `it is a failed step: retry its transfer (/transfers/${row.transferId}) instead`
        : "it is not a kept delivery",
    );
  if (!facts.connectionId) throw notReplayable(row.id, "it does not name the connection it came to");
  const body = await storedBody(ctx.env, facts.raw);
  if (!body)
    throw notReplayable(
      row.id,
      "its body is no longer stored (deleted after its retention), so there is nothing to replay: enter the order by hand",
    );
  // Older rows do not say: only `unverifiable` kept this code without a check.
  const verifiedAtReceipt = replaySchema.safeParse(row.body).data?.verified ?? facts.code !== "connection_secret_unreadable";
  const refuse = (refusal: Refusal, verified: boolean) => refusedAgain(ctx, row, refusal, verified);

  // Read now, not from the webhook path's cache: it was just enabled or given its secret again.
  const connection = await loadConnection(ctx.env, facts.connectionId, ctx.tenantId);
  const source = connection?.connector.source;
  if (!connection || !source)
    return refuse(
      {
        code: "connection_gone",
        reason: `The connection ${facts.connectionId} it came to no longer exists, so it cannot be replayed: enter the order by hand.`,
      },
      verifiedAtReceipt,
    );
  const delivery = { body, headers: new Headers(facts.headers ?? {}) };
  if (!verifiedAtReceipt) {
    if (connection.unreadable?.parts.includes("webhookSecret"))
      return refuse(
        {
          code: "connection_secret_unreadable",
          reason: `Orderly still cannot read the webhook secret of the connection "${connection.name}", so it cannot check this delivery's signature. An owner or admin must enter the webhook secret again on the connection first, then replay it.`,
        },
        false,
      );
    // Kept unchecked: only the signature it came with (kept among its headers) shows the shop sent it.
    const check = await source.verify(delivery, connection.webhookSecret ?? "");
    if (!check.ok)
      return refuse(
        {
          code: "signature_invalid",
          reason: `Not replayed: this delivery's signature was not checked when it came, and it does not pass the connection's current webhook secret now. ${check.reason} If the secret in Orderly is not the shop's, enter the right one, then replay it; otherwise it may not come from the shop.`,
        },
        false,
      );
  }

  let taken: Taken;
  try {
    taken = await takeDelivery({ env: ctx.env, waitUntil: ctx.waitUntil, connection, delivery, replay: true });
  } catch (error) {
    // The inbox or R2 failing: the delivery may or may not be stored, and a replay again takes it once.
    const message = error instanceof Error ? error.message : String(error);
    console.error("replay of a kept delivery failed", { deadLetterId: row.id, error: message });
    throw new OrderlyError(
      `Orderly could not hand dead letter ${row.id} on just now (${message}). Nothing was changed: replay it again in a moment.`,
      { errorClass: "unavailable", code: "replay_failed", cause: error },
    );
  }
  if ("refused" in taken) return refuse(taken.refused, true);
  const replayed: Replayed = {
    at: Date.now(),
    by: ctx.by,
    accepted: "taken" in taken ? taken.taken.accepted : 0,
    ignored: "ignored" in taken ? taken.ignored.reason : null,
  };
  // Should this write fail, the row stays replayable: a replay again is taken once, so no harm.
  await update(ctx.env, row, { ...bodyOf(row), verified: true, replayed }, row.reason);
  console.info("kept delivery replayed", { deadLetterId: row.id, accepted: replayed.accepted, ignored: replayed.ignored });
  return { id: row.id, result: "taken", accepted: replayed.accepted, ignored: replayed.ignored };
}

/**
 * Replays many, one after another (oldest first when they are a connection's), each on its own:
 * one failing does not stop the rest. Never throws for a row.
 */
export async function replayMany(ctx: ReplayContext, rows: DeadLetterRow[]): Promise<BulkReplayResult[]> {
  const results: BulkReplayResult[] = [];
  for (const row of rows) {
    try {
      results.push(await replayDeadLetter(ctx, row));
    } catch (error) {
      const known = error instanceof OrderlyError ? error : null;
      results.push({
        id: row.id,
        result: known?.code === "not_replayable" ? "skipped" : "failed",
        code: known?.code ?? "replay_failed",
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return results;
}

/** The tenant's dead letters with these ids, by id (another tenant's are not found). */
export async function deadLettersById(env: Env, tenantId: string, ids: number[]): Promise<DeadLetterRow[]> {
  if (ids.length === 0) return [];
  return database(env)
    .select()
    .from(deadLetters)
    .where(and(eq(deadLetters.tenantId, tenantId), inArray(deadLetters.id, ids)))
    .orderBy(asc(deadLetters.id));
}

/** A kept delivery of the tenant not taken yet (refused again counts: its cause may be gone). */
function replayableWhere(tenantId: string): SQL[] {
  return [
    eq(deadLetters.tenantId, tenantId),
    sql`json_extract(${deadLetters.body}, '$.kind') = 'refused_delivery'`,
    sql`json_extract(${deadLetters.body}, '$.replayed') IS NULL`,
  ];
}

/**
 * The next `limit` replayable deliveries of one connection after id `afterId`, oldest first (the
 * order the shop sent them), and how many are left after them.
 */
export async function replayableOfConnection(
  env: Env,
  tenantId: string,
  connectionId: string,
  afterId: number,
  limit: number,
): Promise<{ rows: DeadLetterRow[]; remaining: number }> {
  const db = database(env);
  const ofConnection = [...replayableWhere(tenantId), sql`json_extract(${deadLetters.body}, '$.connectionId') = ${connectionId}`];
  const rows = await db
    .select()
    .from(deadLetters)
    .where(and(...ofConnection, gt(deadLetters.id, afterId)))
    .orderBy(asc(deadLetters.id))
    .limit(limit);
  const last = rows.at(-1)?.id ?? afterId;
  const left = await db
    .select({ n: count() })
    .from(deadLetters)
    .where(and(...ofConnection, gt(deadLetters.id, last)))
    .get();
  return { rows, remaining: left?.n ?? 0 };
}

/** How many replayable deliveries each of the tenant's connections has, for the page's "Replay all". */
export async function replayableCounts(env: Env, tenantId: string): Promise<Map<string, number>> {
  const connectionId = sql<string | null>`json_extract(${deadLetters.body}, '$.connectionId')`;
  const rows = await database(env)
    .select({ connectionId, n: count() })
    .from(deadLetters)
    .where(and(...replayableWhere(tenantId)))
    .groupBy(connectionId);
  return new Map(rows.flatMap((r) => (r.connectionId ? [[r.connectionId, r.n] as const] : [])));
}

/** Refused again: the row stays, with the new reason and code and who tried. No new row, and no alert. */
async function refusedAgain(ctx: ReplayContext, row: DeadLetterRow, refusal: Refusal, verified: boolean): Promise<ReplayResult> {
  const at = Date.now();
  await update(
    ctx.env,
    row,
    { ...bodyOf(row), code: refusal.code, verified, lastRefused: { at, by: ctx.by, code: refusal.code } },
    refusal.reason,
  );
  console.warn("replay of a kept delivery refused", { deadLetterId: row.id, code: refusal.code });
  return { id: row.id, result: "refused", code: refusal.code, reason: refusal.reason };
}

async function update(env: Env, row: DeadLetterRow, body: Record<string, unknown>, reason: string | null): Promise<void> {
  await database(env)
    .update(deadLetters)
    .set({ body, reason })
    .where(and(eq(deadLetters.id, row.id), eq(deadLetters.tenantId, row.tenantId ?? "")));
}

function bodyOf(row: DeadLetterRow): Record<string, unknown> {
  return row.body !== null && typeof row.body === "object" ? (row.body as Record<string, unknown>) : {};
}

/** The bytes as received: inline text (kept only when strict UTF-8, so encoding it gives them back) or the R2 object. */
async function storedBody(
  env: Env,
  raw: { body?: string | null | undefined; blobKey?: string | null | undefined } | undefined,
): Promise<Uint8Array | null> {
  if (typeof raw?.body === "string") return new TextEncoder().encode(raw.body);
  if (typeof raw?.blobKey !== "string") return null;
  const object = await env.BLOBS.get(raw.blobKey);
  return object ? new Uint8Array(await object.arrayBuffer()) : null;
}

function notReplayable(id: number, why: string): OrderlyError {
  return new OrderlyError(`Dead letter ${id} cannot be replayed: ${why}.`, { errorClass: "conflict", code: "not_replayable" });
}
