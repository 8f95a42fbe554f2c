/**
 * A fresh tenant per test, set up through the public API as a merchant would: a Shopify source,
 * the sandbox ledger, and an e-conomic connection pointed at the strict mock.
 */
import { env, SELF } from "cloudflare:test";
import { expect } from "vitest";
import { database } from "../../src/db/client";
import { apiTokens, tenants } from "../../src/db/schema";
import { orderObjectName, orderStub } from "../../src/durable/order-types";
import { hashApiToken, newApiToken } from "../../src/worker/routes/api/auth";
import { shopifyDelivery } from "../fixtures/shopify";

export const ECONOMIC_BASE = "https://economic.test";
export const BASE = "https://orderly.test";

export interface World {
  tenantId: string;
  token: string;
  secret: string;
  shopId: string;
  ledgerId: string;
  economicId: string;
  api<T = any>(path: string, init?: { method?: string; body?: unknown; token?: string }): Promise<{ status: number; body: T }>;
  /** Sends a signed Shopify delivery to the shop connection and returns the HTTP response. */
  sendShopify(topic: string, body: object | string, headers?: Record<string, string | null>): Promise<Response>;
  flow(stage: string, steps: Array<{ target: string; action: string; settings?: Record<string, unknown> }>): Promise<string>;
}

export async function createWorld(): Promise<World> {
  const tenantId = `ten_${crypto.randomUUID().slice(0, 8)}`;
  const token = newApiToken();
  const db = database(env);
  await db
    .insert(tenants)
    .values({ id: tenantId, name: `Test ${tenantId}`, alertEmails: [`ops@${tenantId.replace("_", "-")}.example`] });
  await db.insert(apiTokens).values({ id: `tok_${tenantId}`, tenantId, name: "test", tokenHash: await hashApiToken(token) });

  const api: World["api"] = async (path, init = {}) => {
    const res = await SELF.fetch(`${BASE}/api/v1${path}`, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: { authorization: `Bearer ${init.token ?? token}`, "content-type": "application/json" },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  const secret = `shpss_${crypto.randomUUID()}`;
  const shop = await api("/connections", { body: { connector: "shopify", name: "Shop", webhookSecret: secret } });
  expect(shop.status).toBe(201);
  const ledger = await api("/connections", { body: { connector: "sandbox-ledger", name: "Ledger" } });
  expect(ledger.status).toBe(201);
  const economic = await api("/connections", {
    body: {
      connector: "economic",
      name: "e-conomic",
      settings: { baseUrl: ECONOMIC_BASE },
      credentials: { appSecretToken: "app-ok", agreementGrantToken: "grant-ok" },
    },
  });
  expect(economic.status, JSON.stringify(economic.body)).toBe(201);

  return {
    tenantId,
    token,
    secret,
    shopId: shop.body.id,
    ledgerId: ledger.body.id,
    economicId: economic.body.id,
    api,
    async sendShopify(topic, body, headers = {}) {
      const delivery = await shopifyDelivery(topic, body, secret, headers);
      return SELF.fetch(`${BASE}/hooks/${shop.body.id}`, { method: "POST", headers: delivery.headers, body: delivery.body });
    },
    async flow(stage, steps) {
      const res = await api("/flows", { body: { name: `${stage} flow`, source: shop.body.id, stage, steps } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id as string;
    },
  };
}

/** Polls until the check returns a value (not undefined/false), or fails after the timeout. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const started = Date.now();
  let last: unknown;
  while (Date.now() - started < timeoutMs) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

/** Waits until every transfer of an order is final and returns them. */
export async function settledTransfers(world: World, orderId: string, expected: number, timeoutMs?: number): Promise<any[]> {
  return eventually(
    async () => {
      const res = await world.api(`/transfers?order=${orderId}`);
      const list = res.body.transfers as any[];
      return list.length >= expected && list.every((t) => t.status === "completed" || t.status === "failed") ? list : undefined;
    },
    `${expected} settled transfer(s) for order ${orderId}`,
    timeoutMs,
  );
}

let nextOrder = Date.now() % 1_000_000_000;

/**
 * Top-level fields that make shopifyOrder's order 10.00 dearer (GLS shipping 40.00 → 60.00 net of
 * VAT, total 249.00 → 259.00): a material update, as a merchant's edit would make it.
 */
export const DEARER_SHIPPING = {
  total_price: "259.00",
  total_tax: "51.80",
  shipping_lines: [
    {
      id: 1,
      title: "GLS",
      price: "60.00",
      discounted_price: "60.00",
      tax_lines: [{ title: "Moms", rate: 0.25, price: "12.00" }],
    },
  ],
};

/** A Shopify order payload with a fresh id; `overrides` replace top-level fields. */
export function shopifyOrder(overrides: Record<string, unknown> = {}): Record<string, unknown> & { id: number } {
  nextOrder += 1;
  const id = nextOrder;
  const now = new Date().toISOString();
  return {
    id,
    name: `#${id}`,
    order_number: id,
    email: "ane@example.dk",
    created_at: now,
    updated_at: now,
    currency: "DKK",
    financial_status: "paid",
    fulfillment_status: null,
    taxes_included: true,
    total_price: "249.00",
    subtotal_price: "199.00",
    total_tax: "49.80",
    total_discounts: "0.00",
    tax_lines: [{ title: "Moms", rate: 0.25, price: "49.80" }],
    line_items: [
      {
        id: 1,
        sku: "TS-1",
        title: "T-shirt",
        quantity: 1,
        price: "199.00",
        total_discount: "0.00",
        tax_lines: [{ title: "Moms", rate: 0.25, price: "39.80" }],
        discount_allocations: [],
      },
    ],
    shipping_lines: [
      {
        id: 1,
        title: "GLS",
        code: "gls",
        price: "50.00",
        discounted_price: "50.00",
        tax_lines: [{ title: "Moms", rate: 0.25, price: "10.00" }],
      },
    ],
    discount_applications: [],
    discount_codes: [],
    billing_address: { first_name: "Ane", last_name: "Lund", address1: "Vej 1", zip: "8000", city: "Aarhus", country_code: "DK" },
    shipping_address: { country_code: "DK" },
    payment_gateway_names: ["quickpay"],
    customer: { id: 1, email: "ane@example.dk", first_name: "Ane", last_name: "Lund" },
    ...overrides,
  } as Record<string, unknown> & { id: number };
}

/** A Shopify refund of the test order's one T-shirt line (199.00 + 39.80 VAT), paid back through quickpay. */
export function shopifyRefund(orderId: number, refundId: number, at = new Date().toISOString()) {
  return {
    id: refundId,
    order_id: orderId,
    created_at: at,
    processed_at: at,
    note: "Wrong size",
    refund_line_items: [
      {
        id: refundId + 1,
        quantity: 1,
        line_item_id: 1,
        restock_type: "return",
        subtotal: "199.00",
        total_tax: "39.80",
        line_item: { id: 1, sku: "TS-1", title: "T-shirt", quantity: 1, price: "199.00" },
      },
    ],
    order_adjustments: [],
    transactions: [
      { id: refundId + 2, kind: "refund", status: "success", gateway: "quickpay", amount: "199.00", currency: "DKK" },
    ],
  };
}

/** The order object of a Shopify order sent to the world's shop. */
export function orderObject(world: World, order: { id: number }) {
  return orderStub(env, orderObjectName(world.shopId, String(order.id)));
}

/** The sandbox ledger's two steps: a booked invoice, then its payment. */
export function ledgerSteps(world: World) {
  return [
    { target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } },
    { target: world.ledgerId, action: "registerPayment" },
  ];
}
