/**
 * Orders, settings and a runner shared by the Billy connector tests: a Danish webshop (home DK,
 * OSS registered) selling to consumers at home and in Germany, to EU businesses and abroad.
 */
import { expect } from "vitest";
import type { z } from "zod";
import { type BillyConnectionSettings, type BillyCredentials, billyConnectionSettings } from "../../src/connectors/billy";
import type { ActionResult, StepHistoryEntry, TargetAction } from "../../src/connectors/contract";
import { OrderlyError } from "../../src/domain/errors";
import { type CanonicalOrder, type CanonicalRefund, orderSchema } from "../../src/domain/order";
import { actionContext, type ContextOptions } from "../helpers/action-context";

export const BILLY_BASE = "https://billy.test";
export const BILLY_TOKEN = "billy-token";
export const REFERENCE = "orderly-0123456789abcdef0123456789abcdef-0";
export const CONNECTION_ID = "con_billy";

/** Every product and tax rate a step needs, as the merchant would configure them. */
export const SETTINGS = {
  ossRegistered: true,
  products: {
    default: "prod-default",
    shipping: "prod-shipping",
    fee: "prod-fee",
    giftCard: "prod-giftcard",
    rounding: "prod-rounding",
  },
  taxRates: {
    domestic: "tr-dk-25",
    euHomeVat: "tr-dk-25",
    reverseCharge: "tr-eu-rc",
    export: "tr-export",
    oss: { DE: "tr-de-19" },
    noVat: "tr-none",
  },
};

/** Products the Billy company already has. */
export const PRODUCTS = [
  { id: "prod-default", name: "Webshop sale" },
  { id: "prod-shipping", name: "Shipping" },
  { id: "prod-fee", name: "Fees" },
  { id: "prod-giftcard", name: "Gift cards" },
  { id: "prod-rounding", name: "Rounding" },
  { id: "prod-ts1", name: "T-shirt", productNo: "TS-1" },
];

/** A paid Danish consumer order, prices incl. VAT: a 199.00 T-shirt and 49.00 shipping at 25 %. */
export function danishOrder(overrides: Partial<CanonicalOrder> = {}): CanonicalOrder {
  return orderSchema.parse({
    source: { connector: "shopify", orderId: "5001", orderNumber: "#1001", version: 1, createdAt: "2026-03-02T10:15:00+01:00" },
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
    financialStatus: "paid",
    totals: { total: 24800, tax: 4960, discounts: 0, shipping: 4900 },
    ...overrides,
  });
}

const berlin = { name: "Kim Meyer", line1: "Hauptstraße 5", postcode: "10115", city: "Berlin", country: "DE" };

/** A German consumer under OSS: 119.00 incl. 19 % VAT, shipping 11.90. */
export function germanOrder(overrides: Partial<CanonicalOrder> = {}): CanonicalOrder {
  return danishOrder({
    currency: "EUR",
    customer: { email: "kim@example.de", firstName: "Kim", lastName: "Meyer" },
    billingAddress: berlin,
    shippingAddress: berlin,
    lines: [{ id: "l1", sku: "TS-1", title: "T-shirt", quantity: 1, unitPrice: 11900, discount: 0, tax: 1900, taxRateBp: 1900 }],
    shipping: [{ title: "DHL", price: 1190, discount: 0, tax: 190, taxRateBp: 1900 }],
    payments: [{ gateway: "stripe", amount: 13090, status: "paid" }],
    totals: { total: 13090, tax: 2090, discounts: 0, shipping: 1190 },
    ...overrides,
  });
}

