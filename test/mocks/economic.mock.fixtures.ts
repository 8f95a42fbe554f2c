/**
 * Orders, customers and a step runner shared by the e-conomic connector tests: each test runs an
 * action the way the queue consumer does (connection, step settings, reference, earlier steps and
 * the order's history) against the strict mock.
 */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { z } from "zod";
import type { ActionContext, ActionResult, StepHistoryEntry, TargetAction } from "../../src/connectors/contract";
import {
  type EconomicConnectionSettings,
  type EconomicCredentials,
  economicConnectionSettings,
} from "../../src/connectors/economic";
import { createHttpClient } from "../../src/connectors/http";
import { OrderlyError } from "../../src/domain/errors";
import { type CanonicalOrder, type CanonicalRefund, orderSchema, refundSchema } from "../../src/domain/order";
import type { EconomicMock } from "./economic.mock";

export const BASE_URL = "https://economic.test";
export const CONNECTION_ID = "conn_economic";
export const GOOD_TOKENS: EconomicCredentials = { appSecretToken: "app-ok", agreementGrantToken: "grant-ok" };
export const REFERENCE = "orderly-0123456789abcdef0123456789abcdef-0";

/** A paid Danish webshop order with VAT-inclusive prices: a 199.00 T-shirt and 49.00 shipping, both at 25%. */
export function danishOrder(overrides: Partial<CanonicalOrder> = {}): CanonicalOrder {
  return orderSchema.parse({
    source: { connector: "shopify", orderId: "5001", orderNumber: "#1001", version: 1, createdAt: "2025-11-03T10:15:00+01:00" },
    stage: "paid",
    currency: "DKK",
    pricesIncludeTax: true,
    customer: { sourceId: "777", email: "ane@example.dk", firstName: "Ane", lastName: "Lund", phone: "+4512345678" },
    billingAddress: { name: "Ane Lund", line1: "Vestergade 1", postcode: "8000", city: "Aarhus", country: "DK" },
    shippingAddress: { name: "Ane Lund", line1: "Vestergade 1", postcode: "8000", city: "Aarhus", country: "DK" },
    lines: [{ id: "l1", sku: "TS-1", title: "T-shirt", quantity: 1, unitPrice: 19900, discount: 0, tax: 3980, taxRateBp: 2500 }],
    shipping: [{ title: "Standard shipping", price: 4900, discount: 0, tax: 980, taxRateBp: 2500 }],
    discounts: [],
    payments: [{ gateway: "shopify_payments", amount: 24800, status: "paid" }],
    totals: { total: 24800, tax: 4960, discounts: 0, shipping: 4900 },
    financialStatus: "paid",
    ...overrides,
  });
}

/** The same buyer abroad: a German address (or any other country). */
export function orderTo(country: string, overrides: Partial<CanonicalOrder> = {}): CanonicalOrder {
  const address = { name: "Kim Meyer", line1: "Hauptstraße 5", postcode: "10115", city: "Berlin", country };
  return danishOrder({
    customer: { email: "kim@example.de", firstName: "Kim", lastName: "Meyer" },
    billingAddress: address,
    shippingAddress: address,
    ...overrides,
  });
}

export function refundOf(overrides: Partial<CanonicalRefund> = {}): CanonicalRefund {
  return refundSchema.parse({
    source: { connector: "shopify", orderId: "5001", refundId: "r1", createdAt: "2025-11-10T09:00:00+01:00" },
    currency: "DKK",
    lines: [{ lineId: "l1", sku: "TS-1", quantity: 1, subtotal: 19900, tax: 3980, restock: true }],
    shipping: 0,
    adjustments: 0,
    total: 19900,
    ...overrides,
  });
}

/** The T-shirt as an e-conomic product, so its SKU is its product number. */
export const TS1 = { productNumber: "TS-1", name: "T-shirt", productGroup: { productGroupNumber: 1 } };

export const ANE = {
  customerNumber: 42,
  name: "Ane Lund",
  email: "ANE@example.dk",
  currency: "DKK",
  customerGroup: { customerGroupNumber: 1 },
  paymentTerms: { paymentTermsNumber: 1 },
  vatZone: { vatZoneNumber: 1 },
};

export interface RunOptions {
  previous?: ReadonlyArray<ActionResult | undefined>;
  /** The step's own result from its last success, as a run from the start passes it. */
  prior?: ActionResult;
  history?: ReadonlyArray<StepHistoryEntry>;
  credentials?: EconomicCredentials;
  baseUrl?: string;
  reference?: string;
  refund?: CanonicalRefund;
  /** The step's `exclusive`, as run-step gives it when the target has a gate. */
  exclusive?: ActionContext<unknown, unknown, unknown>["exclusive"];
  /** No attempt of the step ran before (run-step sets it on attempt 1). */
  firstAttempt?: boolean;
  /** Another connection than the fixtures' one: what a connector keeps in memory per connection starts empty. */
  connectionId?: string;
}

export async function run<S extends z.ZodType>(
  action: TargetAction<S, EconomicCredentials, EconomicConnectionSettings>,
  order: CanonicalOrder,
  settings: unknown = {},
  options: RunOptions = {},
) {
  const mapped: unknown[] = [];
  const ctx: ActionContext<z.infer<S>, EconomicCredentials, EconomicConnectionSettings> = {
    connection: {
      id: options.connectionId ?? CONNECTION_ID,
      tenantId: "tenant_1",
      settings: economicConnectionSettings.parse({ baseUrl: options.baseUrl ?? BASE_URL }),
      credentials: options.credentials ?? GOOD_TOKENS,
    },
    settings: action.settings.parse(settings),
    reference: options.reference ?? REFERENCE,
    http: createHttpClient({ timeoutMs: 2000, vendor: "e-conomic" }),
    mapped: (data) => mapped.push(data),
    previous: options.previous ?? [],
    history: options.history ?? [],
    ...(options.prior ? { prior: options.prior } : {}),
    env,
    ...(options.exclusive ? { exclusive: options.exclusive } : {}),
    ...(options.firstAttempt ? { firstAttempt: true } : {}),
  };
  const result = await action.run(ctx, { order, ...(options.refund ? { refund: options.refund } : {}) });
  return { result, mapped, exchanges: ctx.http.exchanges };
}

/** A completed step of an earlier transfer of the order, as the order's object reports it. */
export function done(action: string, result: ActionResult, target = CONNECTION_ID): StepHistoryEntry {
  return { transferId: `t-${action}`, stage: "paid", occurrence: "", stepIndex: 0, target, action, result };
}

export async function failure(promise: Promise<unknown>): Promise<OrderlyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OrderlyError);
  return error as OrderlyError;
}

export function writes(mock: EconomicMock) {
  return mock.state.requests.filter((r) => r.method !== "GET");
}

/** The body of the only request with this method and path. */
export function sent(mock: EconomicMock, method: string, path: string): unknown {
  const found = mock.state.requests.filter((r) => r.method === method && r.path === path);
  expect(found, `${method} ${path}`).toHaveLength(1);
  return found[0]?.body;
}

export function calls(mock: EconomicMock): string[] {
  return mock.state.requests.map((r) => `${r.method} ${r.path}${r.query ? `?${r.query}` : ""}`);
}
