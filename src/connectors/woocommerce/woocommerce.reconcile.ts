/**
 * WooCommerce's side of the reconciliation sweep (src/worker/reconcile.ts): the orders changed in a
 * window, read from the shop's REST API v3 with a consumer key and secret over HTTPS (Basic auth).
 * The REST order is the shape WooCommerce's order webhooks carry (API version wp_api_v3), so each
 * goes through the same `parse` as a webhook, refunds included.
 *
 * `GET {store}/wp-json/wc/v3/orders?modified_after=…&modified_before=…&dates_are_gmt=true
 * &orderby=modified&order=asc&per_page=100&page=N`. Pages go on from the last order's modified time
 * rather than by page number: an order changed while the window is read moves to its end, and with
 * page numbers the order after it would slip back onto a page already read. `modified_after` is
 * exclusive and whole seconds, so the next page starts a second before the last order read (its
 * siblings of that second are read again, and are duplicates); only when a whole page shares that
 * second does the page number move on.
 */

import { env } from "cloudflare:workers";
import { z } from "zod";
import { allowPrivateBaseUrls } from "../../worker/config";
import {
  answeredText,
  type FoundOrder,
  type OrdersPage,
  type SweepAccess,
  type SweepSource,
  type SweepWindow,
} from "../../worker/reconcile-source";
import { baseUrlProblem } from "../base-url";
import type { HttpClient } from "../http";
import { invalidPayload } from "../payload";
import { wcId } from "./woocommerce.payload";
import { gmtMs } from "./woocommerce.util";

/** WooCommerce's largest page. */
export const WOOCOMMERCE_PAGE_SIZE = 100;

const listSchema = z.array(z.record(z.string(), z.unknown()));
const nextSchema = z.object({ after: z.number(), page: z.number().int().min(1) });
type Next = z.infer<typeof nextSchema>;

export const woocommerceSweep: SweepSource = {
  vendor: "WooCommerce",
  pageSize: WOOCOMMERCE_PAGE_SIZE,
  redact: [],
  refused:
    "The shop refused the REST API key: check the consumer key and secret in this connection, and that the key has Read (or Read/Write) permission under WooCommerce → Settings → Advanced → REST API.",
  access(settings, credentials): SweepAccess {
    const store = typeof settings.storeUrl === "string" ? settings.storeUrl.trim().replace(/\/+$/, "") : "";
    const key = typeof credentials.consumerKey === "string" ? credentials.consumerKey : "";
    const secret = typeof credentials.consumerSecret === "string" ? credentials.consumerSecret : "";
    if (!store)
      return {
        ok: false,
        code: "reconcile_store_url_missing",
        reason: "The reconciliation sweep needs the shop's address: enter it as this connection's Store URL (https://…).",
      };
    // Basic auth sends the secret as it is: over https only (a local mock may use http when the operator allows it).
    const problem = baseUrlProblem(store, "https://shop.example.com", { allowPrivate: allowPrivateBaseUrls(env) });
    if (problem)
      return {
        ok: false,
        code: "reconcile_store_url_refused",
        reason: `The reconciliation sweep does not call this Store URL: it ${problem}. The REST API key is sent with every call, so the shop must be reached over https.`,
      };
    if (!key || !secret)
      return {
        ok: false,
        code: "reconcile_keys_missing",
        reason:
          "The reconciliation sweep needs a REST API key: in WooCommerce → Settings → Advanced → REST API add a key with Read permission, and enter its consumer key and consumer secret in this connection's credentials.",
      };
    const authorization = `Basic ${btoa(`${key}:${secret}`)}`;
    return { ok: true, read: (http, window, next) => readPage(http, store, authorization, window, next) };
  },
};

async function readPage(
  http: HttpClient,
  store: string,
  authorization: string,
  window: SweepWindow,
  next: unknown,
): Promise<OrdersPage> {
  const at = nextSchema.safeParse(next).data ?? { after: window.from, page: 1 };
  const query = new URLSearchParams({
    modified_after: wooTime(at.after),
    modified_before: wooTime(window.to + 1000),
    dates_are_gmt: "true",
    orderby: "modified",
    order: "asc",
    per_page: String(WOOCOMMERCE_PAGE_SIZE),
    page: String(at.page),
    status: "any",
  });
  const response = await http.request({
    method: "GET",
    url: `${store}/wp-json/wc/v3/orders?${query}`,
    headers: { authorization },
  });
  let json: unknown;
  try {
    json = JSON.parse(answeredText(response.body, "WooCommerce"));
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    json = undefined;
  }
  const list = listSchema.safeParse(json);
  if (!list.success)
    throw invalidPayload(
      "The shop's answer to /wp-json/wc/v3/orders is not a list of orders (is the Store URL the WordPress site, with pretty permalinks on?).",
      "reconcile_woocommerce_list_invalid",
    );
  const orders = list.data.map((order) => foundOrder(order, store));
  return { orders, next: orders.length < WOOCOMMERCE_PAGE_SIZE ? null : following(at, orders) };
}

/** Where the page after a full one starts (see the module comment). */
function following(at: Next, orders: FoundOrder[]): Next {
  const last = orders.at(-1)?.changedAt ?? at.after;
  const after = Math.floor(last / 1000) * 1000 - 1000;
  return after > at.after ? { after, page: 1 } : { after: at.after, page: at.page + 1 };
}

/** One listed order as the delivery its order.updated webhook would have been. */
function foundOrder(order: Record<string, unknown>, store: string): FoundOrder {
  const id = wcId.safeParse(order.id);
  const orderId = id.success ? id.data : "";
  const modified = typeof order.date_modified_gmt === "string" ? order.date_modified_gmt : "";
  const number = typeof order.number === "string" || typeof order.number === "number" ? String(order.number) : orderId;
  return {
    orderId,
    label: `#${number.replace(/^#/, "")}`,
    changedAt: gmtMs(modified) ?? 0,
    delivery: {
      body: new TextEncoder().encode(JSON.stringify(order)),
      headers: new Headers({
        "content-type": "application/json",
        "x-wc-webhook-topic": "order.updated",
        "x-wc-webhook-resource": "order",
        "x-wc-webhook-event": "updated",
        // parse makes the delivery id `reconcile:<order>:<modified>:<body fingerprint>`: one per order version.
        "x-wc-webhook-id": "reconcile",
        "x-wc-webhook-delivery-id": `${orderId}:${modified}`,
        // Read from the Store URL itself, so the site check passes for this shop and no other.
        "x-wc-webhook-source": `${store}/`,
        "x-orderly-reconcile": "1",
      }),
    },
  };
}

/** `2026-01-02T03:04:05`: WooCommerce's date form, read as GMT with dates_are_gmt. */
function wooTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}
