/** A refund credited through Orderly and then deleted in WooCommerce is told to the tenant, once. */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import { orderObjectName, orderStub } from "../../src/durable/order-types";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";
import { BASE, createWorld, eventually, settledTransfers, type World } from "../helpers/world";

const SECRET = "woo_secret_refund_gone_0123";

async function send(connectionId: string, body: object) {
  const delivery = await woocommerceDelivery("order.updated", body, SECRET);
  return SELF.fetch(`${BASE}/hooks/${connectionId}`, { method: "POST", headers: delivery.headers, body: delivery.body });
}

async function goneAlerts(world: World) {
  return database(env)
    .select()
    .from(mailOutbox)
    .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.subject, "%deleted in the shop%")));
}

describe("a WooCommerce refund deleted in the shop", () => {
  it("is told to the tenant once, when a newer version of the order no longer lists it", async () => {
    const world = await createWorld();
    const created = await world.api("/connections", {
      body: { connector: "woocommerce", name: "Woo shop", webhookSecret: SECRET, settings: {} },
    });
    expect(created.status).toBe(201);
    const source = created.body.id as string;
    for (const [stage, action] of [
      ["paid", "createInvoice"],
      ["refunded", "createCreditNote"],
    ] as const) {
      const flow = await world.api("/flows", {
        body: { name: `Woo ${stage}`, source, stage, steps: [{ target: world.ledgerId, action }] },
      });
      expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    }
    const id = Math.floor(Math.random() * 1e9);
    const base = { ...woocommerceFixture("orderPartialRefund"), id } as Record<string, unknown>;
    const at = (s: number) => new Date(Date.parse("2026-03-07T10:45:10Z") + s * 1000).toISOString().slice(0, 19);
    expect((await send(source, { ...base, date_modified_gmt: at(0) })).status).toBe(200);
    const transfers = await settledTransfers(world, String(id), 2);
    expect(transfers.map((t) => t.stage).sort()).toEqual(["paid", "refunded"]);
    // A delivery of the same second without it may be older than the refund: nothing is told.
    expect((await send(source, { ...base, refunds: [], date_modified_gmt: at(0) })).status).toBe(200);
    const stub = orderStub(env, orderObjectName(source, String(id)));
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(3);
    expect(await goneAlerts(world)).toHaveLength(0);
    // The refund is deleted in WooCommerce: the next version lists none.
    expect((await send(source, { ...base, refunds: [], date_modified_gmt: at(1) })).status).toBe(200);
    const [mail] = await eventually(async () => {
      const mails = await goneAlerts(world);
      return mails.length > 0 ? mails : undefined;
    }, "the refund-gone alert");
    expect(mail!.subject).toBe(`[Orderly] Order ${id} from "Woo shop": refund 7351 deleted in the shop`);
    expect(mail!.text).toContain("reverse its credit note by hand");
    // A later version without it again tells nothing more.
    expect((await send(source, { ...base, refunds: [], date_modified_gmt: at(2) })).status).toBe(200);
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(5);
    expect(
      await runInDurableObject(
        stub,
        (_i, state) =>
          JSON.parse(state.storage.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'state'").one().value)
            .refundsGone,
      ),
    ).toEqual(["7351"]);
    expect(await goneAlerts(world)).toHaveLength(1);
  });
});
