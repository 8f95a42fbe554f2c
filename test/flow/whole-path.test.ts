import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createWorld, orderObject, settledTransfers, shopifyOrder } from "../helpers/world";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";

describe("one order's whole path", () => {
  it("a paid Shopify order becomes one draft invoice in e-conomic with every snapshot kept", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    await world.flow("paid", [{ target: world.economicId, action: "createInvoice" }]);
    const order = shopifyOrder();

    const res = await world.sendShopify("orders/paid", order);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, accepted: 1, duplicates: 0 });

    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer).toMatchObject({
      status: "completed",
      stage: "paid",
      stepsDone: 1,
      orderNumber: order.name,
      total: 24900,
      currency: "DKK",
    });
    expect(mock.state.drafts).toHaveLength(1);
    const draft = mock.state.drafts[0] as { lines: Array<{ unitNetPrice: number }>; references: { other: string } };
    expect(draft.lines.map((l) => l.unitNetPrice)).toEqual([159.2, 40]);

    const detail = await world.api(`/transfers/${transfer.id}`);
    const kinds = (detail.body.snapshots as Array<{ kind: string }>).map((s) => s.kind);
    for (const kind of ["received", "canonical", "mapped", "request", "response"]) expect(kinds).toContain(kind);
    const received = detail.body.snapshots.find((s: { kind: string }) => s.kind === "received");
    expect(received.data.body.id).toBe(order.id);
    expect(received.data.headers["x-shopify-topic"]).toBe("orders/paid");
    expect(detail.body.steps[0]).toMatchObject({ status: "completed", attempts: 1, created: true });
    // Credentials never reach a snapshot.
    expect(JSON.stringify(detail.body)).not.toContain("app-ok");
  });

  it("a paid order reaches the sandbox ledger as a booked invoice visible through the API", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    const order = shopifyOrder();
    expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    await settledTransfers(world, String(order.id), 1);
    const { body } = await world.api(`/ledger/invoices?connection=${world.ledgerId}`);
    expect(body.invoices).toHaveLength(1);
    expect(body.invoices[0]).toMatchObject({
      orderNumber: order.name,
      state: "booked",
      net: 19920,
      vat: 4980,
      total: 24900,
      currency: "DKK",
    });
    expect(body.invoices[0].customer).toMatchObject({ email: "ane@example.dk", name: "Ane Lund" });
  });

  it("the same delivery sent three times makes one invoice", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    await world.flow("paid", [{ target: world.economicId, action: "createInvoice" }]);
    const order = shopifyOrder();
    const headers = { "X-Shopify-Webhook-Id": crypto.randomUUID() };
    const answers = await Promise.all([1, 2, 3].map(() => world.sendShopify("orders/paid", order, headers)));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    await settledTransfers(world, String(order.id), 1);
    // A late re-delivery after the transfer finished is dropped too (by the order's object: the
    // inbox takes every delivery, and the object knows the delivery id for good).
    const late = await world.sendShopify("orders/paid", order, headers);
    expect(late.status).toBe(200);
    const stub = orderObject(world, order);
    await expect.poll(async () => (await stub.describe()).events.length, { timeout: 5000 }).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect((await stub.describe()).events).toHaveLength(1);
    expect(mock.state.drafts).toHaveLength(1);
    expect((await world.api(`/transfers?order=${order.id}`)).body.transfers).toHaveLength(1);
  });

  it("paid arriving before created runs both stages' flows, created first", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const world = await createWorld();
    await world.flow("created", [{ target: world.economicId, action: "createInvoice" }]);
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    const paidAt = new Date(Date.now() + 1000).toISOString();
    await world.sendShopify("orders/paid", { ...order, updated_at: paidAt });
    await world.sendShopify("orders/create", { ...order, financial_status: "pending" });

    const transfers = await settledTransfers(world, String(order.id), 2);
    const byStage = Object.fromEntries(transfers.map((t) => [t.stage, t]));
    expect(byStage.created.status).toBe("completed");
    expect(byStage.paid.status).toBe("completed");
    expect(byStage.created.completedAt).toBeLessThanOrEqual(byStage.paid.completedAt);
    expect(transfers).toHaveLength(2);
    expect(mock.state.drafts).toHaveLength(1);
    // The late `created` event is history, not a step back: the order stays paid.
    const stub = env.ORDERS.get(env.ORDERS.idFromName(`${world.shopId}:${order.id}`));
    const state = await stub.describe();
    expect(state.stage).toEqual({ reached: "paid", cancelled: false });
    expect(state.events.map((e) => e.stale)).toEqual([0, 1]);
    expect(state.transfers.map((t) => t.stage)).toEqual(["created", "paid"]);
  });
});
