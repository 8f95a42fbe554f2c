import { env } from "cloudflare:test";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createInvoice, registerPayment, sendInvoiceEmail } from "../../src/connectors/economic";
import { database } from "../../src/db/client";
import { mailOutbox, tenants } from "../../src/db/schema";
import { createConnection } from "../mail/mail-helpers";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { calls, danishOrder, done, failure, run, sent, writes } from "../mocks/economic.mock.fixtures";
import { createPostmarkMock, installMailMocks } from "../mocks/postmark.mock";

const PAYMENT_REF = "orderly-payment-0123-1";
const settings = { journalNumber: 1, byGateway: { shopify_payments: { contraAccountNumber: 5820 } } };

/** A booked invoice made by a paid-stage flow, as the order's history shows it. */
async function bookedInvoice(mock: EconomicMock, order = danishOrder(), invoiceSettings: Record<string, unknown> = {}) {
  installEconomicMock(mock);
  const invoice = await run(
    createInvoice,
    order,
    { invoiceState: "booked", ...invoiceSettings },
    { reference: "orderly-invoice-0" },
  );
  return [done("createInvoice", invoice.result)];
}

describe("e-conomic registerPayment", () => {
  it("enters the payment as a customer payment on the gateway's contra account, and adopts it on a re-run", async () => {
    const mock = createEconomicMock();
    const history = await bookedInvoice(mock);

    const { result, mapped } = await run(registerPayment, danishOrder(), settings, { history, reference: PAYMENT_REF });

    const body = {
      accountingYear: { year: "2025" },
      journal: { journalNumber: 1 },
      entries: {
        customerPayments: [
          {
            customer: { customerNumber: 1 },
            amount: -248,
            contraAccount: { accountNumber: 5820 },
            currency: { code: "DKK" },
            date: "2025-11-03",
            text: `Payment #1001 (shopify_payments) ${PAYMENT_REF}`,
            customerInvoice: 1,
          },
        ],
      },
    };
    expect(sent(mock, "POST", "/journals/1/vouchers")).toEqual(body);
    expect(mapped).toEqual([body]);
    expect(result).toEqual({
      externalId: "2025-1",
      created: true,
      outputs: {
        bookedInvoiceNumber: 1,
        voucher: "2025-1",
        amount: "248.00",
        currency: "DKK",
        gateways: ["shopify_payments"],
        partial: false,
      },
    });

    const again = await run(registerPayment, danishOrder(), settings, { history, reference: PAYMENT_REF });
    expect(again.result).toEqual({
      externalId: "2025-1",
      created: false,
      outputs: { bookedInvoiceNumber: 1, voucher: "2025-1" },
    });
    expect(mock.state.vouchers).toHaveLength(1);
  });

  it("a gateway mapped to payment terms the booked invoice carries registers nothing", async () => {
    const mock = createEconomicMock();
    const order = danishOrder({ payments: [{ gateway: "mobilepay_invoice", amount: 24800, status: "paid" }] });
    const history = await bookedInvoice(mock, order, { paymentTermsByGateway: { mobilepay_invoice: 7 } });
    const writesBefore = writes(mock).length;

    const { result } = await run(
      registerPayment,
      order,
      { journalNumber: 1, byGateway: { mobilepay_invoice: { paymentTermsNumber: 7 } } },
      { history },
    );

    expect(result).toMatchObject({ created: false, outputs: { bookedInvoiceNumber: 1 } });
    expect(result.outputs.reason).toMatch(/mobilepay_invoice \(payment terms 7\).*nothing to register/);
    expect(writes(mock)).toHaveLength(writesBefore);
  });

  it("an order paid as a whole through several gateways fails naming them, and enters nothing", async () => {
    const mock = createEconomicMock();
    // Shopify's order webhook: two gateways, no amount for either (100 + 148 of 248 is not in it).
    const order = danishOrder({
      payments: [
        { gateway: "gift_card", status: "paid" },
        { gateway: "shopify_payments", status: "paid" },
      ],
    });
    const history = await bookedInvoice(mock, order, { paymentTermsByGateway: { gift_card: 7, shopify_payments: 7 } });
    const writesBefore = writes(mock).length;
    const both = { journalNumber: 1, byGateway: { ...settings.byGateway, gift_card: { contraAccountNumber: 5840 } } };

    const error = await failure(run(registerPayment, order, both, { history, reference: PAYMENT_REF }));

    expect(error.errorClass).toBe("validation");
    expect(error.code).toBe("payment_split_unknown");
    expect(error.message).toBe(
      "Order #1001 was paid through gift_card and shopify_payments, but the webshop does not say how much each took, so the payment was not registered: enter it by hand in e-conomic, split as the order's transactions in the webshop show.",
    );
    expect(writes(mock)).toHaveLength(writesBefore);

    // Gateways whose payment terms already say "paid" need no split: still nothing to register.
    const terms = {
      journalNumber: 1,
      byGateway: { gift_card: { paymentTermsNumber: 7 }, shopify_payments: { paymentTermsNumber: 7 } },
    };
    const { result } = await run(registerPayment, order, terms, { history });
    expect(result.outputs.reason).toMatch(/nothing to register/);
  });

  it("a partial payment is entered with its amount and reported as partial", async () => {
    const mock = createEconomicMock();
    const history = await bookedInvoice(mock);
    const order = danishOrder({ payments: [{ gateway: "shopify_payments", amount: 10000, status: "partially_paid" }] });

    const { result } = await run(registerPayment, order, settings, { history, reference: PAYMENT_REF });

    const body = sent(mock, "POST", "/journals/1/vouchers") as { entries: { customerPayments: Array<{ amount: number }> } };
    expect(body.entries.customerPayments[0]?.amount).toBe(-100);
    expect(result.outputs).toMatchObject({ amount: "100.00", partial: true });
  });

  it("an unmapped gateway without a default account fails naming the setting; a settled invoice gets nothing more", async () => {
    const mock = createEconomicMock();
    const history = await bookedInvoice(mock);
    const order = danishOrder({ payments: [{ gateway: "quickpay", amount: 24800, status: "paid" }] });

    const error = await failure(run(registerPayment, order, { journalNumber: 1 }, { history }));
    expect(error.details).toEqual({ setting: "byGateway.quickpay" });

    await run(registerPayment, order, { journalNumber: 1, defaultContraAccountNumber: 5830 }, { history, reference: "pay-a" });
    mock.bookJournal(1);
    expect(mock.state.booked[0]?.remainder).toBe(0);
    const later = await run(
      registerPayment,
      order,
      { journalNumber: 1, defaultContraAccountNumber: 5830 },
      { history, reference: "pay-b" },
    );
    expect(later.result.outputs.reason).toBe("invoice 1 is already settled in e-conomic");
    expect(mock.state.requests.filter((r) => r.method === "POST" && r.path === "/journals/1/vouchers")).toHaveLength(1);
  });

  it("a re-run after the journal was booked enters only what the invoice still lacks, never a payment twice", async () => {
    const mock = createEconomicMock();
    const history = await bookedInvoice(mock);
    const part = danishOrder({ payments: [{ gateway: "shopify_payments", amount: 10000, status: "partially_paid" }] });
    await run(registerPayment, part, settings, { history, reference: PAYMENT_REF });
    // The bookkeeper books the journal: the entry leaves it, and the invoice shows 100.00 paid.
    mock.bookJournal(1);
    expect(mock.state.booked[0]?.remainder).toBe(148);
    const again = await run(registerPayment, part, settings, { history, reference: PAYMENT_REF });
    expect(again.result.outputs.reason).toBe("invoice 1 already shows 100.00 DKK paid in e-conomic");
    // The customer pays the rest (an update brings the second payment): only the 148.00 missing goes in.
    const whole = danishOrder({
      payments: [
        { gateway: "shopify_payments", amount: 10000, status: "paid" },
        { gateway: "shopify_payments", amount: 14800, status: "paid" },
      ],
    });
    const rest = await run(registerPayment, whole, settings, { history, reference: PAYMENT_REF });
    expect(rest.result.outputs).toMatchObject({ amount: "148.00", partial: false, alreadySettled: "100.00" });
    const vouchers = mock.state.requests.filter((r) => r.method === "POST" && r.path === "/journals/1/vouchers");
    expect(vouchers).toHaveLength(2);
  });

  it("finds its own entry by its whole reference: step 1's is not taken for step 12's", async () => {
    const mock = createEconomicMock();
    const history = await bookedInvoice(mock);
    await run(registerPayment, danishOrder(), settings, { history, reference: `${PAYMENT_REF}2` });
    const own = await run(registerPayment, danishOrder(), settings, { history, reference: PAYMENT_REF });
    expect(own.result.created).toBe(true);
  });

  it("refuses when no booked invoice exists", async () => {
    const mock = createEconomicMock();
    installEconomicMock(mock);
    const draft = await run(createInvoice, danishOrder());

    const error = await failure(
      run(registerPayment, danishOrder(), settings, { history: [done("createInvoice", draft.result)] }),
    );

    expect(error.code).toBe("economic_no_booked_invoice");
    // Only reads before it: a retry with the flow's current settings may put bookInvoice there.
    expect(error.madeNothing).toBe(true);
    expect(calls(mock).filter((c) => c.includes("journals"))).toEqual([]);
  });
});

