/**
 * `registerRefund` (flows on `refunded`, after createCreditNote): enters the money a refund paid
 * back as a customer payment in a journal against the booked credit note this transfer made, so
 * the customer no longer shows as owed the refund once a bookkeeper books the journal. Modelled on
 * registerPayment: the same settings (journal, gateway → contra account or payment terms), the same
 * search for an earlier entry by the step's reference before writing, and the credit note's
 * `remainder` for what was booked meanwhile. A refund that states its split over two or more
 * gateways (a gift card and a card) gets one line per gateway in one voucher; any other goes back
 * through the order's one gateway exactly as before refunds were split (domain/payment.ts). A
 * gateway mapped to payment terms enters nothing only when the booked credit note carries those
 * terms and shows its share settled (alone: nothing open, as terms of a type that settles on booking
 * leave it; else economic_refund_terms_open); the amount is never more than the note has open. What the note shows settled is one
 * total: with several lines it is attributed per gateway (economic.refund-split.ts).
 *
 * Sign: the opposite of registerPayment's. A payment is entered negative (a credit to the customer);
 * money paid out debits the customer, so the refund is entered positive, bringing the credit note's
 * negative remainder to 0. `customerInvoice` is the credit note's booked number: e-conomic's entry
 * schema describes it as a customer invoice number, and a credit note is a booked invoice there
 * (with a negative total) numbered in the same series [not confirmed for credit notes by e-conomic].
 */
import { OrderlyError } from "../../domain/errors";
import { toDecimalString, toMajorNumber, toMinor } from "../../domain/money";
import type { CanonicalOrder, CanonicalRefund } from "../../domain/order";
import { refundGateway, refundPayments } from "../../domain/payment";
import { type ActionResult, defineAction } from "../contract";
import { bookedInvoiceFromSteps, invoiceTraces } from "./economic.history";
import { type JournalVoucher, postCustomerPayments, voucherId } from "./economic.journal";
import { registerPaymentSettings } from "./economic.payment-mail.settings";
import { bookedTermsNumber, describeTerms, paymentTermsOpen } from "./economic.payment-terms";
import { type BookedInvoice, getBookedInvoice } from "./economic.reference";
import {
  attribution,
  enteredEarlier,
  inCreditNoteCurrency,
  linesWithinOpen,
  onAccounts,
  stillToEnter,
  voucherLines,
  without,
} from "./economic.refund-split";
import { findEarlierEntry, targetFor, unmapped } from "./economic.register-payment";
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
    const base = { creditNoteNumber, refundId: refund.source.refundId };
    const skip = (reason: string, carried: Record<string, unknown> = {}) => ({
      externalId: String(creditNoteNumber),
      created: false,
      outputs: { ...base, reason, ...carried },
    });
    if (refund.total <= 0) return skip("the refund returned no money");
    // "unknown": registerPayment's name for an order paid as a whole through no named gateway.
    const parts = refundPayments(order, refund, { name: "e-conomic", unnamed: "unknown" }).map((p) => ({
      ...p,
      target: targetFor(ctx.settings, p.gateway, "Refunds through"),
    }));
    const split = parts.length > 1;
    // As registerPayment: a gateway mapped to payment terms enters nothing (when the credit note
    // carries those terms and shows its share settled), and the others' lines are entered beside it.
    const byTerms = parts.flatMap((p) =>
      "paymentTermsNumber" in p.target ? [{ ...p, terms: p.target.paymentTermsNumber }] : [],
    );
    const allTerms = onAccounts(parts).length === 0;
    // A gateway mapping to neither would be skipped without a word (targetFor reads own entries only).
    if (onAccounts(parts).length + byTerms.length !== parts.length) throw unmapped(parts.map((p) => p.gateway));
    // Searched first, whatever the gateways map to now: a voucher an earlier run wrote is named even
    // once they were switched to payment terms. Before the credit note is read, as an unbooked
    // entry does not lower its remainder. With every gateway on payment terms nothing is entered, so
    // a journal that cannot be read leaves the terms skip as it was before refunds were split.
    const { made, unsearched } = allTerms
      ? await findEarlierEntry(ctx).catch((): { made?: JournalVoucher; unsearched?: OrderlyError } => ({}))
      : await findEarlierEntry(ctx);
    if (made) return foundVoucher(made, split, base, ctx.prior, `Refund ${order.source.orderNumber} (`, `) ${ctx.reference}`);

    const booked = await getBookedInvoice(ctx, creditNoteNumber);
    const currency = booked.currency ?? refund.currency;
    // What earlier runs carried forward, as every skip before the attribution passes it on.
    const earlier = enteredEarlier(ctx.prior, creditNoteNumber, currency);
    // A skip says which voucher its enteredBefore includes, so a later run that finds that voucher
    // still in the journal does not count its lines twice.
    const carry = (before: Map<string, number>) =>
      attribution(split, currency, before, before === earlier.all ? earlier.lastVoucher : undefined);
    for (const p of byTerms) checkTermsSettle(booked, creditNoteNumber, p.gateway, p.terms, refund, order);
    // A credit note's remainder is negative while the refund is owed to the customer, so what is open
    // is its opposite: 0 once paid out, below 0 once paid out beyond its total (an entry for a refund
    // larger than the credit note, booked). Nothing is entered then, as registerPayment on remainder <= 0.
    const open = booked.remainder === undefined ? undefined : -toMinor(booked.remainder, currency);
    if (allTerms) {
      // The credit note carries the terms, but only their type decides whether booking settled it.
      if (open === undefined || open > 0) {
        const termsNumber = byTerms[0]?.terms as number;
        throw paymentTermsOpen({
          subject: `Refund ${refund.source.refundId} of order ${order.source.orderNumber}`,
          document: "credit note",
          documentNumber: creditNoteNumber,
          gateways: byTerms.map((p) => p.gateway),
          termsNumber,
          terms: await describeTerms(ctx, termsNumber),
          open,
          currency,
          code: "economic_refund_terms_open",
          moneyWent: "was paid back from",
        });
      }
      return skip(
        `paid by ${parts.map((p) => p.gateway).join(" and ")}, and credit note ${creditNoteNumber} has its payment terms ${byTerms[0]?.terms} and shows nothing open in e-conomic: nothing to register`,
        carry(earlier.all),
      );
    }
    if (open !== undefined && open <= 0)
      return skip(`credit note ${creditNoteNumber} is already settled in e-conomic`, carry(earlier.all));
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
    // Converted over every gateway; the lines entered are those mapped to an account. Without the
    // note's total or remainder what was settled is unknown (`shown` undefined).
    const { owed, enteredBefore, countedAs } = stillToEnter(
      inCreditNoteCurrency(parts, order, booked, currency, refund.currency),
      gross !== undefined && open !== undefined ? { settled, gross } : undefined,
      earlier.all,
      { creditNoteNumber, currency, journalNumber: ctx.settings.journalNumber, refund, order },
    );
    // Money paid out that no earlier entry of this step accounts for, counted as the one line still owed.
    const counted =
      split && countedAs
        ? { settledCountedAs: { gateway: countedAs.gateway, amount: toDecimalString(countedAs.minor, currency) } }
        : {};
    // Never more than the credit note still has open: a refund larger than its credit note would
    // otherwise leave the customer owing the difference, and a retry after the journal was booked
    // would find it open the other way.
    const { kept: entries, cut } = linesWithinOpen(owed, open);
    const amount = entries.reduce((sum, e) => sum + e.minor, 0);
    if (amount <= 0)
      return skip(
        `credit note ${creditNoteNumber} already shows ${toDecimalString(settled, currency)} ${currency} paid out in e-conomic`,
        { ...carry(enteredBefore), ...counted },
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
        ...base,
        ...(voucher ? { voucher: voucherId(voucher) } : {}),
        amount: toDecimalString(amount, currency),
        currency,
        ...(entries.length === 1 && only
          ? { gateway: only.gateway, contraAccountNumber: only.contraAccountNumber }
          : { lines: described(entries) }),
        ...(byTerms.length > 0 ? { skippedGateways: byTerms.map((p) => p.gateway) } : {}),
        ...(settled > 0 ? { alreadySettled: toDecimalString(settled, currency) } : {}),
        ...attribution(split, currency, enteredBefore),
        ...counted,
        // `cut` only for a split refund: a single gateway's result keeps the shape it always had.
        ...(beyond > 0 ? { beyondCreditNote: toDecimalString(beyond, currency), ...(split ? { cut: described(cut) } : {}) } : {}),
      },
    };
  },
});

