/**
 * Replaying a kept delivery (a `refused_delivery` dead letter; routes/hooks.ts keeps them): its
 * stored headers and raw body go through takeDelivery, the path a new delivery takes after its
 * signature check, so it is parsed, refused and handed to the inbox exactly as then, under its own
 * delivery id: the order's object takes it once, however often it is replayed or the shop re-sends
 * it. One kept without a signature check (the secret could not be read) is checked first against
 * the connection's current secret. The API (/api/v1/dead-letters) and the UI (/dead-letters) both
 * replay through here.
 *
 * Outcomes: taken (the row is marked `replayed`), ignored (nothing to book: marked `replayed` too,
 * except a test order, which stays waiting for test orders to be switched on), refused again (the
 * row keeps its place with the new reason and code; no new row, no alert), or an error that
 * changes nothing (try again).
 *
 * Orderly cannot see what a merchant entered by hand. So a row whose reason told them to act by
 * hand (`manual`), or one kept before rows said so, is left out of a bulk replay: it is replayed
 * on its own (the UI asks first), or marked handled, which takes it out for good.
 *
 * Writes set only the fields they change (json_set), and a refusal is written only while no replay
 * has taken the row: two replays at once cannot undo each other's result.
 */
import { and, asc, count, eq, gt, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { IgnoredDelivery } from "../../connectors/contract";
import { database } from "../../db/client";
import { type LoadedConnection, loadConnection } from "../../db/connections";
import { type DeadLetterRow, keptFacts, keptWaiting } from "../../db/dead-letters";
import { deadLetters } from "../../db/schema";
import { OrderlyError } from "../../domain/errors";
import { alertTestOrderIgnored } from "../../notifications/refused-alerts";
import type { Refusal } from "../kept-deliveries";
import { type Taken, takeDelivery } from "./hooks";

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
  | { id: number; result: "taken"; accepted: number }
  | {
      id: number;
      result: "ignored";
      code: string;
      reason: string;
      /** False for a test order: the row stays waiting (replay it once test orders are switched on). */
      replayed: boolean;
    }
  | { id: number; result: "refused"; code: string; reason: string };

/** A bulk replay's outcome per row: also `skipped` (not replayable, row unchanged) and `failed` (try again). */
export type BulkReplayResult = ReplayResult | { id: number; result: "skipped" | "failed"; code: string; reason: string };

const byWhom = z.object({ at: z.number(), by: z.string() });

/** What replay adds to a kept delivery's stored body (older rows have none of it). */
const replaySchema = z.object({
  /** False when kept without a signature check (`unverifiable` in hooks.ts). */
  verified: z.boolean().optional().catch(undefined),
  /** Its reason told to act by hand (hooks.ts); absent on a row kept before rows said so. */
  manual: z.boolean().optional().catch(undefined),
  /** Once refused as `wrong_site`: a later refusal replaces the code, not the need for a Store URL. */
  siteRefused: z.boolean().optional().catch(undefined),
  replayed: z
    .object({ at: z.number(), by: z.string(), accepted: z.number(), ignored: z.string().nullable() })
    .optional()
    .catch(undefined),
  /** A person said they dealt with it (booked it by hand): never replayed again. */
  handled: byWhom.optional().catch(undefined),
  lastRefused: byWhom.extend({ code: z.string() }).optional().catch(undefined),
  /** The last replay found nothing to book but left it waiting (a test order). */
  lastIgnored: byWhom.extend({ code: z.string() }).optional().catch(undefined),
});

export type Replayed = NonNullable<z.infer<typeof replaySchema>["replayed"]>;
export type Handled = z.infer<typeof byWhom>;

/**
 * Why a waiting row is left out of a bulk replay and asks before its own: its reason told the
 * merchant to act by hand, or it was kept before reasons were marked (its advice is not known).
 */
export type CheckFirst = "manual" | "older";

export interface ReplayFacts {
  /** A kept delivery not marked handled: it can be replayed (a failed step is retried from its transfer). */
  replayable: boolean;
  replayed: Replayed | null;
  handled: Handled | null;
  lastRefused: { at: number; by: string; code: string } | null;
  lastIgnored: { at: number; by: string; code: string } | null;
  /** Set while it waits and a bulk replay leaves it out; null otherwise. */
  checkFirst: CheckFirst | null;
}

/** What a row says about replay: whether it can be, when it was taken or handled, and whether to ask first. */
export function replayFacts(row: DeadLetterRow): ReplayFacts {
  const facts = replaySchema.safeParse(row.body);
  const data = facts.success ? facts.data : {};
  const delivery = keptFacts(row.body).kind === "refused_delivery";
  const waiting = delivery && !data.replayed && !data.handled;
  return {
    replayable: delivery && !data.handled,
    replayed: data.replayed ?? null,
    handled: data.handled ?? null,
    lastRefused: data.lastRefused ?? null,
    lastIgnored: data.lastIgnored ?? null,
    checkFirst: !waiting ? null : data.manual === undefined ? "older" : data.manual ? "manual" : null,
  };
}

/**
 * Replays one of the tenant's dead letters. Throws `not_replayable` (409) for a failed step, a
 * delivery whose body is gone or one marked handled, and `replay_failed` (503) when the hand-over
 * failed: nothing changed.
 */
export async function replayDeadLetter(ctx: ReplayContext, row: DeadLetterRow): Promise<ReplayResult> {
  const facts = keptFacts(row.body);
  const stored = replaySchema.safeParse(row.body).data;
  if (row.tenantId !== ctx.tenantId) throw notReplayable(row.id, "it is not in this tenant");
  if (facts.kind !== "refused_delivery")
    throw notReplayable(
      row.id,
      row.transferId
        ? `it is a failed step: retry its transfer (/transfers/${row.transferId}) instead`
        : "it is not a kept delivery",
    );
  if (stored?.handled)
    throw notReplayable(
      row.id,
      `${stored.handled.by} marked it handled (${new Date(stored.handled.at).toISOString()}), so it was dealt with outside Orderly and a replay could book it twice`,
    );
  if (!facts.connectionId) throw notReplayable(row.id, "it does not name the connection it came to");
  const body = await storedBody(ctx.env, facts.raw);
  if (!body)
    throw notReplayable(
      row.id,
      "its body is no longer stored (deleted after its retention), so there is nothing to replay: enter the order by hand",
    );
  // Older rows do not say: only `unverifiable` kept this code without a check.
  const verifiedAtReceipt = stored?.verified ?? facts.code !== "connection_secret_unreadable";
  const refuse = (refusal: Refusal, verified: boolean) => refusedAgain(ctx, row, refusal, verified);

  // Read now, not from the webhook path's cache: it was just enabled or given its secret again.
  const connection = await loadConnection(ctx.env, facts.connectionId, ctx.tenantId);
  const source = connection?.connector.source;
  if (!connection || !source)
    return refuse(
      {
        code: "connection_gone",
        manual: true,
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
  // With the Store URL cleared, takeDelivery checks no site at all: the copy it came from would pass.
  if ((facts.code === "wrong_site" || stored?.siteRefused) && !hasStoreUrl(connection))
    return refuse(
      {
        code: "wrong_site",
        reason: `Not replayed: this delivery was kept because it did not come from the shop's address, and the connection "${connection.name}" now has no Store URL, so Orderly cannot tell whether it comes from the shop or from a copy of it (a staging site). Enter the shop's address as the connection's Store URL first, then replay it.`,
      },
      true,
    );

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
  if ("ignored" in taken && taken.ignored.code === "test_order") return ignoredTestOrder(ctx, row, connection, taken.ignored);
  const replayed: Replayed = {
    at: Date.now(),
    by: ctx.by,
    accepted: "taken" in taken ? taken.taken.accepted : 0,
    ignored: "ignored" in taken ? taken.ignored.reason : null,
  };
  // Whatever another replay wrote meanwhile, the row ends taken. Should this write fail, the row
  // stays replayable: a replay again is taken once, so no harm.
  await setFields(ctx.env, row, { verified: true, replayed });
  console.info("kept delivery replayed", { deadLetterId: row.id, accepted: replayed.accepted, ignored: replayed.ignored });
  if ("ignored" in taken)
    return { id: row.id, result: "ignored", code: taken.ignored.code ?? "ignored", reason: taken.ignored.reason, replayed: true };
  return { id: row.id, result: "taken", accepted: replayed.accepted };
}

/**
 * A test order the connection ignores: not booked, so not done either. It stays waiting (replayed
 * once test orders are switched on, or the payment provider's test mode turns out to have marked a
 * real sale), and raises the throttled alert a new one does (hooks.ts `ignore`).
 */
async function ignoredTestOrder(
  ctx: ReplayContext,
  row: DeadLetterRow,
  connection: LoadedConnection,
  ignored: IgnoredDelivery,
): Promise<ReplayResult> {
  const name = keptFacts(row.body).order ?? ignored.orderName ?? ignored.orderId;
  ctx.waitUntil(
    alertTestOrderIgnored(ctx.env, {
      tenantId: connection.tenantId,
      connectionId: connection.id,
      order: name === undefined ? null : `#${name.trim().replace(/^#/, "").slice(0, 40)}`,
      reason: ignored.reason,
    }),
  );
  const code = ignored.code ?? "ignored";
  await setFields(ctx.env, row, { verified: true, lastIgnored: { at: Date.now(), by: ctx.by, code } }, keptWaiting());
  console.warn("replay of a kept delivery ignored; it stays kept", { deadLetterId: row.id, code });
  return { id: row.id, result: "ignored", code, reason: ignored.reason, replayed: false };
}

/**
 * Marks a kept delivery handled (the merchant booked it by hand, or it needs nothing): it leaves
 * the waiting rows for good, and no replay takes it. Again on a handled row, it answers the first.
 */
export async function markHandled(ctx: Omit<ReplayContext, "waitUntil">, row: DeadLetterRow): Promise<Handled> {
  if (row.tenantId !== ctx.tenantId || keptFacts(row.body).kind !== "refused_delivery")
    throw new OrderlyError(
      `Dead letter ${row.id} is not a kept delivery: only those are marked handled${row.transferId ? ` (a failed step is retried or cancelled from its transfer, /transfers/${row.transferId})` : ""}.`,
      { errorClass: "conflict", code: "not_a_kept_delivery" },
    );
  const handled: Handled = { at: Date.now(), by: ctx.by };
  if (await setFields(ctx.env, row, { handled }, keptWaiting())) {
    console.info("kept delivery marked handled", { deadLetterId: row.id });
    return handled;
  }
  // Taken or handled meanwhile (or before): read what it is now.
  const now = await database(ctx.env)
    .select()
    .from(deadLetters)
    .where(and(eq(deadLetters.id, row.id), eq(deadLetters.tenantId, ctx.tenantId)))
    .get();
  const facts = now ? replayFacts(now) : null;
  if (facts?.handled) return facts.handled;
  throw new OrderlyError(
    `Dead letter ${row.id} was already replayed and taken${facts?.replayed ? ` (${new Date(facts.replayed.at).toISOString()}, by ${facts.replayed.by})` : ""}: Orderly handed it to its order, so there is nothing to mark. If it was also entered by hand, it is there twice: remove one.`,
    { errorClass: "conflict", code: "already_replayed" },
  );
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
  // One JSON parameter: D1 binds at most 100, and a bulk replay names up to REPLAY_BATCH besides the tenant.
  return database(env)
    .select()
    .from(deadLetters)
    .where(
      and(eq(deadLetters.tenantId, tenantId), sql`${deadLetters.id} IN (SELECT value FROM json_each(${JSON.stringify(ids)}))`),
    )
    .orderBy(asc(deadLetters.id));
}

/**
 * What a bulk replay takes: a waiting kept delivery whose reason said to replay it (`manual`
 * false). One that said to act by hand, or kept before rows said (no `manual`), is replayed on its own.
 */
const inBulk = sql`json_type(${deadLetters.body}, '$.manual') = 'false'`;

/**
 * The next `limit` deliveries of one connection a bulk replay takes, after id `afterId`, oldest
 * first (the order the shop sent them), and how many are left after them.
 */
export async function replayableOfConnection(
  env: Env,
  tenantId: string,
  connectionId: string,
  afterId: number,
  limit: number,
): Promise<{ rows: DeadLetterRow[]; remaining: number }> {
  const db = database(env);
  const ofConnection = [
    eq(deadLetters.tenantId, tenantId),
    keptWaiting(),
    inBulk,
    sql`json_extract(${deadLetters.body}, '$.connectionId') = ${connectionId}`,
  ];
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

/** Per connection of the tenant, its waiting deliveries: how many "Replay all" takes, and how many to check one by one. */
export async function replayableCounts(env: Env, tenantId: string): Promise<Map<string, { bulk: number; checkFirst: number }>> {
  const connectionId = sql<string | null>`json_extract(${deadLetters.body}, '$.connectionId')`;
  const rows = await database(env)
    .select({ connectionId, bulk: sql<number>`sum(CASE WHEN ${inBulk} THEN 1 ELSE 0 END)`, n: count() })
    .from(deadLetters)
    .where(and(eq(deadLetters.tenantId, tenantId), keptWaiting()))
    .groupBy(connectionId);
  return new Map(
    rows.flatMap((r) => (r.connectionId ? [[r.connectionId, { bulk: r.bulk, checkFirst: r.n - r.bulk }] as const] : [])),
  );
}

/**
 * Refused again: the row stays, with the new reason and code and who tried. No new row, and no
 * alert. Written only while it waits: a replay that took it meanwhile has the last word.
 */
async function refusedAgain(ctx: ReplayContext, row: DeadLetterRow, refusal: Refusal, verified: boolean): Promise<ReplayResult> {
  const fields: Record<string, unknown> = {
    code: refusal.code,
    verified,
    lastRefused: { at: Date.now(), by: ctx.by, code: refusal.code },
  };
  // Only ever set: advice to act by hand, once given, may have been followed.
  if (refusal.manual) fields.manual = true;
  if (keptFacts(row.body).code === "wrong_site") fields.siteRefused = true;
  const written = await setFields(ctx.env, row, fields, keptWaiting(), refusal.reason);
  console.warn("replay of a kept delivery refused", { deadLetterId: row.id, code: refusal.code, written });
  return { id: row.id, result: "refused", code: refusal.code, reason: refusal.reason };
}

/**
 * Sets these fields of the row's stored body, and its reason when given, leaving the rest as it is
 * now (not as this request read it); with `when`, only if that holds. True when the row was written.
 */
async function setFields(
  env: Env,
  row: DeadLetterRow,
  fields: Record<string, unknown>,
  when?: SQL,
  reason?: string,
): Promise<boolean> {
  const pairs = Object.entries(fields).map(([key, value]) => sql`${`$.${key}`}, json(${JSON.stringify(value)})`);
  const body = sql`json_set(${deadLetters.body}, ${sql.join(pairs, sql`, `)})`;
  const written = await database(env)
    .update(deadLetters)
    .set(reason === undefined ? { body } : { body, reason })
    .where(and(eq(deadLetters.id, row.id), eq(deadLetters.tenantId, row.tenantId ?? ""), when))
    .returning({ id: deadLetters.id });
  return written.length > 0;
}

/** A WooCommerce connection with a Store URL (only WooCommerce deliveries name their site). */
function hasStoreUrl(connection: LoadedConnection): boolean {
  if (connection.connector.id !== "woocommerce") return true;
  const url = connection.settings.storeUrl;
  return typeof url === "string" && url.trim() !== "";
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
