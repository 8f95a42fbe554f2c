/**
 * registerPayment's checks that fail before its voucher POST say they made nothing, so a retry with
 * the flow's current settings (a journal or account mapping corrected) is not refused for them.
 */
import { describe, expect, it } from "vitest";
import { createInvoice, registerPayment } from "../../src/connectors/economic";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, done, failure, run } from "../mocks/economic.mock.fixtures";

async function bookedInvoice() {
  const mock = createEconomicMock();
  installEconomicMock(mock);
  const invoice = await run(createInvoice, danishOrder(), { invoiceState: "booked" }, { reference: "orderly-invoice-0" });
  return { mock, history: [done("createInvoice", invoice.result)] };
}

describe("e-conomic registerPayment failing before it enters anything", () => {
  it("a gateway with no account says it made nothing, and posts no voucher", async () => {
    const { mock, history } = await bookedInvoice();
    const error = await failure(run(registerPayment, danishOrder(), { journalNumber: 1, byGateway: {} }, { history }));
    expect(error).toMatchObject({ code: "economic_setting_missing", madeNothing: true });
    expect(mock.state.requests.filter((r) => r.method === "POST" && r.path.includes("/vouchers"))).toEqual([]);
  });

  it("no accounting year for the order's date says it made nothing, and posts no voucher", async () => {
    const { mock, history } = await bookedInvoice();
    const settings = { journalNumber: 1, byGateway: { shopify_payments: { contraAccountNumber: 5820 } } };
    const order = danishOrder();
    const old = { ...order, source: { ...order.source, createdAt: "1999-01-02T10:00:00Z" } };
    const error = await failure(run(registerPayment, old, settings, { history }));
    expect(error).toMatchObject({ code: "economic_accounting_year_missing", madeNothing: true });
    expect(mock.state.requests.filter((r) => r.method === "POST" && r.path.includes("/vouchers"))).toEqual([]);
  });
});
