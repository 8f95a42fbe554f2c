/**
 * The sandbox ledger's actions: invoices, payments and credit notes, each adopted by its reference;
 * an invoice also when another flow of the order made it on this connection (ledger.history.ts).
 */
import { z } from "zod";
import { accountingSettingsSchema } from "../../domain/accounting/accounting-settings";
import { buildCreditNoteDocument, buildInvoiceDocument, spreadChecks } from "../../domain/accounting/build-document";
import { checkCreditCurrency, checkOverCredit } from "../../domain/accounting/credit-checks";
import type { AccountingDocument } from "../../domain/accounting/document";
import { OrderlyError } from "../../domain/errors";
import { toDecimalString, toMinor } from "../../domain/money";
import type { CanonicalOrder } from "../../domain/order";
import { paidAsAWhole, receivedPayments } from "../../domain/payment";
import { type ActionContext, defineAction } from "../contract";
import {
  bookDocument,
  createDocumentOnce,
  creditNotesOf,
  differences,
  findInvoiceById,
  findInvoiceByReference,
  findPaymentByReference,
  type LedgerInvoice,
  matchOrCreateCustomer,
  registerPaymentOnce,
  updateDraft,
} from "./ledger.books";
import { earlierInvoice, invoiceFromHistory } from "./ledger.history";

export const ledgerSettings = z.object({
  rejectOrdersAbove: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      "Demo aid: orders whose total (minor units) is above this are rejected as a validation error, to show a failure and its retry.",
    ),
});
export type LedgerSettings = z.infer<typeof ledgerSettings>;
type Ctx<S> = ActionContext<S, Record<string, never>, LedgerSettings>;

const invoiceSettings = accountingSettingsSchema.extend({
  customerMatch: z
    .enum(["email", "shared"])
    .default("email")
    .describe("Match customers by email (created when new), or put every order on one shared customer."),
});

async function customerFor(ctx: Ctx<z.infer<typeof invoiceSettings>>, order: CanonicalOrder) {
  const email = order.customer?.email?.trim().toLowerCase();
  const name =
    [order.customer?.firstName, order.customer?.lastName].filter(Boolean).join(" ") ||
    order.billingAddress?.name ||
    email ||
    "Webshop customer";
  const shared = ctx.settings.customerMatch === "shared" || !email;
  return matchOrCreateCustomer(ctx.env, {
    connectionId: ctx.connection.id,
    tenantId: ctx.connection.tenantId,
    matchKey: shared ? "shared" : `email:${email}`,
    name: shared ? "Webshop customers" : name,
    ...(email && !shared ? { email } : {}),
    ...(order.billingAddress?.country ? { country: order.billingAddress.country } : {}),
  });
}

export const createInvoice = defineAction<typeof invoiceSettings, Record<string, never>, LedgerSettings>({
  description: "Books the order as an invoice in the sandbox ledger (kept in Orderly's own database).",
  settings: invoiceSettings,
  async run(ctx, { order }) {
    const limit = ctx.connection.settings.rejectOrdersAbove;
    if (limit !== undefined && order.totals.total > limit) {
      throw new OrderlyError(
        `The sandbox ledger rejects orders above ${limit} minor units (this one is ${order.totals.total}).`,
        {
          errorClass: "validation",
          code: "ledger_rejected",
        },
      );
    }
    const document = buildInvoiceDocument(order, ctx.settings);
    const format = (minor: number) => `${toDecimalString(minor, document.currency)} ${document.currency}`;
    const own = await findInvoiceByReference(ctx.env, ctx.connection.id, ctx.reference);
    // No invoice of its own (each transfer has its own reference): the order's invoice another flow
    // made is adopted, not made a second time. It keeps its reference, by which that flow finds it.
    const earlier = own ? undefined : await earlierInvoice(ctx);
    const existing = own ?? earlier?.invoice;
    const customer = existing ? { id: existing.customerId, created: false } : await customerFor(ctx, order);
    const input = {
      connectionId: ctx.connection.id,
      tenantId: ctx.connection.tenantId,
      reference: ctx.reference,
      customerId: customer.id,
      orderNumber: order.source.orderNumber,
      state: "draft" as const,
      type: "invoice" as const,
      document,
    };
    ctx.mapped({ document });
    const outputs = {
      customerId: customer.id,
      total: document.totals.total,
      currency: document.currency,
      vatCase: document.vat.case,
      warnings: document.warnings,
    };
    if (existing?.state === "booked") {
      // A booked invoice is never changed; the transfer log shows what the update would have changed.
      const changed = differences(existing, document, format);
      return {
        externalId: String(existing.id),
        created: false,
        outputs: { ...outputs, invoiceId: existing.id, state: "booked", differences: changed, ...earlier?.outputs },
      };
    }
    let id: number;
    let created: boolean;
    if (existing) {
      await updateDraft(ctx.env, existing.id, input);
      ({ id, created } = { id: existing.id, created: false });
    } else {
      ({ id, created } = await createDocumentOnce(ctx.env, input));
    }
    if (document.mismatch) {
      throw new OrderlyError(`${document.mismatch} The invoice was left as draft ${id}.`, {
        errorClass: "validation",
        code: "invoice_totals_mismatch",
        details: { invoiceId: id, expected: document.expected, totals: document.totals },
      });
    }
    if (ctx.settings.invoiceState === "booked") await bookDocument(ctx.env, id);
    return {
      externalId: String(id),
      created,
      outputs: {
        ...outputs,
        invoiceId: id,
        state: ctx.settings.invoiceState,
        ...(existing ? { updated: true } : {}),
        ...earlier?.outputs,
      },
    };
  },
});

