/**
 * `createInvoice`: the order as a Billy invoice, adopted when one already carries the step's
 * reference. A draft is brought up to date with the order; an approved invoice is never touched, and
 * what would change is reported instead. Booked mode approves the invoice only when its totals match
 * what the customer paid and Billy kept the tax rate Orderly chose on every line; otherwise the
 * draft stays and the transfer fails with the reason. Without an invoice of its own, the step adopts
 * the order's invoice another flow made on this connection (billy.earlier-invoice.ts).
 */
import { buildInvoiceDocument } from "../../domain/accounting/build-document";
import type { AccountingDocument } from "../../domain/accounting/document";
import { type ActionResult, defineAction } from "../contract";
import type { BillyContext } from "./billy.api";
import { findOrCreateContact, isBusiness } from "./billy.contact";
import {
  approve,
  checkTaxRates,
  createDraft,
  findByReference,
  getInvoice,
  type MappedLines,
  mapLines,
  mismatchError,
  totalsProblem,
  updateDraft,
} from "./billy.documents";
import { earlierInvoice } from "./billy.earlier-invoice";
import { type BillyInvoice, type BillyLine, invoiceBody, invoiceDifferences, sameLines } from "./billy.invoice";
import { documentExchangeRate } from "./billy.organization";
import {
  type BillyConnectionSettings,
  type BillyCredentials,
  type CreateInvoiceSettings,
  createInvoiceSettings,
} from "./billy.settings";

export const createInvoice = defineAction<typeof createInvoiceSettings, BillyCredentials, BillyConnectionSettings>({
  description:
    "Create the order's invoice in Billy (a draft, or approved when its totals match), matching or creating its contact.",
  settings: createInvoiceSettings,
  async run(ctx, { order }) {
    const settings = ctx.settings;
    const document = buildInvoiceDocument(order, settings);
    // A first attempt has made nothing under its reference yet (ActionContext.firstAttempt).
    const existing = ctx.firstAttempt ? undefined : await findByReference(ctx, ctx.reference);
    const exchangeRate = await documentExchangeRate(ctx, order, document, settings);
    if (existing) return adopt(ctx, existing.id, document, exchangeRate, order.source.orderNumber);
    // No invoice of its own (each transfer has its own reference): the order's invoice another flow
    // made is adopted, not made a second time. It keeps its reference, by which that flow finds it.
    const earlier = await earlierInvoice(ctx);
    if (earlier) {
      const adopted = await adopt(ctx, earlier.invoice.id, document, exchangeRate, order.source.orderNumber, earlier.invoice);
      return { ...adopted, outputs: { ...adopted.outputs, ...earlier.outputs } };
    }

    const mapped = await mapLines(ctx, document, settings);
    const contact = await findOrCreateContact(ctx, order, settings);
    const body = invoiceBody(document, {
      contactId: contact.contactId,
      reference: ctx.reference,
      lines: mapped.lines,
      paymentTermsDays: isBusiness(order) ? settings.b2bPaymentTermsDays : settings.b2cPaymentTermsDays,
      message: `Order ${order.source.orderNumber}`,
      exchangeRate,
    });
    ctx.mapped({ document, billyInvoice: body });
    const draft = await createDraft(ctx, body);
    const saved = await finish(ctx, document, draft, settings, mapped.lines);
    return result({ contactId: contact.contactId, ...saved }, document, mapped, {
      created: true,
      contactCreated: contact.created,
    });
  },
});

/**
 * An invoice made before, with this reference or by another flow (`read`: as just read, lines
 * embedded): update a draft that no longer matches; never an approved one.
 */
async function adopt(
  ctx: BillyContext & { settings: CreateInvoiceSettings; mapped(data: unknown): void },
  id: string,
  document: AccountingDocument,
  exchangeRate: number | undefined,
  orderNumber: string,
  read?: BillyInvoice,
): Promise<ActionResult> {
  const found = read ?? (await getInvoice(ctx, id, "invoice.lines:embed"));
  const invoice: BillyInvoice = found ?? { id };
  if (invoice.state === "approved") {
    return result(invoice, document, undefined, {
      created: false,
      updated: false,
      differences: invoiceDifferences(invoice, document, orderNumber),
    });
  }
  const mapped = await mapLines(ctx, document, ctx.settings);
  let saved = invoice;
  let updated = false;
  if (!sameLines(invoice.lines, mapped.lines)) {
    // Not `entryDate`: Billy's docs say it "must not be set if the invoice has already been created".
    // They say the same of `lines`, yet also that setting them replaces the existing lines, as
    // PUT with an embedded has-many does by Billy's conventions; lines are sent (unconfirmed).
    const fields = {
      currencyId: document.currency,
      ...(exchangeRate === undefined ? {} : { exchangeRate }),
      lines: mapped.lines,
    };
    ctx.mapped({ document, billyInvoice: { id, ...fields } });
    saved = await updateDraft(ctx, id, fields);
    updated = true;
  }
  saved = await finish(ctx, document, { ...invoice, ...saved }, ctx.settings, mapped.lines);
  return result(saved, document, mapped, { created: false, updated });
}

/** Approve when asked and the totals and each line's tax rate agree; keep the draft and fail when they do not. */
async function finish(
  ctx: BillyContext,
  document: AccountingDocument,
  draft: BillyInvoice,
  settings: CreateInvoiceSettings,
  lines: readonly BillyLine[],
): Promise<BillyInvoice> {
  const problem = totalsProblem(document, draft);
  if (problem) throw mismatchError(problem, draft.id);
  if (settings.invoiceState !== "booked") return draft;
  const chosen = lines.map((l) => l.taxRateId);
  await checkTaxRates(ctx, document, draft.id, chosen, "retry; the retry saves the draft's lines again.");
  return { ...draft, ...(await approve(ctx, draft.id)) };
}

function result(
  invoice: BillyInvoice,
  document: AccountingDocument,
  mapped: MappedLines | undefined,
  extra: { created: boolean } & Record<string, unknown>,
): ActionResult {
  const { created, ...outputs } = extra;
  return {
    externalId: invoice.id,
    created,
    outputs: {
      documentType: "invoice",
      invoiceId: invoice.id,
      contactId: invoice.contactId,
      state: invoice.state ?? "draft",
      ...(invoice.invoiceNo === undefined || invoice.invoiceNo === null ? {} : { invoiceNo: String(invoice.invoiceNo) }),
      total: document.totals.total,
      currency: document.currency,
      vatCase: document.vat.case,
      warnings: mapped?.warnings ?? document.warnings,
      ...(mapped && mapped.productsCreated.length > 0 ? { productsCreated: mapped.productsCreated } : {}),
      ...outputs,
    },
  };
}
