import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createWorld, DEARER_SHIPPING, eventually, settledTransfers, shopifyOrder, type World } from "../helpers/world";

function refundPayload(orderId: number, refundId: number, grossLine: string, taxLine: string, total: string) {
  return {
    id: refundId,
    order_id: orderId,
    created_at: new Date().toISOString(),
    processed_at: new Date().toISOString(),
    note: "Wrong size",
    refund_line_items: [
      {
        id: refundId + 1,
        quantity: 1,
        line_item_id: 1,
        restock_type: "return",
        subtotal: grossLine,
        total_tax: taxLine,
        line_item: { id: 1, sku: "TS-1", title: "T-shirt", quantity: 1, price: "199.00" },
      },
    ],
    order_adjustments: [],
    transactions: [{ id: refundId + 2, kind: "refund", status: "success", gateway: "quickpay", amount: total, currency: "DKK" }],
  };
}

async function ledgerDocs(world: World) {
  return (await world.api(`/ledger/invoices?connection=${world.ledgerId}`)).body.invoices as any[];
}

describe("payments, refunds and updates in the sandbox ledger", () => {
  it("books the invoice, registers the payment, and credits each refund against the invoice", async () => {
    const world = await createWorld();
    await world.flow("paid", [
      { target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } },
      { target: world.ledgerId, action: "registerPayment" },
    ]);
    await world.flow("refunded", [{ target: world.ledgerId, action: "createCreditNote", settings: { invoiceState: "booked" } }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);

    await world.sendShopify("refunds/create", refundPayload(order.id, 7001, "199.00", "39.80", "199.00"));
    await world.sendShopify("refunds/create", refundPayload(order.id, 7101, "50.00", "10.00", "50.00"));
    const transfers = await settledTransfers(world, String(order.id), 3);
    expect(transfers.map((t) => t.status)).toEqual(["completed", "completed", "completed"]);

    const docs = await ledgerDocs(world);
    const invoice = docs.find((d) => d.type === "invoice");
    const notes = docs.filter((d) => d.type === "credit-note").sort((a, b) => a.id - b.id);
    expect(invoice).toMatchObject({ state: "booked", total: 24900, paid: 24900 });
    expect(notes.map((n) => [n.creditedInvoiceId, n.total, n.state])).toEqual([
      [invoice.id, 19900, "booked"],
      [invoice.id, 5000, "booked"],
    ]);
    // A re-delivered refund makes no third credit note.
    await world.sendShopify("refunds/create", refundPayload(order.id, 7101, "50.00", "10.00", "50.00"));
    expect((await ledgerDocs(world)).filter((d) => d.type === "credit-note")).toHaveLength(2);
  });

  it("an updated order updates its draft invoice instead of making a second one", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "draft" } }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    const later = new Date(Date.now() + 5000).toISOString();
    await world.sendShopify("orders/updated", {
      ...order,
      updated_at: later,
      line_items: [
        {
          id: 1,
          sku: "TS-1",
          title: "T-shirt",
          quantity: 2,
          price: "199.00",
          total_discount: "0.00",
          tax_lines: [{ title: "Moms", rate: 0.25, price: "79.60" }],
          discount_allocations: [],
        },
      ],
      total_price: "448.00",
      total_tax: "89.60",
    });
    const invoice = await eventually(async () => {
      const docs = await ledgerDocs(world);
      return docs.length === 1 && docs[0].total === 44800 ? docs[0] : undefined;
    }, "the draft to be updated");
    expect(invoice.state).toBe("draft");
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    const detail = await world.api(`/transfers/${transfer.id}`);
    const canonicals = detail.body.snapshots.filter((s: { kind: string }) => s.kind === "canonical");
    // The original and the update are both kept, for the log to show side by side.
    expect(canonicals.map((s: any) => s.data.order.totals.total)).toEqual([24900, 44800]);
    expect(detail.body.steps[0].output).toMatchObject({ updated: true });
  });

  it("an update to a booked invoice leaves it untouched and records the differences", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [first] = await settledTransfers(world, String(order.id), 1);
    await world.sendShopify("orders/updated", {
      ...order,
      updated_at: new Date(Date.now() + 5000).toISOString(),
      email: "new@example.dk",
      customer: { id: 1, email: "new@example.dk", first_name: "Ane", last_name: "Lund" },
      ...DEARER_SHIPPING,
    });
    const detail = await eventually(async () => {
      const d = await world.api(`/transfers/${first.id}`);
      return d.body.status === "completed" && d.body.steps[0].output?.differences ? d.body : undefined;
    }, "the re-run to report differences");
    expect(detail.steps[0].output.differences).toEqual(["total: 249.00 DKK → 259.00 DKK", "VAT: 49.80 DKK → 51.80 DKK"]);
    const docs = await ledgerDocs(world);
    expect(docs).toHaveLength(1);
    expect(docs[0].total).toBe(24900);
  });

  it("a version that changes nothing material re-runs nothing", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    await world.sendShopify("orders/updated", {
      ...order,
      updated_at: new Date(Date.now() + 5000).toISOString(),
      note: "gift wrap",
    });
    const stub = env.ORDERS.get(env.ORDERS.idFromName(`${world.shopId}:${order.id}`));
    // The inbox hands the update to the order's object just after the answer.
    const state = await eventually(async () => {
      const s = await stub.describe();
      return s.events.length === 2 && s.outbox === 0 ? s : undefined;
    }, "the update to reach the order");
    expect(state.steps[0]).toMatchObject({ status: "done", attempts: 1 });
  });

  it("a mismatch above the threshold leaves a draft and fails with both totals", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    const order = shopifyOrder({ total_price: "260.00" });
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status).toBe("failed");
    expect(transfer.errorReason).toMatch(/would total 249.00 DKK but the customer paid 260.00 DKK.*left as draft/);
    expect((await ledgerDocs(world))[0].state).toBe("draft");
  });
});
