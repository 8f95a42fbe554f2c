/**
 * A transfer's history (snapshots and how each attempt went) reaches D1 as one row per projection
 * (src/db/snapshots.ts, historyRecords), and what the previous release wrote is still read.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database, serialize } from "../../src/db/client";
import { attempts, snapshots } from "../../src/db/schema";
import { transferDetail } from "../../src/worker/routes/ui/data/transfer-detail";
import { createWorld, ledgerSteps, orderObject, settledTransfers, shopifyOrder } from "../helpers/world";

describe("a transfer's history in D1", () => {
  it("is one row for a transfer whose steps ran within the projection's hold, and reads back whole", async () => {
    const world = await createWorld();
    await world.flow("paid", ledgerSteps(world));
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("completed");
    const rows = await database(env).select().from(snapshots).where(eq(snapshots.transferId, transfer.id));
    expect(rows.map((r) => r.kind)).toEqual(["history"]);
    expect(await database(env).select().from(attempts).where(eq(attempts.transferId, transfer.id))).toEqual([]);

    const detail = await transferDetail(env, world.tenantId, transfer.id);
    expect(detail!.snapshots.map((s) => s.kind)).toEqual(["received", "canonical", "mapped"]);
    expect(detail!.attempts.map((a) => [a.stepIndex, a.attempt, a.outcome])).toEqual([
      [0, 1, "ok"],
      [1, 1, "ok"],
    ]);
    const api = await world.api(`/transfers/${transfer.id}`);
    expect(api.body.attempts).toHaveLength(2);
    expect(api.body.snapshots.map((s: { kind: string }) => s.kind)).toEqual(["received", "canonical", "mapped"]);
  });

  it("still writes a projection job the previous release queued, and shows its attempt rows beside the new ones", async () => {
    const world = await createWorld();
    await world.flow("paid", ledgerSteps(world));
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    const stub = orderObject(world, order);
    // The previous release carried an attempt's row as a serialised statement in `extra`.
    const oldRow = serialize(
      database(env).insert(attempts).values({
        transferId: transfer.id,
        stepIndex: 1,
        attempt: 0,
        tenantId: world.tenantId,
        outcome: "retry",
        errorClass: "transient",
        latencyMs: 40,
        createdAt: 1,
      }),
    );
    await runInDurableObject(stub, (_instance, state) => {
      state.storage.sql.exec(
        "INSERT INTO outbox (kind, transfer_id, payload, next_at) VALUES ('project', ?, ?, ?)",
        transfer.id,
        JSON.stringify({ transferId: transfer.id, snapshots: [], extra: [oldRow] }),
        Date.now(),
      );
      return state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    const detail = await transferDetail(env, world.tenantId, transfer.id);
    expect(detail!.attempts.map((a) => [a.stepIndex, a.attempt, a.outcome])).toEqual([
      [0, 1, "ok"],
      [1, 0, "retry"],
      [1, 1, "ok"],
    ]);
    // The API lists the same, without the rows' own keys.
    const api = await world.api(`/transfers/${transfer.id}`);
    expect(api.body.attempts.map((a: { stepIndex: number; attempt: number }) => [a.stepIndex, a.attempt])).toEqual([
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    expect(api.body.attempts[1]).toEqual({
      stepIndex: 1,
      attempt: 0,
      outcome: "retry",
      errorClass: "transient",
      latencyMs: 40,
      createdAt: 1,
    });
  });
});
