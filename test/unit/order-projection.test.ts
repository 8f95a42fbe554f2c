/**
 * The D1 projection of a transfer writes only what changed, and keeps the indexed columns (status,
 * updated_at) out of a write that only moves progress: D1 bills every row and index entry written.
 */
import { env } from "cloudflare:test";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database, type SerializedStatement } from "../../src/db/client";
import { transferSteps, transfers } from "../../src/db/schema";
import { projectTransfer, type StepRow, type TransferRow } from "../../src/durable/order-projection";

const who = { tenantId: "ten_projection", connectionId: "con_shop", orderId: "1001" };

function transferRow(overrides: Partial<TransferRow> = {}): TransferRow {
  return {
    id: `tr_${crypto.randomUUID()}`,
    flow_id: "flow_1",
    stage: "paid",
    occurrence: "",
    status: "running",
    steps: JSON.stringify([
      { target: "con_ledger", action: "createInvoice" },
      { target: "con_ledger", action: "registerPayment" },
    ]),
    input: JSON.stringify({
      order: {
        source: { orderNumber: "1001", version: 1 },
        customer: { email: "a@example.com", firstName: "Ada", lastName: "Lovelace" },
        totals: { total: 24900 },
        currency: "DKK",
      },
    }),
    error: null,
    created_at: 1_000,
    updated_at: 1_000,
    ...overrides,
  };
}

const step = (index: number, status: string): StepRow => ({
  transfer_id: "",
  step_index: index,
  status,
  attempts: status === "waiting" ? 0 : 1,
  result: status === "done" ? JSON.stringify({ externalId: `inv-${index}`, created: true, outputs: {} }) : null,
  error: null,
});

/** Runs the transfer's statements (not its steps') and returns the D1 rows they wrote. */
async function transferRowsWritten(transfer: TransferRow, steps: StepRow[]): Promise<number> {
  const statements = projectTransfer(
    who,
    transfer,
    steps.map((s) => ({ ...s, transfer_id: transfer.id })),
  ).filter((s: SerializedStatement) => /^(insert into|update) "transfers"/i.test(s.sql));
  const results = await env.DB.batch(statements.map((s) => env.DB.prepare(s.sql).bind(...s.params)));
  return results.reduce((n, r) => n + (r.meta.rows_written ?? 0), 0);
}

/** Runs all the projection's statements (transfer and steps) and returns the D1 rows they wrote. */
async function rowsWritten(transfer: TransferRow, steps: StepRow[]): Promise<number> {
  const statements = projectTransfer(
    who,
    transfer,
    steps.map((s) => ({ ...s, transfer_id: transfer.id })),
  );
  const results = await env.DB.batch(statements.map((s) => env.DB.prepare(s.sql).bind(...s.params)));
  return results.reduce((n, r) => n + (r.meta.rows_written ?? 0), 0);
}

async function storedSteps(transferId: string) {
  return database(env)
    .select({ stepIndex: transferSteps.stepIndex, status: transferSteps.status, updatedAt: transferSteps.updatedAt })
    .from(transferSteps)
    .where(eq(transferSteps.transferId, transferId))
    .orderBy(asc(transferSteps.stepIndex));
}

const threeSteps = JSON.stringify([
  { target: "con_ledger", action: "createInvoice" },
  { target: "con_ledger", action: "registerPayment" },
  { target: "con_other", action: "createInvoice" },
]);

