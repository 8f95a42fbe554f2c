/**
 * `registerPayment`: the order's payments as Billy bank payments associated with the invoice
 * (`associations: [{subjectReference: "invoice:<id>"}]`), which settle it (`isPaid`, `balance`).
 * Payments already on the invoice are read first (`invoice.balanceModifiers:embed`, then each bank
 * payment), so a retry or re-run adopts them and only what is missing is registered.
 *
 * Billy's `cashAmount` is what arrived in the cash account, in that account's currency; when the
 * account's currency is not the invoice's, `cashExchangeRate` must say how many account units one
 * invoice unit is worth (Billy refuses the payment otherwise). The account's currency is read from
 * Billy (`GET /accounts/:id`; one without a currency is in the company's base currency), and the
 * rate is the order's, between the order's and the shop's currency.
 */
import { OrderlyError } from "../../domain/errors";
import { toMajorNumber, toMinor } from "../../domain/money";
import { defineAction } from "../contract";
import { type BillyContext, billyRequest, changedRecord, envelope, settingsError } from "./billy.api";
import { getInvoice } from "./billy.documents";
import { invoiceFor } from "./billy.history";
import type { BillyInvoice } from "./billy.invoice";
import { baseCurrency } from "./billy.organization";
import { type CashSide, cashSide, type ExistingPayment, paymentPlan, paymentsToMake } from "./billy.payment";
import { type BillyConnectionSettings, type BillyCredentials, registerPaymentSettings } from "./billy.settings";

interface BillyBankPayment {
  id: string;
  cashAccountId?: string;
  cashAmount?: number;
  cashExchangeRate?: number;
  isVoided?: boolean;
}

interface BillyAccount {
  id: string;
  currencyId?: string | null;
}

export const registerPayment = defineAction<typeof registerPaymentSettings, BillyCredentials, BillyConnectionSettings>({
  description: "Register the order's payments on its Billy invoice as bank payments, into the cash account of each gateway.",
  settings: registerPaymentSettings,
  async run(ctx, { order }) {
    const invoiceId = invoiceFor(ctx);
    if (!invoiceId)
      // Read from the step's own context, before any call: nothing made, so the flow may put
      // createInvoice in its place (OrderlyError.madeNothing).
      throw new OrderlyError(
        "There is no Billy invoice to register the payment on: put a Billy createInvoice step before registerPayment, or on an earlier stage of the order.",
        { errorClass: "validation", code: "billy_no_invoice", madeNothing: true },
      );
    const invoice = await getInvoice(ctx, invoiceId, "invoice.balanceModifiers:embed");
    if (!invoice) throw settingsError(`Billy has no invoice ${invoiceId} (deleted?).`, "billy_invoice_gone", { invoiceId });
    const currency = invoice.currencyId ?? order.currency;
    const plan = paymentPlan(order, ctx.settings, currency);
    if (plan.kind === "skip")
      return { externalId: invoiceId, created: false, outputs: { invoiceId, skipped: true, reason: plan.reason } };
    if (invoice.state !== "approved")
      throw settingsError(
        `Billy invoice ${invoiceId} is still a draft, and Billy registers payments on approved invoices only: approve it in Billy (or book invoices at once), then retry.`,
        "billy_invoice_not_approved",
        { invoiceId },
      );

    const existing = await existingPayments(ctx, invoice, currency);
    const balance = toMinor(invoice.balance ?? invoice.grossAmount ?? 0, currency);
    const toMake = paymentsToMake(plan.parts, existing, balance);
    const entryDate = order.source.createdAt.slice(0, 10);
    const accounts = new Map<string, string>();
    const planned: Array<(typeof toMake)[number] & { cash: CashSide }> = [];
    for (const part of toMake) {
      const account = accounts.get(part.cashAccountId) ?? (await accountCurrency(ctx, part.cashAccountId, part.gateways));
      accounts.set(part.cashAccountId, account);
      const cash = cashSide(part.amount, currency, account, order, part);
      // A remainder too small to show in the account's currency (a rounding cent) is not a payment.
      if (cash.cashAmount > 0) planned.push({ ...part, cash });
    }
    const bodies = planned.map(({ cashAccountId, cash }) => ({
      entryDate,
      cashAmount: toMajorNumber(cash.cashAmount, cash.cashCurrency),
      cashSide: "debit",
      cashAccountId,
      ...(cash.cashExchangeRate === undefined ? {} : { cashExchangeRate: cash.cashExchangeRate }),
      associations: [{ subjectReference: `invoice:${invoiceId}` }],
    }));
    if (bodies.length > 0) ctx.mapped({ invoiceId, plan, bankPayments: bodies });
    const made: Array<Record<string, unknown> & { id: string; amount: number }> = [];
    for (const [i, body] of bodies.entries()) {
      const res = await billyRequest(ctx, { method: "POST", path: "/bankPayments", json: envelope(ctx, "bankPayment", body) });
      const { cash, ...part } = planned[i] as (typeof planned)[number];
      made.push({
        id: changedRecord<BillyBankPayment>(res.body, "bankPayments", "bankPayment").id,
        ...part,
        ...(cash.cashExchangeRate === undefined
          ? {}
          : { cashAmount: cash.cashAmount, cashCurrency: cash.cashCurrency, cashExchangeRate: cash.cashExchangeRate }),
      });
    }
    const invoiceTotal = toMinor(invoice.grossAmount ?? 0, currency);
    const registered = existing.reduce((sum, p) => sum + p.amount, 0) + made.reduce((sum, p) => sum + p.amount, 0);
    return {
      externalId: made[0]?.id ?? existing[0]?.id ?? invoiceId,
      created: made.length > 0,
      outputs: {
        invoiceId,
        payments: made,
        adoptedPayments: existing.map((p) => p.id),
        paid: plan.total,
        registered,
        currency,
        partial: registered < invoiceTotal,
        isPaid: registered >= invoiceTotal,
      },
    };
  },
});

