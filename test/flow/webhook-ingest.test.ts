/**
 * What the webhook route hands on: a source's parse gets the connection's settings (Shopify's
 * processTestOrders), and an inline raw body is stored as the bytes that were signed. An ignored
 * test order is logged and alerted (throttled per connection), never dropped without a word.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import type { OrderDO } from "../../src/durable/order-do";
import { testOrdersTopic } from "../../src/notifications/refused-alerts";
import { createWorld, eventually, orderObject, settledTransfers, shopifyOrder, type World } from "../helpers/world";

async function transfersOf(world: World, orderId: number): Promise<unknown[]> {
  return (await world.api(`/transfers?order=${orderId}`)).body.transfers as unknown[];
}

describe("the webhook route parses with the connection's settings", () => {
  it("ignores a Shopify test order by default, and processes it when the connection has processTestOrders on", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);

    const ignored = shopifyOrder({ test: true });
    const res = await world.sendShopify("orders/paid", ignored);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, ignored: expect.stringMatching(/test order.*processTestOrders/) });
    expect(await transfersOf(world, ignored.id)).toEqual([]);

    const on = await world.api(`/connections/${world.shopId}`, {
      method: "PATCH",
      body: { settings: { processTestOrders: true } },
    });
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    const taken = shopifyOrder({ test: true });
    expect(await (await world.sendShopify("orders/paid", taken)).json()).toMatchObject({ ok: true, accepted: 1 });
    const [transfer] = await settledTransfers(world, String(taken.id), 1);
    expect(transfer).toMatchObject({ status: "completed" });
  });
});

describe("an ignored test order is not dropped without a word", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("logs each ignored test order with its connection and order, and alerts once per connection, throttled", async () => {
    const warn = vi.spyOn(console, "warn");
    const world = await createWorld();
    const mails = () =>
      database(env)
        .select()
        .from(mailOutbox)
        .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.subject, "%Test orders%")));
    const first = shopifyOrder({ test: true, name: "#T-1" });
    expect(await (await world.sendShopify("orders/paid", first)).json()).toMatchObject({ ignored: expect.any(String) });
    const [mail] = await eventually(async () => ((await mails()).length > 0 ? mails() : undefined), "the test-orders alert");
    expect(mail?.subject).toContain('Test orders from "Shop" are being ignored');
    expect(mail?.text).toContain("order #T-1");
    expect(mail?.text).toMatch(/turn on "Process test orders" \(processTestOrders\) in the connection's settings/);

    // The second is logged too, and counted into the window's grouped email, not mailed on its own.
    const second = shopifyOrder({ test: true, name: "#T-2" });
    expect(await (await world.sendShopify("orders/paid", second)).json()).toMatchObject({ ignored: expect.any(String) });
    const counted = await eventually(
      () =>
        env.DB.prepare("SELECT pending FROM alert_state WHERE tenant_id = ? AND topic = ?")
          .bind(world.tenantId, testOrdersTopic(world.shopId))
          .first<{ pending: number }>()
          .then((row) => (row && row.pending === 1 ? row : undefined)),
      "the second test order counted",
    );
    expect(counted.pending).toBe(1);
    expect(await mails()).toHaveLength(1);
    for (const order of [first, second]) {
      expect(warn).toHaveBeenCalledWith(
        "delivery ignored",
        expect.objectContaining({ connectionId: world.shopId, code: "test_order", orderId: String(order.id) }),
      );
    }
  });
});

describe("an inline raw body is stored byte for byte", () => {
  it("keeps the UTF-8 BOM of a signed body (the parser reads past it; the stored text keeps it)", async () => {
    const world = await createWorld();
    const order = shopifyOrder();
    const sent = `\uFEFF${JSON.stringify(order)}`;
    const res = await world.sendShopify("orders/paid", sent);
    expect(await res.json()).toMatchObject({ ok: true, accepted: 1 });
    const stored = await eventually(
      () =>
        runInDurableObject(
          orderObject(world, order),
          (_instance: OrderDO, state) =>
            state.storage.sql.exec<{ raw_body: string | null }>("SELECT raw_body FROM events").toArray()[0],
        ),
      "the order's object has the event",
    );
    expect(stored.raw_body).not.toBeNull();
    expect(new TextEncoder().encode(stored.raw_body!)).toEqual(new TextEncoder().encode(sent));
    expect(Array.from(new TextEncoder().encode(stored.raw_body!).subarray(0, 3))).toEqual([0xef, 0xbb, 0xbf]);
  });

  it("shows a received body with a BOM as the JSON it is in the transfer's history", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    expect((await world.sendShopify("orders/paid", `\uFEFF${JSON.stringify(order)}`)).status).toBe(200);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    const detail = await world.api(`/transfers/${transfer.id}`);
    const received = detail.body.snapshots.find((s: { kind: string }) => s.kind === "received");
    expect(received.data.body.id).toBe(order.id);
  });
});
