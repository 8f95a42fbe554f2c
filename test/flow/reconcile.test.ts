/**
 * The reconciliation sweep (src/worker/reconcile.ts): orders the webhooks never brought are found in
 * the shop's order list and go through the webhook's own intake, so their flows run; orders the
 * webhooks did bring make no second transfer; windows page and resume, the checkpoint moving only
 * once a window is read; refusals and rate limits are recorded for the connection's page.
 */
import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { SHOPIFY_REST_VERSION } from "../../src/connectors/shopify/shopify.reconcile";
import { database } from "../../src/db/client";
import { mailOutbox } from "../../src/db/schema";
import { RECONCILE_SETTLE_MS, reconcileSources, reconcileStatus } from "../../src/worker/reconcile";
import { woocommerceFixture } from "../fixtures/woocommerce";
import { createWorld, eventually, orderObject, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { createShopifyOrdersMock, createWooOrdersMock, installShopMocks } from "../mocks/shop-orders.mock";
import { signedIn } from "../ui/ui-client";

const MINUTE = 60_000;
const TOKEN = "shpat_reconcile_ok";

/** The world's Shopify source with the sweep on, and a mock of its order list. */
async function sweptShop(world: World, options: { pageSize?: number } = {}) {
  const shop = `shop-${world.tenantId.slice(4)}.myshopify.com`;
  const res = await world.api(`/connections/${world.shopId}`, {
    method: "PATCH",
    body: { settings: { shopDomain: shop, reconcile: true }, credentials: { adminAccessToken: TOKEN } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return createShopifyOrdersMock({ shop, token: TOKEN, version: SHOPIFY_REST_VERSION, ...options });
}

/** A sweep far enough ahead that orders changed now are inside its window. */
const later = (minutes = 30) => Date.now() + minutes * MINUTE;

async function ledgerInvoices(world: World) {
  const { body } = await world.api(`/ledger/invoices?connection=${world.ledgerId}`);
  return body.invoices as Array<{ orderNumber: string }>;
}

describe("the reconciliation sweep", () => {
  it("finds a Shopify order whose webhooks never came, runs its flow, and alerts the tenant once", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    const mock = await sweptShop(world);
    const order = shopifyOrder({ updated_at: new Date(Date.now() + MINUTE).toISOString() });
    mock.orders.push(order);
    installShopMocks([mock]);

    const now = later();
    expect(await reconcileSources(env, now, [world.shopId])).toBe(1);

    // The documented request: the token header, status=any, oldest first, the window's bounds.
    const first = mock.requests[0]!;
    expect(first.headers.get("x-shopify-access-token")).toBe(TOKEN);
    expect(first.url.searchParams.get("order")).toBe("updated_at asc");
    expect(Date.parse(first.url.searchParams.get("updated_at_max") ?? "")).toBe(now - RECONCILE_SETTLE_MS);

    const [transfer] = await settledTransfers(world, String(order.id), 1);
    expect(transfer).toMatchObject({ status: "completed", stage: "paid" });
    expect((await ledgerInvoices(world)).map((i) => i.orderNumber)).toEqual([order.name]);

    const status = await reconcileStatus(env, world.shopId, world.tenantId);
    expect(status).toMatchObject({ lastOutcome: "ok", lastLooked: 1, lastNew: 1, lastNewOrders: [order.name], lastError: null });
    expect(status?.checkpoint).toBe(now - RECONCILE_SETTLE_MS);
    const alerts = await database(env)
      .select()
      .from(mailOutbox)
      .where(and(eq(mailOutbox.tenantId, world.tenantId)));
    const missed = alerts.filter((m) => m.idempotencyKey.includes("/reconcile:"));
    expect(missed).toHaveLength(1);
    expect(missed[0]!.subject).toContain("1 order from");
    expect(missed[0]!.text).toContain(String(order.name));

    // The connection's page shows it.
    const page = await uiPage(world, `/connections/${world.shopId}`);
    expect(page).toContain("Reconciliation sweep");
    expect(page).toContain(String(order.name));
  });

  it("an order the webhook already brought, seen by two sweeps, makes no new event, no inbox write and no second invoice", async () => {
    const world = await createWorld();
    await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
    const mock = await sweptShop(world);
    // Changed where both windows see it: the second starts at the first's end less the overlap.
    const order = shopifyOrder({ updated_at: new Date(Date.now() + 20 * MINUTE).toISOString() });
    expect((await world.sendShopify("orders/paid", order)).status).toBe(200);
    await settledTransfers(world, String(order.id), 1);
    mock.orders.push(order);
    installShopMocks([mock]);
    const inbox = vi.spyOn(env.INBOXES, "get");

    const now = later();
    await reconcileSources(env, now, [world.shopId]);
    // The overlap: the next window sees the same version again.
    await reconcileSources(env, now + 15 * MINUTE, [world.shopId]);
    expect(mock.requests).toHaveLength(2);
    expect(inbox).not.toHaveBeenCalled();
    const state = await orderObject(world, order).describe();
    expect(state.events).toHaveLength(1);
    expect(state.transfers).toHaveLength(1);
    expect(await ledgerInvoices(world)).toHaveLength(1);
    expect(await reconcileStatus(env, world.shopId, world.tenantId)).toMatchObject({ lastLooked: 1, lastNew: 0, missedTotal: 0 });
  });

  it("pages across two pages, and moves the checkpoint only once the window is read", async () => {
    const world = await createWorld();
    const mock = await sweptShop(world, { pageSize: 1 });
    const a = shopifyOrder({ updated_at: new Date(Date.now() + MINUTE).toISOString() });
    const b = shopifyOrder({ updated_at: new Date(Date.now() + 2 * MINUTE).toISOString() });
    mock.orders.push(b, a);
    installShopMocks([mock]);

    // The second page fails: the first page's order is taken, the checkpoint stays.
    const now = later();
    const failing = { calls: 0 };
    const handle = mock.handle;
    mock.handle = (request) => {
      failing.calls++;
      return failing.calls === 2 ? new Response("upstream failed", { status: 503 }) : handle(request);
    };
    await reconcileSources(env, now, [world.shopId]);
    let status = await reconcileStatus(env, world.shopId, world.tenantId);
    expect(status).toMatchObject({
      lastOutcome: "error",
      lastLooked: 1,
      checkpoint: null,
      lastErrorCode: "outbound_unavailable",
    });
    expect(status?.lastError).toContain("goes on where it stopped");

    // The next run goes on from the second page (page_info only) and ends the window.
    await reconcileSources(env, now + 5 * MINUTE, [world.shopId]);
    const last = mock.requests.at(-1)!;
    expect([...last.url.searchParams.keys()].sort()).toEqual(["limit", "page_info"]);
    status = await reconcileStatus(env, world.shopId, world.tenantId);
    expect(status).toMatchObject({ lastOutcome: "ok", lastLooked: 1, lastNew: 1, lastNewOrders: [b.name], lastError: null });
    expect(status?.checkpoint).toBe(now - RECONCILE_SETTLE_MS);
    for (const order of [a, b]) {
      await eventually(async () => (await orderObject(world, order).describe()).events.length === 1, `order ${order.id} taken`);
    }
  });

  it("records a refused token and a rate limit with what to do, and keeps the checkpoint", async () => {
    const world = await createWorld();
    const mock = await sweptShop(world);
    installShopMocks([mock]);
    const now = later();

    mock.faults.push({ status: 429, retryAfter: 120 });
    await reconcileSources(env, now, [world.shopId]);
    let status = await reconcileStatus(env, world.shopId, world.tenantId);
    expect(status).toMatchObject({ lastOutcome: "error", lastErrorCode: "reconcile_rate_limited", checkpoint: null });
    expect(status?.nextRunAt).toBe(now + 120_000);
    // Not due before its Retry-After.
    expect(await reconcileSources(env, now + 60_000, [world.shopId])).toBe(0);

    await world.api(`/connections/${world.shopId}`, {
      method: "PATCH",
      body: { credentials: { adminAccessToken: "shpat_wrong" } },
    });
    await reconcileSources(env, now + 121_000, [world.shopId]);
    status = await reconcileStatus(env, world.shopId, world.tenantId);
    // New credentials start the sweep from now (checkpoint now less the overlap).
    expect(status).toMatchObject({ lastOutcome: "error", lastErrorCode: "reconcile_auth_refused" });
    expect(status?.lastError).toContain("read_orders");
    expect(mock.requests.at(-1)?.headers.get("x-shopify-access-token")).toBe("shpat_wrong");
  });

  it("a connection with reconcile off is never called", async () => {
    const world = await createWorld();
    const shop = `off-${world.tenantId.slice(4)}.myshopify.com`;
    await world.api(`/connections/${world.shopId}`, {
      method: "PATCH",
      body: { settings: { shopDomain: shop }, credentials: { adminAccessToken: TOKEN } },
    });
    const mock = createShopifyOrdersMock({ shop, token: TOKEN, version: SHOPIFY_REST_VERSION });
    installShopMocks([mock]);
    expect(await reconcileSources(env, later(), [world.shopId])).toBe(0);
    expect(mock.requests).toHaveLength(0);
    expect(await reconcileStatus(env, world.shopId, world.tenantId)).toBeNull();
  });

  it("a connection's sweep results are read only within its tenant", async () => {
    const world = await createWorld();
    const other = await createWorld();
    const mock = await sweptShop(world);
    installShopMocks([mock]);
    await reconcileSources(env, later(), [world.shopId]);
    expect(await reconcileStatus(env, world.shopId, world.tenantId)).not.toBeNull();
    expect(await reconcileStatus(env, world.shopId, other.tenantId)).toBeNull();
    // Another tenant's page for the connection is not found at all, results or not.
    expect(await uiPage(other, `/connections/${world.shopId}`, 404)).not.toContain("Reconciliation sweep");
  });

  it("finds a WooCommerce order whose webhook failed, with Basic auth and the documented query, and books it", async () => {
    const world = await createWorld();
    const store = `https://woo-${world.tenantId.slice(4)}.example`;
    const created = await world.api("/connections", {
      body: {
        connector: "woocommerce",
        name: "Woo",
        webhookSecret: "woo-secret",
        settings: { storeUrl: store, reconcile: true },
        credentials: { consumerKey: "ck_test", consumerSecret: "cs_test" },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const wooId = created.body.id as string;
    const flow = await world.api("/flows", {
      body: {
        name: "paid",
        source: wooId,
        stage: "paid",
        steps: [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }],
      },
    });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const mock = createWooOrdersMock({ store, key: "ck_test", secret: "cs_test" });
    const modified = new Date(Date.now() + MINUTE).toISOString().slice(0, 19);
    const order = {
      ...woocommerceFixture("orderMinimal"),
      id: 4711,
      number: "4711",
      date_modified_gmt: modified,
      date_created_gmt: modified,
      date_paid_gmt: modified,
    };
    mock.orders.push(order);
    installShopMocks([{ base: store, handle: mock.handle }]);

    await reconcileSources(env, later(), [wooId]);
    const q = mock.requests[0]!.url.searchParams;
    expect(q.get("orderby")).toBe("modified");
    expect(q.get("per_page")).toBe("100");
    const transfers = await eventually(async () => {
      const list = (await world.api(`/transfers?order=4711`)).body.transfers as Array<{ status: string }>;
      return list.length === 1 && list[0]!.status === "completed" ? list : undefined;
    }, "the WooCommerce order's transfer");
    expect(transfers).toHaveLength(1);
    expect((await ledgerInvoices(world)).map((i) => i.orderNumber)).toEqual(["#4711"]);
    expect(await reconcileStatus(env, wooId, world.tenantId)).toMatchObject({
      lastLooked: 1,
      lastNew: 1,
      lastNewOrders: ["#4711"],
    });
  });
});

/** A page of the UI as an owner of the world's tenant sees it. */
async function uiPage(world: World, path: string, status = 200): Promise<string> {
  const { browser } = await signedIn(world.tenantId);
  const res = await browser.get(path);
  expect(res.status, browser.lastHtml.slice(0, 300)).toBe(status);
  return browser.lastHtml;
}
