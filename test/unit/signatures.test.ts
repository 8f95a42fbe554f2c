import { describe, expect, it } from "vitest";
import { fromBase64, hmacSha256, timingSafeEqual, toBase64, toHex, verifyBase64Hmac } from "../../src/connectors/signatures";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("hmacSha256", () => {
  it("matches RFC 4231 test case 2", async () => {
    const mac = await hmacSha256("Jefe", "what do ya want for nothing?");
    expect(toHex(mac)).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("matches RFC 4231 test case 1", async () => {
    const mac = await hmacSha256("\u000b".repeat(20), "Hi There");
    expect(toHex(mac)).toBe("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  });

  it("gives the same MAC for a string and its UTF-8 bytes", async () => {
    const message = "ordre #1001 — blåbærgrød";
    expect(toHex(await hmacSha256("s3cret", message))).toBe(toHex(await hmacSha256("s3cret", bytes(message))));
  });

  it("agrees with crypto.subtle computed independently", async () => {
    const body = bytes('{"id":1001,"total_price":"199.00"}');
    const key = await crypto.subtle.importKey("raw", bytes("shpss_test"), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const expected = new Uint8Array(await crypto.subtle.sign("HMAC", key, body));
    expect(await hmacSha256("shpss_test", body)).toEqual(expected);
  });

  it("returns 32 bytes", async () => {
    expect((await hmacSha256("k", "")).byteLength).toBe(32);
  });
});

describe("timingSafeEqual", () => {
  it("accepts equal byte strings", () => {
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  it("rejects byte strings that differ in one byte, first or last", () => {
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([0, 2, 3]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
  });

  it("rejects byte strings of different lengths, even when one is a prefix of the other", () => {
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 3]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array(0))).toBe(false);
  });
});

describe("base64 and hex", () => {
  it("encodes known values", () => {
    expect(toBase64(bytes("Jefe"))).toBe("SmVmZQ==");
    expect(toBase64(new Uint8Array(0))).toBe("");
    expect(toHex(new Uint8Array([0, 15, 16, 255]))).toBe("000f10ff");
    expect(toHex(new Uint8Array(0))).toBe("");
  });

  it("round-trips every byte value through base64", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(fromBase64(toBase64(all))).toEqual(all);
  });

  it("round-trips every byte value through hex", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = toHex(all);
    expect(hex).toMatch(/^[0-9a-f]{512}$/);
    const parsed = Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
    expect(parsed).toEqual(all);
  });

  it("decodes base64 with surrounding whitespace", () => {
    expect(fromBase64("  SmVmZQ==\n")).toEqual(bytes("Jefe"));
  });

  it("returns null for text that is not base64", () => {
    expect(fromBase64("%%%%")).toBeNull();
    expect(fromBase64("not base64!")).toBeNull();
    expect(fromBase64("a")).toBeNull();
    expect(fromBase64("SmVmZQ===")).toBeNull();
  });
});

describe("verifyBase64Hmac", () => {
  const secret = "shpss_0123456789";
  const body = bytes('{"id":1001}');

  async function signature(key: string, data: Uint8Array): Promise<string> {
    return toBase64(await hmacSha256(key, data));
  }

  it("accepts the base64 HMAC of the body under the secret", async () => {
    expect(await verifyBase64Hmac(secret, body, await signature(secret, body))).toBe(true);
  });

  it("rejects a signature made with another secret", async () => {
    expect(await verifyBase64Hmac(secret, body, await signature("other", body))).toBe(false);
  });

  it("rejects a signature over another body", async () => {
    expect(await verifyBase64Hmac(secret, body, await signature(secret, bytes('{"id":1002}')))).toBe(false);
  });

  it("rejects a truncated signature", async () => {
    const full = await hmacSha256(secret, body);
    expect(await verifyBase64Hmac(secret, body, toBase64(full.slice(0, 16)))).toBe(false);
  });

  it("rejects a hex signature where base64 is expected", async () => {
    expect(await verifyBase64Hmac(secret, body, toHex(await hmacSha256(secret, body)))).toBe(false);
  });

  it("rejects a missing or empty header", async () => {
    expect(await verifyBase64Hmac(secret, body, null)).toBe(false);
    expect(await verifyBase64Hmac(secret, body, "")).toBe(false);
  });

  it("rejects a header that is not base64", async () => {
    expect(await verifyBase64Hmac(secret, body, "%%%%")).toBe(false);
  });

  it("rejects everything when no secret is configured", async () => {
    expect(await verifyBase64Hmac("", body, await signature(secret, body))).toBe(false);
    expect(await verifyBase64Hmac("", body, toBase64(new Uint8Array(32)))).toBe(false);
  });
});
