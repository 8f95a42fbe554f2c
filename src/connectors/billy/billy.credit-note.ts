/**
 * `createCreditNote`: one refund as a Billy credit note (`type: "creditNote"`, `creditedInvoiceId`)
 * crediting the invoice this connection made for the order. Each refund is its own transfer, so its
 * own reference and its own credit note; with `oneCreditNotePerInvoice` a later refund is added to
 * the earlier credit note while that is a draft, its reference appended to the note's `externalId`.
 */
import { buildCreditNoteDocument, spreadChecks } from "../../domain/accounting/build-document";
import { checkCreditCurrency, checkOverCredit, type EarlierCredit } from "../../domain/accounting/credit-checks";
import type { AccountingDocument } from "../../domain/accounting/document";
import { toMinor } from "../../domain/money";
import type { CanonicalOrder } from "../../domain/order";
import { type ActionContext, type ActionResult, defineAction } from "../contract";
import { settingsError } from "./billy.api";
import {
  approve,
  checkTaxRates,
  createDraft,
  creditNotesOf,
  getInvoice,
  type MappedLines,
  mapLines,
  mismatchError,
  totalsProblem,
  updateDraft,
} from "./billy.documents";
import { earlierCreditNote, invoiceFromHistory, invoiceFromPrevious } from "./billy.history";
import { approvedMismatch, type BillyInvoice, grossMinor, invoiceBody, linesAsSent, referencesOf } from "./billy.invoice";
import { documentExchangeRate } from "./billy.organization";
import {
  type BillyConnectionSettings,
  type BillyCredentials,
  type CreateCreditNoteSettings,
  createCreditNoteSettings,
} from "./billy.settings";
import { taxRateIds } from "./billy.tax";

export const createCreditNote = defineAction<typeof createCreditNoteSettings, BillyCredentials, BillyConnectionSettings>({
  stages: ["refunded"],
  description: "Create a Billy credit note for a refund, linked to the invoice this connection made for the order.",
  settings: createCreditNoteSettings,
  async run(ctx, { order, refund }) {
    if (!refund)
      throw settingsError("createCreditNote needs a refund: use it in a flow on the refunded stage.", "billy_no_refund");
    const invoiceId = invoiceFromHistory(ctx.history, ctx.connection.id) ?? invoiceFromPrevious(ctx.previous);
    if (!invoiceId)
      throw settingsError(
        `There is no invoice to credit: no Billy createInvoice on this connection has completed for order ${order.source.orderNumber}.`,
        "billy_no_invoice_to_credit",
      );
    const settings = ctx.settings;
    const document = buildCreditNoteDocument(order, refund, settings);
    const notes = await creditNotesOf(ctx, invoiceId);
    const mine = notes.find((n) => referencesOf(n).includes(ctx.reference));
    const earlier = settings.oneCreditNotePerInvoice ? earlierCreditNote(ctx.history, ctx.connection.id, invoiceId) : undefined;
    const merged = earlier
      ? { merged: true, mergedRefunds: [...earlier.refunds.filter((r) => r !== refund.source.refundId), refund.source.refundId] }
      : {};
    const base = { invoiceId, refundId: refund.source.refundId, orderNumber: order.source.orderNumber, ...merged };
    if (mine) {
      const chosen = () => taxRateIds(document.lines, document.vat, settings);
      const saved = mine.state === "approved" || earlier ? mine : await finish(ctx, document, mine, settings, chosen);
      // One a person approved despite a totals mismatch is reported, for the differences alert; a
      // merged note holds other refunds too, so its totals are not this refund's.
      const mismatch = saved.state === "approved" && !earlier ? approvedMismatch(saved, document, order.source.orderNumber) : [];
      return result(saved, document, undefined, {
        created: false,
        ...base,
        ...(mismatch.length > 0 ? { differences: mismatch } : {}),
      });
    }

    const original = await getInvoice(ctx, invoiceId);
    if (original?.state !== "approved")
      throw settingsError(
        `Billy invoice ${invoiceId} is ${original ? "still a draft" : "gone"}; Billy credits approved invoices only. Correct the draft instead, or approve it first.`,
        "billy_invoice_not_approved",
        { invoiceId },
      );
    checkAgainstInvoice(ctx, order, document, original, notes);
    const mapped = await mapLines(ctx, document, settings);
    if (earlier) return mergeInto(ctx, earlier.creditNoteId, document, mapped, base);

    const body = {
      ...invoiceBody(document, {
        contactId: original.contactId as string,
        reference: ctx.reference,
        lines: mapped.lines,
        message: `Refund of order ${order.source.orderNumber}`,
        exchangeRate: await documentExchangeRate(ctx, order, document, settings),
      }),
      creditedInvoiceId: invoiceId,
    };
    ctx.mapped({ document, billyInvoice: body });
    const draft = await createDraft(ctx, body);
    const chosen = () => mapped.lines.map((l) => l.taxRateId);
    const saved = await finish(ctx, document, { contactId: original.contactId, ...draft }, settings, chosen);
    return result(saved, document, mapped, { created: true, ...base });
  },
});

