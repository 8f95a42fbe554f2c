/**
 * `registerRefund` (flows on `refunded`, after createCreditNote): enters the money a refund paid
 * back as a customer payment in a journal against the booked credit note this transfer made, so
 * the customer no longer shows as owed the refund once a bookkeeper books the journal. Modelled on
 * registerPayment: the same settings (journal, gateway → contra account or payment terms), the same
 * search for an earlier entry by the step's reference before writing, and the credit note's
 * `remainder` for what was booked meanwhile. A refund that states its split per gateway (a gift
 * card and a card) gets one line per gateway in one voucher; one that does not goes back through
 * the order's one gateway (domain/payment.ts). A gateway mapped to payment terms enters nothing only
 * when the booked credit note carries those terms (and, beside gateways on accounts, shows its share
 * settled); the amount is never more than the note has open. What the note shows settled is one
 * total: with several lines it is attributed per gateway from the step's earlier result, or the step
 * fails for hand entry rather than put one gateway's money on another's account.
 *
 * Sign: the opposite of registerPayment's. A payment is entered negative (a credit to the customer);
 * money paid out debits the customer, so the refund is entered positive, bringing the credit note's
 * negative remainder to 0. `customerInvoice` is the credit note's booked number: e-conomic's entry
 * schema describes it as a customer invoice number, and a credit note is a booked invoice there
 * (with a negative total) numbered in the same series [not confirmed for credit notes by e-conomic].
 */
import { z } from "zod";
import { OrderlyError } from "../../domain/errors";
import { toDecimalString, toMajorNumber, toMinor } from "../../domain/money";
import type { CanonicalOrder, CanonicalRefund } from "../../domain/order";
import { capLargestFirst, type RefundPayment, refundGateway, refundPayments } from "../../domain/payment";
import { type ActionResult, defineAction } from "../contract";
import { bookedInvoiceFromSteps, invoiceTraces } from "./economic.history";
import { customerPaymentsOf, type JournalVoucher, postCustomerPayments, voucherId } from "./economic.journal";
import { registerPaymentSettings } from "./economic.payment-mail.settings";
import { type BookedInvoice, getBookedInvoice } from "./economic.reference";
import { amountIn, findEarlierEntry, stillOwed, targetFor } from "./economic.register-payment";
import type { EconomicConnectionSettings, EconomicCredentials } from "./economic.settings";

// The connector's index exports it from here.
export { refundGateway };

