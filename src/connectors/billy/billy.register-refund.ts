/**
 * `registerRefund` (flows on `refunded`, after createCreditNote): the money a refund paid back as a
 * Billy bank payment associated with the credit note this transfer made, which settles it (a Billy
 * credit note is an invoice of `type: "creditNote"`, so it is associated as `invoice:<id>`). Money
 * leaving the cash account is its credit side (`cashSide: "credit"`, `cashAmount` positive, as for a
 * payment; registerPayment's money coming in is `debit`) [Billy's bankPayments reference, not
 * re-confirmed for credit notes]. Modelled on registerPayment: the same gateway → cash account
 * settings, the cash account's currency read from Billy with the order's rate between the two, and
 * what already settles the credit note read first (each bank payment re-read, as registerPayment
 * does), so a retry after a lost answer enters nothing. A refund that states its split over two or
 * more gateways (a gift card and a card) gets a bank payment per cash account (registerPayment's
 * paymentsToMake), every one worked out before the first is made; any other goes back through the
 * order's one gateway exactly as before refunds were split (domain/payment.ts). A split refund
 * larger than what the credit note has open is cut off its largest payment first, and the result
 * says so (`beyondCreditNote`, `cut`).
 *
 * One credit note may hold several refunds (oneCreditNotePerInvoice). Each run says in `amount` what
 * it accounts for, found as its own or paid now, so that what the others account for is taken off
 * what the credit note shows paid out before a refund counts the rest as its own.
 */
import { convertParts } from "../../domain/accounting/exchange";
import { OrderlyError } from "../../domain/errors";
import { toDecimalString, toMajorNumber, toMinor } from "../../domain/money";
import type { CanonicalOrder, CanonicalRefund } from "../../domain/order";
import { capLargestFirst, type RefundPayment, refundPayments } from "../../domain/payment";
import { type ActionContext, defineAction } from "../contract";
import { billyRequest, changedRecord, envelope } from "./billy.api";
import { getInvoice } from "./billy.documents";
import {
  type CashSide,
  cashAccountFor,
  cashSide,
  type ExistingPayment,
  inInvoiceCurrency,
  type PaymentPart,
  type PaymentToMake,
  paymentsToMake,
} from "./billy.payment";
import { accountCurrency, existingPayments } from "./billy.register-payment";
import { type BillyConnectionSettings, type BillyCredentials, registerPaymentSettings } from "./billy.settings";

type Ctx = ActionContext<unknown, BillyCredentials, BillyConnectionSettings>;

