/**
 * End to end, from a signed Shopify webhook to the warehouse endpoint: a webhook-out connection is
 * made through the API (its credentials never shown again), a paid-stage flow sends the pick list
 * once, signed, a re-run from the start sends nothing again, a retry answered with a bare 409 is
 * taken as received, and a refusal fails the transfer with the receiver's words; a cancelled or refunded flow with the step is refused when it is saved.
 * Needs the connector in src/connectors/registry.ts.
 */
import { describe, expect, it } from "vitest";
import { createWorld, eventually, settledTransfers, shopifyOrder, type World } from "../../helpers/world";
import { createWebhookReceiver, type ScriptedAnswer, WEBHOOK_SECRET, WEBHOOK_URL } from "../../mocks/webhook-out.mock";

const BEARER = "tok_warehouse_123";

async function warehouseConnection(world: World): Promise<string> {
  const res = await world.api("/connections", {
    body: {
      connector: "webhook-out",
      name: "Warehouse",
      settings: { baseUrl: WEBHOOK_URL, headers: { "X-Warehouse-Id": "42" } },
      credentials: { signingSecret: WEBHOOK_SECRET, bearerToken: BEARER },
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const read = await world.api(`/connections/${res.body.id}`);
  expect(JSON.stringify(read.body)).not.toContain(WEBHOOK_SECRET);
  expect(JSON.stringify(read.body)).not.toContain(BEARER);
  return res.body.id as string;
}

/** A paid order sent to a warehouse that answers with `answers` first: the transfer once settled. */
async function sentToWarehouse(...answers: ScriptedAnswer[]) {
  const receiver = createWebhookReceiver({ bearerToken: BEARER, headers: { "x-warehouse-id": "42" } });
  receiver.install();
  receiver.answer(...answers);
  const world = await createWorld();
  const target = await warehouseConnection(world);
  await world.flow("paid", [{ target, action: "sendOrder" }]);
  const order = shopifyOrder();
  await world.sendShopify("orders/paid", order);
  const [transfer] = await settledTransfers(world, String(order.id), 1);
  return { receiver, world, order, transfer };
}

describe("a webhook-out step on the paid stage", () => {
  it("sends the pick list once, signed, and not again when the transfer runs again from the start", async () => {
    const receiver = createWebhookReceiver({ bearerToken: BEARER, headers: { "x-warehouse-id": "42" } });
    receiver.install();
    const world = await createWorld();
    const target = await warehouseConnection(world);
    await world.flow("paid", [{ target, action: "sendOrder", settings: { payload: "pickList", event: "order.paid" } }]);
    const order = shopifyOrder({
      shipping_address: { name: "Ane Lund", address1: "Lagervej 2", zip: "8000", city: "Aarhus", country_code: "DK" },
    });
    expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status, JSON.stringify(transfer)).toBe("completed");

    expect(receiver.refused).toEqual([]);
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request?.event).toBe("order.paid");
    expect(request?.body).toMatchObject({
      type: "pickList",
      event: "order.paid",
      pickList: {
        orderNumber: `#${order.id}`,
        shipTo: { name: "Ane Lund", line1: "Lagervej 2", city: "Aarhus", country: "DK" },
        shippingMethod: { title: "GLS", code: "gls" },
        lines: [{ sku: "TS-1", name: "T-shirt", quantity: 1 }],
      },
    });
    const detail = await world.api(`/transfers/${transfer.id}`);
    expect(JSON.stringify(detail.body)).toContain('"externalId":"wh_1"');
    expect(JSON.stringify(detail.body)).not.toContain(BEARER);

    const retry = await world.api(`/transfers/${transfer.id}/retry`, { body: { fromStart: true } });
    expect(retry.status, JSON.stringify(retry.body)).toBe(202);
    const again = await eventually(async () => {
      const res = await world.api(`/transfers/${transfer.id}`);
      return res.body.status === "completed" && res.body.attempts.length >= 2 ? res.body : undefined;
    }, "the re-run to finish");
    expect(JSON.stringify(again.steps)).toContain('"created":false');
    expect(receiver.received).toHaveLength(1);
  });

  it("fails the transfer with the receiver's answer when the endpoint refuses the order", async () => {
    const { receiver, order, transfer } = await sentToWarehouse({ status: 422, body: { error: "unknown SKU TS-1" } });
    expect(transfer.status).toBe("failed");
    expect(transfer.errorReason).toContain(`The endpoint refused order #${order.id} (422): {"error":"unknown SKU TS-1"}`);
    expect(receiver.received).toHaveLength(1);
  });

  it("completes a step whose retry is answered with a bare 409: the attempt that failed may have reached the receiver", async () => {
    // The first attempt's answer is a 503 (as a timeout after the receiver took it would be); the
    // retry hears a 409 without a body, the receiver's "I have this already".
    const { receiver, world, transfer } = await sentToWarehouse({ status: 503 }, { status: 409 });
    expect(transfer.status, JSON.stringify(transfer)).toBe("completed");
    expect(receiver.received).toHaveLength(2);
    const detail = await world.api(`/transfers/${transfer.id}`);
    expect(JSON.stringify(detail.body.steps)).toContain('"created":false');
    expect(JSON.stringify(detail.body.steps)).toContain('"adopted":true');
  });

  it("keeps a bare 409 a refusal after a network error: nothing may have reached the receiver then", async () => {
    const { order, transfer } = await sentToWarehouse({ status: 0, networkError: true }, { status: 409 });
    expect(transfer.status, JSON.stringify(transfer)).toBe("failed");
    expect(transfer.errorReason).toContain(`The endpoint refused order #${order.id} (409)`);
  });

  it("keeps a bare 409 a refusal when the attempt before it was refused too: a retry of the transfer does not make it a repeat", async () => {
    const { receiver, world, order, transfer } = await sentToWarehouse({ status: 409 }, { status: 409 });
    expect(transfer.status).toBe("failed");
    expect(transfer.errorReason).toContain(`The endpoint refused order #${order.id} (409)`);
    const retry = await world.api(`/transfers/${transfer.id}/retry`, { body: {} });
    expect(retry.status, JSON.stringify(retry.body)).toBe(202);
    const again = await eventually(async () => {
      const res = await world.api(`/transfers/${transfer.id}`);
      return res.body.status === "failed" && res.body.attempts.length >= 2 ? res.body : undefined;
    }, "the retry to fail again");
    expect(again.errorReason).toContain("(409)");
    expect(receiver.received).toHaveLength(2);
  });

  it("refuses the step in a cancelled or refunded flow when the flow is saved: it would post the order again", async () => {
    const world = await createWorld();
    const target = await warehouseConnection(world);
    for (const stage of ["cancelled", "refunded"]) {
      const res = await world.api("/flows", {
        body: { name: `${stage} to the warehouse`, source: world.shopId, stage, steps: [{ target, action: "sendOrder" }] },
      });
      expect(res.status, stage).toBe(400);
      expect(res.body.error).toMatchObject({ code: "flow_action_stage", details: { step: 1, action: "sendOrder" } });
      expect(res.body.error.message).toContain(
        "sendOrder runs only in flows on the created or paid or fulfilled or completed stage (the order is sent for an order going forward: a cancelled order must not be packed",
      );
      expect(res.body.error.message).not.toContain("such as the refund");
    }
    expect((await world.api("/flows")).body.flows).toHaveLength(0);
    // A forward stage is taken.
    const paid = await world.api("/flows", {
      body: {
        name: "fulfilled to the warehouse",
        source: world.shopId,
        stage: "fulfilled",
        steps: [{ target, action: "sendOrder" }],
      },
    });
    expect(paid.status, JSON.stringify(paid.body)).toBe(201);
  });
});