export const registerRefund = defineAction<typeof registerPaymentSettings, EconomicCredentials, EconomicConnectionSettings>({
  stages: ["refunded"],
  description:
    "Enter the money a refund paid back in an e-conomic journal against the credit note this flow booked, on the contra account of each gateway it went back through.",
  settings: registerPaymentSettings,
  // The journal is where a re-run searches for the entry an earlier run made.
  identitySettings: ["journalNumber"],
  async run(ctx, { order, refund }) {
    if (!refund)
      throw new OrderlyError("registerRefund runs in flows on the refunded stage, whose input carries the refund.", {
        errorClass: "validation",
        code: "economic_no_refund",
        madeNothing: true,
      });
    const creditNoteNumber = await creditNoteFromThisTransfer(ctx, order, refund);
    const skip = (reason: string) => ({
      externalId: String(creditNoteNumber),
      created: false,
      outputs: { creditNoteNumber, refundId: refund.source.refundId, reason },
    });
    if (refund.total <= 0) return skip("the refund returned no money");
    // "unknown": registerPayment's name for an order paid as a whole through no named gateway.
    const parts = refundPayments(order, refund, { name: "e-conomic", unnamed: "unknown" }).map((p) => ({
      ...p,
      target: targetFor(ctx.settings, p.gateway, "Refunds through"),
    }));
    // As registerPayment: a gateway mapped to payment terms enters nothing (when the credit note
    // carries those terms and shows its share settled), and the others' lines are entered beside it.
    const byTerms = parts.flatMap((p) =>
      "paymentTermsNumber" in p.target ? [{ ...p, terms: p.target.paymentTermsNumber }] : [],
    );
    // Searched first, whatever the gateways map to now: a voucher an earlier run wrote is named even
    // once they were switched to payment terms. Before the credit note is read, as an unbooked
    // entry does not lower its remainder.
    const { made, unsearched } = await findEarlierEntry(ctx);
    if (made)
      return {
        externalId: voucherId(made),
        created: false,
        outputs: {
          creditNoteNumber,
          refundId: refund.source.refundId,
          voucher: voucherId(made),
          ...voucherLines(made, `Refund ${order.source.orderNumber} (`, `) ${ctx.reference}`),
        },
      };

    const booked = await getBookedInvoice(ctx, creditNoteNumber);
    for (const p of byTerms) checkTermsSettle(booked, creditNoteNumber, p.gateway, p.terms, refund, order);
    if (onAccounts(parts).length === 0)
      return skip(
        `paid by ${parts.map((p) => p.gateway).join(" and ")}, and credit note ${creditNoteNumber} has its payment terms ${byTerms[0]?.terms}, which already say it is settled: nothing to register`,
      );
    const currency = booked.currency ?? refund.currency;
    // A credit note's remainder is negative while the refund is owed to the customer, so what is open
    // is its opposite: 0 once paid out, below 0 once paid out beyond its total (an entry for a refund
    // larger than the credit note, booked). Nothing is entered then, as registerPayment on remainder <= 0.
    const open = booked.remainder === undefined ? undefined : -toMinor(booked.remainder, currency);
    if (open !== undefined && open <= 0) return skip(`credit note ${creditNoteNumber} is already settled in e-conomic`);
    const customerNumber = booked.customer?.customerNumber ?? invoiceTraces({ ...ctx, history: [] })[0]?.customerNumber;
    if (customerNumber === undefined)
      throw new OrderlyError(`Booked credit note ${creditNoteNumber} names no customer; the refund cannot be entered.`, {
        errorClass: "validation",
        code: "economic_customer_missing",
        madeNothing: true,
      });
    // What was paid out and booked already (this step's entry once its journal was booked, or one a
    // bookkeeper entered) is not entered again.
    const gross = booked.grossAmount === undefined ? undefined : -toMinor(booked.grossAmount, currency);
    const settled = gross !== undefined && open !== undefined ? Math.max(0, gross - open) : 0;
    // Converted over every gateway; the lines entered are those mapped to an account.
    const { owed, enteredBefore } = stillToEnter(
      inCreditNoteCurrency(parts, order, booked, currency, refund.currency),
      settled,
      enteredEarlier(ctx.prior, creditNoteNumber, currency),
      { creditNoteNumber, currency, refund, order },
    );
    // Never more than the credit note still has open: a refund larger than its credit note would
    // otherwise leave the customer owing the difference, and a retry after the journal was booked
    // would find it open the other way.
    const { kept: entries, cut } = withinOpen(owed, open);
    const amount = entries.reduce((sum, e) => sum + e.minor, 0);
    if (amount <= 0)
      return skip(
        `credit note ${creditNoteNumber} already shows ${toDecimalString(settled, currency)} ${currency} paid out in e-conomic`,
      );
    // Only now, with something to enter, does a journal too large to search stop the step.
    if (unsearched) throw unsearched;
    const date = refund.source.createdAt.slice(0, 10);
    // One voucher, one line per gateway: a retry finds it by the reference every line carries.
    const voucher = await postCustomerPayments(ctx, {
      customerNumber,
      currency,
      date,
      entries: entries.map((e) => ({
        amount: toMajorNumber(e.minor, currency),
        contraAccountNumber: e.contraAccountNumber,
        text: `Refund ${order.source.orderNumber} (${e.gateway}) ${ctx.reference}`,
        customerInvoice: creditNoteNumber,
      })),
    });
    const [only] = entries;
    const described = (list: typeof entries) =>
      list.map((e) => ({
        gateway: e.gateway,
        contraAccountNumber: e.contraAccountNumber,
        amount: toDecimalString(e.minor, currency),
      }));
    const beyond = cut.reduce((sum, e) => sum + e.minor, 0);
    return {
      externalId: voucher ? voucherId(voucher) : String(creditNoteNumber),
      created: true,
      outputs: {
        creditNoteNumber,
        refundId: refund.source.refundId,
        ...(voucher ? { voucher: voucherId(voucher) } : {}),
        amount: toDecimalString(amount, currency),
        currency,
        ...(entries.length === 1 && only
          ? { gateway: only.gateway, contraAccountNumber: only.contraAccountNumber }
          : { lines: described(entries) }),
        ...(byTerms.length > 0 ? { skippedGateways: byTerms.map((p) => p.gateway) } : {}),
        ...(settled > 0 ? { alreadySettled: toDecimalString(settled, currency) } : {}),
        // What this step entered in earlier runs, so a later run can still tell each gateway's part.
        ...(enteredBefore.size > 0
          ? {
              enteredBefore: [...enteredBefore].map(([gateway, minor]) => ({
                gateway,
                amount: toDecimalString(minor, currency),
              })),
            }
          : {}),
        ...(beyond > 0 ? { beyondCreditNote: toDecimalString(beyond, currency), cut: described(cut) } : {}),
      },
    };
  },
});

