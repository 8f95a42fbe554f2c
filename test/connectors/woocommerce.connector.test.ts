import { describe, expect, it } from "vitest";
import { WOOCOMMERCE_TOPICS, woocommerceConnector } from "../../src/connectors/woocommerce";
import { woocommerceDelivery, woocommerceFixtures, woocommercePing } from "../fixtures/woocommerce";

const WEBHOOK_URL = "https://orderly.example.com/hooks/conn_123";

describe("WooCommerce connector manifest", () => {
  it("is a webshop source named WooCommerce with no credentials of its own", () => {
    expect(woocommerceConnector).toMatchObject({ id: "woocommerce", name: "WooCommerce", category: "webshop" });
    expect(woocommerceConnector.source).toBeDefined();
    expect(woocommerceConnector.actions).toBeUndefined();
    expect(woocommerceConnector.credentials.parse({})).toEqual({});
  });

  it("accepts the shop's web address, or none, and refuses anything that is not an http(s) URL", () => {
    const settings = woocommerceConnector.settings;
    expect(settings.parse({})).toEqual({});
    expect(settings.parse({ storeUrl: "https://shop.example.com" })).toEqual({ storeUrl: "https://shop.example.com" });
    expect(settings.parse({ storeUrl: " https://shop.example.com/ " })).toEqual({ storeUrl: "https://shop.example.com/" });
    expect(settings.safeParse({ storeUrl: "shop.example.com" }).success).toBe(false);
    expect(settings.safeParse({ storeUrl: "ftp://shop.example.com" }).success).toBe(false);
  });

  it("describes every settings field, since the form shows it as help text", () => {
    for (const [name, field] of Object.entries(woocommerceConnector.settings.shape)) {
      expect(field.description, name).toMatch(/\w+/);
    }
  });

  it("answers WooCommerce's ping, then verifies and parses a signed delivery through its source handlers", async () => {
    const source = woocommerceConnector.source!;
    expect(source.isPing?.(woocommercePing(7))).toBe(true);
    const delivery = await woocommerceDelivery("order.updated", woocommerceFixtures.orderCompleted, "secret");
    expect(source.isPing?.(delivery)).toBe(false);
    expect(await source.verify(delivery, "secret")).toEqual({ ok: true });
    expect(source.parse(delivery)).toMatchObject([{ orderId: "5210", stage: "completed" }]);
  });
});

describe("WooCommerce setup steps", () => {
  const steps = woocommerceConnector.source!.setupSteps(WEBHOOK_URL);

  it("start at WooCommerce → Settings → Advanced → Webhooks in WordPress admin", () => {
    expect(steps[0]).toMatch(/WooCommerce → Settings → Advanced → Webhooks/);
  });

  it("add one active v3 webhook per order topic, all to the connection's URL with Orderly's secret", () => {
    for (const [topic, label] of [
      ["order.created", "Order created"],
      ["order.updated", "Order updated"],
      ["order.deleted", "Order deleted"],
    ] as const) {
      expect(WOOCOMMERCE_TOPICS).toContain(topic);
      const step = steps.find((s) => s.includes(`(${topic})`));
      expect(step, topic).toBeDefined();
      expect(step).toMatch(/Add webhook/);
      expect(step).toContain(`Topic "${label}"`);
      expect(step).toMatch(/Status Active/);
      expect(step).toContain(`Delivery URL ${WEBHOOK_URL}`);
      expect(step).toMatch(/Secret the webhook secret Orderly shows/);
      expect(step).toMatch(/WP REST API Integration v3/);
    }
  });

  it("warn that WooCommerce disables a webhook after more than 5 failed deliveries in a row", () => {
    // WC_Webhook::failed_delivery() disables it once the failure count is above 5: at the 7th.
    expect(steps.at(-1)).toMatch(
      /disables a webhook.*after more than 5 failed deliveries in a row \(its code disables it at the 7th\)/,
    );
    expect(steps.at(-1)).toMatch(/keeps that delivery under dead letters/);
  });

  it("ask for the shop's address as the Store URL, so a staging copy's deliveries are not booked", () => {
    expect(steps.find((s) => s.includes("Store URL"))).toMatch(/Settings → General → Site Address.*staging site/);
  });
});

describe("WooCommerce as a source that never retries", () => {
  it("says so, so that a signed delivery it cannot take is kept and answered 200 rather than lost", () => {
    expect(woocommerceConnector.source?.retries).toBe(false);
  });

  it("describes the store URL as the check against copies of the shop", () => {
    expect(woocommerceConnector.settings.shape.storeUrl.description).toMatch(/any other site.*kept aside and alerted/);
  });
});
