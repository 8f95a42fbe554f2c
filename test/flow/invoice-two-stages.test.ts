/**
 * An order invoiced by a paid-stage flow and then reaching the stage of a second flow that invoices
 * on the same connection (invoicing moved from "paid" to "fulfilled", or a flow on each): through
 * the order object, the second flow's createInvoice adopts the first one's invoice. One invoice.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { ledgerInvoices } from "../../src/db/schema";
import { createWorld, settledTransfers, shopifyOrder } from "../helpers/world";

describe("createInvoice in flows on two stages", () => {
  it("books the order once: the fulfilled flow adopts the invoice the paid flow made", async () => {
    const world = await createWorld();
    const booked = { target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } };
    await world.flow("paid", [booked]);
    await world.flow("fulfilled", [booked]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    await world.sendShopify("orders/fulfilled", {
      ...order,
      fulfillment_status: "fulfilled",
      updated_at: new Date(Date.now() + 1000).toISOString(),
    });

    const transfers = await settledTransfers(world, String(order.id), 2);

    expect(transfers.map((t) => [t.stage, t.status]).sort()).toEqual([
      ["fulfilled", "completed"],
      ["paid", "completed"],
    ]);
    const invoices = await database(env)
      .select()
      .from(ledgerInvoices)
      .where(and(eq(ledgerInvoices.connectionId, world.ledgerId), eq(ledgerInvoices.type, "invoice")))
      .all();
    expect(invoices).toHaveLength(1);
    const paid = transfers.find((t) => t.stage === "paid");
    const second = await world.api(`/transfers/${transfers.find((t) => t.stage === "fulfilled").id}`);
    expect(JSON.stringify(second.body.steps[0])).toContain(`"adoptedFrom":{"transferId":"${paid.id}","stage":"paid"`);
  });
});
