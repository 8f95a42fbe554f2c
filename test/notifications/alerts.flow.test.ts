import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { alertState, tenants } from "../../src/db/schema";
import type { InboxDO } from "../../src/durable/inbox-do";
import type { OrderDO } from "../../src/durable/order-do";
import { orderObjectName } from "../../src/durable/order-types";
import { HELD_ALERT_TRIES } from "../../src/notifications/held-alerts";
import { runNotifications } from "../../src/worker/cron";
import { inboxFor } from "../../src/worker/routes/hooks";
import { createWorld, DEARER_SHIPPING, eventually, settledTransfers, shopifyOrder } from "../helpers/world";
import { HOUR, MINUTE, outbox } from "./notification-helpers";

describe("alerts through the real path", () => {
  it("orders a target rejects make one immediate alert, then one grouped alert when the cron runs after the window; a silent shop is alerted once", async () => {
    const world = await createWorld();
    // The world's own address has an underscore in its domain, which the mail validator refuses.
    const ops = `ops@${world.tenantId.replace("_", "-")}.example`;
    await database(env)
      .update(tenants)
      .set({ alertEmails: [ops] })
      .where(eq(tenants.id, world.tenantId));
    const strict = await world.api("/connections", {
      body: { connector: "sandbox-ledger", name: "Strict ledger", settings: { rejectOrdersAbove: 10000 } },
    });
    expect(strict.status).toBe(201);
    await world.flow("paid", [{ target: strict.body.id, action: "createInvoice" }]);
    const orders = [shopifyOrder(), shopifyOrder(), shopifyOrder(), shopifyOrder()];
    for (const order of orders) expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    for (const order of orders) expect((await settledTransfers(world, String(order.id), 1))[0].status).toBe("failed");

    // The queue consumer counted every failure as it happened: one opened the window, three wait.
    const topic = `failures:${strict.body.id}`;
    await eventually(async () => {
      const row = await database(env)
        .select()
        .from(alertState)
        .where(and(eq(alertState.tenantId, world.tenantId), eq(alertState.topic, topic)))
        .get();
      return row?.pending === 3 ? row : undefined;
    }, "three failures counted after the first");
    const immediate = await outbox(world.tenantId);
    expect(immediate).toHaveLength(1);
    expect(immediate[0]!.subject).toMatch(/^\[Orderly\] Transfer failed: order #\d+ to "Strict ledger"$/);
    expect(immediate[0]!.text).toContain("The sandbox ledger rejects orders above 10000 minor units");
    expect(immediate[0]!.toAddresses).toEqual([ops]);

    // Nothing more while the window is open; one grouped email once it has ended.
    await runNotifications(env, Date.now() + 5 * MINUTE);
    expect(await outbox(world.tenantId)).toHaveLength(1);
    await runNotifications(env, Date.now() + 16 * MINUTE);
    await runNotifications(env, Date.now() + 21 * MINUTE);
    const mails = await outbox(world.tenantId);
    expect(mails).toHaveLength(2);
    const grouped = mails.find((m) => m.idempotencyKey.endsWith("/grouped"))!;
    expect(grouped.subject).toMatch(/^\[Orderly\] 3 more transfers failed on "Strict ledger" in the last 1[56] minutes$/);
    const samples = grouped.text!.split("\n").filter((l) => l.startsWith("- #"));
    expect(samples).toHaveLength(3);
    const named = new Set(orders.map((o) => o.name as string));
    for (const sample of samples) expect(named.has(sample.slice(2, sample.indexOf(":")))).toBe(true);
    expect(grouped.text).toContain(`/transfers?status=failed&target=${strict.body.id}`);

    // Two hours without orders from a shop that sent today: one silence alert, not one per cron run.
    await database(env).update(tenants).set({ silenceHours: 2 }).where(eq(tenants.id, world.tenantId));
    await runNotifications(env, Date.now() + HOUR);
    expect(await outbox(world.tenantId)).toHaveLength(2);
    await runNotifications(env, Date.now() + 3 * HOUR);
    await runNotifications(env, Date.now() + 3 * HOUR + 5 * MINUTE);
    const silence = (await outbox(world.tenantId)).filter((m) => m.subject.includes("No orders from"));
    expect(silence.map((m) => m.subject)).toEqual([`[Orderly] No orders from "Shop" for 3 hours`]);
  });

  it("an update to an order whose invoice is booked is alerted by the cron with the differences, once", async () => {
    const world = await createWorld();
    await database(env)
      .update(tenants)
      .set({ alertEmails: ["ops@example.com"] })
      .where(eq(tenants.id, world.tenantId));
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [first] = await settledTransfers(world, String(order.id), 1);
    await world.sendShopify("orders/updated", {
      ...order,
      updated_at: new Date(Date.now() + 5000).toISOString(),
      ...DEARER_SHIPPING,
    });
    await eventually(async () => {
      const d = await world.api(`/transfers/${first.id}`);
      return d.body.status === "completed" && d.body.steps[0].output?.differences ? d.body : undefined;
    }, "the re-run to report differences");

    await runNotifications(env, Date.now() + 1000);
    await runNotifications(env, Date.now() + 2000);
    const mails = await outbox(world.tenantId);
    expect(mails.map((m) => m.subject)).toEqual([`[Orderly] Differs from the order: order ${order.name} on "Ledger"`]);
    expect(mails[0]!.text).toContain("- total: 249.00 DKK → 259.00 DKK\n- VAT: 49.80 DKK → 51.80 DKK");
  });

  it("an acknowledged event its order's object keeps refusing is alerted after ten tries, and handed on once the object takes it", async () => {
    // The world's tenant has an alert address.
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    // The shop's number differs from its id: the alert names the order as the merchant knows it.
    const order = shopifyOrder({ name: "#HELD-1001" });
    const shard = inboxFor(env, orderObjectName(world.shopId, String(order.id)));
    let refusing = true;
    await runInDurableObject(shard, (instance: InboxDO) => {
      const own = instance as unknown as { env: Env };
      const real = own.env.ORDERS;
      const refusingOrders = {
        idFromName: (n: string) => real.idFromName(n),
        get: (id: DurableObjectId) => ({
          ingest: async (request: Parameters<DurableObjectStub<OrderDO>["ingest"]>[0]) => {
            if (refusing) throw new Error("the order's object refuses this event");
            return real.get(id).ingest(request);
          },
        }),
      };
      own.env = { ...own.env, ORDERS: refusingOrders as unknown as Env["ORDERS"] };
    });
    expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    // Nine tries have failed (about five minutes of backoff, skipped here); the tenth is due.
    await eventually(
      () =>
        runInDurableObject(
          shard,
          (_i, state) => state.storage.sql.exec("SELECT MAX(attempts) AS n FROM pending").one().n as number,
        ),
      "a first failed try",
    );
    await runInDurableObject(shard, (_i, state) => {
      state.storage.sql.exec("UPDATE pending SET attempts = ?, next_at = ?", HELD_ALERT_TRIES - 1, Date.now());
    });
    await runDurableObjectAlarm(shard);
    const [mail] = await eventually(async () => {
      const mails = await outbox(world.tenantId);
      return mails.length > 0 ? mails : undefined;
    }, "the held-event alert");
    expect(mail!.subject).toBe('[Orderly] Order #HELD-1001 from "Shop" is held on its way in');
    expect(mail!.text).toContain(`after ${HELD_ALERT_TRIES} tries`);
    expect(mail!.text).toContain("Last error: the order's object refuses this event");
    expect(mail!.text).toContain("Nothing is lost");
    // The object takes it at last: the order's transfer runs, and no second alert was sent.
    refusing = false;
    await runInDurableObject(shard, (_i, state) => {
      state.storage.sql.exec("UPDATE pending SET next_at = ?", Date.now());
    });
    await runDurableObjectAlarm(shard);
    const [transfer] = await settledTransfers(world, String(order.id), 1, 20_000);
    expect(transfer.status).toBe("completed");
    expect(await outbox(world.tenantId)).toHaveLength(1);
  });
});
