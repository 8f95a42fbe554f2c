/**
 * A refund deleted in the shop counts as told only once its alert is on record: an alert that could
 * not be raised with the event that found it is raised by the order object's alarm, once.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { OrderDO } from "../../src/durable/order-do";
import { orderObjectName, orderStub } from "../../src/durable/order-types";
import { goneAlerts, refundGoneWorld, sendWoo } from "../helpers/woo-refund-gone";
import { settledTransfers } from "../helpers/world";
import { withFailingD1 } from "../notifications/failing-d1";

const SECRET = "woo_secret_refund_gone_retry";

interface GoneState {
  refundsGone?: string[];
  refundsGoneUntold?: { ids: string[]; tries: number; nextAt: number };
}

function goneState(stub: DurableObjectStub<OrderDO>): Promise<GoneState> {
  return runInDurableObject(stub, (_instance, state) => {
    const { refundsGone, refundsGoneUntold } = JSON.parse(
      state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'state'").one().value,
    ) as GoneState;
    return { refundsGone, refundsGoneUntold };
  });
}

/** The object's own env, swapped: what it reaches D1 through. */
function setObjectEnv(stub: DurableObjectStub<OrderDO>, objectEnv: Env): Promise<void> {
  return runInDurableObject(stub, (instance) => {
    (instance as unknown as { env: Env }).env = objectEnv;
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a refund deleted in the shop whose alert could not be raised", () => {
  it("stays untold, and the object's alarm raises its alert later, once", async () => {
    const { world, source, id, base, at } = await refundGoneWorld(SECRET);
    expect((await sendWoo(SECRET, source, { ...base, date_modified_gmt: at(0) })).status).toBe(200);
    await settledTransfers(world, String(id), 2);
    const stub = orderStub(env, orderObjectName(source, String(id)));

    // The alert's store is unavailable when the version without the refund comes.
    await setObjectEnv(stub, withFailingD1(/alert_state/));
    const errors = vi.spyOn(console, "error");
    expect((await sendWoo(SECRET, source, { ...base, refunds: [], date_modified_gmt: at(1) })).status).toBe(200);
    await expect.poll(async () => (await goneState(stub)).refundsGoneUntold?.tries, { timeout: 5000 }).toBe(1);
    const untold = await goneState(stub);
    expect(untold.refundsGone).toBeUndefined();
    expect(untold.refundsGoneUntold?.ids).toEqual(["7351"]);
    expect(await goneAlerts(world)).toHaveLength(0);
    expect(errors).toHaveBeenCalledWith("refund-gone alert not raised; the order's object raises it again", expect.anything());
    // The object wakes for it: its alarm is set no later than the next try.
    const alarm = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(untold.refundsGoneUntold!.nextAt);
    // A later version without it (the order's fourth event, after its first and its refund's) finds
    // nothing new: the refund is untold, not forgotten.
    expect((await sendWoo(SECRET, source, { ...base, refunds: [], date_modified_gmt: at(2) })).status).toBe(200);
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(4);
    expect((await goneState(stub)).refundsGoneUntold).toMatchObject({ ids: ["7351"], tries: 1 });

    // D1 answers again, and the try is due: the alarm raises the alert.
    await setObjectEnv(stub, env);
    await runInDurableObject(stub, (instance, state) => {
      const row = state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'state'").one();
      const saved = JSON.parse(row.value) as GoneState;
      saved.refundsGoneUntold!.nextAt = Date.now();
      state.storage.sql.exec("UPDATE meta SET value = ? WHERE key = 'state'", JSON.stringify(saved));
      (instance as unknown as { stateCache: unknown }).stateCache = null;
      return state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(stub);
    const mails = await goneAlerts(world);
    expect(mails.map((m) => m.subject)).toEqual([`[Orderly] Order ${id} from "Woo shop": refund 7351 deleted in the shop`]);
    expect(await goneState(stub)).toEqual({ refundsGone: ["7351"], refundsGoneUntold: undefined });
    // Told: neither a later alarm nor a later version tells it again.
    await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(stub);
    expect((await sendWoo(SECRET, source, { ...base, refunds: [], date_modified_gmt: at(3) })).status).toBe(200);
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(5);
    expect(await goneAlerts(world)).toHaveLength(1);
  });
});
