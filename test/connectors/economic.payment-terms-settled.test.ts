/**
 * Payment terms that are meant to say "paid": whether e-conomic settles a document when it is booked
 * depends on the terms' type (paidInCash does; a `net` record named "Paid by card" only prints its
 * name), so registerPayment and registerRefund enter nothing on a gateway's terms only when the
 * booked document shows that share settled, and otherwise fail naming the terms and what is open.
 * A credit note carries the terms of the invoice it credits, so a refund through a gateway on terms
 * goes through. Gateways named like an object's built-in properties map to nothing of their own.
 */
import { describe, expect, it } from "vitest";
import { createCreditNote, createInvoice, registerPayment, registerRefund } from "../../src/connectors/economic";
import type { CanonicalOrder } from "../../src/domain/order";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, done, failure, refundOf, run, TS1, writes } from "../mocks/economic.mock.fixtures";

const CARD_TERMS = 7;
const byCard = { invoiceState: "booked", paymentTermsByGateway: { shopify_payments: CARD_TERMS } };
const onTerms = { journalNumber: 1, byGateway: { shopify_payments: { paymentTermsNumber: CARD_TERMS } } };
/** What a merchant may set up: terms named "Paid by card" but of type net, which settle nothing. */
const NET_CARD_TERMS = { paymentTermsNumber: CARD_TERMS, name: "Paid by card", paymentTermsType: "net", daysOfCredit: 0 };

async function invoiced(mock: EconomicMock, order: CanonicalOrder, settings: Record<string, unknown> = byCard) {
  installEconomicMock(mock);
  const { result } = await run(createInvoice, order, settings, { reference: "orderly-invoice-0" });
  return { invoice: result, history: [done("createInvoice", result)] };
}

const vouchers = (mock: EconomicMock) =>
  mock.state.requests
    .filter((r) => r.method === "POST" && r.path === "/journals/1/vouchers")
    .map((r) => (r.body as { entries: { customerPayments: unknown[] } }).entries.customerPayments);

describe("e-conomic registerPayment: terms that say paid, and the invoice's remainder", () => {
  it("terms of type paidInCash settle the invoice at booking: nothing to register", async () => {
    const mock = createEconomicMock({ products: [TS1] });
    const { history } = await invoiced(mock, danishOrder());
    expect(mock.state.booked[0]).toMatchObject({ paymentTerms: { paymentTermsNumber: CARD_TERMS }, remainder: 0 });

    const { result } = await run(registerPayment, danishOrder(), onTerms, { history, reference: "orderly-payment-0" });

    expect(result).toMatchObject({ created: false, outputs: { bookedInvoiceNumber: 1, paymentTermsNumber: CARD_TERMS } });
    expect(result.outputs.reason).toContain("shows nothing open in e-conomic");
    expect(vouchers(mock)).toEqual([]);
  });

  it("terms of type net named 'Paid by card' leave it open: the step fails naming the terms and the remainder", async () => {
    const mock = createEconomicMock({ products: [TS1], paymentTerms: [NET_CARD_TERMS] });
    const { history } = await invoiced(mock, danishOrder());
    expect(mock.state.booked[0]).toMatchObject({ paymentTerms: { paymentTermsNumber: CARD_TERMS }, remainder: 248 });
    const writesBefore = writes(mock).length;

    const error = await failure(run(registerPayment, danishOrder(), onTerms, { history, reference: "orderly-payment-0" }));

    expect(error).toMatchObject({ code: "economic_payment_terms_open", errorClass: "validation", madeNothing: true });
    expect(error.message).toContain('payment terms 7 "Paid by card" (type net)');
    expect(error.message).toContain("still shows 248.00 DKK open");
    expect(error.message).toContain("a type that settles on booking");
    expect(error.message).toContain("map byGateway.shopify_payments");
    expect(error.details).toMatchObject({ bookedInvoiceNumber: 1, paymentTermsType: "net", remainder: "248.00" });
    expect(writes(mock)).toHaveLength(writesBefore);
  });

  describe("a gateway on terms beside one on an account", () => {
    const order = danishOrder({
      payments: [
        { gateway: "gift_card", amount: 10000, status: "paid" },
        { gateway: "shopify_payments", amount: 14800, status: "paid" },
      ],
    });
    const mixed = {
      journalNumber: 1,
      byGateway: { gift_card: { paymentTermsNumber: CARD_TERMS }, shopify_payments: { contraAccountNumber: 5820 } },
    };
    // The invoice carries the gift card's terms as the buyer kind's terms.
    const withTerms = { invoiceState: "booked", paymentTermsNumber: CARD_TERMS };

    it("terms that leave the invoice open: the card's share alone is not entered", async () => {
      const mock = createEconomicMock({ products: [TS1], paymentTerms: [NET_CARD_TERMS] });
      const { history } = await invoiced(mock, order, withTerms);

      const error = await failure(run(registerPayment, order, mixed, { history, reference: "orderly-payment-0" }));

      expect(error.code).toBe("economic_payment_terms_open");
      expect(error.details).toMatchObject({ gateways: ["gift_card"] });
      expect(vouchers(mock)).toEqual([]);
    });

    it("once the gift card's share shows settled (entered by hand), the card's is entered", async () => {
      const mock = createEconomicMock({ products: [TS1], paymentTerms: [NET_CARD_TERMS] });
      const { history } = await invoiced(mock, order, withTerms);
      (mock.state.booked[0] as { remainder: number }).remainder = 148;

      const { result } = await run(registerPayment, order, mixed, { history, reference: "orderly-payment-0" });

      expect(result).toMatchObject({ created: true, outputs: { amount: "148.00", gateways: ["shopify_payments"] } });
      expect(vouchers(mock)).toEqual([[expect.objectContaining({ amount: -148, contraAccount: { accountNumber: 5820 } })]]);
    });
  });
});