export const registerRefund = defineAction<typeof registerPaymentSettings, BillyCredentials, BillyConnectionSettings>({
  stages: ["refunded"],
  description:
    "Register the money a refund paid back on the Billy credit note this flow made, as a bank payment out of the cash account of each gateway it went back through.",
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
    const split = refundPayments(order, refund, { name: "Billy", unnamed: "(no gateway)" });
    const accounts = beforeTheWrite(() => split.map((p) => cashAccountFor(p.gateway, ctx.settings)));
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
    const parts = beforeTheWrite(() => partsIn(split, accounts, refund, order, currency));
    const amount = parts.reduce((sum, p) => sum + p.amount, 0);
    const existing = await existingPayments(ctx, note, currency);
    const paidOut = existing.reduce((sum, p) => sum + p.amount, 0);
    // This refund's own: what the credit note shows paid out, less what the order's other refunds
    // account for on it, and never more than this refund.
    const mine = Math.min(amount, Math.max(0, paidOut - paidByOtherRefunds(ctx, creditNoteId)));
    const open = toMinor(note.balance ?? note.grossAmount ?? 0, currency);
    // Per cash account: this refund's full share, cut to what the credit note had open before this
    // refund's own payments (so every run, first or retry, cuts the same account by the same amount),
    // less its own found there (registerPayment's count, so a retry after a lost answer pays out only
    // the rest, never more than is open now).
    const shares = paymentsToMake(parts, [], Number.POSITIVE_INFINITY);
    const { kept, cut } = paymentsWithinOpen(shares, open + mine);
    const { own, countedAs } = ownByAccount(kept, existing, mine, {
      refund,
      order,
      currency,
      creditNote: String(note.invoiceNo ?? creditNoteId),
    });
    const toMake = kept.flatMap((k) => {
      const left = k.amount - own.filter((o) => o.cashAccountId === k.cashAccountId).reduce((sum, o) => sum + o.amount, 0);
      return left > 0 ? [{ ...k, amount: left }] : [];
    });
    const beyond = cut.reduce((sum, p) => sum + p.amount, 0);
    // Said in every result of a split refund: which payment was cut, and by how much, for a
    // bookkeeper to check; and this refund's money found on no account of its plan, counted as the one
    // account still short. A refund through one gateway keeps the outputs it always had.
    const isSplit = split.length > 1;
    const cutOff = {
      ...(isSplit && beyond > 0 ? { beyondCreditNote: beyond, cut } : {}),
      ...(isSplit && countedAs ? { settledCountedAs: countedAs } : {}),
    };
    const toPay = toMake.reduce((sum, p) => sum + p.amount, 0);
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
          ...cutOff,
          reason: `credit note ${note.invoiceNo ?? creditNoteId} already shows ${toDecimalString(paidOut, currency)} ${currency} paid out in Billy`,
        },
      };
    // Every cash side is worked out before the first bank payment, so a bad account makes nothing.
    const currencies = new Map<string, string>();
    const planned: Array<(typeof toMake)[number] & { cash: CashSide }> = [];
    for (const part of toMake) {
      const account =
        currencies.get(part.cashAccountId) ??
        (await beforeTheWrite(() => accountCurrency(ctx, part.cashAccountId, part.gateways)));
      currencies.set(part.cashAccountId, account);
      const cash = beforeTheWrite(() => cashSide(part.amount, currency, account, order, part));
      // A cent of the note's currency may convert to 0.00 of the account's: nothing to pay out, as registerPayment skips it.
      if (cash.cashAmount > 0) planned.push({ ...part, cash });
    }
    if (planned.length === 0)
      return {
        externalId: creditNoteId,
        created: false,
        outputs: {
          ...base,
          amount: mine,
          currency,
          ...cutOff,
          reason: `what is left to pay out converts to 0.00 ${toMake.map((p) => currencies.get(p.cashAccountId)).join(", ")}`,
        },
      };
    const bodies = planned.map(({ cashAccountId, cash }) => ({
      entryDate: refund.source.createdAt.slice(0, 10),
      cashAmount: toMajorNumber(cash.cashAmount, cash.cashCurrency),
      cashSide: "credit",
      cashAccountId,
      ...(cash.cashExchangeRate === undefined ? {} : { cashExchangeRate: cash.cashExchangeRate }),
      associations: [{ subjectReference: `invoice:${creditNoteId}` }],
    }));
    const gateways = planned.flatMap((p) => p.gateways);
    ctx.mapped(
      bodies.length === 1
        ? { creditNoteId, gateway: gateways.join(", "), bankPayment: bodies[0] }
        : { creditNoteId, bankPayments: bodies },
    );
    const made: Array<{ id: string; gateways: string[]; cashAccountId: string; amount: number; cash: CashSide }> = [];
    for (const [i, body] of bodies.entries()) {
      const res = await billyRequest(ctx, { method: "POST", path: "/bankPayments", json: envelope(ctx, "bankPayment", body) });
      const { cash, gateways: through, cashAccountId, amount: part } = planned[i] as (typeof planned)[number];
      made.push({
        id: changedRecord<{ id: string }>(res.body, "bankPayments", "bankPayment").id,
        gateways: through,
        cashAccountId,
        amount: part,
        cash,
      });
    }
    const paidNow = made.reduce((sum, p) => sum + p.amount, 0);
    const converted = (cash: CashSide) =>
      cash.cashExchangeRate === undefined
        ? {}
        : { cashAmount: cash.cashAmount, cashCurrency: cash.cashCurrency, cashExchangeRate: cash.cashExchangeRate };
    const [only] = made;
    return {
      externalId: only?.id ?? creditNoteId,
      created: true,
      outputs: {
        ...base,
        ...(made.length === 1 && only
          ? { paymentId: only.id, gateway: only.gateways.join(", "), cashAccountId: only.cashAccountId }
          : {
              payments: made.map((p) => ({
                id: p.id,
                gateways: p.gateways,
                cashAccountId: p.cashAccountId,
                amount: p.amount,
                ...converted(p.cash),
              })),
            }),
        // What this refund accounts for on the credit note: its own found there plus what it paid now.
        amount: mine + paidNow,
        paidNow,
        currency,
        ...(made.length === 1 && only ? converted(only.cash) : {}),
        ...(adoptedPayments.length > 0 ? { adoptedPayments } : {}),
        ...cutOff,
      },
    };
  },
});

