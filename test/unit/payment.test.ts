import { describe, expect, it } from "vitest";
import { paidAsAWhole, receivedPayments, showsPayment } from "../../src/domain/payment";

describe("showsPayment", () => {
  it("is true once a payment or the order's financial status says money was received", () => {
    expect(showsPayment({ payments: [{ gateway: "quickpay", status: "paid" }] })).toBe(true);
    expect(showsPayment({ payments: [{ gateway: "quickpay", status: "partially_paid" }] })).toBe(true);
    expect(showsPayment({ payments: [], financialStatus: "paid" })).toBe(true);
    // A refund comes after a payment: a refunded order was paid.
    expect(showsPayment({ payments: [{ gateway: "quickpay", status: "partially_refunded" }] })).toBe(true);
    expect(showsPayment({ payments: [], financialStatus: "refunded" })).toBe(true);
  });

  it("is false while the order is pending, authorised or voided", () => {
    expect(showsPayment({ payments: [{ gateway: "quickpay", status: "pending" }], financialStatus: "pending" })).toBe(false);
    expect(showsPayment({ payments: [{ gateway: "quickpay", status: "authorized" }], financialStatus: "authorized" })).toBe(
      false,
    );
    expect(showsPayment({ payments: [{ gateway: "quickpay", status: "voided" }], financialStatus: "voided" })).toBe(false);
    // WooCommerce's order statuses are not payment states; its payments say whether it was paid.
    expect(showsPayment({ payments: [], financialStatus: "processing" })).toBe(false);
  });
});

describe("receivedPayments and paidAsAWhole", () => {
  it("count a payment refunded later as received, and leave out what was only authorised", () => {
    const payments = [
      { gateway: "quickpay", status: "refunded" as const, amount: 10000 },
      { gateway: "quickpay", status: "authorized" as const, amount: 500 },
      { gateway: "gift_card", status: "paid" as const },
    ];
    expect(receivedPayments({ payments })).toEqual([{ gateway: "quickpay", status: "refunded", amount: 10000 }]);
    expect(paidAsAWhole({ financialStatus: "partially_refunded" })).toBe(true);
    expect(paidAsAWhole({ financialStatus: "partially_paid" })).toBe(false);
    expect(paidAsAWhole({ financialStatus: "pending" })).toBe(false);
  });
});
