/**
 * Correctly signed orders with hostile fields: a real order with some fields replaced by random
 * JSON, unicode edge cases or absurd numbers. Each is either a valid order (200, stored once) or
 * one Orderly cannot take (kept as a dead letter naming the problem, answered 200, not processed:
 * Shopify would drop a refused one after its retries); never a 4xx or 5xx.
 */
import { env } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { shopifyDelivery } from "../fixtures/shopify";
import { createWorld, eventually, shopifyOrder, type World } from "../helpers/world";
import {
  DELETE,
  describeChanges,
  expectKept,
  expectNothingStored,
  hostileJson,
  hostileString,
  isKept,
  keptLater,
  type Path,
  postHook,
  setAt,
  shopifyTopic,
} from "./fuzz-helpers";

// No flow: a valid order is stored in its Durable Object and nothing else, so "nothing stored" stays checkable.
let world: World;
beforeAll(async () => {
  world = await createWorld();
});

const FIELDS: Path[] = [
  ["id"],
  ["name"],
  ["order_number"],
  ["currency"],
  ["taxes_included"],
  ["created_at"],
  ["updated_at"],
  ["cancelled_at"],
  ["financial_status"],
  ["fulfillment_status"],
  ["total_price"],
  ["total_tax"],
  ["total_discounts"],
  ["tax_lines"],
  ["line_items"],
  ["line_items", 0],
  ["line_items", 0, "id"],
  ["line_items", 0, "quantity"],
  ["line_items", 0, "price"],
  ["line_items", 0, "total_discount"],
  ["line_items", 0, "tax_lines"],
  ["line_items", 0, "tax_lines", 0, "rate"],
  ["line_items", 0, "tax_lines", 0, "price"],
  ["line_items", 0, "discount_allocations"],
  ["shipping_lines"],
  ["shipping_lines", 0, "price"],
  ["shipping_lines", 0, "tax_lines", 0, "rate"],
  ["discount_applications"],
  ["discount_codes"],
  ["payment_gateway_names"],
  ["customer"],
  ["customer", "id"],
  ["customer", "email"],
  ["email"],
  ["billing_address"],
  ["billing_address", "country_code"],
  ["shipping_address", "country_code"],
  ["note"],
  ["tags"],
];

const TEXT_FIELDS: Path[] = [
  ["name"],
  ["email"],
  ["note"],
  ["tags"],
  ["financial_status"],
  ["customer", "first_name"],
  ["customer", "email"],
  ["line_items", 0, "title"],
  ["line_items", 0, "sku"],
  ["shipping_lines", 0, "title"],
  ["billing_address", "first_name"],
  ["billing_address", "city"],
  ["billing_address", "country_code"],
  ["payment_gateway_names", 0],
];

const replacement = fc.oneof(
  hostileJson,
  hostileString(),
  fc.double(),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(
    "",
    " ",
    "NaN",
    "1e309",
    "-0",
    "-1.00",
    "0.001",
    "99999999999999999999.99",
    "9007199254740993",
    "0000-00-00T00:00:00Z",
    "+275760-09-13T00:00:00.001Z",
    null,
    [],
    {},
    DELETE,
  ),
);

/** The order id a delivery would be stored under, when the mutated id is still a usable one. */
function storedOrderId(order: Record<string, unknown>): string | undefined {
  const id = order.id;
  if (typeof id === "number" && Number.isSafeInteger(id) && id >= 0) return String(id);
  if (typeof id === "string" && /^\d{1,15}$/.test(id)) return id;
  return undefined;
}

/** The order's object once the inbox has handed the accepted event on (right after the 2xx). */
function handedOn(orderId: unknown) {
  return eventually(async () => {
    const state = await env.ORDERS.get(env.ORDERS.idFromName(`${world.shopId}:${orderId}`)).describe();
    return state.events.length > 0 ? state : undefined;
  }, `order ${orderId} in its object`);
}

/** Sends the signed order; it must be stored, or kept as a dead letter with nothing processed. */
async function sendSigned(order: Record<string, unknown>, topic: string, what: string): Promise<"accepted" | "kept"> {
  const delivery = await shopifyDelivery(topic, order, world.secret);
  const res = await postHook(world, delivery.body, delivery.headers);
  const orderId = storedOrderId(order);
  if (res.status === 200 && !(await isKept(res))) {
    expect(await res.clone().json(), what).toEqual({ ok: true, accepted: 1, duplicates: 0 });
    // Validated and mapped after the answer: stored in its order's object, or kept then.
    if ((await keptLater(world, delivery.headers, order.id)) === "stored") return "accepted";
  }
  await expectKept(res, world, `${what} ${JSON.stringify(order).slice(0, 400)}`, delivery.headers, order.id);
  if (topic !== "refunds/create") await expectNothingStored(world, orderId);
  else await expectNothingStored(world);
  return "kept";
}

