/**
 * Webhook signature primitives shared by the sources: HMAC-SHA256 over the raw bytes and a
 * constant-time comparison. Never compare signatures with `===`.
 */

const encoder = new TextEncoder();

export async function hmacSha256(secret: string, message: Uint8Array | string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const data = typeof message === "string" ? encoder.encode(message) : message;
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}

/** Constant-time equality of two byte strings; different lengths are unequal without early exit on content. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Decodes base64; returns null for anything that is not valid base64. */
export function fromBase64(text: string): Uint8Array | null {
  try {
    const binary = atob(text.trim());
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Checks a base64 HMAC-SHA256 signature header (Shopify, WooCommerce) against the raw body. */
export async function verifyBase64Hmac(secret: string, body: Uint8Array, header: string | null): Promise<boolean> {
  if (!header || secret.length === 0) return false;
  const given = fromBase64(header);
  if (!given) return false;
  return timingSafeEqual(await hmacSha256(secret, body), given);
}
