import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { database, runBatch } from "../../src/db/client";
import { snapshots } from "../../src/db/schema";
import {
  type AttemptRecord,
  attemptBundle,
  historyRecords,
  insertSnapshots,
  latestSnapshot,
  prepareSnapshot,
  readHistory,
  SNAPSHOT_INLINE_LIMIT,
} from "../../src/db/snapshots";

const views = async (rows: Parameters<typeof readHistory>[1]) => (await readHistory(env, rows)).snapshots;

const base = { transferId: "tr_1", tenantId: "ten_1", stepIndex: 1, attempt: 2 };

describe("an attempt's snapshots stored as one row", () => {
  it("are read back apart, in order, with their own kinds and sizes", async () => {
    const bundle = attemptBundle(base, [
      { kind: "mapped", data: { lines: 2 } },
      { kind: "request", data: { method: "POST", url: "https://example.test/x" } },
      { kind: "response", data: { status: 201 } },
    ]);
    if (!bundle) throw new Error("a bundle with parts");
    const record = await prepareSnapshot(env, bundle, 1000);
    expect(record.kind).toBe("attempt");
    const read = await views([{ ...record, id: 7 }]);
    expect(read.map((v) => [v.id, v.part, v.kind])).toEqual([
      [7, 0, "mapped"],
      [7, 1, "request"],
      [7, 2, "response"],
    ]);
    expect(read[2]).toMatchObject({ stepIndex: 1, attempt: 2, createdAt: 1000, data: { status: 201 }, size: 14 });
  });

  it("leave single snapshots as they are, and an attempt with nothing to keep makes no row", async () => {
    expect(attemptBundle(base, [])).toBeNull();
    const record = await prepareSnapshot(env, { ...base, stepIndex: null, attempt: null, kind: "canonical", data: { a: 1 } });
    const [view] = await views([{ ...record, id: 3 }]);
    expect(view).toMatchObject({ id: 3, part: 0, kind: "canonical", data: { a: 1 } });
  });

  it("go to R2 together when the bundle is large, and still open", async () => {
    const big = "x".repeat(SNAPSHOT_INLINE_LIMIT);
    const bundle = attemptBundle(base, [
      { kind: "request", data: { body: big } },
      { kind: "error", data: { message: "no" } },
    ]);
    const record = await prepareSnapshot(env, bundle!);
    expect(record.body).toBeNull();
    expect(record.blobKey).toMatch(/^snapshots\/ten_1\/tr_1\/attempt-/);
    const read = await views([{ ...record, id: 9 }]);
    expect(read.map((v) => v.kind)).toEqual(["request", "error"]);
    expect(read[1]!.data).toEqual({ message: "no" });
  });
});

