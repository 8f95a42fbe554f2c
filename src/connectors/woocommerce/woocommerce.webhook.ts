/**
 * WooCommerce webhook signature and ping. X-WC-Webhook-Signature is base64(HMAC-SHA256(secret, raw
 * body bytes)). WooCommerce signs no timestamp and never retries, so there is no replay window to
 * check: a replayed delivery carries its original delivery id and order version and is caught by
 * dedupe instead.
 */
import type { IncomingDelivery, VerifyResult } from "../contract";
import { fromBase64, verifyBase64Hmac } from "../signatures";

export const WOOCOMMERCE_SIGNATURE_HEADER = "X-WC-Webhook-Signature";

const PING_BODY = /^webhook_id=\d+$/;
const utf8 = new TextDecoder("utf-8");

/**
 * True for the unsigned ping WooCommerce sends when a webhook is saved: a form post whose body is
 * `webhook_id=<n>`, with no signature and no topic. WordPress sets no content type for it itself;
 * the HTTP transport sends it as a form post, so a missing content type is accepted too. Anything
 * signed is not a ping: it goes through `verify`.
 */
export function isPing(delivery: IncomingDelivery): boolean {
  if (delivery.headers.has(WOOCOMMERCE_SIGNATURE_HEADER)) return false;
  const type = delivery.headers.get("content-type");
  const mediaType = type?.split(";")[0]?.trim().toLowerCase();
  if (type !== null && mediaType !== "application/x-www-form-urlencoded") return false;
  if (delivery.body.byteLength > 40) return false;
  return PING_BODY.test(utf8.decode(delivery.body));
}

/** Checks the delivery's signature over its raw bytes in constant time; never passes without a secret. */
export async function verify(delivery: IncomingDelivery, secret: string): Promise<VerifyResult> {
  if (secret.length === 0) {
    return {
      ok: false,
      reason:
        "No webhook secret is set for this WooCommerce connection; set one in Orderly and enter the same secret in each webhook under WooCommerce → Settings → Advanced → Webhooks.",
    };
  }
  const header = delivery.headers.get(WOOCOMMERCE_SIGNATURE_HEADER);
  if (header === null || header.trim() === "") {
    return {
      ok: false,
      reason: `The ${WOOCOMMERCE_SIGNATURE_HEADER} header is missing, so the delivery is not signed by WooCommerce.`,
    };
  }
  if (fromBase64(header) === null) {
    return {
      ok: false,
      reason: `The ${WOOCOMMERCE_SIGNATURE_HEADER} header is not base64, so it cannot be a WooCommerce signature.`,
    };
  }
  if (!(await verifyBase64Hmac(secret, delivery.body, header))) {
    return {
      ok: false,
      reason: `The ${WOOCOMMERCE_SIGNATURE_HEADER} signature does not match the body: the webhook's secret in WooCommerce differs from the one in Orderly, or the body was changed on the way.`,
    };
  }
  return { ok: true };
}

export const WOOCOMMERCE_SOURCE_HEADER = "X-WC-Webhook-Source";

/**
 * Why a verified delivery is not from the shop the connection is for, or null when it is (or the
 * connection names no store URL). A staging copy of a shop keeps its webhooks and their secret, so
 * its deliveries verify; only the site address WooCommerce sends in X-WC-Webhook-Source (its home
 * URL) tells them apart. The origin and the path are compared, as a copy may live in a folder of
 * the shop's own host (https://shop.com/staging/4821/).
 */
export function foreignSite(delivery: IncomingDelivery, storeUrl: unknown): string | null {
  if (typeof storeUrl !== "string" || storeUrl === "") return null;
  const expected = siteOf(storeUrl);
  if (expected === null) return null;
  const sent = delivery.headers.get(WOOCOMMERCE_SOURCE_HEADER)?.trim() ?? "";
  const site = siteOf(sent);
  if (site !== null && sameShop(site, expected)) return null;
  const from =
    sent === ""
      ? `did not say which site sent it (no ${WOOCOMMERCE_SOURCE_HEADER} header)`
      : `came from ${site?.address ?? sent}`;
  return `The delivery ${from}, not the shop's address ${expected.address} set on this connection. A copy of the shop (a staging site) keeps the webhooks and their secret: disable the Orderly webhooks there (WooCommerce → Settings → Advanced → Webhooks on that site). If the shop moved to ${site?.address ?? "a new address"}, update the connection's Store URL in Orderly, then replay the deliveries kept here (Kept, not processed → Replay).`;
}

interface Site {
  /** The address as shown: origin and path, without trailing slashes. */
  address: string;
  /** Host (without www.) and port: the same shop however its address was typed. */
  host: string;
  /** The path without trailing slashes ("" for the root). */
  path: string;
}

/**
 * The sending site is the shop when it is on the same host and its home is the Store URL's path or
 * above it: a Store URL typed as a page of the shop (https://shop.com/shop) still matches the
 * shop's home (https://shop.com/), while a copy in a folder below it (https://shop.com/staging/4821/)
 * does not.
 */
function sameShop(sent: Site, expected: Site): boolean {
  if (sent.host !== expected.host) return false;
  return sent.path === expected.path || expected.path.startsWith(`${sent.path}/`);
}

/**
 * The site an http(s) address names, or null. WordPress sends its home URL with a trailing slash;
 * a person types the Store URL with or without one, with http or https, with or without www. Those
 * are one site; another port is another, and so is a folder below the shop's (see sameShop).
 */
function siteOf(url: string): Site | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
  const path = parsed.pathname.replace(/\/+$/, "");
  // URL leaves out the scheme's default port, so http://shop.com and https://shop.com match.
  const port = parsed.port === "" ? "" : `:${parsed.port}`;
  // The folder compared as typed in any case: a Store URL typed /Shop for WordPress's /shop is one shop.
  return {
    address: `${parsed.origin}${path}`,
    host: `${parsed.hostname.replace(/^www\./, "")}${port}`,
    path: path.toLowerCase(),
  };
}
