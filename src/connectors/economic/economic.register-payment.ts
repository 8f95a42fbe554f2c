/**
 * `registerPayment`: enters what the customer paid as a customer payment in a journal, settling the
 * booked invoice an earlier step made once a bookkeeper books the journal. Each gateway maps to the
 * account its money lands on, or to payment terms that already say the invoice is paid: nothing is
 * registered then, but only when the booked invoice carries those terms (else
 * economic_payment_terms_differ) and e-conomic shows their share settled, as terms of a type that
 * settles on booking do (else economic_payment_terms_open): never left to fall due unpaid. Partial
 * payments are entered with their amount. An entry made before is found by the step's reference in
 * its text; an invoice e-conomic already shows as settled gets nothing more, nor does what another
 * flow's registerPayment entered on the same (adopted) invoice (economic.other-payments.ts).
 *
 * Sign: the amount is entered negative, a credit to the customer's account. e-conomic's own example
 * shows a positive amount without saying which side it is on; an integrator reports that a positive
 * amount raised the customer's balance instead of settling it [third-party, unconfirmed by e-conomic].
 */
import { convertMinor, convertParts } from "../../domain/accounting/exchange";
import { OrderlyError } from "../../domain/errors";
import { toDecimalString, toMajorNumber, toMinor } from "../../domain/money";
import type { CanonicalOrder } from "../../domain/order";
import { splitUnknown } from "../../domain/payment";
import { defineAction } from "../contract";
import type { EconomicContext } from "./economic.api";
import { bookedInvoiceFromSteps } from "./economic.history";
import { findVoucherByText, type JournalVoucher, postCustomerPayments, voucherId } from "./economic.journal";
import { paidByOtherFlows } from "./economic.other-payments";
import { type RegisterPaymentSettings, registerPaymentSettings } from "./economic.payment-mail.settings";
import { bookedTermsNumber, describeTerms, paidByGateway, paymentTermsDiffer, paymentTermsOpen } from "./economic.payment-terms";
import { type BookedInvoice, getBookedInvoice } from "./economic.reference";
import type { EconomicConnectionSettings, EconomicCredentials } from "./economic.settings";

// Where it is counted now: createInvoice takes the invoice's terms from the same gateways.
export { paidByGateway };

