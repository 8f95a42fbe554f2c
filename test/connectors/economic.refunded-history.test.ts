/**
 * The order's history as e-conomic steps read it for "the invoice": a refunded flow's bookInvoice
 * books that flow's credit note, which is never the order's invoice to credit again, pay or e-mail;
 * the refunded flow's own steps still find their credit note. And a credit note a retry adopted
 * (booked already) names the invoice it credited, so a refund made again is refused, as is one
 * beside such a credit note of an earlier release, when the order has one invoice it could credit.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ActionResult, StepHistoryEntry } from "../../src/connectors/contract";
import { bookInvoice, createCreditNote, createInvoice, registerRefund, sendInvoiceEmail } from "../../src/connectors/economic";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import type { Stage } from "../../src/domain/stage";
import { createConnection } from "../mail/mail-helpers";
import { createEconomicMock, installEconomicMock } from "../mocks/economic.mock";
import { danishOrder, done, failure, refundOf, run, TS1, writes } from "../mocks/economic.mock.fixtures";
import { createPostmarkMock, installMailMocks } from "../mocks/postmark.mock";

const TENANT = "tenant_1";
const BOOKED = { invoiceState: "booked" };
const REGISTER = { journalNumber: 1, byGateway: { shopify_payments: { contraAccountNumber: 5820 } } };
/** Refund 1 paid back the 49.00 shipping; refund 2 the 199.00 T-shirt: together the 248.00 invoice. */
const shippingRefund = () => refundOf({ lines: [], shipping: 4900, total: 4900 });
const shirtRefund = () =>
  refundOf({ source: { connector: "shopify", orderId: "5001", refundId: "r2", createdAt: "2025-11-12T09:00:00+01:00" } });

/** A completed step of the order's `stage` transfer `transferId`, at `stepIndex`. */
function step(stage: Stage, transferId: string, stepIndex: number, action: string, result: ActionResult): StepHistoryEntry {
  return { ...done(action, result), stage, transferId, stepIndex };
}

/** Paid flow: a booked invoice 1. Refund 1's flow: createCreditNote as a draft, then bookInvoice (credit note 2). */
async function firstRefundBookedByBookInvoice() {
  const mock = createEconomicMock({ products: [TS1] });
  installEconomicMock(mock);
  const refunded = danishOrder({ stage: "refunded" });
  const invoice = await run(createInvoice, danishOrder(), BOOKED, { reference: "orderly-invoice-0" });
  const paid = [step("paid", "t-paid", 0, "createInvoice", invoice.result)];
  const note = await run(createCreditNote, refunded, {}, { refund: shippingRefund(), history: paid, reference: "orderly-r1-0" });
  const booked = await run(bookInvoice, refunded, {}, { refund: shippingRefund(), previous: [note.result] });
  expect(booked.result.outputs.bookedInvoiceNumber).toBe(2);
  const history = [
    ...paid,
    step("refunded", "t-r1", 0, "createCreditNote", note.result),
    step("refunded", "t-r1", 1, "bookInvoice", booked.result),
  ];
  return { mock, refunded, history };
}

describe("e-conomic steps reading the order's invoice past a refunded flow's bookInvoice", () => {
  it("refund 2's credit note credits invoice 1, not refund 1's credit note 2, and is not refused", async () => {
    const { mock, refunded, history } = await firstRefundBookedByBookInvoice();

    const { result } = await run(createCreditNote, refunded, BOOKED, {
      refund: shirtRefund(),
      history,
      reference: "orderly-r2-0",
    });

    expect(result.outputs).toMatchObject({ creditedInvoiceNumber: 1, bookedInvoiceNumber: 3, total: "199.00" });
    expect(mock.state.booked.find((b) => b.bookedInvoiceNumber === 3)?.notes).toMatchObject({
      heading: "Credit note for invoice 1",
    });
  });

  it("refund 2's own flow still finds its credit note for registerRefund and its e-mail", async () => {
    const { refunded, history } = await firstRefundBookedByBookInvoice();
    const postmark = createPostmarkMock({ serverToken: "pm-ok" });
    installMailMocks({ postmark });
    await database(env).insert(tenants).values({ id: TENANT, name: "Lund" }).onConflictDoNothing();
    const mailConnection = await createConnection(TENANT, "postmark", { from: "shop@lund.dk" }, { serverToken: "pm-ok" });
    const refund = shirtRefund();
    const note = await run(createCreditNote, refunded, {}, { refund, history, reference: "orderly-r2-0" });
    const booked = await run(bookInvoice, refunded, {}, { refund, previous: [note.result] });
    const previous = [note.result, booked.result];

    const registered = await run(registerRefund, refunded, REGISTER, { refund, previous, history, reference: "orderly-r2-2" });
    const mailed = await run(
      sendInvoiceEmail,
      refunded,
      { mailConnection },
      { refund, previous, history, reference: "orderly-r2-3" },
    );

    expect(registered.result.outputs).toMatchObject({ creditNoteNumber: 3, amount: "199.00" });
    expect(mailed.result.outputs).toMatchObject({ bookedInvoiceNumber: 3 });
    expect(postmark.state.emails).toHaveLength(1);
  });

  it("a fulfilled-stage sendInvoiceEmail e-mails invoice 1, not the credit note refund 1's flow e-mailed", async () => {
    const { history } = await firstRefundBookedByBookInvoice();
    const postmark = createPostmarkMock({ serverToken: "pm-ok" });
    installMailMocks({ postmark });
    await database(env).insert(tenants).values({ id: TENANT, name: "Lund" }).onConflictDoNothing();
    const mailConnection = await createConnection(TENANT, "postmark", { from: "shop@lund.dk" }, { serverToken: "pm-ok" });
    const creditNoteMail = await run(
      sendInvoiceEmail,
      danishOrder({ stage: "refunded" }),
      { mailConnection },
      { refund: shippingRefund(), previous: [history[1]!.result, history[2]!.result], reference: "orderly-r1-2" },
    );
    expect(creditNoteMail.result.outputs).toMatchObject({ bookedInvoiceNumber: 2 });
    const withMail = [...history, step("refunded", "t-r1", 2, "sendInvoiceEmail", creditNoteMail.result)];

    const { result } = await run(
      sendInvoiceEmail,
      danishOrder({ stage: "fulfilled" }),
      { mailConnection },
      { history: withMail, reference: "orderly-fulfilled-0" },
    );

    expect(result.outputs).toMatchObject({ bookedInvoiceNumber: 1, deduplicated: false });
    expect(postmark.state.emails).toHaveLength(2);
  });
});

