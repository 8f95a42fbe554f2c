import { describe, expect, it } from "vitest";
import { foreignSite, isPing, verify } from "../../src/connectors/woocommerce/woocommerce.webhook";
import { signWooCommerceBody, woocommerceDelivery, woocommerceFixtures, woocommercePing } from "../fixtures/woocommerce";

const SECRET = "whsec_orderly_0123456789abcdef0123456789abcdef";
const encoder = new TextEncoder();

describe("WooCommerce webhook signature", () => {
  it("accepts a delivery signed with the connection's secret", async () => {
    const delivery = await woocommerceDelivery("order.created", woocommerceFixtures.orderTaxExclusive, SECRET);
    expect(await verify(delivery, SECRET)).toEqual({ ok: true });
  });

  it("refuses a delivery signed with another secret, saying the secrets differ", async () => {
    const delivery = await woocommerceDelivery("order.created", woocommerceFixtures.orderTaxExclusive, "another-secret");
    const result = await verify(delivery, SECRET);
    expect(result).toEqual({
      ok: false,
      reason: expect.stringMatching(/does not match the body.*secret in WooCommerce differs/),
    });
  });

  it("refuses a body changed by one byte after signing", async () => {
    const delivery = await woocommerceDelivery("order.created", woocommerceFixtures.orderTaxExclusive, SECRET);
    const tampered = delivery.body.slice();
    const at = tampered.indexOf("6".charCodeAt(0));
    tampered[at] = "7".charCodeAt(0);
    expect((await verify({ body: tampered, headers: delivery.headers }, SECRET)).ok).toBe(false);
  });

  it("refuses a delivery without the X-WC-Webhook-Signature header and says so", async () => {
    const delivery = await woocommerceDelivery("order.created", woocommerceFixtures.orderTaxExclusive, SECRET, {
      "X-WC-Webhook-Signature": null,
    });
    expect(await verify(delivery, SECRET)).toEqual({
      ok: false,
      reason: expect.stringMatching(/X-WC-Webhook-Signature header is missing/),
    });
  });

  it("refuses a signature header that is not base64", async () => {
    const delivery = await woocommerceDelivery("order.created", woocommerceFixtures.orderTaxExclusive, SECRET, {
      "X-WC-Webhook-Signature": "not*base64!",
    });
    expect(await verify(delivery, SECRET)).toEqual({ ok: false, reason: expect.stringMatching(/not base64/) });
  });

  it("refuses a base64 header of the wrong length without throwing", async () => {
    const delivery = await woocommerceDelivery("order.created", woocommerceFixtures.orderTaxExclusive, SECRET, {
      "X-WC-Webhook-Signature": "AAAA",
    });
    expect((await verify(delivery, SECRET)).ok).toBe(false);
  });

  it("never passes a delivery when the connection has no secret", async () => {
    const delivery = await woocommerceDelivery("order.created", woocommerceFixtures.orderTaxExclusive, SECRET);
    expect(await verify(delivery, "")).toEqual({ ok: false, reason: expect.stringMatching(/No webhook secret is set/) });
  });

  it("checks the signature over the raw bytes, so unusual whitespace and unicode verify as sent", async () => {
    const raw = '{ "id" :\t4102 ,\r\n  "name": "Kaffeebecher \\u00e4 ☕",  "total" : "1.50"  }\n';
    const delivery = await woocommerceDelivery("order.updated", raw, SECRET);
    expect(await verify(delivery, SECRET)).toEqual({ ok: true });
    // The same JSON serialised again is different bytes: the original signature must not fit it.
    const reserialised = encoder.encode(JSON.stringify(JSON.parse(raw)));
    expect((await verify({ body: reserialised, headers: delivery.headers }, SECRET)).ok).toBe(false);
  });

  it("reads the signature header whatever its case", async () => {
    const body = encoder.encode(JSON.stringify(woocommerceFixtures.orderMinimal));
    const headers = new Headers({ "x-wc-webhook-signature": await signWooCommerceBody(SECRET, body) });
    expect(await verify({ body, headers }, SECRET)).toEqual({ ok: true });
  });
});

