/**
 * A step sees what earlier steps of its transfer made on its own connection only: a payment on
 * ledger B after an invoice on ledger A must not be registered on A's invoice number in B's books
 * (with e-conomic, a bookInvoice on B after a createInvoice on A would book another's draft).
 */
import { describe, expect, it } from "vitest";
import { createWorld, settledTransfers, shopifyOrder } from "../helpers/world";

describe("earlier steps' results", () => {
  it("are given to a step only from its own connection", async () => {
    const world = await createWorld();
    const other = (await world.api("/connections", { body: { connector: "sandbox-ledger", name: "Ledger B" } })).body.id;
    await world.flow("paid", [
      { target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } },
      { target: other, action: "registerPayment" },
    ]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1, 20_000);
    expect(transfer.status).toBe("failed");
    const detail = await world.api(`/transfers/${transfer.id}`);
    expect(detail.body.steps[1]).toMatchObject({ status: "failed" });
    expect(JSON.stringify(detail.body.steps[1])).toContain("There is no invoice to register a payment on");
  });

  it("are given to a step on the same connection, as before", async () => {
    const world = await createWorld();
    await world.flow("paid", [
      { target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } },
      { target: world.ledgerId, action: "registerPayment" },
    ]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1, 20_000);
    expect(transfer.status).toBe("completed");
  });
});