type Target = ReturnType<typeof targetFor>;

/**
 * The account lines still to enter once what the credit note shows settled is taken off. e-conomic
 * gives that as one total, so with a single gateway on an account it is that gateway's, as always;
 * otherwise it is attributed from what this step entered before (`earlier`, per gateway) and the
 * payment terms gateways' shares, and what cannot be attributed fails for hand entry instead of
 * being taken off whichever line comes first.
 */
function stillToEnter<T extends RefundPayment & { target: Target; minor: number }>(
  lines: T[],
  settled: number,
  earlier: Map<string, number>,
  about: Refusal,
): { owed: Array<T & { contraAccountNumber: number }>; enteredBefore: Map<string, number> } {
  const accounts = onAccounts(lines);
  const byTerms = lines.filter((l) => !("contraAccountNumber" in l.target));
  const none = new Map<string, number>();
  if (byTerms.length === 0 && accounts.length === 1) return { owed: stillOwed(accounts, settled), enteredBefore: none };
  // Nothing settled yet: an earlier run's entries were not booked (a removed voucher is entered again).
  const mine = settled > 0 ? earlier : none;
  let rest = settled - sum([...mine.values()]);
  if (rest < 0)
    throw unattributed(
      about,
      `shows only ${money(settled, about)} of it paid out, less than the ${money(settled - rest, about)} this step entered before (its voucher was changed before the journal was booked?)`,
      accounts,
    );
  const termsShare = sum(byTerms.map((l) => l.minor));
  if (termsShare > rest) throw termsLeftOpen(about, byTerms, termsShare - rest);
  rest -= termsShare;
  const owed = accounts.flatMap((l) => {
    const left = l.minor - (mine.get(l.gateway) ?? 0);
    return left > 0 ? [{ ...l, minor: left }] : [];
  });
  if (rest === 0 || owed.length === 0) return { owed, enteredBefore: mine };
  if (owed.length === 1) return { owed: stillOwed(owed, rest), enteredBefore: mine };
  throw unattributed(
    about,
    `already shows ${money(rest, about)} of it paid out that neither this step's earlier entries nor payment terms account for, and e-conomic does not say through which gateway`,
    owed,
  );
}

interface Refusal {
  creditNoteNumber: number;
  currency: string;
  refund: CanonicalRefund;
  order: CanonicalOrder;
}

const sum = (amounts: number[]) => amounts.reduce((total, a) => total + a, 0);
const money = (minor: number, about: Pick<Refusal, "currency">) => `${toDecimalString(minor, about.currency)} ${about.currency}`;

function unattributed(
  about: Refusal,
  why: string,
  lines: Array<{ gateway: string; minor: number; contraAccountNumber: number }>,
): OrderlyError {
  const { creditNoteNumber, currency, refund, order } = about;
  const each = lines.map((l) => `${l.gateway} ${money(l.minor, about)} (contra account ${l.contraAccountNumber})`);
  return new OrderlyError(
    `Refund ${refund.source.refundId} of order ${order.source.orderNumber} was not registered: credit note ${creditNoteNumber} ${why}, so Orderly cannot tell which of these is still owed: ${each.join(", ")}. Enter what is missing by hand in e-conomic on each gateway's account; a retry then finds the credit note settled.`,
    {
      errorClass: "validation",
      code: "economic_refund_settled_unattributed",
      details: {
        creditNoteNumber,
        currency,
        lines: lines.map((l) => ({
          gateway: l.gateway,
          contraAccountNumber: l.contraAccountNumber,
          amount: toDecimalString(l.minor, currency),
        })),
      },
      madeNothing: true,
    },
  );
}

