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
 */
import { z } from "zod";
import type { SweepAccess, SweepSource } from "../../worker/reconcile-source";
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
  redact: [TOKEN_HEADER],
  refused:
    "Shopify refused the Admin API access token: check it is the token of a custom app installed on this shop, and that the app has the read_orders scope.",
  access(settings, credentials): SweepAccess {
    const shop = typeof settings.shopDomain === "string" ? settings.shopDomain : "";
    const token = typeof credentials.adminAccessToken === "string" ? credentials.adminAccessToken : "";
    if (!shop)
      return {
        ok: false,
        code: "reconcile_shop_domain_missing",
        reason:
          "The reconciliation sweep needs the shop's myshopify.com domain: enter it as this connection's Shop domain (Shopify admin → Settings → Domains).",
      };
    if (!token)
      return {
        ok: false,
        code: "reconcile_token_missing",
        reason:
          "The reconciliation sweep needs an Admin API access token: in Shopify admin create a custom app with the read_orders scope, install it, and enter its Admin API access token in this connection's credentials.",
      };
    const base = `https://${shop}`;
    return { ok: true, read: (http, window, next) => readPage(http, base, token, window, next) };
  },
};

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
  const list = listSchema.safeParse(parseShopifyJson(new TextEncoder().encode(text)));
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
  };
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