export const registerPayment = defineAction<typeof registerPaymentSettings, EconomicCredentials, EconomicConnectionSettings>({
  description: "Enter the order's payment in an e-conomic journal against its booked invoice (partial payments too).",
  settings: registerPaymentSettings,
  // The journal is where a re-run searches for the entry an earlier run made.
  identitySettings: ["journalNumber"],
  async run(ctx, { order }) {
    const invoice = await bookedInvoiceFromSteps(ctx);
    const invoiceNumber = invoice?.bookedInvoiceNumber;
    if (invoiceNumber === undefined)
      throw new OrderlyError("There is no booked e-conomic invoice to register the payment on: book the invoice first.", {
        errorClass: "validation",
        code: "economic_no_booked_invoice",
        // Only reads before it: nothing was made, so the flow may put bookInvoice in its place.
        madeNothing: true,
      });
    const skip = (reason: string, extra: Record<string, unknown> = {}) => ({
      externalId: String(invoiceNumber),
      created: false,
      outputs: { bookedInvoiceNumber: invoiceNumber, reason, ...extra },
    });
    const paid = paidByGateway(order);
    if (paid.size === 0) return skip("the order is not paid");
    const targets = [...paid].map(([gateway, amount]) => ({ gateway, amount, target: targetFor(ctx.settings, gateway) }));
    const toRegister = targets.flatMap(({ gateway, amount, target }) =>
      "contraAccountNumber" in target ? [{ gateway, amount, contraAccountNumber: target.contraAccountNumber }] : [],
    );
    const byTerms = targets.flatMap(({ gateway, target }) =>
      "paymentTermsNumber" in target ? [{ gateway, terms: target.paymentTermsNumber }] : [],
    );
    const allTerms = toRegister.length === 0;
    // Every gateway maps to an account or to terms (targetFor): one that maps to neither would be
    // skipped without a word.
    if (toRegister.length + byTerms.length !== paid.size) throw unmapped([...paid.keys()]);
    if (paid.size > 1 && toRegister.some((e) => e.amount === undefined)) throw splitUnknown(order, [...paid.keys()], "e-conomic");
    // As registerRefund: with every gateway on payment terms nothing is entered, so a journal that
    // cannot be read does not stop the step; a voucher an earlier run wrote (before the gateways were
    // switched to terms) is still named.
    const { made, unsearched } = allTerms
      ? await findEarlierEntry(ctx).catch((): { made?: JournalVoucher; unsearched?: OrderlyError } => ({}))
      : await findEarlierEntry(ctx);
    if (made)
      return {
        externalId: voucherId(made),
        created: false,
        outputs: { bookedInvoiceNumber: invoiceNumber, voucher: voucherId(made) },
      };

    const booked = await getBookedInvoice(ctx, invoiceNumber);
    const currency = booked.currency ?? order.currency;
    // A gateway on payment terms enters nothing only when the booked invoice carries those terms:
    // other terms (the buyer kind's, or a person's edit) leave it to fall due unpaid.
    const invoiceTerms = bookedTermsNumber(booked);
    const differing = byTerms.filter((t) => t.terms !== invoiceTerms);
    const remainder = booked.remainder === undefined ? undefined : toMinor(booked.remainder, currency);
    const settledAlready = remainder !== undefined && remainder <= 0;
    if (differing.length > 0 && !settledAlready) throw paymentTermsDiffer(order, invoiceNumber, differing, invoiceTerms);
    // The terms are the invoice's, but only their type decides whether booking settled it: the
    // remainder says whether it did.
    const termsOpen = async (): Promise<never> => {
      const termsNumber = byTerms[0]?.terms as number;
      throw paymentTermsOpen({
        subject: `The payment of order ${order.source.orderNumber}`,
        document: "invoice",
        documentNumber: invoiceNumber,
        gateways: byTerms.map((t) => t.gateway),
        termsNumber,
        terms: await describeTerms(ctx, termsNumber),
        open: remainder,
        currency,
        code: "economic_payment_terms_open",
        moneyWent: "landed on",
      });
    };
    if (allTerms && differing.length === 0) {
      if (!settledAlready) return await termsOpen();
      const terms = byTerms.map((t) => `${t.gateway} (payment terms ${t.terms})`);
      return skip(
        `paid by ${terms.join(", ")}, and invoice ${invoiceNumber} has those payment terms and shows nothing open in e-conomic: nothing to register`,
        { paymentTermsNumber: invoiceTerms },
      );
    }
    if (settledAlready) return skip(`invoice ${invoiceNumber} is already settled in e-conomic`);
    const customerNumber = booked.customer?.customerNumber ?? invoice?.customerNumber;
    if (customerNumber === undefined)
      throw new OrderlyError(`Booked invoice ${invoiceNumber} names no customer; the payment cannot be entered.`, {
        errorClass: "validation",
        code: "economic_customer_missing",
        madeNothing: true,
      });
    // What e-conomic already shows as paid is not entered again: this step's own entries once their
    // journal was booked (they leave the journal, so the search above no longer finds them on a
    // re-run), or a payment a bookkeeper entered. Only what is still missing is entered.
    const gross = booked.grossAmount === undefined ? undefined : toMinor(booked.grossAmount, currency);
    const settled = gross !== undefined && remainder !== undefined ? Math.max(0, gross - remainder) : 0;
    // Beside gateways on accounts, the terms gateways' share must show settled (the remainder), else
    // entering the others alone would leave it to fall due unpaid under terms that say "paid".
    const termsShare = byTerms.reduce((sum, t) => sum + amountIn(paid.get(t.gateway), order, booked, currency), 0);
    if (termsShare > 0 && (remainder === undefined || gross === undefined || settled < termsShare)) return await termsOpen();
    // What another flow's registerPayment entered on this invoice (adopted by a second flow) counts
    // as paid, booked or not: its voucher may still wait in a journal, outside the remainder.
    const byOthers = paidByOtherFlows(ctx, invoiceNumber, currency, amountIn(undefined, order, booked, currency));
    const covered = Math.max(settled - termsShare, byOthers.minor);
    // Converted as a running total (convertParts); a payment of the whole is the invoice's own gross.
    const converted = convertParts(
      toRegister.flatMap((e) => (e.amount === undefined ? [] : [e.amount])),
      (through) => amountIn(through, order, booked, currency),
    );
    let next = 0;
    const parts = toRegister.map((e) =>
      e.amount === undefined
        ? { ...e, minor: amountIn(undefined, order, booked, currency) }
        : { ...e, minor: converted[next++] as number },
    );
    const entries = stillOwed(parts, covered);
    const others = byOthers.from.length > 0 ? { enteredByOtherFlows: byOthers.from } : {};
    if (entries.length === 0)
      return skip(
        byOthers.minor > settled - termsShare
          ? `another flow's registerPayment already entered ${toDecimalString(byOthers.minor, currency)} ${currency} on invoice ${invoiceNumber} (${byOthers.from.map((f) => `the order's ${f.stage}-stage transfer ${f.transferId}`).join(", ")}): nothing more to register`
          : `invoice ${invoiceNumber} already shows ${toDecimalString(settled, currency)} ${currency} paid in e-conomic`,
        others,
      );
    // Only now, with something to enter, does a journal too large to search stop the step.
    if (unsearched) throw unsearched;
    const date = order.source.createdAt.slice(0, 10);
    const voucher = await postCustomerPayments(ctx, {
      customerNumber,
      currency,
      date,
      entries: entries.map((e) => ({
        amount: -toMajorNumber(e.minor, currency),
        contraAccountNumber: e.contraAccountNumber,
        text: `Payment ${order.source.orderNumber} (${e.gateway}) ${ctx.reference}`,
        customerInvoice: invoiceNumber,
      })),
    });
    const total = entries.reduce((sum, e) => sum + e.minor, 0);
    return {
      externalId: voucher ? voucherId(voucher) : String(invoiceNumber),
      created: true,
      outputs: {
        bookedInvoiceNumber: invoiceNumber,
        ...(voucher ? { voucher: voucherId(voucher) } : {}),
        amount: toDecimalString(total, currency),
        currency,
        gateways: entries.map((e) => e.gateway),
        ...(toRegister.length < paid.size
          ? { skippedGateways: [...paid.keys()].filter((g) => !entries.some((e) => e.gateway === g)) }
          : {}),
        partial: gross !== undefined && termsShare + covered + total < gross,
        ...(settled > 0 ? { alreadySettled: toDecimalString(settled, currency) } : {}),
        ...others,
      },
    };
  },
});