/**
 * The currency of a cash account, as Billy keeps it on the account (`currencyId`). An account
 * without one is in the company's base currency, read from Billy: not the shop's, which may differ.
 */
export async function accountCurrency(ctx: BillyContext, accountId: string, gateways: readonly string[]): Promise<string> {
  const res = await billyRequest(ctx, { method: "GET", path: `/accounts/${encodeURIComponent(accountId)}`, accept: [404] });
  if (res.status === 404)
    throw settingsError(
      `Billy has no account ${accountId}, the cash account for ${gateways.map((g) => `"${g}"`).join(", ")}: correct byGateway (or defaultCashAccountId) in the step's settings.`,
      "billy_cash_account_missing",
      { cashAccountId: accountId },
    );
  const account = changedRecord<BillyAccount>(res.body, "accounts", "account");
  return account.currencyId ?? (await baseCurrency(ctx));
}

/**
 * The bank payments already settling the invoice, in minor units of its currency: what each one
 * settled on this invoice (its balance modifier's amount), or else its cash amount brought back
 * into the invoice's currency at its own rate.
 */
export async function existingPayments(ctx: BillyContext, invoice: BillyInvoice, currency: string): Promise<ExistingPayment[]> {
  const settled = new Map<string, number | undefined>();
  for (const m of invoice.balanceModifiers ?? []) {
    if (m.isVoided || !m.modifierReference?.startsWith("bankPayment:")) continue;
    const id = m.modifierReference.slice("bankPayment:".length);
    const amount = typeof m.amount === "number" ? Math.abs(m.amount) : undefined;
    settled.set(id, amount === undefined ? settled.get(id) : (settled.get(id) ?? 0) + amount);
  }
  const out: ExistingPayment[] = [];
  for (const [id, amount] of settled) {
    const res = await billyRequest(ctx, { method: "GET", path: `/bankPayments/${encodeURIComponent(id)}`, accept: [404] });
    if (res.status === 404) continue;
    const payment = changedRecord<BillyBankPayment>(res.body, "bankPayments", "bankPayment");
    if (payment.isVoided || !payment.cashAccountId) continue;
    const inInvoiceCurrency = amount ?? (payment.cashAmount ?? 0) / (payment.cashExchangeRate || 1);
    out.push({ id: payment.id, cashAccountId: payment.cashAccountId, amount: toMinor(inInvoiceCurrency.toFixed(6), currency) });
  }
  return out;
}
