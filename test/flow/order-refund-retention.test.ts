/**
 * A refund's dedupe keys outlive the dedupe retention (OrderDO.housekeeping): WooCommerce lists
 * every refund in every later delivery of its order, so a refund forgotten would come back as new
 * and be credited again by a refund flow made or switched on since.
 */
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { orderObjectName, orderStub } from "../../src/durable/order-types";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";
import { BASE, createWorld, settledTransfers } from "../helpers/world";

const SECRET = "woo_secret_refund_retention_01";
const DAY_MS = 86_400_000;

async function send(connectionId: string, body: object) {
  const delivery = await woocommerceDelivery("order.updated", body, SECRET);
  return SELF.fetch(`${BASE}/hooks/${connectionId}`, { method: "POST", headers: delivery.headers, body: delivery.body });
}

describe("a WooCommerce refund past the dedupe retention", () => {
  it("keeps its keys without its body, so a later delivery listing it credits nothing again", async () => {
    const world = await createWorld();
    const source = (
      await world.api("/connections", {
        body: { connector: "woocommerce", name: "Woo shop", webhookSecret: SECRET, settings: {} },
      })
    ).body.id as string;
    const flow = async (stage: string, target: string, action: string, enabled = true) => {
      const res = await world.api("/flows", {
        body: { name: `Woo ${stage} ${action}`, source, stage, enabled, steps: [{ target, action }] },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    };
    await flow("paid", world.ledgerId, "createInvoice");
    await flow("refunded", world.ledgerId, "createCreditNote");
    // A second refund flow, switched on only after the retention (one made then is the same).
    const other = (await world.api("/connections", { body: { connector: "sandbox-ledger", name: "Ledger 2" } })).body.id;
    const later = await flow("refunded", other, "createCreditNote", false);

    const id = Math.floor(Math.random() * 1e9);
    const base = { ...woocommerceFixture("orderPartialRefund"), id } as Record<string, unknown>;
    const at = (s: number) => new Date(Date.parse("2026-03-07T10:45:10Z") + s * 1000).toISOString().slice(0, 19);
    expect((await send(source, { ...base, date_modified_gmt: at(0) })).status).toBe(200);
    expect((await settledTransfers(world, String(id), 2)).map((t) => t.stage).sort()).toEqual(["paid", "refunded"]);

    const stub = orderStub(env, orderObjectName(source, String(id)));
    const blobKey = `raw/test/${crypto.randomUUID()}`;
    await env.BLOBS.put(blobKey, "{}");
    await runInDurableObject(stub, async (_instance, state) => {
      // 40 days on (the dedupe retention is 30); the refund's body was large enough for R2.
      state.storage.sql.exec("UPDATE events SET received_at = ?", Date.now() - 40 * DAY_MS);
      state.storage.sql.exec("UPDATE events SET raw_blob = ? WHERE stage = 'refunded'", blobKey);
      await state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (_instance, state) => {
      const rows = state.storage.sql
        .exec<{ stage: string; event_key: string; raw_body: string | null; raw_blob: string | null; headers: string }>(
          "SELECT stage, event_key, raw_body, raw_blob, headers FROM events",
        )
        .toArray();
      // The order's delivery is gone; the refund's keys stay, with nothing of its body.
      expect(rows).toEqual([
        { stage: "refunded", event_key: `woocommerce-refund:${id}:7351`, raw_body: null, raw_blob: null, headers: "{}" },
      ]);
      // A kept key is no housekeeping to wake for: the object sleeps.
      expect(await state.storage.getAlarm()).toBeNull();
    });
    // The R2 body is the transfer log's retention's to delete (a received snapshot may name it).
    expect(await env.BLOBS.head(blobKey)).not.toBeNull();

    expect((await world.api(`/flows/${later}`, { method: "PATCH", body: { enabled: true } })).status).toBe(200);
    // The next delivery of the order lists the refund again.
    expect((await send(source, { ...base, date_modified_gmt: at(1) })).status).toBe(200);
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(2);
    await expect.poll(async () => (await stub.describe()).outbox, { timeout: 5000 }).toBe(0);
    const { transfers } = await stub.describe();
    expect(transfers.map((t) => t.stage).sort()).toEqual(["paid", "refunded"]);
    expect(transfers.some((t) => t.flow_id === later)).toBe(false);
  });
});
