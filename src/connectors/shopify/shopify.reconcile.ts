/**
 * Shopify's side of the reconciliation sweep (src/worker/reconcile.ts): the orders changed in a
 * window, read from the REST Admin API with the connection's Admin API access token.
 *
 * REST is legacy since 2024-10, but its order is exactly the shape Shopify's order webhooks carry
 * (the webhook payload is the REST representation), so each order goes through the same `parse` as
 * a webhook. `GET /admin/api/{version}/orders.json?status=any&updated_at_min=…&updated_at_max=…
 * &order=updated_at asc&limit=250`; further pages by the `Link: <…page_info=…>; rel="next"` header,
 * whose URL carries only `page_info` and `limit` (Shopify refuses the filters beside a page_info).
 * `updated_at_min` is inclusive, so an order changed exactly at the window's start is read again:
 * its delivery id (order id and updated_at) makes it a duplicate.
 *
 * An order's refunds come to Orderly by their own refunds/create webhook (the order mapping credits
 * none), so each refund listed on a found order is a delivery of its own, as that webhook's, taken
 * after the order's: its flows run once per refund id, whichever delivery brought it first.
 *
 * Credentials: an Admin API access token (a legacy custom app made in the Shopify admin, which
 * Shopify stopped allowing on 2026-01-01), or the client id and secret of a Dev Dashboard app
 * installed on the merchant's own store, exchanged for a token by the client credentials grant
 * (`POST https://{shop}/admin/oauth/access_token`; the token expires after `expires_in` seconds,
 * about 24 hours, and comes with no refresh token). Minted tokens are kept in memory only.
 */
import { z } from "zod";
import { OrderlyError } from "../../domain/errors";
import type { FoundRefund, SweepAccess, SweepSource } from "../../worker/reconcile-source";
import { answeredText, type FoundOrder, type OrdersPage, type SweepWindow } from "../../worker/reconcile-source";
import type { HttpClient } from "../http";
import { invalidPayload } from "../payload";
import { orderStage } from "./shopify.order";
import { parseShopifyJson, type ShopifyTopic } from "./shopify.parse";
import { shopifyOrderSchema } from "./shopify.payload";
import { epochMs, nonEmpty } from "./shopify.util";

/** The REST Admin API version the sweep reads (quarterly versions are supported for a year; move it on with them). */
export const SHOPIFY_REST_VERSION = "2026-01";
/** Shopify's largest page. */
export const SHOPIFY_PAGE_SIZE = 250;
/** Stop reading pages once this share of the shop's REST call bucket is used (X-Shopify-Shop-Api-Call-Limit). */
const CALL_LIMIT_SHARE = 0.8;

const TOKEN_HEADER = "X-Shopify-Access-Token";
/** A minted token is replaced this long before it expires: a run never starts with one about to lapse. */
const TOKEN_RENEW_BEFORE_MS = 30 * 60_000;
/** Minted tokens kept per isolate (one per shop and app); the oldest goes first. */
const MINTED_KEPT = 200;

const listSchema = z.object({ orders: z.array(z.record(z.string(), z.unknown())) });

/** The webhook topic whose delivery carries the order in this state (the stage comes from the order itself). */
const TOPIC_OF_STAGE: Record<string, ShopifyTopic> = {
  created: "orders/create",
  paid: "orders/paid",
  fulfilled: "orders/fulfilled",
  completed: "orders/fulfilled",
  cancelled: "orders/cancelled",
};