describe("a projection's history stored as one row", () => {
  const transfer = { transferId: "tr_h", tenantId: "ten_h" };
  const outcome = (stepIndex: number, attempt = 1): AttemptRecord => ({
    stepIndex,
    attempt,
    outcome: "ok",
    errorClass: null,
    latencyMs: 12,
    createdAt: 2000 + stepIndex,
  });
  async function threeStepJob() {
    const received = await prepareSnapshot(env, { ...transfer, kind: "received", data: { id: 1, note: "blåbær" } }, 1000);
    const canonical = await prepareSnapshot(env, { ...transfer, kind: "canonical", data: { order: { number: "1001" } } }, 1000);
    const steps = await Promise.all(
      [0, 1, 2].map((i) =>
        prepareSnapshot(
          env,
          attemptBundle({ ...transfer, stepIndex: i, attempt: 1 }, [
            { kind: "request", data: { step: i } },
            { kind: "response", data: { status: 201 } },
          ])!,
          1500 + i,
        ),
      ),
    );
    return [received, canonical, ...steps];
  }

  it("keeps a three-step transfer's snapshots and attempts in one row, read back as they were", async () => {
    const records = await threeStepJob();
    const rows = historyRecords(transfer, records, [outcome(0), outcome(1), outcome(2)], 3000);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: "history", stepIndex: null, attempt: null, blobKey: null, createdAt: 3000 });
    expect(rows[0]!.size).toBe(new TextEncoder().encode(rows[0]!.body!).byteLength);
    const history = await readHistory(env, [{ ...rows[0]!, id: 4 }]);
    expect(history.snapshots.map((v) => [v.id, v.part, v.kind, v.stepIndex])).toEqual([
      [4, 0, "received", null],
      [4, 1, "canonical", null],
      [4, 2, "request", 0],
      [4, 3, "response", 0],
      [4, 4, "request", 1],
      [4, 5, "response", 1],
      [4, 6, "request", 2],
      [4, 7, "response", 2],
    ]);
    expect(history.snapshots[0]).toMatchObject({ createdAt: 1000, data: { id: 1, note: "blåbær" } });
    expect(history.snapshots[6]).toMatchObject({ attempt: 1, createdAt: 1502, data: { step: 2 } });
    expect(history.attempts).toEqual([outcome(0), outcome(1), outcome(2)]);
  });

  it("gives a snapshot kept in R2 a row of its own, in its place, and leaves a lone snapshot plain", async () => {
    const [received, canonical] = await threeStepJob();
    const big = await prepareSnapshot(env, { ...transfer, kind: "received", data: "x".repeat(SNAPSHOT_INLINE_LIMIT) });
    expect(big.blobKey).toBeTruthy();
    const rows = historyRecords(transfer, [received!, big, canonical!], []);
    expect(rows.map((r) => r.kind)).toEqual(["received", "received", "canonical"]);
    expect(rows[1]).toBe(big);
    const withOutcome = historyRecords(transfer, [received!, big], [outcome(0)]);
    expect(withOutcome.map((r) => r.kind)).toEqual(["history", "received"]);
    expect(historyRecords(transfer, [], [outcome(1, 2)]).map((r) => r.kind)).toEqual(["history"]);
    expect(historyRecords(transfer, [], [])).toEqual([]);
  });

  it("starts a new row when one would grow past its cap", async () => {
    const half = "y".repeat(SNAPSHOT_INLINE_LIMIT - 100);
    const records = await Promise.all(
      Array.from({ length: 10 }, (_, i) => prepareSnapshot(env, { ...transfer, kind: "canonical", data: { i, half } })),
    );
    const rows = historyRecords(transfer, records, [outcome(0)]);
    expect(rows.map((r) => r.kind)).toEqual(["history", "history"]);
    const history = await readHistory(
      env,
      rows.map((r, i) => ({ ...r, id: i + 1 })),
    );
    expect(history.snapshots.map((v) => (v.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(history.attempts).toEqual([outcome(0)]);
  });

  it("finds the newest canonical order in a history row or a row of its own", async () => {
    const tenantId = `ten_${crypto.randomUUID()}`;
    const where = { transferId: `tr_${crypto.randomUUID()}`, tenantId };
    const first = await prepareSnapshot(env, { ...where, kind: "canonical", data: { v: 1 } });
    const second = await prepareSnapshot(env, { ...where, kind: "canonical", data: { v: 2 } });
    const received = await prepareSnapshot(env, { ...where, kind: "received", data: {} });
    await runBatch(env, insertSnapshots(env, historyRecords(where, [received, first, second], [])));
    expect(await latestSnapshot(env, tenantId, where.transferId, "canonical")).toEqual({ v: 2 });
    const third = await prepareSnapshot(env, { ...where, kind: "canonical", data: { v: 3 } });
    await database(env).insert(snapshots).values(third);
    expect(await latestSnapshot(env, tenantId, where.transferId, "canonical")).toEqual({ v: 3 });
    expect(await latestSnapshot(env, "someone-else", where.transferId, "canonical")).toBeUndefined();
  });
});
