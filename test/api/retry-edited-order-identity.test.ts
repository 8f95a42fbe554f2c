/**
 * Retry with an edited order corrects the transfer's own order: one naming another order (its
 * number, id or shop) would book the transfer's document under that order's name.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { latestSnapshot } from "../../src/db/snapshots";
import type { CanonicalOrder, TransferInput } from "../../src/domain/order";
import { createWorld, eventually, settledTransfers, shopifyOrder } from "../helpers/world";
import { signedIn } from "../ui/ui-client";

describe("retry with an edited order", () => {
  it("is refused (400 retry_order_mismatch, naming the field) when the order's source identity changed, in the API and the UI", async () => {
    const world = await createWorld();
    await world.api(`/connections/${world.ledgerId}`, { method: "PATCH", body: { settings: { rejectOrdersAbove: 10000 } } });
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    const shop = shopifyOrder();
    await world.sendShopify("orders/paid", shop);
    const [failed] = await settledTransfers(world, String(shop.id), 1);
    expect(failed.status).toBe("failed");
    const stored = ((await latestSnapshot(env, world.tenantId, failed.id, "canonical")) as TransferInput).order;
    const edit = (source: Partial<CanonicalOrder["source"]>): CanonicalOrder => ({
      ...structuredClone(stored),
      source: { ...stored.source, ...source },
    });

    const renumbered = await world.api(`/transfers/${failed.id}/retry`, {
      body: { fromStart: true, order: edit({ orderNumber: "#1002" }) },
    });
    expect(renumbered.status).toBe(400);
    expect(renumbered.body.error.code).toBe("retry_order_mismatch");
    expect(renumbered.body.error.message).toContain(
      `source.orderNumber is "#1002", not ${JSON.stringify(stored.source.orderNumber)}`,
    );
    for (const source of [{ orderId: "999999" }, { connector: "woocommerce" }]) {
      const res = await world.api(`/transfers/${failed.id}/retry`, { body: { fromStart: true, order: edit(source) } });
      expect(res.status, JSON.stringify(source)).toBe(400);
      expect(res.body.error.message).toContain(`source.${Object.keys(source)[0]} is`);
    }
    // Nothing was queued: the transfer is still the failed one, with its own order.
    expect((await world.api(`/transfers/${failed.id}`)).body.status).toBe("failed");

    const { browser } = await signedIn(world.tenantId);
    await browser.get(`/transfers/${failed.id}`);
    const ui = await browser.post(`/transfers/${failed.id}/retry`, {
      mode: "edit",
      order: JSON.stringify(edit({ orderNumber: "#1002" })),
    });
    expect(ui.status).toBe(400);
    expect(browser.lastHtml).toContain("names another order than this transfer");

    // The same order corrected (a later version, a smaller total) is retried.
    const corrected = edit({ version: stored.source.version + 1 });
    corrected.lines[0]!.unitPrice = 0;
    corrected.lines[0]!.tax = 0;
    corrected.shipping[0]!.price = 5000;
    corrected.totals.total = 5000;
    corrected.totals.tax = 1000;
    const ok = await world.api(`/transfers/${failed.id}/retry`, { body: { fromStart: true, order: corrected } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
    await eventually(
      async () => (await world.api(`/transfers/${failed.id}`)).body.status === "completed",
      "the corrected transfer to complete",
    );
  });
});
