/**
 * `registerRefund` (flows on `refunded`, after createCreditNote): enters the money a refund paid
 * back as a customer payment in a journal against the booked credit note this transfer made, so
 * the customer no longer shows as owed the refund once a bookkeeper books the journal. Modelled on
 * registerPayment: the same settings (journal, gateway → contra account or payment terms), the same
 * search for an earlier entry by the step's reference before writing, and the credit note's
 * `remainder` for what was booked meanwhile.
 *
 * Sign: the opposite of registerPayment's. A payment is entered negative (a credit to the customer);
 * money paid out debits the customer, so the refund is entered positive, bringing the credit note's
 * negative remainder to 0. `customerInvoice` is the credit note's booked number: e-conomic's entry
 * schema describes it as a customer invoice number, and a credit note is a booked invoice there
 * (with a negative total) numbered in the same series [not confirmed for credit notes by e-conomic].
 */
import { convertMinor } from "../../domain/accounting/exchange";
import { OrderlyError } from "../../domain/errors";
import { toDecimalString, toMajorNumber, toMinor } from "../../domain/money";
import type { CanonicalOrder, CanonicalRefund } from "../../domain/order";
import { defineAction } from "../contract";
import { type EconomicContext, economicRequest } from "./economic.api";
import { bookedInvoiceFromSteps, invoiceTraces } from "./economic.history";
import { accountingYearFor, findVoucherByText, type JournalVoucher, voucherId } from "./economic.journal";
import { type RegisterPaymentSettings, registerPaymentSettings } from "./economic.payment-mail.settings";
import { type BookedInvoice, getBookedInvoice } from "./economic.reference";
import { paidByGateway } from "./economic.register-payment";
import type { EconomicConnectionSettings, EconomicCredentials } from "./economic.settings";

export const registerRefund = defineAction<typeof registerPaymentSettings, EconomicCredentials, EconomicConnectionSettings>({
  description:
    "Enter the money a refund paid back in an e-conomic journal against the credit note this flow booked, on the contra account of the order's gateway.",
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
    const gateway = refundGateway(order, refund, "e-conomic");
    const target = targetFor(ctx.settings, gateway);
    if ("paymentTermsNumber" in target)
      return skip(
        `paid by ${gateway} (payment terms ${target.paymentTermsNumber}), whose payment terms already say the document is settled: nothing to register`,
      );
    const { made, unsearched } = await findEarlierEntry(ctx);
    if (made)
      return {
        externalId: voucherId(made),
        created: false,
        outputs: { creditNoteNumber, refundId: refund.source.refundId, voucher: voucherId(made) },
      };

    const booked = await getBookedInvoice(ctx, creditNoteNumber);
    const currency = booked.currency ?? refund.currency;
    // A credit note's remainder is negative while the refund is owed to the customer, 0 once paid out.
    const open = booked.remainder === undefined ? undefined : Math.abs(toMinor(booked.remainder, currency));
    if (open === 0) return skip(`credit note ${creditNoteNumber} is already settled in e-conomic`);
    const customerNumber = booked.customer?.customerNumber ?? invoiceTraces({ ...ctx, history: [] })[0]?.customerNumber;
    if (customerNumber === undefined)
      throw new OrderlyError(`Booked credit note ${creditNoteNumber} names no customer; the refund cannot be entered.`, {
        errorClass: "validation",
        code: "economic_customer_missing",
        madeNothing: true,
      });
    // What was paid out and booked already (this step's entry once its journal was booked, or one a
    // bookkeeper entered) is not entered again.
    const gross = booked.grossAmount === undefined ? undefined : Math.abs(toMinor(booked.grossAmount, currency));
    const settled = gross !== undefined && open !== undefined ? Math.max(0, gross - open) : 0;
    const amount = refundIn(refund, order, booked, currency) - settled;
    if (amount <= 0)
      return skip(
        `credit note ${creditNoteNumber} already shows ${toDecimalString(settled, currency)} ${currency} paid out in e-conomic`,
      );
    // Only now, with something to enter, does a journal too large to search stop the step.
    if (unsearched) throw unsearched;
    const date = refund.source.createdAt.slice(0, 10);
    const contraAccountNumber = target.contraAccountNumber;
    const body = {
      accountingYear: { year: await accountingYearFor(ctx, date) },
      journal: { journalNumber: ctx.settings.journalNumber },
      entries: {
        customerPayments: [
          {
            customer: { customerNumber },
            amount: toMajorNumber(amount, currency),
            contraAccount: { accountNumber: contraAccountNumber },
            currency: { code: currency },
            date,
            text: `Refund ${order.source.orderNumber} (${gateway}) ${ctx.reference}`,
            customerInvoice: creditNoteNumber,
          },
        ],
      },
    };
    ctx.mapped(body);
    const posted = await economicRequest<JournalVoucher[]>(ctx, {
      method: "POST",
      path: `/journals/${ctx.settings.journalNumber}/vouchers`,
      json: body,
    });
    const voucher = Array.isArray(posted.body) ? posted.body[0] : undefined;
    return {
      externalId: voucher ? voucherId(voucher) : String(creditNoteNumber),
      created: true,
      outputs: {
        creditNoteNumber,
        refundId: refund.source.refundId,
        ...(voucher ? { voucher: voucherId(voucher) } : {}),
        amount: toDecimalString(amount, currency),
        currency,
        gateway,
        contraAccountNumber,
        ...(settled > 0 ? { alreadySettled: toDecimalString(settled, currency) } : {}),
      },
    };
  },
});

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
 * The gateway the refund went back through. The webshop's refund names none, so it is the order's
 * gateway when exactly one took money (as registerPayment counts them); with several the share of
 * each is unknown, and booking it all on one would misstate both accounts.
 */