export const shopifySweep: SweepSource = {
  vendor: "Shopify",
  pageSize: SHOPIFY_PAGE_SIZE,
  redact: [TOKEN_HEADER],
  refused:
    "Shopify refused the app's credentials: check the client ID and secret (or the Admin API access token) are those of an app installed on this shop, and that the app has the read_orders scope.",
  access(settings, credentials): SweepAccess {
    const shop = typeof settings.shopDomain === "string" ? settings.shopDomain : "";
    const text = (value: unknown) => (typeof value === "string" ? value : "");
    const token = text(credentials.adminAccessToken);
    const app = { clientId: text(credentials.clientId), clientSecret: text(credentials.clientSecret) };
    if (!shop)
      return {
        ok: false,
        code: "reconcile_shop_domain_missing",
        reason:
          "The reconciliation sweep needs the shop's myshopify.com domain: enter it as this connection's Shop domain (Shopify admin → Settings → Domains).",
      };
    if (!token && !(app.clientId && app.clientSecret))
      return {
        ok: false,
        code: "reconcile_token_missing",
        reason:
          "The reconciliation sweep needs access to the shop's orders: create an app in Shopify's Dev Dashboard with the read_orders scope, install it on this shop, and enter its client ID and client secret in this connection's credentials (or, for a custom app made in the Shopify admin before 2026, its Admin API access token).",
      };
    const base = `https://${shop}`;
    const tokenFor = token ? async () => token : (http: HttpClient) => mintedToken(http, base, app);
    return {
      ok: true,
      read: async (http, window, next) => {
        try {
          return await readPage(http, base, await tokenFor(http), window, next);
        } catch (error) {
          // A refused minted token (the app uninstalled, its secret rotated): the next run mints anew.
          if (!token && error instanceof OrderlyError && error.errorClass === "auth") minted.delete(mintKey(base, app.clientId));
          throw error;
        }
      },
    };
  },
};

const minted = new Map<string, { token: string; expiresAt: number }>();
const mintKey = (base: string, clientId: string) => `${base}\n${clientId}`;
const grantSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().positive().optional() });

/**
 * A token of the merchant's own Dev Dashboard app by the client credentials grant, reused until
 * TOKEN_RENEW_BEFORE_MS before it expires. The grant answers 4xx to an app not installed on the
 * shop, or to a wrong id or secret: the HTTP client makes that an auth error, shown with what to do.
 */
export async function mintedToken(
  http: HttpClient,
  base: string,
  app: { clientId: string; clientSecret: string },
  now = Date.now(),
): Promise<string> {
  const key = mintKey(base, app.clientId);
  const kept = minted.get(key);
  if (kept && kept.expiresAt - TOKEN_RENEW_BEFORE_MS > now) return kept.token;
  minted.delete(key);
  const response = await http.request({
    method: "POST",
    url: `${base}/admin/oauth/access_token`,
    json: { grant_type: "client_credentials", client_id: app.clientId, client_secret: app.clientSecret },
  });
  let json: unknown;
  try {
    json = JSON.parse(answeredText(response.body, "Shopify"));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
  }
  const grant = grantSchema.safeParse(json);
  if (!grant.success)
    throw invalidPayload(
      "Shopify's answer to the client credentials grant has no access_token; check the client ID and secret are those of a Dev Dashboard app installed on this shop.",
      "reconcile_shopify_grant_invalid",
    );
  // Without a lifetime it is used for this run only: no expiry is guessed.
  if (grant.data.expires_in !== undefined) {
    if (minted.size >= MINTED_KEPT) minted.delete(minted.keys().next().value as string);
    minted.set(key, { token: grant.data.access_token, expiresAt: now + grant.data.expires_in * 1000 });
  }
  return grant.data.access_token;
}

async function readPage(http: HttpClient, base: string, token: string, window: SweepWindow, next: unknown): Promise<OrdersPage> {
  const path = `${base}/admin/api/${SHOPIFY_REST_VERSION}/orders.json`;
  const query =
    typeof next === "string" && next !== ""
      ? new URLSearchParams({ limit: String(SHOPIFY_PAGE_SIZE), page_info: next })
      : new URLSearchParams({
          status: "any",
          updated_at_min: new Date(window.from).toISOString(),
          updated_at_max: new Date(window.to).toISOString(),
          order: "updated_at asc",
          limit: String(SHOPIFY_PAGE_SIZE),
        });
  const response = await http.request({ method: "GET", url: `${path}?${query}`, headers: { [TOKEN_HEADER]: token } });
  const text = answeredText(response.body, "Shopify");
  const list = listSchema.safeParse(parseShopifyJson(text));
  if (!list.success)
    throw invalidPayload(
      "Shopify's list of orders has no `orders` array; the sweep cannot read it.",
      "reconcile_shopify_list_invalid",
    );
  return {
    orders: list.data.orders.map(foundOrder),
    next: nextPageInfo(response.headers.get("link"), base),
    slowDown: nearLimit(response.headers.get("x-shopify-shop-api-call-limit")),
  };
}