/** Sends a signed delivery Orderly must keep, not take; answers the kept dead letter. */
async function sendKept(topic: string, body: object, what: string) {
  const delivery = await shopifyDelivery(topic, body, world.secret);
  const id = (body as { order_id?: unknown; id?: unknown }).order_id ?? (body as { id?: unknown }).id;
  return expectKept(await postHook(world, delivery.body, delivery.headers), world, what, delivery.headers, id);
}

describe("signed orders with hostile fields", () => {
  it("an order with fields replaced by random values is stored or kept as a dead letter, never refused or a 5xx", async () => {
    const mutation = fc.array(fc.tuple(fc.constantFrom(...FIELDS), replacement), { minLength: 1, maxLength: 3 });
    await fc.assert(
      fc.asyncProperty(mutation, shopifyTopic, async (changes, topic) => {
        const order: Record<string, unknown> = shopifyOrder();
        for (const [path, value] of changes) setAt(order, path, value);
        const what = describeChanges(changes);
        await sendSigned(order, topic, `${topic}: ${what}`);
      }),
      { seed: 0x5eed_0201, numRuns: 150 },
    );
  }, 60_000);

  it("unicode edge cases in an order's text fields (lone surrogates, NUL, RTL, astral) never make a 5xx", async () => {
    const edits = fc.array(fc.tuple(fc.constantFrom(...TEXT_FIELDS), hostileString(80)), { minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(edits, async (changes) => {
        const order: Record<string, unknown> = shopifyOrder();
        for (const [path, value] of changes) setAt(order, path, value);
        const status = await sendSigned(order, "orders/paid", `unicode ${JSON.stringify(changes)}`);
        if (status === "accepted") expect((await handedOn(order.id)).events).toHaveLength(1);
      }),
      { seed: 0x5eed_0202, numRuns: 60 },
    );
  }, 60_000);

  // Regressions found by the properties above (seed 0x5eed0202 and the targeted follow-up).
  it("a country code of one astral character (length 2) is dropped, not a 500", async () => {
    const order = shopifyOrder({ billing_address: { first_name: "Ane", country_code: "\u{10000}" } });
    expect(await sendSigned(order, "orders/paid", "astral country")).toBe("accepted");
    expect((await handedOn(order.id)).order?.billingAddress).toEqual({ name: "Ane" });
  });

  it("a currency that upper-cases to four letters is kept, naming the currency, for orders and refunds", async () => {
    const order = shopifyOrder({ currency: "ßAB" });
    expect((await sendKept("orders/paid", order, "ßAB order")).reason).toContain("currency");
    await expectNothingStored(world, order.id);

    const refund = {
      id: 5,
      order_id: order.id,
      transactions: [{ kind: "refund", status: "success", amount: "1.00", currency: "ßAB" }],
    };
    expect((await sendKept("refunds/create", refund, "ßAB refund")).reason).toContain("currency");
    const restock = {
      id: 6,
      order_id: order.id,
      refund_line_items: [
        {
          line_item_id: 1,
          quantity: 1,
          subtotal: 1,
          total_tax: 0,
          subtotal_set: { shop_money: { amount: "1.00", currency_code: "ßAB" } },
        },
      ],
    };
    await sendKept("refunds/create", restock, "ßAB in a shop-money set");
    await expectNothingStored(world, order.id);
  });

  it("amounts that add up beyond 2^53 minor units are kept, naming the field, not a 500", async () => {
    const huge = "90071992547409.91"; // 2^53 - 1 minor units: valid alone, too much twice
    const line = shopifyOrder().line_items as Array<Record<string, unknown>>;
    const cases: Array<[string, Record<string, unknown>]> = [
      ["lines.0.tax", { line_items: [{ ...line[0], tax_lines: [{ price: huge }, { price: huge }] }] }],
      ["shipping.0.discount", { shipping_lines: [{ title: "GLS", price: `-${huge}`, discounted_price: huge }] }],
      [
        "totals.tax",
        {
          total_tax: null,
          line_items: [
            { ...line[0], tax_lines: [{ price: huge }] },
            { ...line[0], id: 2, tax_lines: [{ price: huge }] },
          ],
        },
      ],
    ];
    for (const [field, overrides] of cases) {
      const order = shopifyOrder(overrides);
      const kept = await sendKept("orders/paid", order, field);
      expect(kept.code).toBe("shopify_amount_out_of_range");
      expect(kept.reason).toContain(field);
      await expectNothingStored(world, order.id);
    }
    const refund = {
      id: 7,
      order_id: 8,
      transactions: [1, 2].map(() => ({ kind: "refund", status: "success", amount: huge, currency: "DKK" })),
    };
    expect((await sendKept("refunds/create", refund, "refund total")).code).toBe("shopify_amount_out_of_range");
  });
});