export function refundGateway(order: CanonicalOrder, refund: CanonicalRefund, target: string): string {
  const gateways = [...paidByGateway(order)].filter(([, amount]) => amount === undefined || amount > 0).map(([g]) => g);
  if (gateways.length === 1 && gateways[0] !== undefined) return gateways[0];
  const why =
    gateways.length === 0
      ? "the order shows no payment, so there is no gateway the money went back through"
      : `the order was paid through ${gateways.join(" and ")}, and the webshop does not say which of them paid the refund back`;
  throw new OrderlyError(
    `Refund ${refund.source.refundId} of order ${order.source.orderNumber} was not registered: ${why}. Enter the refund payment by hand in ${target}.`,
    { errorClass: "validation", code: "refund_gateway_unknown", details: { gateways }, madeNothing: true },
  );
}

/** The gateway's mapping as registerPayment reads it: its own entry, else the default contra account. */
function targetFor(settings: RegisterPaymentSettings, gateway: string) {
  const mapped = settings.byGateway[gateway];
  if (mapped) return mapped;
  if (settings.defaultContraAccountNumber !== undefined) return { contraAccountNumber: settings.defaultContraAccountNumber };
  throw new OrderlyError(
    `Refunds through "${gateway}" have no account: add byGateway.${gateway} (or defaultContraAccountNumber) to the step's settings.`,
    {
      errorClass: "validation",
      code: "economic_setting_missing",
      details: { setting: `byGateway.${gateway}` },
      madeNothing: true,
    },
  );
}

/** As registerPayment: a journal too large to search fails the step only once it has something to enter. */
async function findEarlierEntry(
  ctx: EconomicContext & { settings: RegisterPaymentSettings; reference: string },
): Promise<{ made?: JournalVoucher; unsearched?: OrderlyError }> {
  try {
    const made = await findVoucherByText(ctx, ctx.settings.journalNumber, ctx.reference);
    return made ? { made } : {};
  } catch (error) {
    if (error instanceof OrderlyError && error.code === "economic_journal_too_large") return { unsearched: error };
    throw error;
  }
}

/** The refund's total in the credit note's currency: converted at the order's rate when the note was converted. */
function refundIn(refund: CanonicalRefund, order: CanonicalOrder, booked: BookedInvoice, currency: string): number {
  if (refund.currency === currency) return refund.total;
  if (refund.currency === order.currency && order.exchange?.shopCurrency === currency)
    return convertMinor(refund.total, refund.currency, currency, order.exchange.rate, "half-up");
  throw new OrderlyError(
    `The refund was paid back in ${refund.currency} but credit note ${booked.bookedInvoiceNumber} is in ${currency}, with no rate between them.`,
    { errorClass: "validation", code: "economic_currency_mismatch", madeNothing: true },
  );
}
