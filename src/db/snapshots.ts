/**
 * Snapshots are the data of a transfer at each stage (received, canonical, mapped, request,
 * response, error). Small ones live in D1; large ones go to R2 and D1 keeps the key.
 */
import { and, desc, eq, inArray } from "drizzle-orm";
import { database, type SerializedStatement, serialize } from "./client";
import { type attempts, type SnapshotKind, snapshots } from "./schema";

/** Above this a snapshot body goes to R2 (D1 rows stay small and fast to page). */
export const SNAPSHOT_INLINE_LIMIT = 64 * 1024;

export interface SnapshotRecord {
  transferId: string;
  tenantId: string;
  stepIndex: number | null;
  attempt: number | null;
  kind: SnapshotKind;
  body: string | null;
  blobKey: string | null;
  size: number;
  createdAt: number;
}

export interface SnapshotData {
  transferId: string;
  tenantId: string;
  stepIndex?: number | null;
  attempt?: number | null;
  kind: SnapshotKind;
  data: unknown;
}

/** A snapshot kept inline whatever its size (the caller knows it is small, or has cut it down). */
export function inlineSnapshot(input: SnapshotData, now = Date.now()): SnapshotRecord {
  const text = JSON.stringify(input.data ?? null);
  return {
    transferId: input.transferId,
    tenantId: input.tenantId,
    stepIndex: input.stepIndex ?? null,
    attempt: input.attempt ?? null,
    kind: input.kind,
    body: text,
    blobKey: null,
    size: new TextEncoder().encode(text).byteLength,
    createdAt: now,
  };
}

/** Serialises a snapshot, moving a large body to R2 first. */
export async function prepareSnapshot(env: Pick<Env, "BLOBS">, input: SnapshotData, now = Date.now()): Promise<SnapshotRecord> {
  const inline = inlineSnapshot(input, now);
  if (inline.size <= SNAPSHOT_INLINE_LIMIT) return inline;
  const text = inline.body as string;
  const blobKey = `snapshots/${input.tenantId}/${input.transferId}/${input.kind}-${input.stepIndex ?? "t"}-${input.attempt ?? 0}-${crypto.randomUUID()}.json`;
  await env.BLOBS.put(blobKey, text, { httpMetadata: { contentType: "application/json" } });
  return { ...inline, body: null, blobKey };
}

/** D1 caps bound parameters per statement at 100. */
const MAX_BOUND_PARAMETERS = 100;

/**
 * As few multi-row statements as D1's parameter cap allows. Rows are billed alike either way, but
 * each statement also writes the table's AUTOINCREMENT counter once, so eleven snapshots in one
 * statement cost 34 rows written instead of 44 (docs/performance.md). Ids still follow the order.
 */
export function insertSnapshots(env: Pick<Env, "DB">, records: SnapshotRecord[]): SerializedStatement[] {
  const db = database(env);
  const first = records[0];
  if (!first) return [];
  const perStatement = Math.max(1, Math.floor(MAX_BOUND_PARAMETERS / Object.keys(first).length));
  const statements: SerializedStatement[] = [];
  for (let i = 0; i < records.length; i += perStatement) {
    statements.push(serialize(db.insert(snapshots).values(records.slice(i, i + perStatement))));
  }
  return statements;
}

/** One snapshot of an attempt, before it is stored in the attempt's bundle. */
export interface SnapshotPart {
  kind: Exclude<SnapshotKind, "attempt" | "history" | "received" | "canonical">;
  data: unknown;
}

/**
 * All snapshots of one attempt (what was mapped, each request and response, the error) in one
 * row: every D1 row written costs alike, and an attempt's 5–20 snapshots were 3–4 rows each with
 * the table's indexes and counter (docs/performance.md). Readers see them apart again.
 */
export function attemptBundle(
  base: Omit<SnapshotData, "kind" | "data"> & { attempt: number },
  parts: SnapshotPart[],
): SnapshotData | null {
  return parts.length === 0 ? null : { ...base, kind: "attempt", data: { parts } };
}

/** How one attempt went, as the transfer page lists it. */
export type AttemptRecord = Omit<typeof attempts.$inferSelect, "transferId" | "tenantId">;

/** Above this a history row takes no more snapshots and the next starts (D1 caps a row at 2 MB). */
const HISTORY_ROW_MAX_BYTES = 8 * SNAPSHOT_INLINE_LIMIT;

/**
 * The rows one projection writes: its inline snapshots and its attempts' outcomes together in one
 * `history` row, a snapshot kept in R2 in a row of its own (retention finds R2 keys by column).
 * A D1 row costs alike whatever it holds, and each row here also writes the table's index, so a
 * three-step transfer's five snapshot rows and three attempt rows (17 rows written) became one
 * (3 written: row, index, AUTOINCREMENT counter; docs/performance.md). Order is kept: an R2 row
 * between inline snapshots ends the history row before it. A lone snapshot stays as it is.
 */
export function historyRecords(
  base: { transferId: string; tenantId: string },
  records: SnapshotRecord[],
  outcomes: AttemptRecord[],
  now = Date.now(),
): SnapshotRecord[] {
  const out: SnapshotRecord[] = [];
  let run: SnapshotRecord[] = [];
  let runBytes = 0;
  let left = outcomes;
  const close = () => {
    if (run.length === 1 && left.length === 0) out.push(run[0]!);
    else if (run.length > 0 || left.length > 0) out.push(historyRow(base, run, left, now));
    run = [];
    runBytes = 0;
    left = [];
  };
  for (const record of records) {
    if (record.body === null) {
      close();
      out.push(record);
      continue;
    }
    if (run.length > 0 && runBytes + record.size > HISTORY_ROW_MAX_BYTES) close();
    run.push(record);
    runBytes += record.size;
  }
  close();
  return out;
}

