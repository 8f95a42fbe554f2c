/**
 * A payment split over gateways, on an invoice in another currency than the order's: the parts are
 * converted as running totals, so they add up to the converted whole and settle the invoice; each
 * rounded on its own, they could fall a cent short and leave it open.
 */
import { describe, expect, it } from "vitest";
import { createInvoice, paymentPlan, registerPayment, registerPaymentSettings } from "../../src/connectors/billy";
import type { CanonicalOrder } from "../../src/domain/order";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, germanOrder, PRODUCTS, run, SETTINGS } from "../mocks/billy.mock.fixtures";

const PAYMENTS = { byGateway: { gift_card: { cashAccountId: "acc-bank" }, stripe: { cashAccountId: "acc-stripe" } } };

describe("Billy paymentPlan for a split payment in another currency", () => {
  it("0.01 + 0.01 EUR at 7.4561 become 0.07 + 0.08 DKK, the 0.15 the whole converts to", () => {
    const order = danishOrder({
      currency: "EUR",
      exchange: { shopCurrency: "DKK", rate: "7.4561" },
      payments: [
        { gateway: "gift_card", amount: 1, status: "paid" },
        { gateway: "stripe", amount: 1, status: "paid" },
      ],
    });

    expect(paymentPlan(order, registerPaymentSettings.parse(PAYMENTS), "DKK")).toEqual({
      kind: "pay",
      parts: [
        { gateway: "gift_card", cashAccountId: "acc-bank", amount: 7 },
        { gateway: "stripe", cashAccountId: "acc-stripe", amount: 8 },
      ],
      total: 15,
    });
  });
});

describe("Billy registerPayment for a split payment on an invoice converted into the shop's currency", () => {
  it("settles the invoice: 119.00 + 11.90 EUR at 7.4565 are 887.32 + 88.74 DKK, not 887.32 + 88.73", async () => {
    const mock = createBillyMock({ products: PRODUCTS });
    installBillyMock(mock);
    const order: CanonicalOrder = germanOrder({
      exchange: { shopCurrency: "DKK", rate: "7.4565" },
      payments: [
        { gateway: "gift_card", amount: 11900, status: "paid" },
        { gateway: "stripe", amount: 1190, status: "paid" },
      ],
    });
    const { result: invoice } = await run(createInvoice, order, { ...SETTINGS, invoiceState: "booked", invoiceCurrency: "shop" });
    const invoiceId = invoice.outputs.invoiceId as string;
    // 130.90 EUR × 7.4565 = 976.056 DKK.
    expect(mock.invoice(invoiceId)).toMatchObject({ currencyId: "DKK", grossAmount: 976.06 });

    const { result } = await run(registerPayment, order, PAYMENTS, { previous: [invoice] });

    expect(result.outputs).toMatchObject({
      registered: 97606,
      isPaid: true,
      payments: [
        { cashAccountId: "acc-bank", gateways: ["gift_card"], amount: 88732 },
        { cashAccountId: "acc-stripe", gateways: ["stripe"], amount: 8874 },
      ],
    });
    expect(mock.invoice(invoiceId)).toMatchObject({ isPaid: true, balance: 0 });
  });
});
