/**
 * The stage and payment of a Shopify order come from the signed body alone. X-Shopify-Topic is not
 * covered by the HMAC, so a signed body resent under another topic must not change what it means;
 * and a refunded order that still owes money (a deposit partly refunded) is not paid in full.
 */
import { describe, expect, it } from "vitest";
import type { SourceEvent } from "../../src/connectors/contract";
import { paidByGateway } from "../../src/connectors/economic/economic.register-payment";
import { parse } from "../../src/connectors/shopify/shopify.parse";
import type { CanonicalOrder } from "../../src/domain/order";
import { paidAsAWhole, receivedPayments, showsPayment } from "../../src/domain/payment";
import { shopifyDelivery, shopifyFixture } from "../fixtures/shopify";

const SECRET = "test-secret";

async function parseOne(topic: string, body: object): Promise<SourceEvent> {
  const events = parse(await shopifyDelivery(topic, body, SECRET, { "X-Shopify-Triggered-At": "2026-03-01T09:00:00.000Z" }));
  if (!Array.isArray(events) || events.length !== 1 || !events[0]) throw new Error("expected exactly one event");
  return events[0];
}

function orderOf(event: SourceEvent): CanonicalOrder {
  if (event.object.type !== "order") throw new Error("expected an order event");
  return event.object.order;
}

describe("Shopify stage from the signed payload, not the topic header", () => {
  it("a paid order's signed body resent as orders/cancelled is not cancelled", async () => {
    const paid = { ...shopifyFixture("orderMinimal"), id: 42, financial_status: "paid", cancelled_at: null };
    const event = await parseOne("orders/cancelled", paid);
    expect(event.stage).toBe("paid");
    expect(orderOf(event).stage).toBe("paid");
  });

  it("an unpaid body sent as orders/paid is not paid, and an unfulfilled one as orders/fulfilled is not fulfilled", async () => {
    const pending = { ...shopifyFixture("orderTaxExclusive"), financial_status: "pending", fulfillment_status: null };
    expect((await parseOne("orders/paid", pending)).stage).toBe("created");
    expect((await parseOne("orders/fulfilled", pending)).stage).toBe("created");
  });

  it("a paid, unfulfilled body sent as orders/fulfilled stays paid", async () => {
    const paid = { ...shopifyFixture("orderMinimal"), id: 42, financial_status: "paid", fulfillment_status: null };
    expect((await parseOne("orders/fulfilled", paid)).stage).toBe("paid");
  });

  it("the cancelled and completed fixtures keep their stages under their own topics", async () => {
    expect((await parseOne("orders/cancelled", shopifyFixture("orderCancelled"))).stage).toBe("cancelled");
    expect((await parseOne("orders/fulfilled", shopifyFixture("orderCompleted"))).stage).toBe("completed");
    expect((await parseOne("orders/paid", { ...shopifyFixture("orderMinimal"), id: 42 })).stage).toBe("paid");
  });
});

describe("Shopify refunded orders that still owe money", () => {
  // orderMinimal: 249.00 DKK, one gateway (quickpay).
  const deposit = (financial_status: string, total_outstanding: string | null | undefined) => ({
    ...shopifyFixture("orderMinimal"),
    id: 42,
    financial_status,
    ...(total_outstanding === undefined ? {} : { total_outstanding }),
  });

  for (const status of ["partially_refunded", "refunded"]) {
    it(`${status} with money outstanding (a deposit, part refunded) is read as partially_paid: no stage, no amount`, async () => {
      const event = await parseOne("orders/updated", deposit(status, "149.00"));
      const order = orderOf(event);
      expect(event.stage).toBe("created");
      expect(order.financialStatus).toBe("partially_paid");
      expect(order.payments).toStrictEqual([{ gateway: "quickpay", status: "partially_paid" }]);
      // As a partially_paid order: money came in, but no amount is known to register.
      expect(showsPayment(order)).toBe(true);
      expect(paidAsAWhole(order)).toBe(false);
      expect(receivedPayments(order)).toStrictEqual([]);
      expect(paidByGateway(order).size).toBe(0);
    });
  }

  for (const outstanding of [undefined, null, "0.00", "-10.00"]) {
    it(`partially_refunded with total_outstanding ${String(outstanding)} was paid in full`, async () => {
      const event = await parseOne("orders/updated", deposit("partially_refunded", outstanding));
      const order = orderOf(event);
      expect(event.stage).toBe("paid");
      expect(order.financialStatus).toBe("partially_refunded");
      expect(order.payments).toStrictEqual([{ gateway: "quickpay", status: "partially_refunded", amount: 24900 }]);
    });
  }
});