/** The per-account payments within `open` (minor units), the largest cut first. */
function paymentsWithinOpen(payments: PaymentToMake[], open: number): { kept: PaymentToMake[]; cut: PaymentToMake[] } {
  return capLargestFirst(payments, open, {
    amount: (p) => p.amount,
    key: (p) => p.cashAccountId,
    withAmount: (p, amount) => ({ ...p, amount }),
  });
}

/**
 * Each gateway's share in the credit note's currency with its cash account, converted as a running
 * total (as registerPayment's plan converts), so the shares add up to the converted whole.
 */
function partsIn(
  split: readonly RefundPayment[],
  accounts: readonly string[],
  refund: CanonicalRefund,
  order: CanonicalOrder,
  currency: string,
): PaymentPart[] {
  const converted = convertParts(
    split.map((p) => p.amount),
    (through) => refundIn(through, refund, order, currency),
  );
  return split.map((p, i) => ({ gateway: p.gateway, cashAccountId: accounts[i] as string, amount: converted[i] as number }));
}

/**
 * This refund's own payments (`mine`, minor units) per cash account, within each account's share
 * (`parts`): what the credit note holds on each of its cash accounts first. The rest sits elsewhere
 * (an account the gateway was mapped to before, or paid by hand beyond an account's share): with
 * one account still short it is counted as that account's (`countedAs`, which the result names),
 * as a single gateway's always was; with several, it covers them when it is at least all they
 * miss (the refund was paid out in full before its gateways were remapped), and otherwise which of
 * them it covers is unknown, so the step stops before writing rather than hand it to whichever
 * comes first.
 */
function ownByAccount(
  parts: readonly PaymentToMake[],
  existing: readonly ExistingPayment[],
  mine: number,
  about: { refund: CanonicalRefund; order: CanonicalOrder; currency: string; creditNote: string },
): { own: ExistingPayment[]; countedAs?: { cashAccountId: string; gateways: string[]; amount: number } } {
  const wanted = new Map<string, { amount: number; gateways: string[] }>();
  for (const p of parts) {
    const entry = wanted.get(p.cashAccountId) ?? { amount: 0, gateways: [] };
    wanted.set(p.cashAccountId, { amount: entry.amount + p.amount, gateways: [...entry.gateways, ...p.gateways] });
  }
  const own = new Map<string, number>();
  let left = mine;
  for (const [account, { amount }] of wanted) {
    const there = existing.filter((e) => e.cashAccountId === account).reduce((sum, e) => sum + e.amount, 0);
    const taken = Math.max(0, Math.min(amount, there, left));
    own.set(account, taken);
    left -= taken;
  }
  const listed = (): ExistingPayment[] => [...own].map(([cashAccountId, amount]) => ({ id: "", cashAccountId, amount }));
  if (left <= 0) return { own: listed() };
  const short = [...wanted].flatMap(([cashAccountId, { amount, gateways }]) => {
    const missing = amount - (own.get(cashAccountId) ?? 0);
    return missing > 0 ? [{ cashAccountId, gateways, missing }] : [];
  });
  const [only] = short;
  if (short.length === 1 && only) {
    const amount = Math.min(left, only.missing);
    own.set(only.cashAccountId, (own.get(only.cashAccountId) ?? 0) + amount);
    return { own: listed(), countedAs: { cashAccountId: only.cashAccountId, gateways: only.gateways, amount } };
  }
  if (short.length === 0) return { own: listed() };
  // Enough of this refund's money sits elsewhere to cover every account still short (its gateways
  // were given other accounts after it was paid out): nothing is missing, whoever's it was.
  if (left >= short.reduce((sum, a) => sum + a.missing, 0)) {
    for (const a of short) own.set(a.cashAccountId, (own.get(a.cashAccountId) ?? 0) + a.missing);
    return { own: listed() };
  }
  throw ownUnplaced(about, left, existing, [...wanted.keys()], short);
}

