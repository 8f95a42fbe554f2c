/**
 * sendInvoiceEmail sends an order's invoice once per connection, whichever flow's step gets to it:
 * a step that finds the same booked invoice e-mailed by another transfer of the order (the step
 * moved from the paid flow to the fulfilled one, or in both) sends nothing and says where it went.
 * On the refunded and cancelled stages it e-mails only what its own flow booked (the credit note),
 * never the order's original invoice from the history.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { StepHistoryEntry } from "../../src/connectors/contract";
import { createCreditNote, createInvoice, sendInvoiceEmail } from "../../src/connectors/economic";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import { createConnection, outboxRow } from "../mail/mail-helpers";
import { createEconomicMock, type EconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { calls, danishOrder, done, failure, refundOf, run, TS1 } from "../mocks/economic.mock.fixtures";
import { createPostmarkMock, installMailMocks, type PostmarkMock } from "../mocks/postmark.mock";

const TENANT = "tenant_1";

async function setup(): Promise<{
  mock: EconomicMock;
  postmark: PostmarkMock;
  mailConnection: string;
  paid: StepHistoryEntry[];
}> {
  const mock = createEconomicMock({ products: [TS1] });
  installEconomicMock(mock);
  const postmark = createPostmarkMock({ serverToken: "pm-ok" });
  installMailMocks({ postmark });
  await database(env).insert(tenants).values({ id: TENANT, name: "Lund" }).onConflictDoNothing();
  const mailConnection = await createConnection(TENANT, "postmark", { from: "shop@lund.dk" }, { serverToken: "pm-ok" });
  const invoice = await run(createInvoice, danishOrder(), { invoiceState: "booked" }, { reference: "orderly-invoice-0" });
  return { mock, postmark, mailConnection, paid: [done("createInvoice", invoice.result)] };
}

const pdfCalls = (mock: EconomicMock) => calls(mock).filter((c) => c.endsWith("/pdf"));
const reference = () => `orderly-${crypto.randomUUID()}-1`;

describe("sendInvoiceEmail in more than one flow of an order", () => {
  it("a fulfilled-stage step finds the invoice the paid-stage step e-mailed, sends nothing and names where it went", async () => {
    const { mock, postmark, mailConnection, paid } = await setup();
    const first = await run(sendInvoiceEmail, danishOrder(), { mailConnection }, { history: paid, reference: reference() });
    expect(postmark.state.emails).toHaveLength(1);
    const emailed: StepHistoryEntry = {
      transferId: "t-paid",
      stage: "paid",
      occurrence: "",
      stepIndex: 1,
      target: "conn_economic",
      action: "sendInvoiceEmail",
      result: first.result,
    };

    const fulfilledRef = reference();
    const again = await run(
      sendInvoiceEmail,
      danishOrder({ stage: "fulfilled" }),
      { mailConnection },
      { history: [...paid, emailed], reference: fulfilledRef },
    );

    expect(postmark.state.emails).toHaveLength(1);
    expect(pdfCalls(mock)).toHaveLength(1);
    expect(await outboxRow(TENANT, fulfilledRef)).toBeUndefined();
    expect(again.result).toMatchObject({
      externalId: first.result.externalId,
      created: false,
      outputs: {
        bookedInvoiceNumber: 1,
        mailId: first.result.outputs.mailId,
        deduplicated: true,
        sentBy: { transferId: "t-paid", stage: "paid", stepIndex: 1 },
      },
    });
    expect(again.result.outputs.reason).toBe(
      `Invoice 1 was already e-mailed to ane@example.dk by step 2 of the order's paid-stage transfer t-paid (mail ${String(first.result.outputs.mailId)}); it is not sent again.`,
    );
  });

  it("an e-mail step on another e-conomic connection is other books: it does not count", async () => {
    const { postmark, mailConnection, paid } = await setup();
    const elsewhere = done(
      "sendInvoiceEmail",
      { externalId: "pm-x", created: true, outputs: { bookedInvoiceNumber: 1, mailId: "mail_other" } },
      "conn_other_economic",
    );

    await run(sendInvoiceEmail, danishOrder(), { mailConnection }, { history: [...paid, elsewhere], reference: reference() });

    expect(postmark.state.emails).toHaveLength(1);
  });
});

describe("sendInvoiceEmail on the refunded stage", () => {
  it("with the refund's credit note still a draft, fails with the reason and does not e-mail the original invoice", async () => {
    const { mock, postmark, mailConnection, paid } = await setup();
    const refund = refundOf();
    const refunded = danishOrder({ stage: "refunded" });
    const note = await run(
      createCreditNote,
      refunded,
      { invoiceState: "draft" },
      { refund, history: paid, reference: "orderly-r-0" },
    );

    const error = await failure(
      run(
        sendInvoiceEmail,
        refunded,
        { mailConnection },
        { refund, history: paid, previous: [note.result], reference: reference() },
      ),
    );

    expect(error).toMatchObject({ errorClass: "validation", code: "economic_no_booked_credit_note", madeNothing: true });
    expect(error.message).toBe(
      `The credit note for refund r1 of order #1001 is still a draft (draft invoice ${String(note.result.outputs.draftInvoiceNumber)}), and only a booked one has its final PDF. The order's invoice is not e-mailed again for a refund. Book the credit note in this flow (createCreditNote with the booked state, or a bookInvoice step before this one), or remove this step from the refunded flow.`,
    );
    expect(postmark.state.emails).toEqual([]);
    expect(pdfCalls(mock)).toEqual([]);
  });

  it("with no credit note in its flow at all, it does not fall back to the original invoice either", async () => {
    const { postmark, mailConnection, paid } = await setup();
    const error = await failure(
      run(sendInvoiceEmail, danishOrder(), { mailConnection }, { refund: refundOf(), history: paid, reference: reference() }),
    );
    expect(error.code).toBe("economic_no_booked_credit_note");
    expect(error.message).toMatch(/^There is no booked credit note from this flow to e-mail for refund r1 of order #1001\./);
    expect(postmark.state.emails).toEqual([]);
  });

  it("e-mails the booked credit note its own flow made", async () => {
    const { mock, postmark, mailConnection, paid } = await setup();
    const refund = refundOf();
    const refunded = danishOrder({ stage: "refunded" });
    const note = await run(
      createCreditNote,
      refunded,
      { invoiceState: "booked" },
      { refund, history: paid, reference: "orderly-r-0" },
    );

    const sent = await run(
      sendInvoiceEmail,
      refunded,
      { mailConnection },
      { refund, history: paid, previous: [note.result], reference: reference() },
    );

    expect(sent.result).toMatchObject({ created: true, outputs: { bookedInvoiceNumber: 2 } });
    expect(pdfCalls(mock)).toEqual(["GET /invoices/booked/2/pdf"]);
    expect(postmark.state.emails).toHaveLength(1);
  });
});

describe("sendInvoiceEmail on the cancelled stage", () => {
  it("does not e-mail the cancelled order's invoice from the history", async () => {
    const { mock, postmark, mailConnection, paid } = await setup();
    const error = await failure(
      run(sendInvoiceEmail, danishOrder({ stage: "cancelled" }), { mailConnection }, { history: paid, reference: reference() }),
    );
    expect(error).toMatchObject({ errorClass: "validation", code: "economic_cancelled_nothing_to_email", madeNothing: true });
    expect(error.message).toContain("Remove this step from the cancelled flow.");
    expect(postmark.state.emails).toEqual([]);
    expect(pdfCalls(mock)).toEqual([]);
  });
});
