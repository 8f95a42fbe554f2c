/**
 * A projection parked after failing for an hour leaves the order's history in Orderly behind, and
 * maybe a failure no alert or sweep finds: the tenant is told, throttled under
 * `parked:<source connection>`, without holding up or failing the order's outbox.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database, type SerializedStatement } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import type { OrderDO } from "../../src/durable/order-do";
import { alertTopic } from "../../src/notifications/alert-throttle";
import { createWorld, eventually, ledgerSteps, orderObject, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { withFailingD1 } from "../notifications/failing-d1";

/** A statement D1 refuses every time, as a projection that keeps failing meets it. */
const BAD: SerializedStatement = { sql: "UPDATE no_such_table SET x = 1", params: [] };

async function parkedAlerts(world: World) {
  return database(env)
    .select()
    .from(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.subject, "%history in Orderly is behind%")));
}

async function parkedState(world: World) {
  return env.DB.prepare("SELECT pending FROM alert_state WHERE tenant_id = ? AND topic = ?")
    .bind(world.tenantId, alertTopic("parked", world.shopId))
    .first<{ pending: number }>();
}

/**
 * Queues, in the object's outbox, a projection of the transfer that fails on its last try before it
 * is parked, then a good one behind it, and runs the outbox (as the sweeper's nudge does).
 */
async function failOnLastTry(stub: DurableObjectStub<OrderDO>, transferId: string): Promise<void> {
  await runInDurableObject(stub, (_instance, state) => {
    const job = (extra: SerializedStatement[]) => JSON.stringify({ transferId, snapshots: [], attempts: [], extra });
    state.storage.sql.exec("DELETE FROM outbox");
    state.storage.sql.exec(
      "INSERT INTO outbox (kind, transfer_id, payload, next_at, attempts, parked) VALUES ('project', ?, ?, ?, 59, 0)",
      transferId,
      job([BAD]),
      Date.now(),
    );
    state.storage.sql.exec(
      "INSERT INTO outbox (kind, transfer_id, payload, next_at, attempts, parked) VALUES ('project', ?, ?, ?, 0, 0)",
      transferId,
      job([]),
      Date.now(),
    );
  });
  await stub.nudge();
}

/** The outbox jobs left: the parked one alone means the good one behind it ran. */
async function jobsLeft(stub: DurableObjectStub<OrderDO>) {
  return runInDurableObject(stub, (_instance, state) =>
    state.storage.sql.exec<{ parked: number; attempts: number }>("SELECT parked, attempts FROM outbox ORDER BY id").toArray(),
  );
}

async function paidOrder() {
  const world = await createWorld();
  await world.flow("paid", ledgerSteps(world));
  const order = shopifyOrder();
  await world.sendShopify("orders/paid", order);
  const [transfer] = await settledTransfers(world, String(order.id), 1);
  return { world, order, transfer, stub: orderObject(world, order) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a parked projection", () => {
  it("tells the tenant the order's history is behind, naming the order and the database's error, and again (throttled) when parked again", async () => {
    const { world, order, transfer, stub } = await paidOrder();
    await failOnLastTry(stub, transfer.id);
    expect(await jobsLeft(stub)).toEqual([{ parked: 1, attempts: 60 }]);
    const [mail] = await eventually(async () => {
      const mails = await parkedAlerts(world);
      return mails.length > 0 ? mails : undefined;
    }, "the parked-projection alert");
    expect(mail!.subject).toBe(`[Orderly] Order ${order.name} from "Shop": its history in Orderly is behind`);
    expect(mail!.text).toContain("no such table: no_such_table");
    expect(mail!.text).toContain("Orderly keeps trying");
    // Parked again after its next tries: counted into the window's grouped email, no second email now.
    await failOnLastTry(stub, transfer.id);
    await expect.poll(async () => (await parkedState(world))?.pending, { timeout: 5000 }).toBe(1);
    expect(await parkedAlerts(world)).toHaveLength(1);
    await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec("DELETE FROM outbox"));
  });

  it("is parked and the line goes on when the alert cannot be raised: the failure is logged", async () => {
    const { world, transfer, stub } = await paidOrder();
    await runInDurableObject(stub, (instance) => {
      const objectEnv = (instance as unknown as { env: Env }).env;
      (instance as unknown as { env: Env }).env = withFailingD1(/alert_state/, objectEnv);
    });
    const errors = vi.spyOn(console, "error");
    await failOnLastTry(stub, transfer.id);
    expect(await jobsLeft(stub)).toEqual([{ parked: 1, attempts: 60 }]);
    await expect
      .poll(() => errors.mock.calls.some(([message]) => String(message).startsWith("parked projection alert not sent")), {
        timeout: 5000,
      })
      .toBe(true);
    expect(await parkedAlerts(world)).toHaveLength(0);
    await runInDurableObject(stub, (instance, state) => {
      (instance as unknown as { env: Env }).env = env;
      state.storage.sql.exec("DELETE FROM outbox");
    });
  });
});
