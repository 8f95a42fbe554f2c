/**
 * The body's text, decoded once: the webhook route decodes a delivery's body for the source's
 * parsing and for storing it inline (IncomingDelivery.text); a source given none decodes it itself.
 */
import { describe, expect, it } from "vitest";
import { jsonText, strictText } from "../../src/connectors/payload";
import { parse as shopifyParse } from "../../src/connectors/shopify/shopify.parse";
import { shopifyDelivery, shopifyFixture } from "../fixtures/shopify";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("a delivery's text", () => {
  it("is the body byte for byte when it is UTF-8, a BOM kept; null when it is not", () => {
    expect(strictText(bytes("\uFEFF{}"))).toBe("\uFEFF{}");
    expect(strictText(new Uint8Array([0x7b, 0xff, 0x7d]))).toBeNull();
  });

  it("is parsed without a leading BOM, from the caller's decoding when there is one", () => {
    const headers = new Headers();
    expect(jsonText({ body: bytes('\uFEFF{"a":1}'), headers })).toBe('{"a":1}');
    // The caller's text is taken as it is: the body is not decoded a second time.
    expect(jsonText({ body: bytes("ignored"), headers, text: "\uFEFF[1]" })).toBe("[1]");
    expect(jsonText({ body: bytes("{}"), headers, text: null })).toBeNull();
    expect(jsonText({ body: new Uint8Array([0xff]), headers })).toBeNull();
  });

  it("a Shopify order parses the same from its bytes and from the route's text", async () => {
    const order = shopifyFixture("orderTaxExclusive");
    const delivery = await shopifyDelivery("orders/paid", order, "secret", { "X-Shopify-Triggered-At": "2026-03-01T09:00:00Z" });
    const fromBytes = shopifyParse(delivery);
    const fromText = shopifyParse({ ...delivery, text: strictText(delivery.body) });
    expect(fromText).toStrictEqual(fromBytes);
    const withBom = shopifyParse({ ...delivery, text: `\uFEFF${strictText(delivery.body)}` });
    expect(withBom).toStrictEqual(fromBytes);
  });
});
