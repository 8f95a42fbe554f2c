// The T1 load (also T2's): N orders × 5 topics across K shops, each topic a newer version of the
// order, spread over a send window at a steady rate with some jitter (topics of one order may
// overtake each other, as Shopify's do), plus re-deliveries: half within 50 ms of the original,
// half later. The flows make several e-conomic actions per order.
import { delivery, orderPayload, refundPayload } from "./shopify.mjs";

export const PAYMENT = { journalNumber: 1, defaultContraAccountNumber: 5820 };

/** created → draft order; paid → invoice from the order, booked, payment entered; refunded → booked credit note. */
export function lifecycleFlows(shop) {
  const e = shop.economicId;
  return {
    created: [{ target: e, action: "createOrder", settings: {} }],
    paid: [
      { target: e, action: "createInvoice", settings: { invoiceState: "draft" } },
      { target: e, action: "bookInvoice", settings: {} },
      { target: e, action: "registerPayment", settings: PAYMENT },
    ],
    refunded: [{ target: e, action: "createCreditNote", settings: { invoiceState: "booked" } }],
  };
}

/** What each stage's transfer leaves at the target, by the step whose reference the record carries. */
export const LIFECYCLE_EFFECTS = {
  created: [{ kind: "order", step: 0 }],
  paid: [
    { kind: "draft", step: 0 },
    { kind: "book", step: 0 },
    { kind: "payment", step: 2 },
  ],
  refunded: [
    { kind: "draft", step: 0 },
    { kind: "book", step: 0 },
  ],
};
export const TRANSFERS_PER_ORDER = 3;
export const customerKey = (orderId) => [`customer:buyer-${orderId}@chaos.example`];

export function lifecycleDeliveries(orderId, secret) {
  return [
    delivery("orders/create", orderPayload(orderId, { version: 1 }), secret),
    delivery("orders/updated", orderPayload(orderId, { version: 2, note: "gift wrap, please" }), secret),
    delivery("orders/paid", orderPayload(orderId, { version: 3, paid: true }), secret),
    delivery("orders/fulfilled", orderPayload(orderId, { version: 4, paid: true, fulfilled: true }), secret),
    delivery("refunds/create", refundPayload(orderId, orderId * 100 + 1), secret),
  ];
}

/**
 * The plan: { at, url, delivery, orderId, duplicate } entries. `rate` is unique deliveries per
 * second; `redeliver` the share re-sent (half within 50 ms, half 1 s or more later).
 */
export function lifecyclePlan(shops, { orders, firstOrderId, rate, redeliver = 0.2, jitterMs = 3000, random }) {
  const windowMs = ((orders * 5) / rate) * 1000;
  const plan = [];
  for (let i = 0; i < orders; i++) {
    const shop = shops[i % shops.length];
    const orderId = firstOrderId + i;
    const base = (i / orders) * windowMs;
    for (const d of lifecycleDeliveries(orderId, shop.secret)) {
      // The order's topics overtake each other; its refund comes after them (a refund that beats
      // orders/paid runs the paid flows on an unpaid snapshot: see docs/guarantees.md, known gaps).
      const at = d.topic === "refunds/create" ? base + jitterMs + 2000 + random() * jitterMs : base + random() * jitterMs;
      plan.push({ at, url: shop.hookUrl, delivery: d, orderId, duplicate: false });
      if (random() < redeliver) {
        const near = random() < 0.5;
        const again = near ? at + random() * 50 : at + 1000 + random() * (windowMs + 10_000 - at);
        plan.push({ at: again, url: shop.hookUrl, delivery: d, orderId, duplicate: near ? "near" : "late" });
      }
    }
  }
  return { plan, windowMs };
}
