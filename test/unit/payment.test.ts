import { describe, expect, it } from "vitest";
import { showsPayment } from "../../src/domain/payment";

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