const paymentSettings = z.object({
  onlyWhenPaid: z.boolean().default(true).describe("Register a payment only when the order says it is paid."),
});

export const registerPayment = defineAction<typeof paymentSettings, Record<string, never>, LedgerSettings>({
  description: "Registers the order's payment on the invoice an earlier step made.",
  settings: paymentSettings,
  async run(ctx, { order }) {
    const invoiceId = invoiceFromHistory(ctx);
    if (invoiceId === undefined)
      throw new OrderlyError("There is no invoice to register a payment on: run createInvoice first.", {
        errorClass: "validation",
        code: "ledger_no_invoice",
      });
    const invoice = await findInvoiceById(ctx.env, ctx.connection.id, invoiceId);
    if (!invoice)
      throw new OrderlyError(`Invoice ${invoiceId} is not in the sandbox ledger.`, {
        errorClass: "validation",
        code: "ledger_no_invoice",
      });
    const paid = receivedPayments(order);
    const amount =
      paid.length > 0
        ? paid.reduce((sum, p) => sum + p.amount, 0)
        : paidAsAWhole(order) || !ctx.settings.onlyWhenPaid
          ? invoice.total
          : 0;
    if (amount === 0)
      return { externalId: String(invoiceId), created: false, outputs: { invoiceId, reason: "the order is not paid" } };
    const method = paid[0]?.gateway ?? order.payments[0]?.gateway ?? "unknown";
    // This step's own payment first: a retry or re-run adopts it as it was.
    const own = await findPaymentByReference(ctx.env, ctx.connection.id, ctx.reference);
    if (own)
      return {
        externalId: String(own.id),
        created: false,
        outputs: { invoiceId, amount: own.amount, method, partial: invoice.paid < invoice.total },
      };
    // Only what the invoice does not have yet: an invoice another flow made and paid (adopted by this
    // flow's createInvoice) already holds that flow's payment, which must not be entered twice.
    const missing = amount - invoice.paid;
    if (missing <= 0)
      return {
        externalId: String(invoiceId),
        created: false,
        outputs: {
          invoiceId,
          amount: 0,
          alreadyPaid: invoice.paid,
          reason: `invoice ${invoiceId} already has ${toDecimalString(invoice.paid, invoice.currency)} ${invoice.currency} paid, all the order says was paid: nothing to register`,
        },
      };
    const payment = await registerPaymentOnce(ctx.env, {
      connectionId: ctx.connection.id,
      tenantId: ctx.connection.tenantId,
      reference: ctx.reference,
      invoiceId,
      amount: missing,
      method,
    });
    return {
      externalId: String(payment.id),
      created: payment.created,
      outputs: {
        invoiceId,
        amount: missing,
        method,
        partial: invoice.paid + missing < invoice.total,
        ...(invoice.paid > 0 ? { alreadyPaid: invoice.paid } : {}),
      },
    };
  },
});

const creditNoteSettings = accountingSettingsSchema;

