// The baseline: the least a Worker must do to accept a Shopify webhook. It checks the
// X-Shopify-Hmac-Sha256 header (base64 HMAC-SHA256 of the raw body under a fixed secret, compared
// in constant time by crypto.subtle.verify) and answers 200; it stores nothing.
let key;

function signingKey(secret) {
  key ??= crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  return key;
}

function fromBase64(text) {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

export default {
  async fetch(request, env) {
    if (request.method === "GET") return Response.json({ ok: true });
    const body = await request.arrayBuffer();
    const signature = fromBase64(request.headers.get("x-shopify-hmac-sha256") ?? "");
    const valid =
      signature !== null && (await crypto.subtle.verify("HMAC", await signingKey(env.WEBHOOK_SECRET), signature, body));
    return valid
      ? Response.json({ ok: true, accepted: 1, duplicates: 0 })
      : Response.json({ error: { code: "signature_invalid" } }, { status: 401 });
  },
};
