import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { attemptBundle, prepareSnapshot, readSnapshotViews, SNAPSHOT_INLINE_LIMIT } from "../../src/db/snapshots";

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
    const views = await readSnapshotViews(env, [{ ...record, id: 7 }]);
    expect(views.map((v) => [v.id, v.part, v.kind])).toEqual([
      [7, 0, "mapped"],
      [7, 1, "request"],
      [7, 2, "response"],
    ]);
    expect(views[2]).toMatchObject({ stepIndex: 1, attempt: 2, createdAt: 1000, data: { status: 201 }, size: 14 });
  });

  it("leave single snapshots as they are, and an attempt with nothing to keep makes no row", async () => {
    expect(attemptBundle(base, [])).toBeNull();
    const record = await prepareSnapshot(env, { ...base, stepIndex: null, attempt: null, kind: "canonical", data: { a: 1 } });
    const [view] = await readSnapshotViews(env, [{ ...record, id: 3 }]);
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
    const views = await readSnapshotViews(env, [{ ...record, id: 9 }]);
    expect(views.map((v) => v.kind)).toEqual(["request", "error"]);
    expect(views[1]!.data).toEqual({ message: "no" });
  });
});