describe("WooCommerce ping", () => {
  it("recognises the unsigned webhook_id form post WooCommerce sends when a webhook is saved", () => {
    expect(isPing(woocommercePing(12))).toBe(true);
  });

  it("recognises the ping with a charset parameter or no content type at all", () => {
    const ping = woocommercePing(12);
    ping.headers.set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8");
    expect(isPing(ping)).toBe(true);
    ping.headers.delete("Content-Type");
    expect(isPing(ping)).toBe(true);
  });

  it("does not take a signed delivery for a ping, even with a ping-like body", async () => {
    const delivery = await woocommerceDelivery("order.created", "webhook_id=12", SECRET, {
      "Content-Type": "application/x-www-form-urlencoded",
    });
    expect(isPing(delivery)).toBe(false);
  });

  it("does not take an order delivery or any other form post for a ping", async () => {
    const order = await woocommerceDelivery("order.created", woocommerceFixtures.orderMinimal, SECRET, {
      "X-WC-Webhook-Signature": null,
    });
    expect(isPing(order)).toBe(false);
    const ping = woocommercePing(12);
    expect(isPing({ ...ping, body: encoder.encode("webhook_id=12&order=1") })).toBe(false);
    expect(isPing({ ...ping, body: encoder.encode("webhook_id=") })).toBe(false);
    expect(isPing({ body: ping.body, headers: new Headers({ "Content-Type": "application/json" }) })).toBe(false);
  });
});

describe("WooCommerce sending site (X-WC-Webhook-Source)", () => {
  const from = (source: string | null) =>
    woocommerceDelivery("order.updated", woocommerceFixtures.orderMinimal, SECRET, { "X-WC-Webhook-Source": source });

  it("passes any site while the connection names no store URL", async () => {
    expect(foreignSite(await from("https://staging.example.com/"), undefined)).toBeNull();
  });

  it("passes the shop's own address, whatever its trailing slash or the letter case of its host", async () => {
    for (const source of ["https://shop.example.com/", "https://shop.example.com", "https://SHOP.example.com"]) {
      expect(foreignSite(await from(source), "https://shop.example.com"), source).toBeNull();
    }
  });

  it("names a staging copy's address and what to do, and takes another scheme or www. as the same site", async () => {
    expect(foreignSite(await from("https://staging.example.com/"), "https://shop.example.com/")).toMatch(
      /came from https:\/\/staging\.example\.com, not the shop's address https:\/\/shop\.example\.com.*disable the Orderly webhooks there.*update the connection's Store URL/,
    );
    // The Store URL was typed by a person; WordPress sends its own form of the same address.
    expect(foreignSite(await from("http://shop.example.com/"), "https://shop.example.com")).toBeNull();
    // Another port or path is another site (woocommerce.site.test.ts).
    expect(foreignSite(await from("https://shop.example.com:8443/"), "https://shop.example.com")).not.toBeNull();
    expect(foreignSite(await from("https://shop.example.com/shop/"), "https://shop.example.com")).not.toBeNull();
    expect(foreignSite(await from("https://www.shop.example.com/"), "https://shop.example.com")).toBeNull();
    expect(foreignSite(await from("https://shop.example.com/"), "https://WWW.shop.example.com")).toBeNull();
    expect(foreignSite(await from("https://staging.shop.example.com/"), "https://shop.example.com")).not.toBeNull();
  });

  it("does not take a delivery that names no site, or an unreadable one, when a store URL is set", async () => {
    expect(foreignSite(await from(null), "https://shop.example.com")).toMatch(/did not say which site sent it/);
    expect(foreignSite(await from("not a url"), "https://shop.example.com")).toMatch(/came from not a url/);
  });
});
