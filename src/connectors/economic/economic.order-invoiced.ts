/**
 * createOrder's re-run (an update of the order) when the draft order it made is gone and no invoice
 * step of the order's flows knows why: a person turned it into an invoice in e-conomic, sent it, or
 * deleted it. The invoice a person made is found by the order's reference, which e-conomic copies
 * from the order as its upgrade instructions do ([unconfirmed] for an invoice a person makes; the
 * same assumption as createInvoice's `invoicedByPerson`). Either way no second draft order is made:
 * it could be invoiced a second time. The invoice is never changed from here (the flow has no
 * invoice step to own it): what the update would change in it is listed, as for a booked invoice.
 */
import { z } from "zod";
import { paidDifferences } from "../../domain/accounting/build-document";
import type { AccountingDocument } from "../../domain/accounting/document";
import { OrderlyError } from "../../domain/errors";
import { toMinor } from "../../domain/money";
import type { ActionResult } from "../contract";
import { type EconomicContext, economicRequest } from "./economic.api";
import { bookedDifferences } from "./economic.document-steps";
import { asInt } from "./economic.history";
import { type FoundInvoice, findInvoiceByReference, getBookedInvoice } from "./economic.reference";

/** The draft order this step made when it last succeeded (an invoiced or gone result keeps its number). */
export function orderMadeBefore(prior: ActionResult | undefined): number | undefined {
  return prior ? asInt(prior.outputs.orderNumber) : undefined;
}

/** The amounts of a draft invoice Orderly compares (`GET /invoices/drafts/{n}`). */
const draftAmounts = z.object({
  currency: z.string().optional(),
  grossAmount: z.number().optional(),
  vatAmount: z.number().optional(),
  lines: z.array(z.unknown()).optional(),
});

/**
 * The result when draft order `orderNumber`, made by this step before (or by `madeBy`, another
 * flow's createOrder step), is no longer a draft order.
 */
export async function orderNoLongerDraft(
  ctx: EconomicContext,
  document: AccountingDocument,
  shopOrderNumber: string,
  reference: string,
  orderNumber: number,
  madeBy = "this step",
): Promise<ActionResult> {
  const invoice = await findInvoiceByReference(ctx, reference);
  if (!invoice) {
    const reason = `draft order ${orderNumber}, which ${madeBy} made, is no longer among e-conomic's draft orders and no invoice carries its reference ${reference}: a person invoiced, sent or deleted it. No draft order is made again (it could be invoiced twice); make one in e-conomic if the order still needs it`;
    return {
      externalId: String(orderNumber),
      created: false,
      outputs: {
        orderGone: true,
        orderNumber,
        reference,
        reason,
        // In differences, so the tenant is mailed: the update was applied nowhere.
        differences: [`order ${shopOrderNumber}: ${reason}`],
      },
    };
  }
  const booked = invoice.kind === "booked";
  const invoiceNumber = booked ? invoice.bookedInvoiceNumber : invoice.draftInvoiceNumber;
  return {
    externalId: String(invoiceNumber),
    created: false,
    outputs: {
      invoiced: true,
      invoiceState: invoice.kind,
      invoiceNumber,
      // Kept so the next re-run knows it made an order, and a later createInvoice adopts this invoice.
      orderNumber,
      reference,
      differences: await invoiceDifferences(ctx, invoice, document, shopOrderNumber),
      reason: `a person turned e-conomic draft order ${orderNumber} into ${booked ? "booked" : "draft"} invoice ${invoiceNumber}; no draft order is made again, and Orderly does not change the invoice: its differences from the order are listed`,
    },
  };
}

/** What the invoice holds against the order now, as createInvoice lists it for a booked invoice. */
async function invoiceDifferences(
  ctx: EconomicContext,
  invoice: FoundInvoice,
  document: AccountingDocument,
  shopOrderNumber: string,
): Promise<string[]> {
  if (invoice.kind === "booked")
    return bookedDifferences(await getBookedInvoice(ctx, invoice.bookedInvoiceNumber), document, shopOrderNumber);
  const n = invoice.draftInvoiceNumber;
  const found = await economicRequest<unknown>(ctx, { method: "GET", path: `/invoices/drafts/${n}` });
  const draft = draftAmounts.safeParse(found.body);
  if (!draft.success)
    throw new OrderlyError(
      `e-conomic answered draft invoice ${n} without readable amounts (${draft.error.issues[0]?.message}); open it in e-conomic and retry the step.`,
      { errorClass: "validation", code: "economic_unexpected_response", details: { draftInvoiceNumber: n } },
    );
  const currency = draft.data.currency ?? document.currency;
  const minor = (amount: number | undefined) => (amount === undefined ? undefined : toMinor(amount, currency));
  // A draft is not booked: a totals mismatch is named against the draft, for a person to correct before booking.
  if (document.mismatch)
    return paidDifferences(
      document,
      { record: `draft invoice ${n}`, booked: false, total: minor(draft.data.grossAmount), vat: minor(draft.data.vatAmount) },
      shopOrderNumber,
    );
  return bookedDifferences({ ...draft.data, bookedInvoiceNumber: n }, document, shopOrderNumber);
}
