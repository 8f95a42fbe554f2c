/**
 * `registerPayment`: the order's payments as Billy bank payments associated with the invoice
 * (`associations: [{subjectReference: "invoice:<id>"}]`), which settle it (`isPaid`, `balance`).
 * Payments already on the invoice are read first (`invoice.balanceModifiers:embed`, then each bank
 * payment), so a retry or re-run adopts them and only what is missing is registered.
 */
import { toMajorNumber, toMinor } from "../../domain/money";
import { defineAction } from "../contract";
import { type BillyContext, billyRequest, changedRecord, envelope, settingsError } from "./billy.api";
import { getInvoice } from "./billy.documents";
import { invoiceFor } from "./billy.history";
import type { BillyInvoice } from "./billy.invoice";
import { type ExistingPayment, paymentPlan, paymentsToMake } from "./billy.payment";
import { type BillyConnectionSettings, type BillyCredentials, registerPaymentSettings } from "./billy.settings";

interface BillyBankPayment {
  id: string;
  cashAccountId?: string;
  cashAmount?: number;
  isVoided?: boolean;
}

export const registerPayment = defineAction<typeof registerPaymentSettings, BillyCredentials, BillyConnectionSettings>({
  estimatedCalls: 3,
  description: "Register the order's payments on its Billy invoice as bank payments, into the cash account of each gateway.",
  settings: registerPaymentSettings,
  async run(ctx, { order }) {
    const invoiceId = invoiceFor(ctx);
    if (!invoiceId)
      throw settingsError(
        "There is no Billy invoice to register the payment on: put a Billy createInvoice step before registerPayment, or on an earlier stage of the order.",
        "billy_no_invoice",
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
    const bodies = toMake.map((p) => ({
      entryDate,
      cashAmount: toMajorNumber(p.amount, currency),
      cashSide: "debit",
      cashAccountId: p.cashAccountId,
      associations: [{ subjectReference: `invoice:${invoiceId}` }],
    }));
    if (bodies.length > 0) ctx.mapped({ invoiceId, plan, bankPayments: bodies });
    const made: Array<{ id: string; amount: number; cashAccountId: string; gateways: string[] }> = [];
    for (const [i, body] of bodies.entries()) {
      const res = await billyRequest(ctx, { method: "POST", path: "/bankPayments", json: envelope(ctx, "bankPayment", body) });
      const part = toMake[i] as (typeof toMake)[number];
      made.push({ id: changedRecord<BillyBankPayment>(res.body, "bankPayments", "bankPayment").id, ...part });
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

/** The bank payments already settling the invoice, in minor units of its currency. */
async function existingPayments(ctx: BillyContext, invoice: BillyInvoice, currency: string): Promise<ExistingPayment[]> {
  const ids = (invoice.balanceModifiers ?? [])
    .filter((m) => !m.isVoided && m.modifierReference?.startsWith("bankPayment:"))
    .map((m) => (m.modifierReference as string).slice("bankPayment:".length));
  const out: ExistingPayment[] = [];
  for (const id of new Set(ids)) {
    const res = await billyRequest(ctx, { method: "GET", path: `/bankPayments/${encodeURIComponent(id)}`, accept: [404] });
    if (res.status === 404) continue;
    const payment = changedRecord<BillyBankPayment>(res.body, "bankPayments", "bankPayment");
    if (payment.isVoided || !payment.cashAccountId) continue;
    out.push({ id: payment.id, cashAccountId: payment.cashAccountId, amount: toMinor(payment.cashAmount ?? 0, currency) });
  }
  return out;
}
