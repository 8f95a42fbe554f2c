/**
 * The reconciliation sweep after review (src/worker/reconcile.ts): a found order's refunds are
 * credited once, also when their webhook came; a refused version is kept once; a lost stage is
 * counted as missed; a page that keeps failing restarts its window; switching the sweep on again
 * starts it from now; a sweep that keeps failing is alerted; a Dev Dashboard app's client id and
 * secret are exchanged for a token.
 */
import { env } from "cloudflare:test";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { SHOPIFY_REST_VERSION } from "../../src/connectors/shopify/shopify.reconcile";
import { database } from "../../src/db/client";
import { deadLetters, mailOutbox } from "../../src/db/schema";
import { RECONCILE_OVERLAP_MS, RECONCILE_PAGE_FAILS, reconcileSources, reconcileStatus } from "../../src/worker/reconcile";
import { woocommerceFixture } from "../fixtures/woocommerce";
import {
  createWorld,
  eventually,
  orderObject,
  settledTransfers,
  shopifyOrder,
  shopifyRefund,
  type World,
} from "../helpers/world";
import { createShopifyOrdersMock, createWooOrdersMock, installShopMocks } from "../mocks/shop-orders.mock";

const MINUTE = 60_000;
const TOKEN = "shpat_reconcile_review";
const later = (minutes = 30) => Date.now() + minutes * MINUTE;