describe("e-conomic: gateways named like an object's built-in properties", () => {
  for (const gateway of ["constructor", "toString", "__proto__"]) {
    const order = danishOrder({ payments: [{ gateway, amount: 24800, status: "paid" }] });

    it(`registerPayment through "${gateway}" is not skipped: an error without a mapping, the default account with one`, async () => {
      const mock = createEconomicMock({ products: [TS1] });
      const { history } = await invoiced(mock, order, { invoiceState: "booked" });
      const settings = { journalNumber: 1, byGateway: { shopify_payments: { contraAccountNumber: 5820 } } };

      const error = await failure(run(registerPayment, order, settings, { history, reference: "orderly-payment-0" }));
      expect(error.code).toBe("economic_setting_missing");
      expect(vouchers(mock)).toEqual([]);

      const withDefault = { ...settings, defaultContraAccountNumber: 5830 };
      const { result } = await run(registerPayment, order, withDefault, { history, reference: "orderly-payment-0" });
      expect(result).toMatchObject({ created: true, outputs: { amount: "248.00", gateways: [gateway] } });
      expect(vouchers(mock)).toEqual([[expect.objectContaining({ amount: -248, contraAccount: { accountNumber: 5830 } })]]);
    });

    it(`registerRefund through "${gateway}" is not skipped either`, async () => {
      const mock = createEconomicMock({ products: [TS1] });
      const { history } = await invoiced(mock, order, { invoiceState: "booked" });
      const refund = refundOf();
      const note = await run(createCreditNote, order, { invoiceState: "booked" }, { refund, history, reference: "orderly-r-0" });
      const options = { refund, history, previous: [note.result], reference: "orderly-r-1" };
      const settings = { journalNumber: 1, byGateway: { shopify_payments: { contraAccountNumber: 5820 } } };

      const error = await failure(run(registerRefund, order, settings, options));
      expect(error.code).toBe("economic_setting_missing");

      const { result } = await run(registerRefund, order, { ...settings, defaultContraAccountNumber: 5830 }, options);
      expect(result).toMatchObject({ created: true, outputs: { amount: "199.00", contraAccountNumber: 5830 } });
    });
  }
});

describe("e-conomic: a refunded order paid through a gateway on payment terms", () => {
  const refunded = danishOrder({ stage: "refunded" });

  async function refundedFlow(mock: EconomicMock) {
    const { history } = await invoiced(mock, danishOrder());
    const paid = await run(registerPayment, danishOrder(), onTerms, { history, reference: "orderly-payment-0" });
    const all = [...history, { ...done("registerPayment", paid.result), stepIndex: 1 }];
    const refund = refundOf();
    const note = await run(
      createCreditNote,
      refunded,
      { invoiceState: "booked" },
      { refund, history: all, reference: "orderly-r-0" },
    );
    const options = { refund, history: all, previous: [note.result], reference: "orderly-r-1" };
    return { paid, note, options };
  }

  it("the credit note carries the invoice's terms, and registerRefund enters nothing once it shows settled", async () => {
    const mock = createEconomicMock({ products: [TS1] });
    const { paid, note, options } = await refundedFlow(mock);
    expect(paid.result.created).toBe(false);
    expect(note.result.outputs).toMatchObject({ bookedInvoiceNumber: 2, creditedInvoiceNumber: 1 });
    expect(mock.state.booked[1]).toMatchObject({ paymentTerms: { paymentTermsNumber: CARD_TERMS }, remainder: 0 });

    const { result } = await run(registerRefund, refunded, onTerms, options);

    expect(result).toMatchObject({ externalId: "2", created: false, outputs: { creditNoteNumber: 2, refundId: "r1" } });
    expect(result.outputs.reason).toContain("payment terms 7 and shows nothing open");
    expect(vouchers(mock)).toEqual([]);
  });

  it("terms that settle nothing: the refund is not claimed paid back, the error names the terms and what is open", async () => {
    const mock = createEconomicMock({ products: [TS1], paymentTerms: [NET_CARD_TERMS] });
    installEconomicMock(mock);
    const { history } = await invoiced(mock, danishOrder());
    const refund = refundOf();
    const note = await run(createCreditNote, refunded, { invoiceState: "booked" }, { refund, history, reference: "orderly-r-0" });
    expect(mock.state.booked[1]).toMatchObject({ paymentTerms: { paymentTermsNumber: CARD_TERMS }, remainder: -199 });

    const error = await failure(
      run(registerRefund, refunded, onTerms, { refund, history, previous: [note.result], reference: "orderly-r-1" }),
    );

    expect(error).toMatchObject({ code: "economic_refund_terms_open", madeNothing: true });
    expect(error.message).toContain('payment terms 7 "Paid by card" (type net)');
    expect(error.message).toContain("credit note 2");
    expect(error.message).toContain("still shows 199.00 DKK open");
    expect(vouchers(mock)).toEqual([]);
  });
});