describe("e-conomic sendInvoiceEmail", () => {
  it("sends the booked invoice's PDF through Orderly's mail, once per step reference", async () => {
    const mock = createEconomicMock();
    const history = await bookedInvoice(mock);
    const reference = `orderly-mail-${crypto.randomUUID()}-2`;

    // Deployed (the test env), the step needs a mail connection (economic.invoice-mail-provider.test.ts).
    const postmark = createPostmarkMock({ serverToken: "pm-ok" });
    installMailMocks({ postmark });
    await database(env).insert(tenants).values({ id: "tenant_1", name: "Lund" }).onConflictDoNothing();
    const mail = {
      mailConnection: await createConnection("tenant_1", "postmark", { from: "shop@lund.dk" }, { serverToken: "pm-ok" }),
    };
    const first = await run(sendInvoiceEmail, danishOrder(), mail, { history, reference });

    expect(calls(mock)).toContain("GET /invoices/booked/1/pdf");
    expect(first.result).toMatchObject({
      created: true,
      outputs: { bookedInvoiceNumber: 1, provider: "postmark", deduplicated: false, to: "ane@example.dk" },
    });
    expect(postmark.state.emails).toHaveLength(1);
    const row = await database(env)
      .select()
      .from(mailOutbox)
      .where(and(eq(mailOutbox.tenantId, "tenant_1"), eq(mailOutbox.idempotencyKey, reference)))
      .get();
    expect(row).toMatchObject({
      status: "sent",
      toAddresses: ["ane@example.dk"],
      subject: "Invoice 1 for order #1001",
      text: "Dear Ane Lund,\n\nThank you for your order #1001. Attached is invoice 1 of 248.00 DKK.\n",
    });
    expect(row?.attachments).toEqual([expect.objectContaining({ filename: "invoice-1.pdf", contentType: "application/pdf" })]);
    const stored = await env.BLOBS.get(row!.attachments![0]!.blobKey);
    expect((await stored!.text()).startsWith("%PDF-")).toBe(true);
    expect(first.exchanges.find((e) => e.request.url.endsWith("/pdf"))?.request.headers["x-appsecrettoken"]).toBe("[redacted]");

    const again = await run(sendInvoiceEmail, danishOrder(), mail, { history, reference });
    expect(again.result).toMatchObject({ created: false, outputs: { deduplicated: true, mailId: first.result.outputs.mailId } });
    expect(postmark.state.emails).toHaveLength(1);
  });

  it("refuses an unknown placeholder when the step is saved", () => {
    const parsed = sendInvoiceEmail.settings.safeParse({ subject: "Invoice {{invoice.nummer}}" });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/invoice\.nummer/);
  });
});