/** A German business with a VAT number: reverse charge, net prices, no VAT. */
export function germanBusinessOrder(): CanonicalOrder {
  return germanOrder({
    pricesIncludeTax: false,
    customer: { email: "einkauf@meyer.de", company: "Meyer GmbH", vatNumber: "DE123456789" },
    billingAddress: { ...berlin, company: "Meyer GmbH" },
    lines: [{ id: "l1", sku: "TS-1", title: "T-shirt", quantity: 10, unitPrice: 10000, discount: 0, tax: 0, taxRateBp: 0 }],
    shipping: [{ title: "DHL", price: 2000, discount: 0, tax: 0, taxRateBp: 0 }],
    payments: [{ gateway: "stripe", amount: 102000, status: "paid" }],
    totals: { total: 102000, tax: 0, discounts: 0, shipping: 2000 },
  });
}

/** A consumer in the United States: export, no VAT. */
export function usOrder(): CanonicalOrder {
  const address = { name: "Sam Lee", line1: "1 Main St", postcode: "10001", city: "New York", country: "US" };
  return danishOrder({
    currency: "USD",
    customer: { email: "sam@example.com", firstName: "Sam", lastName: "Lee" },
    billingAddress: address,
    shippingAddress: address,
    lines: [{ id: "l1", sku: "TS-1", title: "T-shirt", quantity: 2, unitPrice: 3000, discount: 0, tax: 0, taxRateBp: 0 }],
    shipping: [{ title: "UPS", price: 1500, discount: 0, tax: 0 }],
    payments: [{ gateway: "stripe", amount: 7500, status: "paid" }],
    totals: { total: 7500, tax: 0, discounts: 0, shipping: 1500 },
  });
}

export function refund(overrides: Partial<CanonicalRefund> = {}): CanonicalRefund {
  return {
    source: { connector: "shopify", orderId: "5001", refundId: "r1", createdAt: "2026-03-05T09:00:00Z" },
    currency: "DKK",
    lines: [{ lineId: "l1", sku: "TS-1", quantity: 1, subtotal: 19900, tax: 3980, restock: true }],
    shipping: 0,
    adjustments: 0,
    total: 19900,
    ...overrides,
  };
}

export interface RunOptions {
  reference?: string;
  previous?: ReadonlyArray<ActionResult | undefined>;
  history?: ReadonlyArray<StepHistoryEntry>;
  credentials?: BillyCredentials;
  connection?: Partial<BillyConnectionSettings>;
  refund?: CanonicalRefund;
  exclusive?: ContextOptions<BillyCredentials, BillyConnectionSettings>["exclusive"];
  /** No attempt of the step ran before (run-step sets it on attempt 1). */
  firstAttempt?: boolean;
}

/** Runs an action against the mock at BILLY_BASE and returns its result and `mapped` snapshots. */
export async function run<S extends z.ZodType>(
  action: TargetAction<S, BillyCredentials, BillyConnectionSettings>,
  order: CanonicalOrder,
  settings: unknown = SETTINGS,
  options: RunOptions = {},
) {
  const { ctx, mapped } = actionContext(action, {
    connection: {
      id: CONNECTION_ID,
      settings: billyConnectionSettings.parse({ baseUrl: BILLY_BASE, ...options.connection }),
      credentials: options.credentials ?? { accessToken: BILLY_TOKEN },
    },
    settings,
    reference: options.reference ?? REFERENCE,
    previous: options.previous ?? [],
    history: options.history ?? [],
    vendor: "Billy",
    ...(options.exclusive ? { exclusive: options.exclusive } : {}),
  });
  if (options.firstAttempt) ctx.firstAttempt = true;
  const result = await action.run(ctx, { order, ...(options.refund ? { refund: options.refund } : {}) });
  return { result, mapped };
}

/** A history entry: a step of another transfer of the same order on this Billy connection. */
export function historyEntry(action: string, result: ActionResult, over: Partial<StepHistoryEntry> = {}): StepHistoryEntry {
  return { transferId: "t-paid", stage: "paid", occurrence: "", stepIndex: 0, target: CONNECTION_ID, action, result, ...over };
}

export async function failure(promise: Promise<unknown>): Promise<OrderlyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OrderlyError);
  return error as OrderlyError;
}
