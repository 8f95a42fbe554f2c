/**
 * A refund of an order paid through several gateways (a gift card and a card) says what went back
 * through each: Shopify's refund transactions name their gateway, and the canonical refund keeps the
 * split (`payments`) when every successful one does. registerRefund then pays each gateway back;
 * a refund without a split goes back through the order's one gateway, as before.
 */
import { describe, expect, it } from "vitest";
import { shopifyRefundSchema } from "../../src/connectors/shopify/shopify.payload";
import { toCanonicalRefund } from "../../src/connectors/shopify/shopify.refund";
import { refundSchema } from "../../src/domain/order";
import { refundPayments } from "../../src/domain/payment";
import { danishOrder, refundOf } from "../mocks/economic.mock.fixtures";

const ECONOMIC = { name: "e-conomic", unnamed: "unknown" };

function transaction(gateway: string | null | undefined, amount: string, status = "success") {
  return { id: 1, kind: "refund", ...(gateway === undefined ? {} : { gateway }), status, amount, currency: "DKK", parent_id: 2 };
}

/** A refunds/create body of a 199.00 T-shirt returned, paid back by the transactions given. */
function shopifyRefund(transactions: unknown[]) {
  const body = shopifyRefundSchema.parse({
    id: 929361462,
    order_id: 450789469,
    created_at: "2026-03-06T14:00:00+01:00",
    refund_line_items: [
      {
        line_item_id: 21001,
        quantity: 1,
        restock_type: "return",
        subtotal: 199,
        total_tax: 39.8,
        subtotal_set: { shop_money: { amount: "199.00", currency_code: "DKK" } },
        total_tax_set: { shop_money: { amount: "39.80", currency_code: "DKK" } },
      },
    ],
    transactions,
  });
  return toCanonicalRefund(body, "2026-03-06T14:00:00+01:00");
}

describe("Shopify refund: money back per gateway", () => {
  it("sums the successful refund transactions per gateway; pending and failed ones are not counted", () => {
    const refund = shopifyRefund([
      transaction("gift_card", "48.00"),
      transaction("shopify_payments", "100.00"),
      transaction("shopify_payments", "51.00"),
      // Not settled yet (or declined): not in the total, so not in the split either.
      transaction("shopify_payments", "20.00", "pending"),
      transaction("paypal", "10.00", "failure"),
    ]);

    expect(refund.total).toBe(19900);
    expect(refund.payments).toEqual([
      { gateway: "gift_card", amount: 4800 },
      { gateway: "shopify_payments", amount: 15100 },
    ]);
  });

  it("a refund through one gateway states that gateway", () => {
    expect(shopifyRefund([transaction("shopify_payments", "199.00")]).payments).toEqual([
      { gateway: "shopify_payments", amount: 19900 },
    ]);
  });

  it("a transaction naming no gateway leaves the split out: the order's gateway decides, as before", () => {
    for (const unnamed of [undefined, null, ""]) {
      const refund = shopifyRefund([transaction("gift_card", "48.00"), transaction(unnamed, "151.00")]);
      expect(refund.total).toBe(19900);
      expect(refund.payments).toBeUndefined();
    }
  });

  it("a refund that returned no money (a restock only) has no split", () => {
    expect(shopifyRefund([]).payments).toBeUndefined();
    expect(shopifyRefund([transaction("gift_card", "0.00")]).payments).toBeUndefined();
  });

  it("the canonical refund refuses a split that does not add up to its total", () => {
    expect(() => refundOf({ payments: [{ gateway: "gift_card", amount: 4800 }] })).toThrow(/add up to its total/);
    expect(() => refundOf({ total: 0, payments: [{ gateway: "gift_card", amount: 0 }] })).toThrow();
    // A refund stored by an earlier release has no split and still parses.
    expect(refundSchema.parse(refundOf()).payments).toBeUndefined();
  });
});

describe("refundPayments", () => {
  const twoGateways = danishOrder({
    payments: [
      { gateway: "gift_card", amount: 4800, status: "paid" },
      { gateway: "shopify_payments", amount: 20000, status: "paid" },
    ],
  });
  const split = [
    { gateway: "gift_card", amount: 4800 },
    { gateway: "shopify_payments", amount: 15100 },
  ];

  it("takes the split the refund states", () => {
    expect(refundPayments(twoGateways, refundOf({ payments: split }), ECONOMIC)).toEqual(split);
  });

  it("trusts a stated gateway the order never showed, in a split", () => {
    const stated = [
      { gateway: "store_credit", amount: 4800 },
      { gateway: "shopify_payments", amount: 15100 },
    ];
    expect(refundPayments(danishOrder(), refundOf({ payments: stated }), ECONOMIC)).toEqual(stated);
  });

  it("a refund naming one gateway goes through the order's gateway with its total, as before refunds were split", () => {
    const one = refundOf({ payments: [{ gateway: "store_credit", amount: 19900 }] });
    expect(refundPayments(danishOrder(), one, ECONOMIC)).toEqual([{ gateway: "shopify_payments", amount: 19900 }]);
    const twice = refundOf({
      payments: [
        { gateway: "gift_card", amount: 4800 },
        { gateway: "gift_card", amount: 15100 },
      ],
    });
    expect(refundPayments(danishOrder(), twice, ECONOMIC)).toEqual([{ gateway: "shopify_payments", amount: 19900 }]);
    const paidAsAWhole = danishOrder({ payments: [], financialStatus: "paid" });
    expect(refundPayments(paidAsAWhole, one, ECONOMIC)).toEqual([{ gateway: "unknown", amount: 19900 }]);
  });

  it("a refund naming one of several gateways the order was paid through goes back through that one", () => {
    const giftCard = refundOf({ total: 4800, payments: [{ gateway: "gift_card", amount: 4800 }] });
    expect(refundPayments(twoGateways, giftCard, ECONOMIC)).toEqual([{ gateway: "gift_card", amount: 4800 }]);
    // A name the order never showed cannot choose between the order's gateways.
    const other = refundOf({ total: 4800, payments: [{ gateway: "store_credit", amount: 4800 }] });
    expect(() => refundPayments(twoGateways, other, ECONOMIC)).toThrow(
      expect.objectContaining({ code: "refund_gateway_unknown" }),
    );
  });

  it("without a split, the order's one gateway gets the whole total; with several it fails as before", () => {
    expect(refundPayments(danishOrder(), refundOf(), ECONOMIC)).toEqual([{ gateway: "shopify_payments", amount: 19900 }]);
    expect(() => refundPayments(twoGateways, refundOf(), ECONOMIC)).toThrow(
      expect.objectContaining({ code: "refund_gateway_unknown", madeNothing: true }),
    );
  });
});
