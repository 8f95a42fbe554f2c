/** "Re-run from the start" on a transfer whose flow was deleted runs the steps it has. */
import { describe, expect, it } from "vitest";
import { createWorld, eventually, settledTransfers, shopifyOrder } from "../helpers/world";
import { signedIn } from "./ui-client";

describe("the transfer page's re-run", () => {
  it("re-runs a transfer whose flow was deleted with its own steps, instead of a page not found", async () => {
    const world = await createWorld();
    const flowId = await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect((await world.api(`/flows/${flowId}`, { method: "DELETE" })).status).toBe(204);
    const { browser } = await signedIn(world.tenantId);
    await browser.get(`/transfers/${transfer.id}`);
    expect((await browser.post(`/transfers/${transfer.id}/retry`, { mode: "start" })).status).toBe(303);
    await eventually(async () => (await world.api(`/transfers/${transfer.id}`)).body.status === "completed", "the re-run");
  });
});
