/**
 * `registerRefund` (flows on `refunded`, after createCreditNote): the money a refund paid back as a
 * Billy bank payment associated with the credit note this transfer made, which settles it (a Billy
 * credit note is an invoice of `type: "creditNote"`, so it is associated as `invoice:<id>`). Money
 * leaving the cash account is its credit side (`cashSide: "credit"`, `cashAmount` positive, as for a
 * payment; registerPayment's money coming in is `debit`) [Billy's bankPayments reference, not
 * re-confirmed for credit notes]. Modelled on registerPayment: the same gateway → cash account
 * settings, the cash account's currency read from Billy with the order's rate between the two, and
 * what already settles the credit note read first, so a retry after a lost answer enters nothing.
 */
import { convertMinor } from "../../domain/accounting/exchange";
import { OrderlyError } from "../../domain/errors";
import { toDecimalString, toMajorNumber, toMinor } from "../../domain/money";
import type { CanonicalOrder, CanonicalRefund } from "../../domain/order";
import { gatewaysOf, paidAsAWhole, receivedPayments } from "../../domain/payment";
import { type ActionContext, defineAction } from "../contract";
import { type BillyContext, billyRequest, changedRecord, envelope, settingsError } from "./billy.api";
import { getInvoice } from "./billy.documents";
import type { BillyInvoice } from "./billy.invoice";
import { baseCurrency } from "./billy.organization";
import { cashAccountFor, cashSide } from "./billy.payment";
import { type BillyConnectionSettings, type BillyCredentials, registerPaymentSettings } from "./billy.settings";

interface BillyAccount {
  id: string;
  currencyId?: string | null;
}

type Ctx = ActionContext<unknown, BillyCredentials, BillyConnectionSettings>;

export const registerRefund = defineAction<typeof registerPaymentSettings, BillyCredentials, BillyConnectionSettings>({
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
        outputs: { ...base, skipped: true, reason: "the refund returned no money" },
      };
    const gateway = refundGateway(order, refund);
    const cashAccountId = cashAccountFor(gateway, ctx.settings);
    const note = await getInvoice(ctx, creditNoteId, "invoice.balanceModifiers:embed");
    if (!note)
      throw settingsError(`Billy has no credit note ${creditNoteId} (deleted?).`, "billy_invoice_gone", { creditNoteId });
    if (note.state !== "approved")
      throw noCreditNote(
        order,
        refund,
        `its credit note ${creditNoteId} is still a draft, and Billy registers payments on approved ones only`,
      );
    const currency = note.currencyId ?? refund.currency;
    const amount = refundIn(refund, order, currency);
    const paidOut = paidOutOn(note, currency);
    // What this refund already paid out: all that was, less what the order's other refunds paid out
    // on the same credit note (one merged note per invoice holds several refunds).
    const mine = Math.max(0, paidOut.total - paidByOtherRefunds(ctx, creditNoteId));
    const open = toMinor(note.balance ?? note.grossAmount ?? 0, currency);
    const toPay = Math.min(amount - mine, open);
    if (toPay <= 0)
      return {
        externalId: paidOut.ids[0] ?? creditNoteId,
        created: false,
        outputs: {
          ...base,
          adoptedPayments: paidOut.ids,
          reason: `credit note ${note.invoiceNo ?? creditNoteId} already shows ${toDecimalString(paidOut.total, currency)} ${currency} paid out in Billy`,
        },
      };
    const accountCurrency = await cashAccountCurrency(ctx, cashAccountId, gateway);
    const cash = cashSide(toPay, currency, accountCurrency, order, { cashAccountId, gateways: [gateway] });
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
        amount: toPay,
        currency,
        ...(cash.cashExchangeRate === undefined
          ? {}
          : { cashAmount: cash.cashAmount, cashCurrency: cash.cashCurrency, cashExchangeRate: cash.cashExchangeRate }),
        ...(paidOut.ids.length > 0 ? { adoptedPayments: paidOut.ids } : {}),
      },
    };
  },
});

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
 * The gateway the refund went back through: the webshop's refund names none, so it is the order's
 * gateway when exactly one took money (as registerPayment counts them). With several, the share of
 * each is unknown, and booking it all on one would misstate both accounts.
 */