describe("e-conomic createCreditNote counts a credit note a retry adopted", () => {
  /** Invoice 1 of 248.00 and refund 1's booked credit note 2 of 248.00, adopted by a retry of its step. */
  async function adoptedFullCredit() {
    const mock = createEconomicMock({ products: [TS1] });
    installEconomicMock(mock);
    const refunded = danishOrder({ stage: "refunded" });
    const invoice = await run(createInvoice, danishOrder(), BOOKED, { reference: "orderly-invoice-0" });
    const paid = [step("paid", "t-paid", 0, "createInvoice", invoice.result)];
    const full = refundOf({ shipping: 4900, total: 24800 });
    await run(createCreditNote, refunded, BOOKED, { refund: full, history: paid, reference: "orderly-r1-0" });
    const retried = await run(createCreditNote, refunded, BOOKED, { refund: full, history: paid, reference: "orderly-r1-0" });
    expect(retried.result).toMatchObject({ created: false, outputs: { bookedInvoiceNumber: 2 } });
    return { mock, refunded, paid, full, adopted: retried.result };
  }

  it("the adopted credit note names invoice 1, and the refund made again in the shop is refused, making nothing", async () => {
    const { mock, refunded, paid, full, adopted } = await adoptedFullCredit();
    expect(adopted.outputs.creditedInvoiceNumber).toBe(1);
    const history = [...paid, step("refunded", "t-r1", 0, "createCreditNote", adopted)];
    const before = writes(mock).length;

    const error = await failure(
      run(createCreditNote, refunded, BOOKED, {
        refund: { ...full, source: { ...full.source, refundId: "r2" } },
        history,
        reference: "orderly-r2-0",
      }),
    );

    expect(error).toMatchObject({ code: "economic_credit_exceeds_invoice", madeNothing: true });
    expect(error.message).toMatch(/already take back 248\.00 DKK \(credit note 2: 248\.00 DKK\)/);
    expect(writes(mock)).toHaveLength(before);
  });

  it("one adopted by an earlier release, without creditedInvoiceNumber, counts when the order has one invoice", async () => {
    const { mock, refunded, paid, full, adopted } = await adoptedFullCredit();
    const { creditedInvoiceNumber: _named, ...older } = adopted.outputs;
    const history = [...paid, step("refunded", "t-r1", 0, "createCreditNote", { ...adopted, outputs: older })];
    const before = writes(mock).length;

    const error = await failure(
      run(createCreditNote, refunded, BOOKED, {
        refund: { ...full, source: { ...full.source, refundId: "r2" } },
        history,
        reference: "orderly-r2-0",
      }),
    );

    expect(error.code).toBe("economic_credit_exceeds_invoice");
    expect(writes(mock)).toHaveLength(before);
  });

  it("one without creditedInvoiceNumber is not counted against invoice 3 when the order has two invoices", async () => {
    const { refunded, paid, full, adopted } = await adoptedFullCredit();
    const { creditedInvoiceNumber: _named, ...older } = adopted.outputs;
    const second = await run(createInvoice, danishOrder(), BOOKED, { reference: "orderly-invoice-1" });
    expect(second.result.outputs.bookedInvoiceNumber).toBe(3);
    const history = [
      ...paid,
      step("refunded", "t-r1", 0, "createCreditNote", { ...adopted, outputs: older }),
      step("fulfilled", "t-fulfilled", 0, "createInvoice", second.result),
    ];

    const { result } = await run(createCreditNote, refunded, BOOKED, {
      refund: { ...full, source: { ...full.source, refundId: "r2" } },
      history,
      reference: "orderly-r2-0",
    });

    expect(result.outputs).toMatchObject({ creditedInvoiceNumber: 3, bookedInvoiceNumber: 4 });
  });
});
