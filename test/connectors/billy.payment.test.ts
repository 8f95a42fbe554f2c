import { describe, expect, it } from "vitest";
import { createInvoice, registerPayment, sendInvoiceEmail, sendInvoiceEmailSettings } from "../../src/connectors/billy";
import { createBillyMock, installBillyMock } from "../mocks/billy.mock";
import { danishOrder, failure, historyEntry, PRODUCTS, run, SETTINGS } from "../mocks/billy.mock.fixtures";

async function withInvoice(invoiceState: "draft" | "booked" = "booked") {
  const mock = createBillyMock({ products: PRODUCTS, cashAccounts: ["acc-bank", "acc-stripe", "acc-giftcards"] });
  installBillyMock(mock);
  const { result } = await run(createInvoice, danishOrder(), { ...SETTINGS, invoiceState });
  return { mock, invoice: result, writesBefore: mock.writes().length };
}

const PAYMENT_SETTINGS = {
  byGateway: {
    shopify_payments: { cashAccountId: "acc-bank" },
    stripe: { cashAccountId: "acc-stripe" },
    gift_card: { cashAccountId: "acc-giftcards" },
  },
};

describe("Billy registerPayment", () => {
  it("registers the paid amount as a bank payment on the gateway's cash account, which settles the invoice", async () => {
    const { mock, invoice, writesBefore } = await withInvoice();

    const { result, mapped } = await run(registerPayment, danishOrder(), PAYMENT_SETTINGS, { previous: [invoice] });

    expect(mock.writes().slice(writesBefore)).toEqual([
      {
        method: "POST",
        path: "/bankPayments",
        query: {},
        body: {
          bankPayment: {
            entryDate: "2026-03-02",
            cashAmount: 248,
            cashSide: "debit",
            cashAccountId: "acc-bank",
            associations: [{ subjectReference: "invoice:inv-3" }],
          },
        },
      },
    ]);
    expect(mapped).toHaveLength(1);
    expect(result).toEqual({
      externalId: "bp-6",
      created: true,
      outputs: {
        invoiceId: "inv-3",
        payments: [{ id: "bp-6", cashAccountId: "acc-bank", gateways: ["shopify_payments"], amount: 24800 }],
        adoptedPayments: [],
        paid: 24800,
        registered: 24800,
        currency: "DKK",
        partial: false,
        isPaid: true,
      },
    });
    expect(mock.invoice("inv-3")).toMatchObject({ isPaid: true, balance: 0 });
  });

  it("a re-run adopts the payment already on the invoice and registers nothing", async () => {
    const { mock, invoice } = await withInvoice();
    await run(registerPayment, danishOrder(), PAYMENT_SETTINGS, { previous: [invoice] });
    const writes = mock.writes().length;

    const again = await run(registerPayment, danishOrder(), PAYMENT_SETTINGS, { previous: [invoice] });

    expect(mock.writes()).toHaveLength(writes);
    expect(again.result).toMatchObject({
      externalId: "bp-6",
      created: false,
      outputs: { adoptedPayments: ["bp-6"], isPaid: true },
    });
    expect(mock.state.bankPayments).toHaveLength(1);
  });

  it("records a partial payment as partial, and a later capture registers only the rest", async () => {
    const { mock, invoice, writesBefore } = await withInvoice();
    const partly = danishOrder({
      payments: [{ gateway: "stripe", amount: 10000, status: "partially_paid" }],
      financialStatus: "partially_paid",
    });

    const first = await run(registerPayment, partly, PAYMENT_SETTINGS, { history: [historyEntry("createInvoice", invoice)] });
    expect(first.result.outputs).toMatchObject({ partial: true, isPaid: false, registered: 10000 });
    expect(mock.invoice("inv-3")).toMatchObject({ isPaid: false, balance: 148 });

    const fully = danishOrder({
      payments: [
        { gateway: "stripe", amount: 10000, status: "paid" },
        { gateway: "stripe", amount: 14800, status: "paid" },
      ],
    });
    const second = await run(registerPayment, fully, PAYMENT_SETTINGS, {
      reference: "ref-paid",
      history: [historyEntry("createInvoice", invoice)],
    });

    expect(
      mock
        .writes()
        .slice(writesBefore)
        .map((w) => (w.body as { bankPayment: Record<string, unknown> }).bankPayment),
    ).toEqual([
      expect.objectContaining({ cashAmount: 100, cashAccountId: "acc-stripe" }),
      expect.objectContaining({ cashAmount: 148, cashAccountId: "acc-stripe" }),
    ]);
    expect(second.result.outputs).toMatchObject({ partial: false, isPaid: true, registered: 24800, adoptedPayments: ["bp-6"] });
    expect(mock.invoice("inv-3")).toMatchObject({ isPaid: true, balance: 0 });
  });

  it("splits payments through several gateways onto their own cash accounts", async () => {
    const { mock, invoice, writesBefore } = await withInvoice();
    const order = danishOrder({
      payments: [
        { gateway: "gift_card", amount: 5000, status: "paid" },
        { gateway: "shopify_payments", amount: 19800, status: "paid" },
      ],
    });

    await run(registerPayment, order, PAYMENT_SETTINGS, { previous: [invoice] });

    expect(
      mock
        .writes()
        .slice(writesBefore)
        .map((w) => (w.body as { bankPayment: Record<string, unknown> }).bankPayment),
    ).toEqual([
      expect.objectContaining({ cashAmount: 50, cashAccountId: "acc-giftcards" }),
      expect.objectContaining({ cashAmount: 198, cashAccountId: "acc-bank" }),
    ]);
    expect(mock.invoice("inv-3")).toMatchObject({ isPaid: true });
  });

  it("refuses an order paid as a whole through several gateways, whose split is unknown, and writes nothing", async () => {
    const { mock, invoice, writesBefore } = await withInvoice();
    // Shopify's order webhook: two gateways, no amount for either (100 + 148 of 248 is not in it).
    const order = danishOrder({
      payments: [
        { gateway: "gift_card", status: "paid" },
        { gateway: "shopify_payments", status: "paid" },
      ],
    });

    const error = await failure(run(registerPayment, order, PAYMENT_SETTINGS, { previous: [invoice] }));

    expect(error.errorClass).toBe("validation");
    expect(error.code).toBe("payment_split_unknown");
    expect(error.message).toBe(
      "Order #1001 was paid through gift_card and shopify_payments, but the webshop does not say how much each took, so the payment was not registered: enter it by hand in Billy, split as the order's transactions in the webshop show.",
    );
    expect(mock.writes()).toHaveLength(writesBefore);
  });

  it("refuses a gateway without a cash account, naming it, and writes nothing", async () => {
    const { mock, invoice, writesBefore } = await withInvoice();

    const error = await failure(run(registerPayment, danishOrder(), { byGateway: {} }, { previous: [invoice] }));

    expect(error.errorClass).toBe("validation");
    expect(error.message).toBe(
      'Payments through "shopify_payments" have no Billy cash account: add byGateway["shopify_payments"] (or defaultCashAccountId) to the step\'s settings.',
    );
    expect(mock.writes()).toHaveLength(writesBefore);
  });

  it("uses the default cash account for gateways without their own", async () => {
    const { mock, invoice } = await withInvoice();

    await run(registerPayment, danishOrder(), { defaultCashAccountId: "acc-bank" }, { previous: [invoice] });

    expect(mock.state.bankPayments[0]).toMatchObject({ cashAccountId: "acc-bank", cashAmount: 248 });
  });

  it("fails on a draft invoice, which Billy cannot register payments on", async () => {
    const { mock, invoice, writesBefore } = await withInvoice("draft");

    const error = await failure(run(registerPayment, danishOrder(), PAYMENT_SETTINGS, { previous: [invoice] }));

    expect(error.code).toBe("billy_invoice_not_approved");
    expect(mock.writes()).toHaveLength(writesBefore);
  });

  it("registers nothing for an order without a paid payment", async () => {
    const { mock, invoice, writesBefore } = await withInvoice();
    const pending = danishOrder({ payments: [{ gateway: "stripe", status: "pending" }], financialStatus: "pending" });

    const { result } = await run(registerPayment, pending, PAYMENT_SETTINGS, { previous: [invoice] });

    expect(result).toMatchObject({ created: false, outputs: { skipped: true } });
    expect(mock.writes()).toHaveLength(writesBefore);
  });

  it("registers a payment that was refunded later: the money came in, the refund is the credit note's", async () => {
    const { mock, invoice, writesBefore } = await withInvoice();
    const refunded = danishOrder({
      financialStatus: "refunded",
      payments: [{ gateway: "shopify_payments", status: "refunded" }],
    });

    const { result } = await run(registerPayment, refunded, PAYMENT_SETTINGS, { previous: [invoice] });

    expect(mock.writes().slice(writesBefore)).toHaveLength(1);
    expect(result).toMatchObject({ created: true, outputs: { registered: 24800, isPaid: true } });
  });

  it("fails when no createInvoice ran before it", async () => {
    const mock = createBillyMock();
    installBillyMock(mock);

    const error = await failure(run(registerPayment, danishOrder(), PAYMENT_SETTINGS));

    expect(error.code).toBe("billy_no_invoice");
    // Nothing was sent: a retry with the flow's current settings may put another action there.
    expect(error.madeNothing).toBe(true);
    expect(mock.requests).toEqual([]);
  });
});