async function sweptShop(world: World, options: { pageSize?: number; credentials?: Record<string, string> } = {}) {
  const shop = `rev-${world.tenantId.slice(4)}.myshopify.com`;
  const res = await world.api(`/connections/${world.shopId}`, {
    method: "PATCH",
    body: { settings: { shopDomain: shop, reconcile: true }, credentials: options.credentials ?? { adminAccessToken: TOKEN } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return createShopifyOrdersMock({
    shop,
    token: TOKEN,
    version: SHOPIFY_REST_VERSION,
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    app: { clientId: "app-client", clientSecret: "app-secret", expiresIn: 86_399 },
  });
}

async function creditNotes(world: World) {
  const { body } = await world.api(`/ledger/invoices?connection=${world.ledgerId}`);
  return (body.invoices as Array<{ type: string }>).filter((d) => d.type === "credit-note");
}

async function refundedWorld() {
  const world = await createWorld();
  await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
  await world.flow("refunded", [{ target: world.ledgerId, action: "createCreditNote", settings: { invoiceState: "booked" } }]);
  return world;
}

describe("the reconciliation sweep, after review", () => {
  it("credits a refund listed on a Shopify order no webhook brought, once over two sweeps", async () => {
    const world = await refundedWorld();
    const mock = await sweptShop(world);
    const at = new Date(Date.now() + MINUTE).toISOString();
    const order = shopifyOrder({ updated_at: at, financial_status: "partially_refunded" });
    order.refunds = [shopifyRefund(order.id, 9101, at)];
    mock.orders.push(order);
    installShopMocks([mock]);

    const now = later();
    await reconcileSources(env, now, [world.shopId]);
    await settledTransfers(world, String(order.id), 2);
    await reconcileSources(env, now + 15 * MINUTE, [world.shopId]);
    expect(await creditNotes(world)).toHaveLength(1);
    const transfers = (await world.api(`/transfers?order=${order.id}`)).body.transfers as Array<{ stage: string }>;
    expect(transfers.map((t) => t.stage).sort()).toEqual(["paid", "refunded"]);
  });

  it("a refund that came by webhook is not credited again when the sweep finds it on the order", async () => {
    const world = await refundedWorld();
    const mock = await sweptShop(world);
    const order = shopifyOrder();
    await world.sendShopify("orders/paid", order);
    await settledTransfers(world, String(order.id), 1);
    const at = new Date(Date.now() + 2000).toISOString();
    await world.sendShopify("refunds/create", shopifyRefund(order.id, 9201, at));
    await settledTransfers(world, String(order.id), 2);
    // The order's own update (orders/updated) was lost: the sweep takes the order, and not the refund.
    const updated = {
      ...order,
      updated_at: at,
      financial_status: "partially_refunded",
      refunds: [shopifyRefund(order.id, 9201, at)],
    };
    mock.orders.push(updated);
    installShopMocks([mock]);

    await reconcileSources(env, later(), [world.shopId]);
    await eventually(async () => (await orderObject(world, order).describe()).events.length === 3, "the sweep's order event");
    const state = await orderObject(world, order).describe();
    expect(state.events.filter((e) => e.delivery_id.startsWith("reconcile:refund:"))).toHaveLength(0);
    expect(await creditNotes(world)).toHaveLength(1);
    expect(await reconcileStatus(env, world.shopId, world.tenantId)).toMatchObject({ lastNew: 0 });
  });

  it("a refunded WooCommerce order found by the sweep is credited once", async () => {
    const world = await createWorld();
    const store = `https://woo-rev-${world.tenantId.slice(4)}.example`;
    const created = await world.api("/connections", {
      body: {
        connector: "woocommerce",
        name: "Woo",
        webhookSecret: "woo-secret",
        settings: { storeUrl: store, reconcile: true },
        credentials: { consumerKey: "ck_test", consumerSecret: "cs_test" },
      },
    });
    const wooId = created.body.id as string;
    for (const stage of ["paid", "refunded"]) {
      const action = stage === "paid" ? "createInvoice" : "createCreditNote";
      const res = await world.api("/flows", {
        body: {
          name: stage,
          source: wooId,
          stage,
          steps: [{ target: world.ledgerId, action, settings: { invoiceState: "booked" } }],
        },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const mock = createWooOrdersMock({ store, key: "ck_test", secret: "cs_test" });
    const modified = new Date(Date.now() + MINUTE).toISOString().slice(0, 19);
    const fixture = woocommerceFixture("orderPartialRefund") as Record<string, unknown>;
    mock.orders.push({ ...fixture, id: 4811, number: "4811", date_modified_gmt: modified });
    installShopMocks([{ base: store, handle: mock.handle }]);

    const now = later();
    await reconcileSources(env, now, [wooId]);
    await eventually(async () => {
      const list = (await world.api("/transfers?order=4811")).body.transfers as Array<{ status: string }>;
      return list.length === 2 && list.every((t) => t.status === "completed");
    }, "the Woo order's two transfers");
    await reconcileSources(env, now + 15 * MINUTE, [wooId]);
    expect(await creditNotes(world)).toHaveLength(1);
  });

  it("an order the intake refuses is kept once, though the overlap sees it again", async () => {
    const world = await createWorld();
    const mock = await sweptShop(world);
    // No currency: the Shopify parser refuses it.
    // Changed where both windows see it (the second starts at the first's end less the overlap).
    const order = shopifyOrder({ updated_at: new Date(Date.now() + 20 * MINUTE).toISOString(), currency: undefined });
    mock.orders.push(order);
    installShopMocks([mock]);
    const now = later();
    await reconcileSources(env, now, [world.shopId]);
    await reconcileSources(env, now + 15 * MINUTE, [world.shopId]);
    const kept = await database(env).select().from(deadLetters).where(eq(deadLetters.tenantId, world.tenantId));
    expect(kept).toHaveLength(1);
    expect(await reconcileStatus(env, world.shopId, world.tenantId)).toMatchObject({ lastKept: 0, lastLooked: 1 });
  });

  it("counts a lost orders/paid of an order whose create arrived as missed, with its stage, in the running totals", async () => {
    const world = await createWorld();
    const mock = await sweptShop(world);
    const order = shopifyOrder({ financial_status: "pending" });
    await world.sendShopify("orders/create", order);
    await eventually(async () => (await orderObject(world, order).describe()).events.length === 1, "the create");
    mock.orders.push({ ...order, financial_status: "paid", updated_at: new Date(Date.now() + MINUTE).toISOString() });
    installShopMocks([mock]);
    await reconcileSources(env, later(), [world.shopId]);
    const status = await reconcileStatus(env, world.shopId, world.tenantId);
    expect(status).toMatchObject({ lastNew: 1, lastNewOrders: [`${order.name} (paid)`], missedTotal: 1 });
    expect(Object.values(status?.missedDays ?? {})).toEqual([1]);
  });

  it("a page that keeps failing restarts its window from the checkpoint; switched on again, the sweep starts from now", async () => {
    const world = await createWorld();
    const mock = await sweptShop(world, { pageSize: 1 });
    const a = shopifyOrder({ updated_at: new Date(Date.now() + MINUTE).toISOString() });
    const b = shopifyOrder({ updated_at: new Date(Date.now() + 2 * MINUTE).toISOString() });
    mock.orders.push(a, b);
    installShopMocks([mock]);
    const handle = mock.handle;
    // Every further page answers with something that is not a list of orders.
    mock.handle = (request) =>
      new URL(request.url).searchParams.has("page_info")
        ? new Response("<html>maintenance</html>", { status: 200 })
        : handle(request);
    const now = later();
    for (let run = 0; run < RECONCILE_PAGE_FAILS; run++) await reconcileSources(env, now + run * 20 * MINUTE, [world.shopId]);
    let status = await reconcileStatus(env, world.shopId, world.tenantId);
    expect(status).toMatchObject({ cursor: null, pageFails: 0, lastErrorCode: "shopify_body_not_json", failRuns: 3 });
    // Failing three runs in a row: alerted, with the reason.
    const mails = await database(env)
      .select()
      .from(mailOutbox)
      .where(and(eq(mailOutbox.tenantId, world.tenantId), like(mailOutbox.idempotencyKey, "%reconcile-failing%")));
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain("not valid JSON");

    // Off, then on again: the checkpoint is now less the overlap, the cursor and streak gone.
    await world.api(`/connections/${world.shopId}`, {
      method: "PATCH",
      body: { settings: { shopDomain: new URL(mock.base).host } },
    });
    const before = Date.now();
    await world.api(`/connections/${world.shopId}`, {
      method: "PATCH",
      body: { settings: { shopDomain: new URL(mock.base).host, reconcile: true } },
    });
    status = await reconcileStatus(env, world.shopId, world.tenantId);
    expect(status?.checkpoint).toBeGreaterThanOrEqual(before - RECONCILE_OVERLAP_MS);
    expect(status).toMatchObject({ cursor: null, failRuns: 0, lastError: null, missedTotal: 0 });
  });

  it("exchanges a Dev Dashboard app's client id and secret for a token, once while it is valid", async () => {
    const world = await createWorld();
    const mock = await sweptShop(world, { credentials: { clientId: "app-client", clientSecret: "app-secret" } });
    installShopMocks([mock]);
    const now = later();
    await reconcileSources(env, now, [world.shopId]);
    await reconcileSources(env, now + 15 * MINUTE, [world.shopId]);
    expect(mock.grants).toEqual([{ grant_type: "client_credentials", client_id: "app-client", client_secret: "app-secret" }]);
    const reads = mock.requests.filter((r) => r.url.pathname.endsWith("/orders.json"));
    expect(reads).toHaveLength(2);
    expect(reads.every((r) => r.headers.get("x-shopify-access-token") === TOKEN)).toBe(true);
    expect(await reconcileStatus(env, world.shopId, world.tenantId)).toMatchObject({ lastOutcome: "ok", lastError: null });
  });
});
