import { describe, expect, it } from "vitest";
import type { SourceEvent } from "../../src/connectors/contract";
import { parse as parseShopify } from "../../src/connectors/shopify/shopify.parse";
import { parse as parseWooCommerce } from "../../src/connectors/woocommerce/woocommerce.parse";
import { evaluateFilter } from "../../src/domain/flow-filter";
import type { CanonicalOrder } from "../../src/domain/order";
import { shopifyDelivery, shopifyFixture } from "../fixtures/shopify";
import { woocommerceDelivery, woocommerceFixture } from "../fixtures/woocommerce";

const SECRET = "test-secret";

function orderOf(events: ReturnType<typeof parseShopify> | ReturnType<typeof parseWooCommerce>): CanonicalOrder {
  const event = (Array.isArray(events) ? events[0] : undefined) as SourceEvent | undefined;
  if (event?.object.type !== "order") throw new Error("expected an order event");
  return event.object.order;
}

async function shopifyOrder(body: Record<string, unknown>): Promise<CanonicalOrder> {
  const delivery = await shopifyDelivery("orders/paid", body, SECRET, { "X-Shopify-Triggered-At": "2026-03-01T09:00:00.000Z" });
  return orderOf(parseShopify(delivery));
}

describe("the order's sales channel, for flow filters", () => {
  it("reads Shopify's source_name, so a filter can leave out POS sales", async () => {
    const pos = await shopifyOrder({ ...shopifyFixture("orderCompleted"), source_name: "pos" });
    const web = await shopifyOrder({ ...shopifyFixture("orderCompleted"), source_name: "web" });
    expect(pos.channel).toBe("pos");
    expect(web.channel).toBe("web");
    const notPos = '$not(order.channel = "pos")';
    expect(await evaluateFilter(notPos, { order: pos })).toEqual({ match: false });
    expect(await evaluateFilter(notPos, { order: web })).toEqual({ match: true });
    // An order without a channel (stored before it was read, or a source that names none) is taken.
    const { channel: _, ...unnamed } = web;
    expect(await evaluateFilter(notPos, { order: unnamed })).toEqual({ match: true });
  });

  it("leaves the channel out when Shopify names none", async () => {
    const { source_name: _, ...body } = shopifyFixture("orderCompleted");
    expect((await shopifyOrder(body)).channel).toBeUndefined();
  });

  it("reads WooCommerce's created_via", async () => {
    const body = { ...woocommerceFixture("orderCompleted"), created_via: "admin" };
    const events = parseWooCommerce(await woocommerceDelivery("order.updated", body, SECRET));
    expect(orderOf(events).channel).toBe("admin");
  });
});
