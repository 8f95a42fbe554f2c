/**
 * Snapshots are the data of a transfer at each stage (received, canonical, mapped, request,
 * response, error). Small ones live in D1; large ones go to R2 and D1 keeps the key.
 */
import { database, type SerializedStatement, serialize } from "./client";
import { type SnapshotKind, snapshots } from "./schema";

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

/** Serialises a snapshot, moving a large body to R2 first. */
export async function prepareSnapshot(env: Pick<Env, "BLOBS">, input: SnapshotData, now = Date.now()): Promise<SnapshotRecord> {
  const text = JSON.stringify(input.data ?? null);
  const size = new TextEncoder().encode(text).byteLength;
  const base = {
    transferId: input.transferId,
    tenantId: input.tenantId,
    stepIndex: input.stepIndex ?? null,
    attempt: input.attempt ?? null,
    kind: input.kind,
    size,
    createdAt: now,
  };
  if (size <= SNAPSHOT_INLINE_LIMIT) return { ...base, body: text, blobKey: null };
  const blobKey = `snapshots/${input.tenantId}/${input.transferId}/${input.kind}-${input.stepIndex ?? "t"}-${input.attempt ?? 0}-${crypto.randomUUID()}.json`;
  await env.BLOBS.put(blobKey, text, { httpMetadata: { contentType: "application/json" } });
  return { ...base, body: null, blobKey };
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
  kind: Exclude<SnapshotKind, "attempt" | "received" | "canonical">;
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

/** A snapshot as the API and the transfer page show it; parts of a bundle share its row id. */
export interface SnapshotView {
  id: number;
  /** Position inside the stored row (an attempt's bundle); 0 for a row holding one snapshot. */
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

/** Reads rows back as the snapshots they hold, in order, bundles opened. */
export async function readSnapshotViews(env: Pick<Env, "BLOBS">, rows: SnapshotRow[]): Promise<SnapshotView[]> {
  const encoder = new TextEncoder();
  const views = await Promise.all(
    rows.map(async (row): Promise<SnapshotView[]> => {
      const data = await readSnapshotData(env, row);
      const base = { id: row.id, stepIndex: row.stepIndex, attempt: row.attempt, createdAt: row.createdAt };
      if (row.kind !== "attempt") return [{ ...base, part: 0, kind: row.kind, size: row.size, data }];
      const parts = (data as { parts?: SnapshotPart[] } | null)?.parts ?? [];
      return parts.map((p, part) => ({
        ...base,
        part,
        kind: p.kind,
        size: encoder.encode(JSON.stringify(p.data ?? null)).byteLength,
        data: p.data,
      }));
    }),
  );
  return views.flat();
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