describe("Billy sendInvoiceEmail", () => {
  it("has Billy e-mail the invoice to the primary contact person once, with the placeholders filled", async () => {
    const { mock, invoice, writesBefore } = await withInvoice();

    const first = await run(sendInvoiceEmail, danishOrder(), {}, { previous: [invoice] });
    const again = await run(sendInvoiceEmail, danishOrder(), {}, { previous: [invoice] });

    expect(mock.writes().slice(writesBefore)).toEqual([
      {
        method: "POST",
        path: "/invoices/inv-3/emails",
        query: {},
        body: {
          email: {
            contactPersonId: "cp-2",
            emailSubject: "Invoice 1001 for order #1001",
            emailBody:
              "Dear Ane Lund,\n\nThank you for your order #1001. Your invoice 1001 of 248.00 DKK is attached.\n\nKind regards",
          },
        },
      },
    ]);
    expect(first.result).toEqual({
      externalId: "inv-3",
      created: true,
      outputs: { invoiceId: "inv-3", contactPersonId: "cp-2", subject: "Invoice 1001 for order #1001", sentState: "sent" },
    });
    expect(again.result).toMatchObject({ created: false, outputs: { alreadySent: true, sentState: "sent" } });
    expect(mock.state.emails).toHaveLength(1);
  });

  it("e-mails an invoice Billy marks as printed (printed is not sent)", async () => {
    const { mock, invoice, writesBefore } = await withInvoice();
    const billyInvoice = mock.invoice("inv-3");
    if (billyInvoice) billyInvoice.sentState = "printed";

    const { result } = await run(sendInvoiceEmail, danishOrder(), {}, { previous: [invoice] });

    expect(result).toMatchObject({ created: true, outputs: { sentState: "sent" } });
    expect(
      mock
        .writes()
        .slice(writesBefore)
        .map((w) => w.path),
    ).toEqual(["/invoices/inv-3/emails"]);
    expect(mock.state.emails).toHaveLength(1);
  });

  it("adopts an invoice the customer opened or viewed as already sent", async () => {
    for (const sentState of ["opened", "viewed"]) {
      const { mock, invoice, writesBefore } = await withInvoice();
      const billyInvoice = mock.invoice("inv-3");
      if (billyInvoice) billyInvoice.sentState = sentState;

      const { result } = await run(sendInvoiceEmail, danishOrder(), {}, { previous: [invoice] });

      expect(result).toMatchObject({ created: false, outputs: { alreadySent: true, sentState } });
      expect(mock.writes().slice(writesBefore)).toEqual([]);
    }
  });

  it("uses the configured contact person and templates", async () => {
    const { mock, invoice } = await withInvoice();
    const settings = { subject: "{{ invoice.id }}: {{order.total}}", body: "Hi {{customer.name}}", contactPersonId: "cp-2" };

    await run(sendInvoiceEmail, danishOrder(), settings, { previous: [invoice] });

    expect(mock.state.emails[0]).toMatchObject({
      contactPersonId: "cp-2",
      emailSubject: "inv-3: 248.00 DKK",
      emailBody: "Hi Ane Lund",
    });
    expect(mock.requests.some((r) => r.path === "/contactPersons" && "contactId" in r.query)).toBe(false);
  });

  it("refuses a draft invoice, which Billy does not send", async () => {
    const { mock, invoice, writesBefore } = await withInvoice("draft");

    const error = await failure(run(sendInvoiceEmail, danishOrder(), {}, { previous: [invoice] }));

    expect(error.code).toBe("billy_invoice_not_approved");
    expect(mock.writes()).toHaveLength(writesBefore);
  });

  it("refuses a template with an unknown placeholder when the step is saved", () => {
    const parsed = sendInvoiceEmailSettings.safeParse({ subject: "Invoice {{invoice.nummer}}" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/unknown placeholders \{\{invoice\.nummer\}\}/);
  });
});