/** This refund's money paid out somewhere its plan does not say, with several accounts still short. */
function ownUnplaced(
  about: { refund: CanonicalRefund; order: CanonicalOrder; currency: string; creditNote: string },
  unplaced: number,
  existing: readonly ExistingPayment[],
  planned: readonly string[],
  short: ReadonlyArray<{ cashAccountId: string; gateways: string[]; missing: number }>,
): OrderlyError {
  const { refund, order, currency, creditNote } = about;
  const money = (minor: number) => `${toDecimalString(minor, currency)} ${currency}`;
  const elsewhere = new Map<string, number>();
  for (const e of existing)
    if (!planned.includes(e.cashAccountId)) elsewhere.set(e.cashAccountId, (elsewhere.get(e.cashAccountId) ?? 0) + e.amount);
  const where =
    elsewhere.size > 0
      ? ` (the credit note has ${[...elsewhere].map(([account, minor]) => `${money(minor)} paid out of ${account}`).join(" and ")}, an account the step's settings no longer map this refund's gateways to)`
      : "";
  const each = short.map((s) => `${s.cashAccountId} (${s.gateways.join(", ")}) ${money(s.missing)}`);
  return new OrderlyError(
    `Refund ${refund.source.refundId} of order ${order.source.orderNumber} was not registered: credit note ${creditNote} shows ${money(unplaced)} of this refund paid out beyond what its cash accounts hold${where}, and ${each.join(" and ")} are still short; Billy does not say which of them that money covers. Check the credit note's payments in Billy, pay out by hand only what is missing (or map the gateway back to the account it was paid from), then retry.`,
    {
      errorClass: "validation",
      code: "billy_refund_paid_unattributed",
      details: {
        unplaced: toDecimalString(unplaced, currency),
        currency,
        elsewhere: [...elsewhere].map(([cashAccountId, minor]) => ({ cashAccountId, amount: toDecimalString(minor, currency) })),
        short: short.map((s) => ({
          cashAccountId: s.cashAccountId,
          gateways: s.gateways,
          amount: toDecimalString(s.missing, currency),
        })),
      },
      madeNothing: true,
    },
  );
}

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
 * An amount of the refund in the credit note's currency, converted as registerPayment converts a payment
 * (at the order's rate): the refund's own currency stands in for the order's, and a refund in
 * another currency than the order's has no rate to the credit note's.
 */
function refundIn(amount: number, refund: CanonicalRefund, order: CanonicalOrder, currency: string): number {
  const exchange = refund.currency === order.currency ? order.exchange : undefined;
  return inInvoiceCurrency(amount, { ...order, currency: refund.currency, exchange }, currency);
}

/** What registerRefund steps of the order's other transfers account for on this credit note (`amount`). */
function paidByOtherRefunds(ctx: Ctx, creditNoteId: string): number {
  return ctx.history
    .filter(
      (h) => h.target === ctx.connection.id && h.action === "registerRefund" && h.result.outputs.creditNoteId === creditNoteId,
    )
    .reduce((sum, h) => sum + (typeof h.result.outputs.amount === "number" ? h.result.outputs.amount : 0), 0);
}