/**
 * The entry an earlier run of the step made in the journal. A journal too large to search comes back
 * as `unsearched` (economic_journal_too_large), thrown only once the step has something to enter:
 * an invoice already settled (a paid transfer re-run by an order update) gets nothing, so an entry
 * beyond the pages read cannot be entered twice. The search still comes before the invoice is
 * read, as an unbooked entry does not lower the invoice's remainder.
 */
export async function findEarlierEntry(
  ctx: EconomicContext & { settings: RegisterPaymentSettings; reference: string; firstAttempt?: boolean },
): Promise<{ made?: JournalVoucher; unsearched?: OrderlyError }> {
  // The step's first attempt has entered nothing yet: the search reads the whole journal.
  if (ctx.firstAttempt) return {};
  try {
    const made = await findVoucherByText(ctx, ctx.settings.journalNumber, ctx.reference);
    return made ? { made } : {};
  } catch (error) {
    if (error instanceof OrderlyError && error.code === "economic_journal_too_large") return { unsearched: error };
    throw error;
  }
}

/** The entries left once `settled` (minor units) is taken off them, first entry first. */
export function stillOwed<T extends { minor: number }>(entries: T[], settled: number): T[] {
  let covered = settled;
  return entries.flatMap((entry) => {
    const left = entry.minor - covered;
    covered = Math.max(0, covered - entry.minor);
    return left > 0 ? [{ ...entry, minor: left }] : [];
  });
}

