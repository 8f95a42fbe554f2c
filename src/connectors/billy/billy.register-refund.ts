/**
 * `registerRefund` (flows on `refunded`, after createCreditNote): the money a refund paid back as a
 * Billy bank payment associated with the credit note this transfer made, which settles it (a Billy
 * credit note is an invoice of `type: "creditNote"`, so it is associated as `invoice:<id>`). Money
 * leaving the cash account is its credit side (`cashSide: "credit"`, `cashAmount` positive, as for a
 * payment; registerPayment's money coming in is `debit`) [Billy's bankPayments reference, not
 * re-confirmed for credit notes]. Modelled on registerPayment: the same gateway → cash account
 * settings, the cash account's currency read from Billy with the order's rate between the two, and
 * what already settles the credit note read first (each bank payment re-read, as registerPayment
 * does), so a retry after a lost answer enters nothing.
 *
 * One credit note may hold several refunds (oneCreditNotePerInvoice). Each run says in `amount` what
 * it accounts for, found as its own or paid now, so that what the others account for is taken off
 * what the credit note shows paid out before a refund counts the rest as its own.
 */
import { OrderlyError } from "../../domain/errors";
import { toDecimalString, toMajorNumber, toMinor } from "../../domain/money";
import type { CanonicalOrder, CanonicalRefund } from "../../domain/order";
import { refundGateway } from "../../domain/payment";
import { type ActionContext, defineAction } from "../contract";
import { billyRequest, changedRecord, envelope } from "./billy.api";
import { getInvoice } from "./billy.documents";
import { cashAccountFor, cashSide, inInvoiceCurrency, paymentsToMake } from "./billy.payment";
import { accountCurrency, existingPayments } from "./billy.register-payment";
import { type BillyConnectionSettings, type BillyCredentials, registerPaymentSettings } from "./billy.settings";

type Ctx = ActionContext<unknown, BillyCredentials, BillyConnectionSettings>;

export const registerRefund = defineAction<typeof registerPaymentSettings, BillyCredentials, BillyConnectionSettings>({
  stages: ["refunded"],
  description:
    "Register the money a refund paid back on the Billy credit note this flow made, as a bank payment out of the cash account of the order's gateway.",
  settings: registerPaymentSettings,
  async run(ctx, { order, refund }) {
    if (!refund)
      throw new OrderlyError("registerRefund needs a refund: use it in a flow on the refunded stage.", {
        errorClass: "validation",
        code: "billy_no_refund",
        madeNothing: true,
      });
    const creditNoteId = creditNoteFromPrevious(ctx.previous);
    if (!creditNoteId) throw noCreditNote(order, refund, "there is no credit note from this flow");
    const base = { creditNoteId, refundId: refund.source.refundId };
    if (refund.total <= 0)
      return {
        externalId: creditNoteId,
        created: false,
        outputs: { ...base, skipped: true, reason: "the refund returned no money", amount: 0 },
      };
    // "(no gateway)": registerPayment's name for an order paid as a whole through no named gateway.
    const gateway = refundGateway(order, refund, { name: "Billy", unnamed: "(no gateway)" });
    const cashAccountId = beforeTheWrite(() => cashAccountFor(gateway, ctx.settings));
    const note = await getInvoice(ctx, creditNoteId, "invoice.balanceModifiers:embed");
    if (!note)
      throw new OrderlyError(`Billy has no credit note ${creditNoteId} (deleted?).`, {
        errorClass: "validation",
        code: "billy_invoice_gone",
        details: { creditNoteId },
        madeNothing: true,
      });
    if (note.state !== "approved")
      throw noCreditNote(
        order,
        refund,
        `its credit note ${creditNoteId} is still a draft, and Billy registers payments on approved ones only`,
      );
    const currency = note.currencyId ?? refund.currency;
    const amount = beforeTheWrite(() => refundIn(refund, order, currency));
    const existing = await existingPayments(ctx, note, currency);
    const paidOut = existing.reduce((sum, p) => sum + p.amount, 0);
    // This refund's own: what the credit note shows paid out, less what the order's other refunds
    // account for on it, and never more than this refund.
    const mine = Math.min(amount, Math.max(0, paidOut - paidByOtherRefunds(ctx, creditNoteId)));
    const open = toMinor(note.balance ?? note.grossAmount ?? 0, currency);
    // One part: this refund, less its own, at most what the credit note has open. Its own is counted
    // on its cash account whichever account it went through: the others are taken off the total.
    const toPay =
      paymentsToMake([{ gateway, cashAccountId, amount }], [{ id: "", cashAccountId, amount: mine }], open)[0]?.amount ?? 0;
    const adoptedPayments = existing.map((p) => p.id);
    if (toPay <= 0)
      return {
        externalId: adoptedPayments[0] ?? creditNoteId,
        created: false,
        outputs: {
          ...base,
          adoptedPayments,
          amount: mine,
          currency,
          reason: `credit note ${note.invoiceNo ?? creditNoteId} already shows ${toDecimalString(paidOut, currency)} ${currency} paid out in Billy`,
        },
      };
    const account = await beforeTheWrite(() => accountCurrency(ctx, cashAccountId, [gateway]));
    const cash = beforeTheWrite(() => cashSide(toPay, currency, account, order, { cashAccountId, gateways: [gateway] }));
    // A cent of the note's currency may convert to 0.00 of the account's: nothing to pay out, as registerPayment skips it.
    if (cash.cashAmount <= 0)
      return {
        externalId: creditNoteId,
        created: false,
        outputs: { ...base, amount: mine, currency, reason: `what is left to pay out converts to 0.00 ${cash.cashCurrency}` },
      };
    const body = {
      entryDate: refund.source.createdAt.slice(0, 10),
      cashAmount: toMajorNumber(cash.cashAmount, cash.cashCurrency),
      cashSide: "credit",
      cashAccountId,
      ...(cash.cashExchangeRate === undefined ? {} : { cashExchangeRate: cash.cashExchangeRate }),
      associations: [{ subjectReference: `invoice:${creditNoteId}` }],
    };
    ctx.mapped({ creditNoteId, gateway, bankPayment: body });
    const res = await billyRequest(ctx, { method: "POST", path: "/bankPayments", json: envelope(ctx, "bankPayment", body) });
    const id = changedRecord<{ id: string }>(res.body, "bankPayments", "bankPayment").id;
    return {
      externalId: id,
      created: true,
      outputs: {
        ...base,
        paymentId: id,
        gateway,
        cashAccountId,
        // What this refund accounts for on the credit note: its own found there plus what it paid now.
        amount: mine + toPay,
        paidNow: toPay,
        currency,
        ...(cash.cashExchangeRate === undefined
          ? {}
          : { cashAmount: cash.cashAmount, cashCurrency: cash.cashCurrency, cashExchangeRate: cash.cashExchangeRate }),
        ...(adoptedPayments.length > 0 ? { adoptedPayments } : {}),
      },
    };
  },
});