describe("the transfer's projection in D1", () => {
  it("writes the indexes only when the status changes, progress alone as one row, and nothing for the same state", async () => {
    const transfer = transferRow();
    const inserted = await transferRowsWritten(transfer, [step(0, "released"), step(1, "waiting")]);
    expect(inserted).toBeGreaterThan(5);
    // The same state again: nothing.
    expect(await transferRowsWritten(transfer, [step(0, "released"), step(1, "waiting")])).toBe(0);
    // The first step done, the status still running, a moment later: the row alone.
    const progressed = { ...transfer, updated_at: 1_500 };
    expect(await transferRowsWritten(progressed, [step(0, "done"), step(1, "released")])).toBe(1);
    // Completed: the status and its indexes.
    const completed = { ...transfer, status: "completed" as const, updated_at: 2_000 };
    const statusWrite = await transferRowsWritten(completed, [step(0, "done"), step(1, "done")]);
    expect(statusWrite).toBeGreaterThan(1);
    const [stored] = await database(env).select().from(transfers).where(eq(transfers.id, transfer.id));
    expect(stored).toMatchObject({ status: "completed", stepsDone: 2, updatedAt: 2_000, completedAt: 2_000 });
  });

  it("moves updated_at of a transfer unchanged but for its time once it is a minute old", async () => {
    const transfer = transferRow();
    await transferRowsWritten(transfer, [step(0, "released"), step(1, "waiting")]);
    expect(await transferRowsWritten({ ...transfer, updated_at: 30_000 }, [step(0, "released"), step(1, "waiting")])).toBe(0);
    expect(
      await transferRowsWritten({ ...transfer, updated_at: 61_000 }, [step(0, "released"), step(1, "waiting")]),
    ).toBeGreaterThan(0);
    const [stored] = await database(env).select().from(transfers).where(eq(transfers.id, transfer.id));
    expect(stored?.updatedAt).toBe(61_000);
  });

  it("keeps the customer's address in lower case, so the log's search finds it however the shop wrote it", async () => {
    const transfer = transferRow({
      input: JSON.stringify({
        order: {
          source: { orderNumber: "1002", version: 1 },
          customer: { email: " Ada.Lovelace@Example.COM ", firstName: "Ada", lastName: "Lovelace" },
          totals: { total: 24900 },
          currency: "DKK",
        },
      }),
    });
    await transferRowsWritten(transfer, [step(0, "released"), step(1, "waiting")]);
    const [stored] = await database(env).select().from(transfers).where(eq(transfers.id, transfer.id));
    expect(stored?.customerEmail).toBe("ada.lovelace@example.com");
  });

  it("writes nothing for a state older than the one stored (a batch that lands late)", async () => {
    const transfer = transferRow();
    const completed = { ...transfer, status: "completed" as const, updated_at: 2_000 };
    expect(await rowsWritten(completed, [step(0, "done"), step(1, "done")])).toBeGreaterThan(0);
    // The state of a moment before: another status and other steps, but older.
    expect(await rowsWritten({ ...transfer, updated_at: 1_500 }, [step(0, "done"), step(1, "released")])).toBe(0);
    const [stored] = await database(env).select().from(transfers).where(eq(transfers.id, transfer.id));
    expect(stored).toMatchObject({ status: "completed", stepsDone: 2, updatedAt: 2_000, completedAt: 2_000 });
    expect((await storedSteps(transfer.id)).map((s) => s.status)).toEqual(["completed", "completed"]);
  });

  it("deletes the rows of steps the transfer no longer has, and writes nothing more when it has them all", async () => {
    const transfer = transferRow({ steps: threeSteps });
    await rowsWritten(transfer, [step(0, "done"), step(1, "done"), step(2, "failed")]);
    expect(await storedSteps(transfer.id)).toHaveLength(3);
    // The same state again: nothing, the delete included.
    expect(await rowsWritten(transfer, [step(0, "done"), step(1, "done"), step(2, "failed")])).toBe(0);
    // Retried with the flow's current steps, which dropped the third: completed, 2 of 2.
    const retried = { ...transfer, steps: transferRow().steps, status: "completed" as const, updated_at: 2_000 };
    await rowsWritten(retried, [step(0, "done"), step(1, "done")]);
    expect((await storedSteps(transfer.id)).map((s) => [s.stepIndex, s.status])).toEqual([
      [0, "completed"],
      [1, "completed"],
    ]);
    // A state older than a step's row keeps it (a step added since, should an old batch land late).
    const grown = { ...retried, steps: threeSteps, status: "running" as const, updated_at: 3_000 };
    await rowsWritten(grown, [step(0, "done"), step(1, "done"), step(2, "released")]);
    await rowsWritten({ ...retried, updated_at: 2_500 }, [step(0, "done"), step(1, "done")]);
    expect(await storedSteps(transfer.id)).toHaveLength(3);
  });
});
