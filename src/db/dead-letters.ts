/**
 * Reading dead letters, one way for the API (/api/v1/dead-letters) and the UI (/dead-letters): a
 * tenant-scoped page newest first, one row, and a kept delivery's raw body (inline when it was
 * small, else its R2 object). Two kinds share the table: steps that ran out of retries (the queue's
 * message, `transferId` set; worker/queue/consumer.ts) and signed deliveries a source sent that
 * could not be taken (`kind: "refused_delivery"`, with headers and raw body; worker/routes/hooks.ts).
 */
import { and, asc, desc, eq, gte, isNull, lte, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { database } from "./client";
import { beforeCursor, encodeCursor } from "./cursor";
import { deadLetters } from "./schema";

export type DeadLetterRow = typeof deadLetters.$inferSelect;

/** A page of the tenant's dead letters, newest first on (created_at, id); `after` is the previous page's cursor. */
export async function deadLetterPage(
  env: Env,
  tenantId: string,
  after: [number, number] | undefined,
  limit: number,
): Promise<{ rows: DeadLetterRow[]; nextCursor: string | null }> {
  const where: SQL[] = [eq(deadLetters.tenantId, tenantId)];
  if (after) where.push(beforeCursor(deadLetters, ...after));
  const rows = await database(env)
    .select()
    .from(deadLetters)
    .where(and(...where))
    .orderBy(desc(deadLetters.createdAt), desc(deadLetters.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { rows: page, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}

/** One of the tenant's dead letters; undefined when it is not there or another tenant's. */
export function findDeadLetter(env: Env, tenantId: string, id: number): Promise<DeadLetterRow | undefined> {
  return database(env)
    .select()
    .from(deadLetters)
    .where(and(eq(deadLetters.tenantId, tenantId), eq(deadLetters.id, id)))
    .get();
}

/**
 * A kept delivery still waiting for a person: a refused delivery (not a failed step, which its
 * transfer shows) that no replay has taken (`replayed`, routes/replay.ts) and nobody marked handled
 * (`handled`: booked by hand). What "kept" counts, and what the alert sweep still tells.
 */
export function keptWaiting(): SQL {
  return sql`(json_extract(${deadLetters.body}, '$.kind') = 'refused_delivery' AND json_extract(${deadLetters.body}, '$.replayed') IS NULL AND json_extract(${deadLetters.body}, '$.handled') IS NULL)`;
}

export interface UntoldDelivery {
  id: number;
  tenantId: string;
  /** Its source connection; empty when the stored body lacks it (the alert then names no connection). */
  connectionId: string;
  order: string | null;
  reason: string;
}

/**
 * Kept deliveries (`refused_delivery`) kept between `from` and `to` whose alert was never counted
 * (`alerted_at` null), oldest first, for the cron's sweep. A step's dead letter is not one: its
 * transfer's failure alert tells of it. Nor is one a replay took (or a person marked handled)
 * before its alert went out: telling of it then would have the merchant enter it by hand again.
 */
export async function untoldKeptDeliveries(env: Env, from: number, to: number, limit: number): Promise<UntoldDelivery[]> {
  const rows = await database(env)
    .select({ id: deadLetters.id, tenantId: deadLetters.tenantId, body: deadLetters.body, reason: deadLetters.reason })
    .from(deadLetters)
    .where(and(isNull(deadLetters.alertedAt), gte(deadLetters.createdAt, from), lte(deadLetters.createdAt, to), keptWaiting()))
    .orderBy(asc(deadLetters.createdAt), asc(deadLetters.id))
    .limit(limit);
  return rows.flatMap((row) => {
    if (row.tenantId === null) return [];
    const facts = keptFacts(row.body);
    return [
      {
        id: row.id,
        tenantId: row.tenantId,
        connectionId: facts.connectionId ?? "",
        order: facts.order ?? null,
        reason: row.reason ?? "No reason was recorded.",
      },
    ];
  });
}

// Each field on its own: a row written by an older release (or a broken queue message) still
// shows what it has instead of failing as a whole.
const text = z.string().optional().catch(undefined);
const keptSchema = z.object({
  kind: text,
  code: text,
  /** A refused delivery's source connection. */
  connectionId: text,
  /** A refused delivery: the order as the merchant knows it (#1001). A step: its order object's name. */
  order: z.string().nullable().optional().catch(undefined),
  headers: z.record(z.string(), z.string()).optional().catch(undefined),
  raw: z
    .object({
      body: z.string().nullable().optional().catch(undefined),
      blobKey: z.string().nullable().optional().catch(undefined),
      size: z.number().optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
  /** A step: its target connection, action and place in the flow. */
  target: text,
  action: text,
  stepIndex: z.number().optional().catch(undefined),
});

export type KeptFacts = z.infer<typeof keptSchema>;

/** What a dead letter's stored body says, read field by field (an odd field is left out). */
export function keptFacts(body: unknown): KeptFacts {
  const parsed = keptSchema.safeParse(body);
  return parsed.success ? parsed.data : {};
}

export interface KeptBody {
  text: string;
  /** The whole body's size in bytes. */
  size: number;
  /** Only the first `maxBytes` were read. */
  cut: boolean;
  /** Not valid UTF-8 (why it went to R2 though small): bytes that are not text show as U+FFFD. */
  utf8: boolean;
}

/**
 * A refused delivery's body as received: inline when it was small, else its R2 object. Null for a
 * step (no body kept) or when the R2 object is gone. With `maxBytes`, only that much is read (an R2
 * range), so a page never loads a 10 MiB body to show its start.
 */
export async function keptRawBody(env: Pick<Env, "BLOBS">, body: unknown, maxBytes?: number): Promise<KeptBody | null> {
  const raw = keptFacts(body).raw;
  if (typeof raw?.body === "string") {
    const bytes = new TextEncoder().encode(raw.body);
    if (maxBytes === undefined || bytes.byteLength <= maxBytes)
      return { text: raw.body, size: bytes.byteLength, cut: false, utf8: true };
    return { ...decode(bytes.subarray(0, maxBytes), true), size: bytes.byteLength, cut: true };
  }
  if (typeof raw?.blobKey !== "string") return null;
  const ranged = maxBytes !== undefined && (raw.size === undefined || raw.size > maxBytes);
  const object = await env.BLOBS.get(raw.blobKey, ranged ? { range: { offset: 0, length: maxBytes } } : undefined);
  if (!object) return null;
  const bytes = new Uint8Array(await object.arrayBuffer());
  const cut = bytes.byteLength < object.size;
  return { ...decode(bytes, cut), size: object.size, cut };
}

function decode(bytes: Uint8Array, cut: boolean): { text: string; utf8: boolean } {
  try {
    // `stream` on a cut body: a character split by the cut is left out instead of failing the check.
    return { text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes, { stream: cut }), utf8: true };
  } catch {
    return { text: new TextDecoder("utf-8", { fatal: false, ignoreBOM: false }).decode(bytes), utf8: false };
  }
}
