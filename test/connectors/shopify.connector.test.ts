import { describe, expect, it } from "vitest";
import { SHOPIFY_TOPICS, shopifyConnector } from "../../src/connectors/shopify";
import { shopifyDelivery, shopifyFixtures } from "../fixtures/shopify";

const WEBHOOK_URL = "https://orderly.example.com/hooks/conn_123";
const settingsOk = (value: unknown) => shopifyConnector.settings.safeParse(value).success;

describe("Shopify connector manifest", () => {
  it("is a webshop source named Shopify with no credentials of its own", () => {
    expect(shopifyConnector).toMatchObject({ id: "shopify", name: "Shopify", category: "webshop" });
    expect(shopifyConnector.source).toBeDefined();
    expect(shopifyConnector.actions).toBeUndefined();
    expect(shopifyConnector.credentials.parse({})).toEqual({});
  });

  it("accepts a myshopify.com shop domain, or none, and refuses any other domain", () => {
    const settings = shopifyConnector.settings;
    expect(settings.parse({})).toEqual({ processTestOrders: false });
    expect(settings.parse({ shopDomain: " My-Shop.myshopify.com " })).toEqual({
      shopDomain: "my-shop.myshopify.com",
      processTestOrders: false,
    });
    expect(settings.safeParse({ shopDomain: "my-shop.com" }).success).toBe(false);
    expect(settings.safeParse({ shopDomain: "https://my-shop.myshopify.com" }).success).toBe(false);
  });

  it("has processTestOrders, off by default, which the parser reads from the settings as loaded", async () => {
    const order = { ...(JSON.parse(shopifyFixtures.orderCompleted) as object), test: true };
    const delivery = await shopifyDelivery("orders/paid", order, "secret");
    // A connection's settings are parsed by this schema when it is loaded, and handed to the
    // source's parse as the webhook route calls it (through the connector contract).
    const source = shopifyConnector.source!;
    const off = shopifyConnector.settings.parse({});
    expect(source.parse(delivery, off)).toMatchObject({ ignored: true, reason: expect.stringContaining("test order") });
    expect(source.parse(delivery)).toMatchObject({ ignored: true });
    const on = shopifyConnector.settings.parse({ processTestOrders: true });
    expect(source.parse(delivery, on)).toMatchObject([{ orderId: "450789469", stage: "completed" }]);
    expect(settingsOk({ processTestOrders: "yes" })).toBe(false);
  });

  it("describes every settings field, since the form shows it as help text", () => {
    for (const [name, field] of Object.entries(shopifyConnector.settings.shape)) {
      expect(field.description, name).toMatch(/\w+/);
    }
  });

  it("verifies and parses a signed delivery through its source handlers", async () => {
    const source = shopifyConnector.source!;
    const delivery = await shopifyDelivery("orders/paid", shopifyFixtures.orderCompleted, "secret");
    expect(await source.verify(delivery, "secret")).toEqual({ ok: true });
    expect(source.parse(delivery)).toMatchObject([{ orderId: "450789469", stage: "completed" }]);
  });
});

describe("Shopify setup steps", () => {
  const steps = shopifyConnector.source!.setupSteps(WEBHOOK_URL);

  it("start at Settings → Notifications → Webhooks in Shopify admin", () => {
    expect(steps[0]).toMatch(/Settings → Notifications/);
    expect(steps[0]).toMatch(/Webhooks/);
  });

  it("create one JSON webhook per topic Orderly reads, all to the connection's URL", () => {
    for (const topic of SHOPIFY_TOPICS) {
      const step = steps.find((s) => s.includes(`(${topic})`));
      expect(step, topic).toBeDefined();
      expect(step).toMatch(/Create webhook/);
      expect(step).toMatch(/Format JSON/);
      expect(step).toContain(WEBHOOK_URL);
      expect(step).toMatch(/API version/);
    }
  });

  it("end by copying Shopify's signing key into Orderly as the webhook secret", () => {
    expect(steps.at(-1)).toMatch(/signing key/);
    expect(steps.at(-1)).toMatch(/webhook secret/);
  });
});