/**
 * The gateway's mapping: its own entry, else the default contra account. `what` names the money in
 * the error. An own property only: a gateway named "constructor" or "toString" would otherwise get
 * an object's built-in value, which maps to neither an account nor terms.
 */
export function targetFor(settings: RegisterPaymentSettings, gateway: string, what = "Payments by") {
  const mapped = Object.hasOwn(settings.byGateway, gateway) ? settings.byGateway[gateway] : undefined;
  if (mapped && ("contraAccountNumber" in mapped || "paymentTermsNumber" in mapped)) return mapped;
  if (settings.defaultContraAccountNumber !== undefined) return { contraAccountNumber: settings.defaultContraAccountNumber };
  throw new OrderlyError(
    `${what} "${gateway}" have no account: add byGateway.${gateway} (or defaultContraAccountNumber) to the step's settings.`,
    {
      errorClass: "validation",
      code: "economic_setting_missing",
      details: { setting: `byGateway.${gateway}` },
      madeNothing: true,
    },
  );
}

/** Gateways that map to neither an account nor payment terms: never a silent skip. */
export function unmapped(gateways: readonly string[]): OrderlyError {
  return new OrderlyError(
    `The payment through ${gateways.map((g) => `"${g}"`).join(", ")} was not registered: the step's settings map it to neither a contra account nor payment terms. Set byGateway for each (or defaultContraAccountNumber) and retry.`,
    { errorClass: "validation", code: "economic_setting_missing", details: { gateways: [...gateways] }, madeNothing: true },
  );
}

/** How `amountIn` reads the money and the document: a payment on an invoice unless said otherwise. */
export interface MoneyAgainst {
  /** The currency the money moved in; the order's by default. */
  currency?: string;
  /** -1 for a credit note, whose gross amount e-conomic gives negative. */
  sign?: 1 | -1;
  /** For the error: "The order was paid" / "The refund was paid back". */
  moved?: string;
  /** For the error: "invoice" / "credit note". */
  document?: string;
}

/**
 * An amount in the booked document's currency: converted at the shop's rate when the document was
 * converted. The order's whole total (or no amount: the whole document) is the document's own gross,
 * so a converted document is settled to the cent its lines were rounded to.
 */
export function amountIn(
  amount: number | undefined,
  order: CanonicalOrder,
  booked: BookedInvoice,
  currency: string,
  money: MoneyAgainst = {},
): number {
  const from = money.currency ?? order.currency;
  const gross = booked.grossAmount === undefined ? undefined : (money.sign ?? 1) * toMinor(booked.grossAmount, currency);
  const whole = amount === order.totals.total && from === order.currency;
  const rate =
    currency !== from && from === order.currency && order.exchange?.shopCurrency === currency ? order.exchange.rate : undefined;
  // Checked first: a whole payment is the document's gross only where the two currencies are linked.
  if (currency === from || rate !== undefined) {
    if (amount === undefined || (whole && gross !== undefined && currency !== order.currency))
      return (
        gross ??
        (rate === undefined
          ? toMinor(toDecimalString(order.totals.total, order.currency), currency)
          : convertMinor(order.totals.total, order.currency, currency, rate, "half-up"))
      );
    return rate === undefined ? amount : convertMinor(amount, order.currency, currency, rate, "half-up");
  }
  throw new OrderlyError(
    `${money.moved ?? "The order was paid"} in ${from} but ${money.document ?? "invoice"} ${booked.bookedInvoiceNumber} is in ${currency}.`,
    { errorClass: "validation", code: "economic_currency_mismatch", madeNothing: true },
  );
}