/**
 * A gateway mapped to payment terms beside gateways on accounts: its terms say its share was paid
 * back, but the credit note still has it open, and entering only the others would report the
 * refund registered with that share still owed to the customer.
 */
function termsLeftOpen(about: Refusal, byTerms: Array<{ gateway: string; minor: number }>, leftOpen: number): OrderlyError {
  const { creditNoteNumber, currency, refund, order } = about;
  const names = byTerms.map((l) => `"${l.gateway}" (${money(l.minor, about)})`).join(" and ");
  const settings = byTerms.map((l) => `byGateway.${l.gateway}`).join(" and ");
  return new OrderlyError(
    `Refund ${refund.source.refundId} of order ${order.source.orderNumber} was not registered: the step maps ${names} to payment terms, but credit note ${creditNoteNumber} still shows ${money(leftOpen, about)} of that open, so nothing would say it was paid back. Map ${settings} in this step's settings to the contra account the refund was paid from and retry, or enter that share by hand in e-conomic and retry.`,
    {
      errorClass: "validation",
      code: "economic_refund_terms_open",
      details: {
        creditNoteNumber,
        currency,
        leftOpen: toDecimalString(leftOpen, currency),
        open: byTerms.map((l) => ({ gateway: l.gateway, amount: toDecimalString(l.minor, currency) })),
      },
      madeNothing: true,
    },
  );
}

/** What an earlier run of the step said it entered; amounts as its outputs write them. */
const enteredLine = z.object({ gateway: z.string(), amount: z.string().regex(/^\d+(\.\d+)?$/) });
const earlierRun = z.object({
  creditNoteNumber: z.number().int(),
  currency: z.string(),
  gateway: z.string().optional(),
  amount: enteredLine.shape.amount.optional(),
  lines: z.array(enteredLine).optional(),
  enteredBefore: z.array(enteredLine).optional(),
});

/**
 * Per gateway (minor units), what this step entered against the credit note in its earlier runs,
 * read from its last success (`prior`): its lines, or its one gateway's amount, and what that run
 * had attributed to runs before it. Empty when the prior result says no amounts (a skip).
 */
function enteredEarlier(prior: ActionResult | undefined, creditNoteNumber: number, currency: string): Map<string, number> {
  const byGateway = new Map<string, number>();
  const parsed = earlierRun.safeParse(prior?.outputs);
  if (!parsed.success || parsed.data.creditNoteNumber !== creditNoteNumber || parsed.data.currency !== currency) return byGateway;
  const { gateway, amount, lines = [], enteredBefore = [] } = parsed.data;
  const one = gateway !== undefined && amount !== undefined ? [{ gateway, amount }] : [];
  for (const l of [...enteredBefore, ...lines, ...one])
    byGateway.set(l.gateway, (byGateway.get(l.gateway) ?? 0) + toMinor(l.amount, currency));
  return byGateway;
}

/**
 * The lines of a voucher an earlier run wrote (text `<prefix><gateway><suffix>`), as a run that
 * entered them reports them, so a later run can attribute what the credit note shows settled.
 */
function voucherLines(voucher: JournalVoucher, prefix: string, suffix: string) {
  const lines = customerPaymentsOf(voucher).flatMap((l) => {
    const currency = l.currency?.code;
    if (!currency || l.contraAccount === undefined || !l.text.startsWith(prefix) || !l.text.endsWith(suffix)) return [];
    const gateway = l.text.slice(prefix.length, l.text.length - suffix.length);
    return [{ gateway, contraAccountNumber: l.contraAccount.accountNumber, currency, minor: toMinor(l.amount, currency) }];
  });
  const currency = lines[0]?.currency;
  if (currency === undefined || lines.some((l) => l.currency !== currency)) return {};
  return {
    currency,
    amount: toDecimalString(sum(lines.map((l) => l.minor)), currency),
    lines: lines.map((l) => ({
      gateway: l.gateway,
      contraAccountNumber: l.contraAccountNumber,
      amount: toDecimalString(l.minor, currency),
    })),
  };
}

/**
 * Each gateway's share in the credit note's currency. Converted as a running total, as
 * registerPayment converts, so the shares add up to the converted whole.
 */