/** One listed order as the delivery its webhook would have been. */
function foundOrder(order: Record<string, unknown>): FoundOrder {
  const id = order.id;
  const orderId = typeof id === "string" || typeof id === "number" ? String(id) : "";
  const updatedAt = typeof order.updated_at === "string" ? order.updated_at : "";
  const checked = shopifyOrderSchema.safeParse(order);
  // An order the schema refuses still goes through parse, which names the problem as it would for a webhook.
  const topic: ShopifyTopic = checked.success ? (TOPIC_OF_STAGE[orderStage(checked.data)] ?? "orders/updated") : "orders/updated";
  const name = typeof order.name === "string" ? nonEmpty(order.name) : undefined;
  const headers = new Headers({
    "content-type": "application/json",
    "x-shopify-topic": topic,
    // Stable per order version: a later sweep finding the same version is a duplicate to its order's object.
    "x-shopify-webhook-id": `reconcile:${orderId}:${updatedAt}`,
    "x-orderly-reconcile": "1",
  });
  if (updatedAt) headers.set("x-shopify-triggered-at", updatedAt);
  return {
    orderId,
    label: `#${(name ?? orderId).replace(/^#/, "")}`,
    changedAt: epochMs(updatedAt) ?? 0,
    delivery: { body: new TextEncoder().encode(JSON.stringify(order)), headers },
    refunds: Array.isArray(order.refunds) ? order.refunds.flatMap(foundRefund) : [],
  };
}

/**
 * A refund listed on the order as its refunds/create delivery: the order's REST representation
 * lists each refund in the shape that webhook sends. One that cannot be read still goes through
 * parse, which names the problem as it would for the webhook.
 */
function foundRefund(refund: unknown): FoundRefund[] {
  if (typeof refund !== "object" || refund === null) return [];
  const r = refund as Record<string, unknown>;
  const id = typeof r.id === "string" || typeof r.id === "number" ? String(r.id) : "";
  if (!id) return [];
  const createdAt = typeof r.created_at === "string" ? r.created_at : "";
  const headers = new Headers({
    "content-type": "application/json",
    "x-shopify-topic": "refunds/create",
    // A refund never changes once made: one delivery id per refund, whichever sweep finds it.
    "x-shopify-webhook-id": `reconcile:refund:${id}`,
    "x-orderly-reconcile": "1",
  });
  if (createdAt) headers.set("x-shopify-triggered-at", createdAt);
  const version = epochMs(createdAt) ?? (typeof r.processed_at === "string" ? epochMs(r.processed_at) : undefined) ?? 0;
  return [{ refundId: id, version, delivery: { body: new TextEncoder().encode(JSON.stringify(refund)), headers } }];
}

/**
 * The `page_info` of the Link header's next page; null on the last page. A next link that cannot be
 * followed (another host would be sent the token) throws: ending the window there would skip orders.
 */
export function nextPageInfo(link: string | null, base: string): string | null {
  if (!link) return null;
  for (const part of link.split(",")) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (!match?.[1]) continue;
    const url = URL.parse(match[1]);
    const pageInfo = url?.searchParams.get("page_info");
    if (!url || url.origin !== new URL(base).origin || !pageInfo)
      throw invalidPayload(
        `Shopify's next page link (${match[1].slice(0, 200)}) is not a page of ${base}; the sweep stops here and tries again next run.`,
        "reconcile_shopify_link_invalid",
      );
    return pageInfo;
  }
  return null;
}

/** `32/40`: true once CALL_LIMIT_SHARE of the bucket is used. */
function nearLimit(header: string | null): boolean {
  const match = header ? /^(\d+)\/(\d+)$/.exec(header.trim()) : null;
  if (!match) return false;
  const [used, size] = [Number(match[1]), Number(match[2])];
  return size > 0 && used / size >= CALL_LIMIT_SHARE;
}
