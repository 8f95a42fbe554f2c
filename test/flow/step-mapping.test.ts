/**
 * A step's mapping on the whole path: a Shopify webhook, the queue consumer applying the mapping
 * before the action, the sandbox ledger's invoice showing what it made, the step's history keeping
 * it; and a mapping that fails fails the step (`step_mapping_failed`, nothing sent) until a retry
 * with the fixed flow's current settings books the order once.
 */
import { describe, expect, it } from "vitest";
import { createWorld, eventually, settledTransfers, shopifyOrder, type World } from "../helpers/world";

async function invoicesOf(world: World, orderNumber: string) {
  const docs = (await world.api(`/ledger/invoices?connection=${world.ledgerId}`)).body.invoices as any[];
  return docs.filter((d) => d.type === "invoice" && d.orderNumber === orderNumber);
}

async function flowWith(world: World, mapping: string) {
  const res = await world.api("/flows", {
    body: {
      name: "Mapped",
      source: world.shopId,
      stage: "paid",
      steps: [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" }, mapping }],
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

describe("a step's mapping on the whole path", () => {
  it("changes what the step books, and the step's history keeps what it made", async () => {
    const world = await createWorld();
    await flowWith(world, '$ ~> |order.lines|{"title": $$.order.source.orderNumber & " " & title}|');
    const order = shopifyOrder();
    expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer.status, transfer.errorReason).toBe("completed");

    const [invoice] = await invoicesOf(world, String(order.name));
    const products = invoice.lines.filter((l: { kind: string }) => l.kind === "product");
    expect(products.map((l: { description: string }) => l.description)).toEqual([`${order.name} T-shirt`]);
    expect(invoice.total).toBe(24900);

    const detail = (await world.api(`/transfers/${transfer.id}`)).body;
    const mapped = detail.snapshots.filter((s: { kind: string; stepIndex: number }) => s.kind === "mapped" && s.stepIndex === 0);
    expect(mapped[0].data).toMatchObject({
      madeBy: "the step's mapping",
      input: { order: { lines: [{ title: `${order.name} T-shirt` }] } },
    });
    // The canonical order in the log is the order as it came: the mapping is the step's alone.
    const canonical = detail.snapshots.find((s: { kind: string }) => s.kind === "canonical");
    expect(canonical.data.order.lines[0].title).toBe("T-shirt");
  });

  it("fails the step when it fails, and a retry with the fixed flow's settings books the order once", async () => {
    const world = await createWorld();
    // Parses, so it is saved; it changes the order number, which a mapping may not.
    const flowId = await flowWith(world, '$ ~> |order.source|{"orderNumber": "WEB-" & orderNumber}|');
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [failed] = await settledTransfers(world, String(order.id), 1);
    expect(failed.status).toBe("failed");
    expect(failed.errorReason).toContain("Step 1's mapping could not make this order's input");
    expect(failed.errorReason).toContain("order.source.orderNumber");
    const detail = (await world.api(`/transfers/${failed.id}`)).body;
    const error = detail.snapshots.find((s: { kind: string }) => s.kind === "error");
    expect(error.data).toMatchObject({ code: "step_mapping_failed", errorClass: "validation" });
    // Permanent: one attempt, nothing sent.
    expect(detail.steps[0].attempts).toBe(1);
    expect(detail.snapshots.filter((s: { kind: string }) => s.kind === "request")).toHaveLength(0);
    expect(await invoicesOf(world, String(order.name))).toHaveLength(0);

    // A plain retry runs the step's mapping as it was frozen with the transfer: it fails again.
    const same = await world.api(`/transfers/${failed.id}/retry`, { body: {} });
    expect(same.status).toBe(202);
    await eventually(async () => {
      const t = (await world.api(`/transfers/${failed.id}`)).body;
      return t.status === "failed" && t.steps[0].attempts === 2;
    }, "the retry to fail again");

    const fixed = [
      {
        target: world.ledgerId,
        action: "createInvoice",
        settings: { invoiceState: "booked" },
        mapping: '$ ~> |order.lines|{"title": "WEB " & title}|',
      },
    ];
    expect((await world.api(`/flows/${flowId}`, { method: "PATCH", body: { steps: fixed } })).status).toBe(200);
    const retry = await world.api(`/transfers/${failed.id}/retry`, { body: { useCurrentSettings: true } });
    expect(retry.status, JSON.stringify(retry.body)).toBe(202);
    await eventually(async () => (await world.api(`/transfers/${failed.id}`)).body.status === "completed", "the fixed retry");
    const invoices = await invoicesOf(world, String(order.name));
    expect(invoices).toHaveLength(1);
    expect(invoices[0].lines[0].description).toBe("WEB T-shirt");
  });
});
