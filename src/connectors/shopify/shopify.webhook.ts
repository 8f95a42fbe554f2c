/**
 * Shopify webhook signature: X-Shopify-Hmac-Sha256 is base64(HMAC-SHA256(secret, raw body bytes)).
 * Shopify signs no timestamp, so there is no replay window to check: a replayed delivery carries
 * its original X-Shopify-Webhook-Id and is caught by dedupe instead.
 */
import type { IncomingDelivery, VerifyResult } from "../contract";
import { fromBase64, verifyBase64Hmac } from "../signatures";

export const SHOPIFY_SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256";

/** Checks the delivery's signature over its raw bytes in constant time; never passes without a secret. */
export async function verify(delivery: IncomingDelivery, secret: string): Promise<VerifyResult> {
  if (secret.length === 0) {
    return {
      ok: false,
      reason:
        "No webhook secret is set for this Shopify connection; copy the signing key from Shopify admin (Settings → Notifications → Webhooks) into the connection.",
    };
  }
  const header = delivery.headers.get(SHOPIFY_SIGNATURE_HEADER);
  if (header === null || header.trim() === "") {
    return { ok: false, reason: `The ${SHOPIFY_SIGNATURE_HEADER} header is missing, so the delivery is not signed by Shopify.` };
  }
  if (fromBase64(header) === null) {
    return { ok: false, reason: `The ${SHOPIFY_SIGNATURE_HEADER} header is not base64, so it cannot be a Shopify signature.` };
  }
  if (!(await verifyBase64Hmac(secret, delivery.body, header))) {
    return {
      ok: false,
      reason: `The ${SHOPIFY_SIGNATURE_HEADER} signature does not match the body: the webhook secret differs from Shopify's signing key, or the body was changed on the way.`,
    };
  }
  return { ok: true };
}