export function refundGateway(order: CanonicalOrder, refund: CanonicalRefund): string {
  const paid = receivedPayments(order).filter((p) => p.amount > 0);
  const gateways = paid.length > 0 ? [...new Set(paid.map((p) => p.gateway))] : paidAsAWhole(order) ? gatewaysOf(order) : [];
  if (gateways.length === 1 && gateways[0] !== undefined) return gateways[0];
  // Paid as a whole with no gateway named: registerPayment books it on the default cash account too.
  if (gateways.length === 0 && paidAsAWhole(order)) return "(no gateway)";
  const why =
    gateways.length === 0
      ? "the order shows no payment, so there is no gateway the money went back through"
      : `the order was paid through ${gateways.join(" and ")}, and the webshop does not say which of them paid the refund back`;
  throw new OrderlyError(
    `Refund ${refund.source.refundId} of order ${order.source.orderNumber} was not registered: ${why}. Enter the refund payment by hand in Billy.`,
    { errorClass: "validation", code: "refund_gateway_unknown", details: { gateways }, madeNothing: true },
  );
}

/** The refund's total in the credit note's currency: converted at the order's rate when the note was converted. */
function refundIn(refund: CanonicalRefund, order: CanonicalOrder, currency: string): number {
  if (refund.currency === currency) return refund.total;
  if (refund.currency === order.currency && order.exchange?.shopCurrency === currency)
    return convertMinor(refund.total, refund.currency, currency, order.exchange.rate, "half-up");
  throw new OrderlyError(
    `The Billy credit note is in ${currency} but the refund was paid back in ${refund.currency}, with no rate between them.`,
    { errorClass: "validation", code: "billy_payment_currency", madeNothing: true },
  );
}

/** Bank payments settling the credit note (its balance modifiers), in minor units of its currency. */
function paidOutOn(note: BillyInvoice, currency: string): { total: number; ids: string[] } {
  let total = 0;
  const ids = new Set<string>();
  for (const m of note.balanceModifiers ?? []) {
    if (m.isVoided || !m.modifierReference?.startsWith("bankPayment:")) continue;
    ids.add(m.modifierReference.slice("bankPayment:".length));
    if (typeof m.amount === "number") total += Math.abs(toMinor(m.amount.toFixed(6), currency));
  }
  return { total, ids: [...ids] };
}

/** What registerRefund steps of the order's other transfers paid out on this credit note. */
function paidByOtherRefunds(ctx: Ctx, creditNoteId: string): number {
  return ctx.history
    .filter(
      (h) => h.target === ctx.connection.id && h.action === "registerRefund" && h.result.outputs.creditNoteId === creditNoteId,
    )
    .reduce((sum, h) => sum + (typeof h.result.outputs.amount === "number" ? h.result.outputs.amount : 0), 0);
}

/** The cash account's currency as registerPayment reads it: its own, or the company's base currency. */
async function cashAccountCurrency(ctx: BillyContext, accountId: string, gateway: string): Promise<string> {
  const res = await billyRequest(ctx, { method: "GET", path: `/accounts/${encodeURIComponent(accountId)}`, accept: [404] });
  if (res.status === 404)
    throw settingsError(
      `Billy has no account ${accountId}, the cash account for "${gateway}": correct byGateway (or defaultCashAccountId) in the step's settings.`,
      "billy_cash_account_missing",
      { cashAccountId: accountId },
    );
  const account = changedRecord<BillyAccount>(res.body, "accounts", "account");
  return account.currencyId ?? (await baseCurrency(ctx));
}
