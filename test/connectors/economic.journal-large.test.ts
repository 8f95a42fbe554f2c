/**
 * registerPayment finds an entry it made before by paging through the journal. A journal too large
 * to page through to its end must fail the step, not answer "not found": the entry of a POST whose
 * answer was lost may lie on a page not read, and entering it again pays the invoice twice.
 */
import { describe, expect, it } from "vitest";
import { createInvoice, registerPayment } from "../../src/connectors/economic";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, done, failure, run } from "../mocks/economic.mock.fixtures";
import type { Json } from "../mocks/economic.mock.validate";

const PAYMENT_REF = "orderly-payment-0123-1";
const settings = { journalNumber: 1, byGateway: { shopify_payments: { contraAccountNumber: 5820 } } };

/** Unbooked vouchers of other payments, ahead of any this test enters. */
function otherVouchers(count: number): Json[] {
  return Array.from({ length: count }, (_, i) => ({
    accountingYear: { year: "2025" },
    journal: { journalNumber: 1 },
    voucherNumber: 100_000 + i,
    entries: { customerPayments: [{ text: `Payment #${i} (manual) someone-else-${i}`, amount: -1 }] },
  }));
}

async function bookedInvoice(mock: EconomicMock) {
  installEconomicMock(mock);
  const invoice = await run(createInvoice, danishOrder(), { invoiceState: "booked" }, { reference: "orderly-invoice-0" });
  return [done("createInvoice", invoice.result)];
}

const voucherPosts = (mock: EconomicMock) =>
  mock.state.requests.filter((r) => r.method === "POST" && r.path === "/journals/1/vouchers");

describe("e-conomic registerPayment in a journal holding more than 10,000 vouchers", () => {
  it("a retry after a POST that landed unanswered fails naming the journal instead of entering the payment twice", async () => {
    const mock = createEconomicMock();
    const history = await bookedInvoice(mock);
    mock.state.vouchers.push(...otherVouchers(10_000));
    // The voucher is made, but the answer never arrives: the step cannot know it landed.
    mock.failNext({ status: 503, method: "POST", path: /\/journals\/1\/vouchers$/, afterEffect: true });
    await failure(run(registerPayment, danishOrder(), settings, { history, reference: PAYMENT_REF }));
    expect(voucherPosts(mock)).toHaveLength(1);

    const error = await failure(run(registerPayment, danishOrder(), settings, { history, reference: PAYMENT_REF }));

    expect(error).toMatchObject({
      errorClass: "validation",
      code: "economic_journal_too_large",
      details: { journalNumber: 1, reference: PAYMENT_REF },
      // Reads only: a retry with the flow pointed at a smaller journal is not refused (409).
      madeNothing: true,
    });
    expect(error.message).toContain("journal 1");
    expect(error.message).toContain("book or clear the journal's entries");
    expect(voucherPosts(mock)).toHaveLength(1);
  });

  it("a journal of exactly 10,000 vouchers is read to its end: the entry on the last page is adopted", async () => {
    const mock = createEconomicMock();
    const history = await bookedInvoice(mock);
    mock.state.vouchers.push(...otherVouchers(9_999));
    const first = await run(registerPayment, danishOrder(), settings, { history, reference: PAYMENT_REF });

    const again = await run(registerPayment, danishOrder(), settings, { history, reference: PAYMENT_REF });

    expect(again.result).toMatchObject({ externalId: first.result.externalId, created: false });
    expect(voucherPosts(mock)).toHaveLength(1);
  });

  it("a journal of exactly 10,000 other vouchers is searched to its end and the payment entered once", async () => {
    const mock = createEconomicMock();
    const history = await bookedInvoice(mock);
    mock.state.vouchers.push(...otherVouchers(10_000));

    const { result } = await run(registerPayment, danishOrder(), settings, { history, reference: PAYMENT_REF });

    expect(result.created).toBe(true);
    expect(voucherPosts(mock)).toHaveLength(1);
  });

  it("a re-run of a payment whose invoice is settled completes with nothing entered, as with a smaller journal", async () => {
    const mock = createEconomicMock();
    const history = await bookedInvoice(mock);
    await run(registerPayment, danishOrder(), settings, { history, reference: PAYMENT_REF });
    // The bookkeeper books the journal (the invoice is settled); other payments fill it up again.
    mock.bookJournal(1);
    mock.state.vouchers.push(...otherVouchers(10_001));

    const again = await run(registerPayment, danishOrder(), settings, { history, reference: PAYMENT_REF });

    expect(again.result).toMatchObject({ created: false, outputs: { reason: "invoice 1 is already settled in e-conomic" } });
    expect(voucherPosts(mock)).toHaveLength(1);
  });

  it("a part payment already shown paid completes; a further payment then fails naming the journal", async () => {
    const mock = createEconomicMock();
    const history = await bookedInvoice(mock);
    const part = danishOrder({ payments: [{ gateway: "shopify_payments", amount: 10000, status: "partially_paid" }] });
    await run(registerPayment, part, settings, { history, reference: PAYMENT_REF });
    mock.bookJournal(1);
    mock.state.vouchers.push(...otherVouchers(10_001));

    const again = await run(registerPayment, part, settings, { history, reference: PAYMENT_REF });
    expect(again.result.outputs.reason).toBe("invoice 1 already shows 100.00 DKK paid in e-conomic");

    // The rest is paid: something is to be entered now, and the journal cannot be searched for it.
    const whole = danishOrder({
      payments: [
        { gateway: "shopify_payments", amount: 10000, status: "paid" },
        { gateway: "shopify_payments", amount: 14800, status: "paid" },
      ],
    });
    const error = await failure(run(registerPayment, whole, settings, { history, reference: PAYMENT_REF }));
    expect(error).toMatchObject({ code: "economic_journal_too_large", madeNothing: true });
    expect(voucherPosts(mock)).toHaveLength(1);
  });
});