/**
 * A voucher an earlier run wrote and the journal still holds: nothing is written. A split refund's
 * result names its lines and carries what was entered before it (the prior's whole attribution, or
 * what came before the same voucher when the prior named it), so a later run can attribute what the
 * credit note shows settled; a refund through one gateway keeps the shape it always had.
 */
function foundVoucher(
  made: JournalVoucher,
  split: boolean,
  base: { creditNoteNumber: number; refundId: string },
  prior: ActionResult | undefined,
  prefix: string,
  suffix: string,
): ActionResult {
  const id = voucherId(made);
  const found = split ? voucherLines(made, prefix, suffix) : undefined;
  if (!found) return { externalId: id, created: false, outputs: { ...base, voucher: id } };
  const earlier = enteredEarlier(prior, base.creditNoteNumber, found.currency);
  // The prior entered this voucher (what came before it is known), or a skip carried it inside
  // its total (its lines are taken off), or the prior knows nothing of it.
  const before =
    earlier.voucher === id
      ? earlier.beforeVoucher
      : earlier.lastVoucher === id
        ? without(earlier.all, found.lines, found.currency)
        : earlier.all;
  return {
    externalId: id,
    created: false,
    outputs: { ...base, voucher: id, ...attribution(split, found.currency, before), lines: found.lines },
  };
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

/**
 * A gateway mapped to payment terms has nothing entered only when the credit note carries those
 * terms (createCreditNote gives it the credited invoice's, so an invoice on a gateway's terms has
 * them), and any others leave the refund owed to the customer with no account to enter it on.
 */
function checkTermsSettle(
  note: BookedInvoice,
  creditNoteNumber: number,
  gateway: string,
  termsNumber: number,
  refund: CanonicalRefund,
  order: CanonicalOrder,
): void {
  const terms = bookedTermsNumber(note);
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