/** One `history` row; each snapshot's JSON body is spliced in as it is, not parsed again. */
function historyRow(
  base: { transferId: string; tenantId: string },
  run: SnapshotRecord[],
  outcomes: AttemptRecord[],
  now: number,
): SnapshotRecord {
  let bodies = 0;
  let bodyBytes = 0;
  const parts = run.map((r) => {
    bodies += r.body!.length;
    bodyBytes += r.size;
    const head = JSON.stringify({ kind: r.kind, stepIndex: r.stepIndex, attempt: r.attempt, createdAt: r.createdAt });
    return `${head.slice(0, -1)},"data":${r.body}}`;
  });
  const body = `{"parts":[${parts.join(",")}],"attempts":${JSON.stringify(outcomes)}}`;
  // The wrapper is ASCII, so its characters are its bytes.
  const size = bodyBytes + body.length - bodies;
  return { ...base, stepIndex: null, attempt: null, kind: "history", body, blobKey: null, size, createdAt: now };
}

/** A snapshot as the API and the transfer page show it; snapshots stored together share a row id. */
export interface SnapshotView {
  id: number;
  /** Position inside the stored row (a history row or an attempt's bundle); 0 for a row holding one. */
  part: number;
  kind: string;
  stepIndex: number | null;
  attempt: number | null;
  size: number;
  createdAt: number;
  data: unknown;
}

type SnapshotRow = Pick<SnapshotRecord, "kind" | "stepIndex" | "attempt" | "size" | "createdAt" | "body" | "blobKey"> & {
  id: number;
};

interface HistoryPart {
  kind: SnapshotKind;
  stepIndex: number | null;
  attempt: number | null;
  createdAt: number;
  data: unknown;
}

/** A transfer's stored history read back: its snapshots in order, bundles opened, and its attempts. */
export interface History {
  snapshots: SnapshotView[];
  attempts: AttemptRecord[];
}

/** Reads rows back as the snapshots and attempt outcomes they hold, in order. */
export async function readHistory(env: Pick<Env, "BLOBS">, rows: SnapshotRow[]): Promise<History> {
  const encoder = new TextEncoder();
  const sizeOf = (data: unknown) => encoder.encode(JSON.stringify(data ?? null)).byteLength;
  const read = await Promise.all(
    rows.map(async (row): Promise<History> => {
      const data = await readSnapshotData(env, row);
      const views: SnapshotView[] = [];
      const add = (p: HistoryPart, size?: number) => {
        const base = { id: row.id, stepIndex: p.stepIndex, attempt: p.attempt, createdAt: p.createdAt };
        if (p.kind !== "attempt") {
          views.push({ ...base, part: views.length, kind: p.kind, size: size ?? sizeOf(p.data), data: p.data });
          return;
        }
        for (const inner of (p.data as { parts?: SnapshotPart[] } | null)?.parts ?? []) {
          views.push({ ...base, part: views.length, kind: inner.kind, size: sizeOf(inner.data), data: inner.data });
        }
      };
      if (row.kind !== "history") {
        add({ kind: row.kind, stepIndex: row.stepIndex, attempt: row.attempt, createdAt: row.createdAt, data }, row.size);
        return { snapshots: views, attempts: [] };
      }
      const history = data as { parts?: HistoryPart[]; attempts?: AttemptRecord[] } | null;
      for (const p of history?.parts ?? []) add(p);
      return { snapshots: views, attempts: history?.attempts ?? [] };
    }),
  );
  return { snapshots: read.flatMap((r) => r.snapshots), attempts: read.flatMap((r) => r.attempts) };
}

/**
 * A transfer's attempts in step and attempt order, once each: those its history rows hold and
 * those the `attempts` table holds for older transfers (and for jobs of the previous release). A
 * projection written twice (its outbox row outlived the D1 write) lists an attempt once.
 */
export function mergeAttempts(...lists: AttemptRecord[][]): AttemptRecord[] {
  const byAttempt = new Map(lists.flat().map((a) => [`${a.stepIndex}:${a.attempt}`, a]));
  return [...byAttempt.values()].sort((a, b) => a.stepIndex - b.stepIndex || a.attempt - b.attempt);
}

/** The newest snapshot of a kind in a transfer's history (the canonical order a retry edits). */
export async function latestSnapshot(
  env: Pick<Env, "DB" | "BLOBS">,
  tenantId: string,
  transferId: string,
  kind: Exclude<SnapshotKind, "attempt" | "history">,
): Promise<unknown> {
  const rows = await database(env)
    .select()
    .from(snapshots)
    .where(
      and(eq(snapshots.transferId, transferId), eq(snapshots.tenantId, tenantId), inArray(snapshots.kind, [kind, "history"])),
    )
    .orderBy(desc(snapshots.id));
  for (const row of rows) {
    const found = (await readHistory(env, [row])).snapshots.filter((s) => s.kind === kind).at(-1);
    if (found) return found.data;
  }
  return undefined;
}

/** Reads a snapshot's data back, from D1 or R2. */
export async function readSnapshotData(
  env: Pick<Env, "BLOBS">,
  row: { body: string | null; blobKey: string | null },
): Promise<unknown> {
  if (row.body !== null) return JSON.parse(row.body);
  if (!row.blobKey) return null;
  const object = await env.BLOBS.get(row.blobKey);
  if (!object) return { missing: `R2 object ${row.blobKey} is gone` };
  const text = await object.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