export const createCreditNote = defineAction<typeof creditNoteSettings, Record<string, never>, LedgerSettings>({
  stages: ["refunded"],
  description: "Credits a refund against the invoice made for the order.",
  settings: creditNoteSettings,
  async run(ctx, { order, refund }) {
    if (!refund)
      throw new OrderlyError("createCreditNote runs in flows on the refunded stage.", {
        errorClass: "validation",
        code: "ledger_no_refund",
      });
    const invoiceId = invoiceFromHistory(ctx);
    const invoice = invoiceId === undefined ? undefined : await findInvoiceById(ctx.env, ctx.connection.id, invoiceId);
    if (!invoice)
      throw new OrderlyError("There is no invoice for this order in the sandbox ledger to credit.", {
        errorClass: "validation",
        code: "ledger_no_invoice",
      });
    const document = buildCreditNoteDocument(order, refund, ctx.settings);
    // The note carrying this step's reference is this one, made by an earlier attempt: taken over
    // as it is, as Billy and e-conomic do, without checking it against the invoice again.
    const own = await findInvoiceByReference(ctx.env, ctx.connection.id, ctx.reference);
    if (!own) await checkAgainstInvoice(ctx, order, document, invoice);
    ctx.mapped({ document });
    const made = own
      ? { id: own.id, created: false }
      : await createDocumentOnce(ctx.env, {
          connectionId: ctx.connection.id,
          tenantId: ctx.connection.tenantId,
          reference: ctx.reference,
          customerId: invoice.customerId,
          orderNumber: order.source.orderNumber,
          state: "draft",
          type: "credit-note",
          creditedInvoiceId: invoice.id,
          document,
        });
    if (document.mismatch)
      throw new OrderlyError(`${document.mismatch} The credit note was left as draft ${made.id}.`, {
        errorClass: "validation",
        code: "credit_note_totals_mismatch",
      });
    if (ctx.settings.invoiceState === "booked") await bookDocument(ctx.env, made.id);
    // Booked as decided: the VAT spread is for a person to check, not a difference to correct.
    const checks = spreadChecks(document, `credit note ${made.id}`, order.source.orderNumber);
    return {
      externalId: String(made.id),
      created: made.created,
      outputs: {
        creditNoteId: made.id,
        invoiceId: invoice.id,
        total: document.totals.total,
        ...(checks.length > 0 ? { checks } : {}),
      },
    };
  },
});

/**
 * Before anything is written, as e-conomic and Billy do: the credit note in the invoice's currency,
 * and with the invoice's other credit notes in the ledger (drafts too) no more than the invoice's
 * amount. A note of a refund deleted in the shop is left out (refundDeleted): the ledger cannot
 * void a note, as a person voids one in Billy, so it would refuse the refund made again for ever.
 */
async function checkAgainstInvoice(
  ctx: Ctx<z.infer<typeof creditNoteSettings>>,
  order: CanonicalOrder,
  document: AccountingDocument,
  invoice: LedgerInvoice,
): Promise<void> {
  const label = `Sandbox ledger invoice ${invoice.id}`;
  checkCreditCurrency({ label, currency: invoice.currency }, document.currency, order, "ledger_credit_currency");
  const notes = await creditNotesOf(ctx.env, ctx.connection.id, invoice.id);
  const earlier = notes
    .filter((n) => n.reference !== ctx.reference && n.currency === invoice.currency && !refundDeleted(ctx, order, n))
    .map((n) => ({ label: `${n.state === "booked" ? "credit note" : "draft credit note"} ${n.id}`, gross: Math.abs(n.total) }));
  checkOverCredit(
    { label, currency: invoice.currency, gross: Math.abs(invoice.total) },
    earlier,
    document.totals.total,
    toMinor(ctx.settings.centsThreshold, invoice.currency),
    "ledger_credit_exceeds_invoice",
  );
}

/**
 * Whether the note credits a refund the order, which lists all its refunds (WooCommerce), no longer
 * lists: deleted in the shop (as OrderDO's refundsGone). The ledger row keeps no refund id; the
 * order's history names it, a refunded transfer's occurrence being its refund's id. A note no
 * history names (a step that failed after writing it) is counted.
 */
function refundDeleted(ctx: Ctx<unknown>, order: CanonicalOrder, note: LedgerInvoice): boolean {
  if (!order.refundIds) return false;
  const made = ctx.history.find(
    (h) => h.stage === "refunded" && h.target === ctx.connection.id && h.result.outputs.creditNoteId === note.id,
  );
  return made !== undefined && !order.refundIds.includes(made.occurrence);
}
