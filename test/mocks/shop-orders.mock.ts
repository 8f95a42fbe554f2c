/**
 * The two order lists the reconciliation sweep reads, in memory, checking requests as strictly as
 * the documented APIs:
 *
 * - Shopify REST Admin API `GET /admin/api/{version}/orders.json`: `X-Shopify-Access-Token` (401
 *   without it or with another token); a first page takes `status`, `updated_at_min` (inclusive),
 *   `updated_at_max`, `order=updated_at asc` and `limit` (at most 250); a further page only
 *   `page_info` and `limit` (Shopify answers 400 to a filter beside a page_info); the next page in a
 *   `Link: <…>; rel="next"` header; `X-Shopify-Shop-Api-Call-Limit` on every answer.
 * - WooCommerce REST API v3 `GET /wp-json/wc/v3/orders`: HTTP Basic with the consumer key and secret
 *   (401 `woocommerce_rest_cannot_view` otherwise); `modified_after`/`modified_before` (exclusive, GMT
 *   with `dates_are_gmt=true`), `orderby=modified`, `order=asc`, `per_page` (at most 100), `page`,
 *   `status`; `X-WP-Total` and `X-WP-TotalPages`. Any other parameter is a 400, as WordPress answers
 *   `rest_invalid_param`.
 *
 * Every request is recorded; `faults` answer the next requests with a status (and Retry-After).
 */
import { onTestFinished, vi } from "vitest";

export interface Fault {
  status: 401 | 429 | 500 | 503;
  retryAfter?: number;
}

