import { describe, expect, it } from "vitest";
import { verify } from "../../src/connectors/shopify/shopify.webhook";
import { shopifyDelivery, shopifyFixtures, signShopifyBody } from "../fixtures/shopify";

const SECRET = "shpss_0123456789abcdef0123456789abcdef";
const encoder = new TextEncoder();

describe("Shopify webhook signature", () => {
  it("accepts a delivery signed with the connection's secret", async () => {
    const delivery = await shopifyDelivery("orders/create", shopifyFixtures.orderMinimal, SECRET);
    expect(await verify(delivery, SECRET)).toEqual({ ok: true });
  });

  it("refuses a delivery signed with another secret", async () => {
    const delivery = await shopifyDelivery("orders/create", shopifyFixtures.orderMinimal, "another-secret");
    const result = await verify(delivery, SECRET);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/does not match the body/);
  });

  it("refuses a body changed by one byte after signing", async () => {
    const delivery = await shopifyDelivery("orders/create", shopifyFixtures.orderMinimal, SECRET);
    const tampered = delivery.body.slice();
    const at = tampered.indexOf("2".charCodeAt(0));
    tampered[at] = "3".charCodeAt(0);
    expect((await verify({ body: tampered, headers: delivery.headers }, SECRET)).ok).toBe(false);
  });

  it("refuses a delivery without the X-Shopify-Hmac-Sha256 header and says so", async () => {
    const delivery = await shopifyDelivery("orders/create", shopifyFixtures.orderMinimal, SECRET, {
      "X-Shopify-Hmac-Sha256": null,
    });
    const result = await verify(delivery, SECRET);
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/X-Shopify-Hmac-Sha256 header is missing/) });
  });

  it("refuses a signature header that is not base64", async () => {
    const delivery = await shopifyDelivery("orders/create", shopifyFixtures.orderMinimal, SECRET, {
      "X-Shopify-Hmac-Sha256": "not*base64!",
    });
    const result = await verify(delivery, SECRET);
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/not base64/) });
  });

  it("refuses a base64 header of the wrong length without throwing", async () => {
    const delivery = await shopifyDelivery("orders/create", shopifyFixtures.orderMinimal, SECRET, {
      "X-Shopify-Hmac-Sha256": "AAAA",
    });
    expect((await verify(delivery, SECRET)).ok).toBe(false);
  });

  it("never passes a delivery when the connection has no secret", async () => {
    const delivery = await shopifyDelivery("orders/create", shopifyFixtures.orderMinimal, SECRET);
    const result = await verify(delivery, "");
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/No webhook secret is set/) });
  });

  it("checks the signature over the raw bytes, so unusual whitespace and unicode verify as sent", async () => {
    const raw = '{ "id" :\t820982911946154508 ,\r\n  "title": "Æblegrød 🍎 caf\\u00e9",  "price" : "1.50"  }\n';
    const delivery = await shopifyDelivery("orders/create", raw, SECRET);
    expect(await verify(delivery, SECRET)).toEqual({ ok: true });

    // The same JSON serialised again is different bytes: the original signature must not fit it.
    const reserialised = encoder.encode(JSON.stringify(JSON.parse(raw)));
    expect((await verify({ body: reserialised, headers: delivery.headers }, SECRET)).ok).toBe(false);
  });

  it("reads the signature header whatever its case", async () => {
    const body = encoder.encode(shopifyFixtures.orderMinimal);
    const headers = new Headers({ "x-shopify-hmac-sha256": await signShopifyBody(SECRET, body) });
    expect(await verify({ body, headers }, SECRET)).toEqual({ ok: true });
  });
});