type Ctx = ActionContext<CreateCreditNoteSettings, BillyCredentials, BillyConnectionSettings>;

/**
 * Before anything is written: the credit note in the invoice's currency, and with the invoice's
 * other credit notes in Billy (drafts too, voided ones not) no more than the invoice's amount.
 * `notes` holds none carrying this step's reference: such a note is this one, adopted before.
 */
function checkAgainstInvoice(
  ctx: Ctx,
  order: CanonicalOrder,
  document: AccountingDocument,
  original: BillyInvoice,
  notes: readonly BillyInvoice[],
): void {
  const label = `Billy invoice ${original.invoiceNo ?? original.id}`;
  const currency = original.currencyId ?? document.currency;
  checkCreditCurrency({ label, currency }, document.currency, order, "billy_credit_currency");
  const gross = grossMinor(original, currency);
  if (gross === undefined) return;
  const earlier: EarlierCredit[] = notes.flatMap((n) => {
    const held = grossMinor(n, currency);
    if (held === undefined || (n.currencyId ?? currency) !== currency) return [];
    const name = `${n.state === "approved" ? "credit note" : "draft credit note"} ${n.invoiceNo ?? n.id}`;
    return [{ label: name, gross: Math.abs(held) }];
  });
  checkOverCredit(
    { label, currency, gross: Math.abs(gross) },
    earlier,
    document.totals.total,
    toMinor(ctx.settings.centsThreshold, currency),
    "billy_credit_exceeds_invoice",
  );
}

/** Adds this refund's lines to the earlier credit note while it is a draft; refuses once it is approved. */
async function mergeInto(
  ctx: Ctx,
  creditNoteId: string,
  document: AccountingDocument,
  mapped: MappedLines,
  base: { orderNumber: string } & Record<string, unknown>,
): Promise<ActionResult> {
  const note = await getInvoice(ctx, creditNoteId, "invoice.lines:embed");
  if (note?.state !== "draft")
    throw settingsError(
      `The step allows one credit note per invoice (oneCreditNotePerInvoice), and the earlier credit note ${note?.invoiceNo ?? creditNoteId} is ${note ? "approved" : "gone"}: this refund cannot be added to it. Credit it by hand in Billy, or turn the setting off so each refund gets its own credit note.`,
      "billy_one_credit_note_per_invoice",
      { creditNoteId },
    );
  if (document.mismatch) throw mismatchError(document.mismatch, creditNoteId);
  const fields = {
    externalId: [...referencesOf(note), ctx.reference].join(","),
    lines: [...linesAsSent(note.lines), ...mapped.lines],
  };
  ctx.mapped({ document, billyInvoice: { id: creditNoteId, ...fields } });
  const saved = await updateDraft(ctx, creditNoteId, fields);
  return result({ ...note, ...saved }, document, mapped, { created: false, ...base });
}

/** Approve when asked and the totals and each line's tax rate agree; keep the draft and fail when they do not. */
async function finish(
  ctx: Ctx,
  document: AccountingDocument,
  draft: BillyInvoice,
  settings: CreateCreditNoteSettings,
  chosen: () => string[],
): Promise<BillyInvoice> {
  const problem = totalsProblem(document, draft);
  if (problem) throw mismatchError(problem, draft.id);
  if (settings.invoiceState !== "booked") return draft;
  // A credit note found again is approved as it is, not saved again: its lines are fixed in Billy.
  await checkTaxRates(ctx, document, draft.id, chosen(), "delete the draft credit note in Billy and retry.");
  return { ...draft, ...(await approve(ctx, draft.id)) };
}

function result(
  note: BillyInvoice,
  document: AccountingDocument,
  mapped: MappedLines | undefined,
  extra: { created: boolean; orderNumber: string; differences?: string[] } & Record<string, unknown>,
): ActionResult {
  const { created, invoiceId, orderNumber, differences, ...outputs } = extra;
  // The VAT spread is booked as Orderly decided: a check for a person, not a difference to correct.
  const checks = spreadChecks(document, `credit note ${note.invoiceNo ?? note.id}`, orderNumber);
  return {
    externalId: note.id,
    created,
    outputs: {
      documentType: "creditNote",
      creditNoteId: note.id,
      creditedInvoiceId: invoiceId,
      contactId: note.contactId,
      state: note.state ?? "draft",
      ...(note.invoiceNo === undefined || note.invoiceNo === null ? {} : { creditNoteNo: String(note.invoiceNo) }),
      total: document.totals.total,
      currency: document.currency,
      vatCase: document.vat.case,
      warnings: mapped?.warnings ?? document.warnings,
      ...outputs,
      ...(differences && differences.length > 0 ? { differences } : {}),
      ...(checks.length > 0 ? { checks } : {}),
    },
  };
}