interface Recorded {
  url: URL;
  headers: Headers;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

function fault(f: Fault, body: unknown): Response {
  return json(f.status, body, f.retryAfter === undefined ? {} : { "retry-after": String(f.retryAfter) });
}

/** Whole seconds, as both shops store times. */
const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

export function createShopifyOrdersMock(options: {
  shop: string;
  token: string;
  version: string;
  pageSize?: number;
  /** A Dev Dashboard app: POST /admin/oauth/access_token (client credentials grant) answers `token` for these. */
  app?: { clientId: string; clientSecret: string; expiresIn: number };
}) {
  const orders: Array<Record<string, unknown>> = [];
  const requests: Recorded[] = [];
  const faults: Fault[] = [];
  const base = `https://${options.shop}`;
  const path = `/admin/api/${options.version}/orders.json`;

  const grants: Array<Record<string, unknown>> = [];

  async function grant(request: Request): Promise<Response> {
    const body = (await request.json()) as Record<string, unknown>;
    grants.push(body);
    const app = options.app;
    if (
      !app ||
      body.grant_type !== "client_credentials" ||
      body.client_id !== app.clientId ||
      body.client_secret !== app.clientSecret
    )
      return json(400, { error: "invalid_client", error_description: "Client authentication failed" });
    return json(200, { access_token: options.token, scope: "read_orders", expires_in: app.expiresIn });
  }

  function handle(request: Request): Response | Promise<Response> {
    const url = new URL(request.url);
    requests.push({ url, headers: request.headers });
    if (request.method === "POST" && url.pathname === "/admin/oauth/access_token") return grant(request);
    if (request.method !== "GET" || url.pathname !== path) return json(404, { errors: "Not Found" });
    if (request.headers.get("x-shopify-access-token") !== options.token)
      return json(401, { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" });
    const next = faults.shift();
    if (next)
      return fault(next, { errors: next.status === 429 ? "Exceeded 2 calls per second for api client." : "Internal error" });
    const q = url.searchParams;
    const limit = Number(q.get("limit") ?? "50");
    if (!Number.isInteger(limit) || limit < 1 || limit > 250) return json(400, { errors: { limit: "must be 1 to 250" } });
    let filter: { min: string; max: string; offset: number };
    if (q.has("page_info")) {
      const extra = [...q.keys()].filter((k) => k !== "page_info" && k !== "limit");
      if (extra.length > 0)
        return json(400, { errors: { page_info: `${extra[0]} cannot be passed when page_info is present.` } });
      filter = JSON.parse(atob(q.get("page_info") ?? "")) as typeof filter;
    } else {
      const allowed = ["status", "updated_at_min", "updated_at_max", "order", "limit"];
      const unknown = [...q.keys()].filter((k) => !allowed.includes(k));
      if (unknown.length > 0) return json(400, { errors: { [unknown[0]!]: "is not a parameter the sweep should send" } });
      if (q.get("status") !== "any") return json(400, { errors: { status: "the sweep must ask for status=any" } });
      if (q.get("order") !== "updated_at asc") return json(400, { errors: { order: "must be updated_at asc" } });
      const min = q.get("updated_at_min") ?? "";
      const max = q.get("updated_at_max") ?? "";
      if (Number.isNaN(Date.parse(min)) || Number.isNaN(Date.parse(max)))
        return json(400, { errors: { updated_at_min: "must be an ISO 8601 time" } });
      filter = { min, max, offset: 0 };
    }
    const matching = orders
      .filter((o) => {
        const at = seconds(String(o.updated_at));
        return at >= seconds(filter.min) && at <= seconds(filter.max);
      })
      .sort((a, b) => Date.parse(String(a.updated_at)) - Date.parse(String(b.updated_at)) || Number(a.id) - Number(b.id));
    const size = Math.min(limit, options.pageSize ?? limit);
    const page = matching.slice(filter.offset, filter.offset + size);
    const headers: Record<string, string> = { "x-shopify-shop-api-call-limit": `${requests.length}/40` };
    if (filter.offset + size < matching.length) {
      const info = btoa(JSON.stringify({ ...filter, offset: filter.offset + size }));
      headers.link = `<${base}${path}?limit=${limit}&page_info=${info}>; rel="next"`;
    }
    return json(200, { orders: page }, headers);
  }

  return { orders, requests, faults, base, handle, grants };
}

export function createWooOrdersMock(options: { store: string; key: string; secret: string }) {
  const orders: Array<Record<string, unknown>> = [];
  const requests: Recorded[] = [];
  const faults: Fault[] = [];
  const path = `${new URL(options.store).pathname.replace(/\/+$/, "")}/wp-json/wc/v3/orders`;

  function handle(request: Request): Response {
    const url = new URL(request.url);
    requests.push({ url, headers: request.headers });
    if (request.method !== "GET" || url.pathname !== path)
      return json(404, {
        code: "rest_no_route",
        message: "No route was found matching the URL and request method.",
        data: { status: 404 },
      });
    if (request.headers.get("authorization") !== `Basic ${btoa(`${options.key}:${options.secret}`)}`)
      return json(401, {
        code: "woocommerce_rest_cannot_view",
        message: "Sorry, you cannot list resources.",
        data: { status: 401 },
      });
    const next = faults.shift();
    if (next) return fault(next, { code: "internal", message: "Injected fault", data: { status: next.status } });
    const q = url.searchParams;
    const allowed = ["modified_after", "modified_before", "dates_are_gmt", "orderby", "order", "per_page", "page", "status"];
    const invalid = (param: string, why: string) =>
      json(400, {
        code: "rest_invalid_param",
        message: `Invalid parameter(s): ${param}`,
        data: { status: 400, params: { [param]: why } },
      });
    const unknown = [...q.keys()].find((k) => !allowed.includes(k));
    if (unknown) return invalid(unknown, "not a parameter the sweep should send");
    if (q.get("dates_are_gmt") !== "true") return invalid("dates_are_gmt", "the sweep sends GMT times");
    if (q.get("orderby") !== "modified" || q.get("order") !== "asc") return invalid("orderby", "must be modified, asc");
    if (q.get("status") !== "any") return invalid("status", "must be any");
    const perPage = Number(q.get("per_page"));
    const page = Number(q.get("page"));
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) return invalid("per_page", "1 to 100");
    if (!Number.isInteger(page) || page < 1) return invalid("page", "1 or more");
    const time = (name: string) => {
      const v = q.get(name) ?? "";
      return /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(v) ? Date.parse(`${v}Z`) : Number.NaN;
    };
    const after = time("modified_after");
    const before = time("modified_before");
    if (Number.isNaN(after) || Number.isNaN(before)) return invalid("modified_after", "an ISO 8601 date");
    const matching = orders
      .filter((o) => {
        const at = Date.parse(`${String(o.date_modified_gmt)}Z`);
        return at > after && at < before;
      })
      .sort(
        (a, b) => Date.parse(`${a.date_modified_gmt}Z`) - Date.parse(`${b.date_modified_gmt}Z`) || Number(a.id) - Number(b.id),
      );
    const slice = matching.slice((page - 1) * perPage, page * perPage);
    return json(200, slice, {
      "x-wp-total": String(matching.length),
      "x-wp-totalpages": String(Math.ceil(matching.length / perPage)),
    });
  }

  return { orders, requests, faults, handle };
}

/** Routes fetches to these hosts into their mocks; any other URL fails the test. */
export function installShopMocks(mocks: Array<{ base: string; handle(request: Request): Response | Promise<Response> }>) {
  const unexpected: string[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    const mock = mocks.find((m) => request.url.startsWith(`${m.base}/`));
    if (!mock) {
      unexpected.push(`${request.method} ${request.url}`);
      throw new Error(`test network is closed: unexpected ${request.method} ${request.url}`);
    }
    return mock.handle(request);
  });
  onTestFinished(() => {
    spy.mockRestore();
    if (unexpected.length > 0) throw new Error(`unexpected outbound requests: ${unexpected.join(", ")}`);
  });
  return { spy, unexpected };
}
