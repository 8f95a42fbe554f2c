/**
 * Payment terms that say an invoice is paid ("Paid by card"): createInvoice gives them to an order
 * paid in full through gateways mapped to them, and registerPayment enters nothing on a gateway's
 * terms only when the booked invoice carries them; otherwise it fails before writing, never
 * claiming a payment e-conomic does not show (an invoice left to fall due unpaid).
 */
import { describe, expect, it } from "vitest";
import { createInvoice, registerPayment } from "../../src/connectors/economic";
import type { CanonicalOrder } from "../../src/domain/order";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, done, failure, run, writes } from "../mocks/economic.mock.fixtures";

const CARD_TERMS = 7;
const INVOICE_REF = "orderly-invoice-terms";
const PAYMENT_REF = "orderly-payment-terms-1";
const byCard = { paymentTermsByGateway: { shopify_payments: CARD_TERMS } };
const paymentOnTerms = { journalNumber: 1, byGateway: { shopify_payments: { paymentTermsNumber: CARD_TERMS } } };

function draftTerms(mock: EconomicMock): unknown[] {
  return mock.state.requests
    .filter((r) => (r.method === "POST" || r.method === "PUT") && r.path.startsWith("/invoices/drafts"))
    .map((r) => (r.body as { paymentTerms?: unknown }).paymentTerms);
}

async function invoiced(mock: EconomicMock, order: CanonicalOrder, settings: Record<string, unknown> = {}) {
  installEconomicMock(mock);
  const { result } = await run(createInvoice, order, { invoiceState: "booked", ...settings }, { reference: INVOICE_REF });
  return { result, history: [done("createInvoice", result)] };
}

describe("e-conomic createInvoice: payment terms by gateway", () => {
  it("gives an order paid through a gateway on terms those terms, and keeps the buyer kind's otherwise", async () => {
    const mock = createEconomicMock();
    const { result } = await invoiced(mock, danishOrder(), byCard);
    expect(draftTerms(mock)).toEqual([{ paymentTermsNumber: CARD_TERMS }]);
    expect(result.outputs.gatewayTerms).toEqual({ paymentTermsNumber: CARD_TERMS, gateways: ["shopify_payments"] });

    // A gateway not listed: the terms of the buyer's kind, as before.
    const other = createEconomicMock();
    const plain = await invoiced(
      other,
      danishOrder({ payments: [{ gateway: "quickpay", amount: 24800, status: "paid" }] }),
      byCard,
    );
    expect(draftTerms(other)).toEqual([{ paymentTermsNumber: 1 }]);
    expect(plain.result.outputs).not.toHaveProperty("gatewayTerms");
  });

  it("gateways with different terms, or one without, leave the buyer kind's terms", async () => {
    const payments = [
      { gateway: "gift_card", amount: 10000, status: "paid" as const },
      { gateway: "shopify_payments", amount: 14800, status: "paid" as const },
    ];
    const differ = createEconomicMock();
    await invoiced(differ, danishOrder({ payments }), { paymentTermsByGateway: { gift_card: 8, shopify_payments: CARD_TERMS } });
    expect(draftTerms(differ)).toEqual([{ paymentTermsNumber: 1 }]);

    const unlisted = createEconomicMock();
    await invoiced(unlisted, danishOrder({ payments }), { ...byCard, paymentTerms: { b2c: 3 } });
    expect(draftTerms(unlisted)).toEqual([{ paymentTermsNumber: 3 }]);

    // Both on the same terms: those terms.
    const same = createEconomicMock();
    await invoiced(same, danishOrder({ payments }), {
      paymentTermsByGateway: { gift_card: CARD_TERMS, shopify_payments: CARD_TERMS },
    });
    expect(draftTerms(same)).toEqual([{ paymentTermsNumber: CARD_TERMS }]);
  });

  it("a deposit is not shown as paid: a partly paid order keeps the buyer kind's terms", async () => {
    const mock = createEconomicMock();
    const order = danishOrder({
      payments: [{ gateway: "shopify_payments", amount: 10000, status: "partially_paid" }],
      financialStatus: "partially_paid",
    });
    await invoiced(mock, order, byCard);
    expect(draftTerms(mock)).toEqual([{ paymentTermsNumber: 1 }]);
  });

  it("a re-run adopts the booked invoice and a draft's update keeps the gateway's terms", async () => {
    const mock = createEconomicMock();
    await invoiced(mock, danishOrder(), byCard);
    const again = await run(createInvoice, danishOrder(), { invoiceState: "booked", ...byCard }, { reference: INVOICE_REF });
    expect(again.result).toMatchObject({ externalId: "1", created: false, outputs: { bookedInvoiceNumber: 1 } });
    expect(mock.createdInvoiceCount()).toBe(1);

    const drafts = createEconomicMock();
    installEconomicMock(drafts);
    await run(createInvoice, danishOrder(), { invoiceState: "draft", ...byCard }, { reference: INVOICE_REF });
    const updated = await run(createInvoice, danishOrder(), { invoiceState: "draft", ...byCard }, { reference: INVOICE_REF });
    expect(updated.result).toMatchObject({ created: false, outputs: { updated: true } });
    expect(draftTerms(drafts)).toEqual([{ paymentTermsNumber: CARD_TERMS }, { paymentTermsNumber: CARD_TERMS }]);
  });
});