function inCreditNoteCurrency<T extends RefundPayment>(
  parts: T[],
  order: CanonicalOrder,
  booked: BookedInvoice,
  currency: string,
  refundCurrency: string,
): Array<T & { minor: number }> {
  const money = { currency: refundCurrency, sign: -1, moved: "The refund was paid back", document: "credit note" } as const;
  let through = 0;
  let convertedThrough = 0;
  return parts.map((p) => {
    through += p.amount;
    const converted = amountIn(through, order, booked, currency, money);
    const minor = converted - convertedThrough;
    convertedThrough = converted;
    return { ...p, minor };
  });
}

/** The parts whose gateway maps to a contra account, with it. */
function onAccounts<T extends { target: ReturnType<typeof targetFor> }>(parts: T[]): Array<T & { contraAccountNumber: number }> {
  return parts.flatMap((p) =>
    "contraAccountNumber" in p.target ? [{ ...p, contraAccountNumber: p.target.contraAccountNumber }] : [],
  );
}

/** The lines within what the credit note has open (nothing open: no cap), the largest cut first. */
function withinOpen<T extends { gateway: string; minor: number }>(
  entries: T[],
  open: number | undefined,
): { kept: T[]; cut: T[] } {
  if (open === undefined) return { kept: entries, cut: [] };
  return capLargestFirst(entries, open, {
    amount: (e) => e.minor,
    key: (e) => e.gateway,
    withAmount: (e, minor) => ({ ...e, minor }),
  });
}

/**
 * The booked credit note of this transfer's own steps (createCreditNote, or a bookInvoice after it),
 * found as sendInvoiceEmail finds it on the refunded stage: the order's history holds the invoice,
 * which is never what a refund is paid out against.
 */
async function creditNoteFromThisTransfer(
  ctx: Parameters<typeof bookedInvoiceFromSteps>[0],
  order: CanonicalOrder,
  refund: CanonicalRefund,
): Promise<number> {
  const steps = { ...ctx, history: [] };
  const booked = (await bookedInvoiceFromSteps(steps))?.bookedInvoiceNumber;
  if (booked !== undefined) return booked;
  const draft = invoiceTraces(steps).find((t) => t.draftInvoiceNumber !== undefined)?.draftInvoiceNumber;
  const what =
    draft === undefined
      ? "there is no credit note from this flow"
      : `its credit note is still a draft (draft invoice ${draft}), and a refund is entered against a booked one only`;
  throw new OrderlyError(
    `The refund ${refund.source.refundId} of order ${order.source.orderNumber} was not registered: ${what}. Put createCreditNote with the booked state (or a bookInvoice step) before registerRefund in the refunded flow, then retry.`,
    // Only reads before it: a retry with the flow's current settings may book the credit note first.
    { errorClass: "validation", code: "economic_no_booked_credit_note", madeNothing: true },
  );
}

/** The booked credit note's payment terms, the one field read beyond BookedInvoice. */
const bookedTerms = z.object({ paymentTerms: z.object({ paymentTermsNumber: z.number().int() }).optional() });

/**
 * A gateway mapped to payment terms has nothing entered only when the credit note carries those
 * terms: its terms are createCreditNote's own settings, not the gateway's, and any others leave the
 * refund owed to the customer with no account to enter it on.
 */
function checkTermsSettle(
  note: BookedInvoice,
  creditNoteNumber: number,
  gateway: string,
  termsNumber: number,
  refund: CanonicalRefund,
  order: CanonicalOrder,
): void {
  const booked = bookedTerms.safeParse(note);
  const terms = booked.success ? booked.data.paymentTerms?.paymentTermsNumber : undefined;
  if (terms === termsNumber) return;
  throw new OrderlyError(
    `Refund ${refund.source.refundId} of order ${order.source.orderNumber} was not registered: the step maps "${gateway}" to payment terms ${termsNumber}, but credit note ${creditNoteNumber} has ${terms === undefined ? "no payment terms e-conomic shows" : `payment terms ${terms}`}, so nothing says it was paid out. Map byGateway.${gateway} in this step's settings to the contra account the refund was paid from and retry, or enter the refund by hand in e-conomic.`,
    {
      errorClass: "validation",
      code: "economic_refund_terms_differ",
      details: { gateway, gatewayTerms: termsNumber, creditNoteTerms: terms ?? null },
      madeNothing: true,
    },
  );
}