/**
 * `work`'s error, marked as coming before anything was written: everything before the bank payment
 * only reads or checks, so a retry with the flow's current settings may move or replace the step.
 */
function beforeTheWrite<T>(work: () => T): T {
  let result: T;
  try {
    result = work();
  } catch (error) {
    throw madeNothing(error);
  }
  return result instanceof Promise ? (result.catch((error: unknown) => Promise.reject(madeNothing(error))) as T) : result;
}

function madeNothing(error: unknown): unknown {
  if (!(error instanceof OrderlyError) || error.madeNothing) return error;
  return new OrderlyError(error.message, {
    errorClass: error.errorClass,
    code: error.code,
    ...(error.details === undefined ? {} : { details: error.details }),
    ...(error.internal === undefined ? {} : { internal: error.internal }),
    ...(error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds }),
    ...(error.cause === undefined ? {} : { cause: error.cause }),
    madeNothing: true,
  });
}

/** The credit note of the latest createCreditNote step of this transfer (never the order's invoice). */
function creditNoteFromPrevious(previous: Ctx["previous"]): string | undefined {
  for (let i = previous.length - 1; i >= 0; i--) {
    const outputs = previous[i]?.outputs;
    if (outputs?.documentType === "creditNote" && typeof outputs.creditNoteId === "string") return outputs.creditNoteId;
  }
  return undefined;
}

function noCreditNote(order: CanonicalOrder, refund: CanonicalRefund, why: string): OrderlyError {
  return new OrderlyError(
    `Refund ${refund.source.refundId} of order ${order.source.orderNumber} was not registered: ${why}. Put createCreditNote with the booked state before registerRefund in the refunded flow (or approve the credit note in Billy), then retry.`,
    // Only reads before it: a retry with the flow's current settings may approve the credit note first.
    { errorClass: "validation", code: "billy_no_approved_credit_note", madeNothing: true },
  );
}

/**
 * The refund's total in the credit note's currency, converted as registerPayment converts a payment
 * (at the order's rate): the refund's own currency stands in for the order's, and a refund in
 * another currency than the order's has no rate to the credit note's.
 */
function refundIn(refund: CanonicalRefund, order: CanonicalOrder, currency: string): number {
  const exchange = refund.currency === order.currency ? order.exchange : undefined;
  return inInvoiceCurrency(refund.total, { ...order, currency: refund.currency, exchange }, currency);
}

/** What registerRefund steps of the order's other transfers account for on this credit note (`amount`). */
function paidByOtherRefunds(ctx: Ctx, creditNoteId: string): number {
  return ctx.history
    .filter(
      (h) => h.target === ctx.connection.id && h.action === "registerRefund" && h.result.outputs.creditNoteId === creditNoteId,
    )
    .reduce((sum, h) => sum + (typeof h.result.outputs.amount === "number" ? h.result.outputs.amount : 0), 0);
}