describe("e-conomic registerPayment: a gateway on payment terms", () => {
  it("registers nothing when the booked invoice carries the gateway's terms", async () => {
    const mock = createEconomicMock();
    const { history } = await invoiced(mock, danishOrder(), byCard);
    const writesBefore = writes(mock).length;

    const { result } = await run(registerPayment, danishOrder(), paymentOnTerms, { history, reference: PAYMENT_REF });

    expect(result).toEqual({
      externalId: "1",
      created: false,
      outputs: {
        bookedInvoiceNumber: 1,
        paymentTermsNumber: CARD_TERMS,
        reason:
          "paid by shopify_payments (payment terms 7), and invoice 1 has those payment terms and shows nothing open in e-conomic: nothing to register",
      },
    });
    expect(writes(mock)).toHaveLength(writesBefore);
    expect(mock.state.requests.some((r) => r.method === "GET" && r.path === "/invoices/booked/1")).toBe(true);
  });

  it("fails before writing when the booked invoice has other terms, and completes once it is settled", async () => {
    const mock = createEconomicMock();
    // Booked with the buyer kind's terms (1): before this step's terms were given to createInvoice.
    const { history } = await invoiced(mock, danishOrder());
    const writesBefore = writes(mock).length;

    const error = await failure(run(registerPayment, danishOrder(), paymentOnTerms, { history, reference: PAYMENT_REF }));

    expect(error.code).toBe("economic_payment_terms_differ");
    expect(error.errorClass).toBe("validation");
    expect(error.madeNothing).toBe(true);
    expect(error.details).toEqual({ bookedInvoiceNumber: 1, invoiceTerms: 1, gatewayTerms: { shopify_payments: CARD_TERMS } });
    expect(error.message).toBe(
      "The payment of order #1001 was not registered: this step maps \"shopify_payments\" to payment terms 7, but booked invoice 1 has payment terms 1, so nothing says it was paid and it would fall due unpaid. Either map byGateway.shopify_payments in this step's settings to the contra account the money landed on and retry, or enter the payment by hand in e-conomic, book it, and retry. So that later invoices carry the terms, set paymentTermsByGateway.shopify_payments = 7 in the createInvoice step's settings.",
    );
    expect(writes(mock)).toHaveLength(writesBefore);

    // The retry the message offers: a contra account enters the payment.
    const onAccount = { journalNumber: 1, byGateway: { shopify_payments: { contraAccountNumber: 5820 } } };
    const entered = await run(registerPayment, danishOrder(), onAccount, { history, reference: PAYMENT_REF });
    expect(entered.result).toMatchObject({ created: true, outputs: { amount: "248.00", gateways: ["shopify_payments"] } });

    // Or a person entered and booked it: the invoice is settled, and the terms step has nothing to add.
    mock.bookJournal(1);
    const settled = await run(registerPayment, danishOrder(), paymentOnTerms, { history, reference: "orderly-payment-terms-2" });
    expect(settled.result.outputs.reason).toBe("invoice 1 is already settled in e-conomic");
  });

  it("an invoice whose terms a person changed by hand fails the same way", async () => {
    // Terms 7 of type net: booking left the invoice open.
    const mock = createEconomicMock({
      paymentTerms: [{ paymentTermsNumber: CARD_TERMS, name: "Card", paymentTermsType: "net" }],
    });
    const { history } = await invoiced(mock, danishOrder(), byCard);
    const booked = mock.state.booked[0] as { paymentTerms: unknown };
    booked.paymentTerms = { paymentTermsNumber: 2 };

    const error = await failure(run(registerPayment, danishOrder(), paymentOnTerms, { history, reference: PAYMENT_REF }));
    expect(error.code).toBe("economic_payment_terms_differ");
    expect(error.details).toMatchObject({ invoiceTerms: 2 });
  });

  it("names a voucher an earlier run entered before the gateway was switched to terms", async () => {
    const mock = createEconomicMock();
    const { history } = await invoiced(mock, danishOrder());
    const onAccount = { journalNumber: 1, byGateway: { shopify_payments: { contraAccountNumber: 5820 } } };
    const first = await run(registerPayment, danishOrder(), onAccount, { history, reference: PAYMENT_REF });

    const again = await run(registerPayment, danishOrder(), paymentOnTerms, { history, reference: PAYMENT_REF });
    expect(again.result).toEqual({
      externalId: first.result.externalId,
      created: false,
      outputs: { bookedInvoiceNumber: 1, voucher: first.result.externalId },
    });
  });

  describe("mixed gateways", () => {
    const payments = [
      { gateway: "gift_card", amount: 10000, status: "paid" as const },
      { gateway: "shopify_payments", amount: 14800, status: "paid" as const },
    ];
    const giftOnTerms = {
      journalNumber: 1,
      byGateway: { gift_card: { paymentTermsNumber: CARD_TERMS }, shopify_payments: { contraAccountNumber: 5820 } },
    };

    it("a gateway on terms beside one on an account: the invoice keeps its terms and nothing is entered", async () => {
      const mock = createEconomicMock();
      const order = danishOrder({ payments });
      const { history } = await invoiced(mock, order, { paymentTermsByGateway: { gift_card: CARD_TERMS } });
      expect(draftTerms(mock)).toEqual([{ paymentTermsNumber: 1 }]);
      const writesBefore = writes(mock).length;

      // Entering the card's 148.00 alone would leave the gift card's 100.00 open under terms saying nothing.
      const error = await failure(run(registerPayment, order, giftOnTerms, { history, reference: PAYMENT_REF }));
      expect(error.code).toBe("economic_payment_terms_differ");
      expect(error.details).toEqual({ bookedInvoiceNumber: 1, invoiceTerms: 1, gatewayTerms: { gift_card: CARD_TERMS } });
      expect(writes(mock)).toHaveLength(writesBefore);
    });

    it("with the terms on the invoice, the gateway on an account is entered and the other skipped", async () => {
      // Terms 7 of type net: the gift card's share is shown settled once a person entered it.
      const mock = createEconomicMock({
        paymentTerms: [{ paymentTermsNumber: CARD_TERMS, name: "Card", paymentTermsType: "net" }],
      });
      const order = danishOrder({ payments });
      // The invoice carries the gift card's terms (here as the buyer kind's terms).
      const { history } = await invoiced(mock, order, { paymentTermsNumber: CARD_TERMS });
      (mock.state.booked[0] as { remainder: number }).remainder = 148;

      const { result } = await run(registerPayment, order, giftOnTerms, { history, reference: PAYMENT_REF });
      expect(result).toMatchObject({
        created: true,
        outputs: { amount: "148.00", gateways: ["shopify_payments"], skippedGateways: ["gift_card"] },
      });
    });

    it("terms of a type that settles at booking settle the whole invoice: nothing is entered", async () => {
      const mock = createEconomicMock();
      const order = danishOrder({ payments });
      const { history } = await invoiced(mock, order, { paymentTermsNumber: CARD_TERMS });

      const { result } = await run(registerPayment, order, giftOnTerms, { history, reference: PAYMENT_REF });
      expect(result).toMatchObject({ created: false, outputs: { reason: "invoice 1 is already settled in e-conomic" } });
    });

    it("gateways on different terms: the buyer kind's terms, and the step fails naming both", async () => {
      const mock = createEconomicMock();
      const order = danishOrder({ payments });
      const { history } = await invoiced(mock, order, { paymentTermsByGateway: { gift_card: 8, shopify_payments: CARD_TERMS } });
      const settings = {
        journalNumber: 1,
        byGateway: { gift_card: { paymentTermsNumber: 8 }, shopify_payments: { paymentTermsNumber: CARD_TERMS } },
      };

      const error = await failure(run(registerPayment, order, settings, { history, reference: PAYMENT_REF }));
      expect(error.details).toEqual({
        bookedInvoiceNumber: 1,
        invoiceTerms: 1,
        gatewayTerms: { gift_card: 8, shopify_payments: CARD_TERMS },
      });
    });
  });
});
