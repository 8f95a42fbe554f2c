/**
 * `createOrder` ("synchronise from the order stage"): the order as an e-conomic draft order, made
 * at an earlier stage than the invoice (e.g. `created`) so the order is visible, and stock reserved,
 * before it is paid. A later createInvoice on the same connection turns it into the invoice. A
 * draft order already carrying the step's reference is replaced with the current order (PUT).
 * Once the order has become an invoice (the upgrade deletes the draft order), a re-run (an update
 * of the order) makes no draft order again: it says which invoice the order became, and that
 * invoice's own step brings it up to date. Without an invoice step, a re-run whose draft order is
 * gone finds the invoice a person made of it by its reference (economic.order-invoiced.ts).
 * Note: e-conomic documents /orders as unavailable for creating and changing orders on agreements
 * with the inventory module.
 */
import { buildInvoiceDocument, paidDifferences } from "../../domain/accounting/build-document";
import { isLadderStage } from "../../domain/stage";
import { type ActionResult, defineAction } from "../contract";
import { type EconomicContext, economicRequest } from "./economic.api";
import { economicReference, withCustomer } from "./economic.body";
import { deletedByCancel } from "./economic.create-invoice";
import { documentCustomer, documentOutputs, prepareDocument } from "./economic.document-steps";
import { type InvoiceTrace, invoiceTraces, orderFromHistory, type StepsContext } from "./economic.history";
import { orderMadeBefore, orderNoLongerDraft } from "./economic.order-invoiced";
import { deleteDraftOrder } from "./economic.orders";
import { findDraftOrderByReference, findInvoiceByReference } from "./economic.reference";
import { createOrderSettings, type EconomicConnectionSettings, type EconomicCredentials } from "./economic.settings";

export const createOrder = defineAction<typeof createOrderSettings, EconomicCredentials, EconomicConnectionSettings>({
  description: "Create the order as a draft order in e-conomic; a later createInvoice turns it into the invoice.",
  settings: createOrderSettings,
  // The prefix is part of the reference written into the document and searched for by a re-run.
  identitySettings: ["referencePrefix"],
  async run(ctx, { order }) {
    const settings = { ...ctx.settings, invoiceState: "draft" as const };
    const reference = economicReference(settings, ctx.reference);
    const document = buildInvoiceDocument(order, settings);
    // Invoices earlier steps made for the order: if one exists, the order was invoiced and no draft
    // order is made. One carrying this step's reference is a leftover (an upgrade interrupted before
    // its deletion, or this step's POST that landed unseen while the invoice was made without it):
    // updated, it would still reserve stock and could be invoiced a second time, so it is deleted.
    const traces = invoiceTraces(ctx);
    if (traces.length > 0) {
      const left = await findDraftOrderByReference(ctx, reference);
      return await alreadyInvoiced(ctx, traces, reference, left?.orderNumber);
    }
    const own = ctx.firstAttempt ? undefined : await findDraftOrderByReference(ctx, reference);
    const madeBefore = orderMadeBefore(ctx.prior);
    // Never made one itself: the draft order another flow's createOrder made (the step moved to
    // another stage, or in two flows) is adopted under its reference, not made a second time.
    const earlier = own || madeBefore !== undefined ? undefined : adoptableOrder(ctx);
    const theirs = earlier?.reference ? await findDraftOrderByReference(ctx, earlier.reference) : undefined;
    const kept = theirs && earlier?.reference ? earlier.reference : reference;
    const prepared = await prepareDocument(ctx, order, document, settings, { reference: kept });
    // The draft order this step made is gone with no invoice step to say why (a person invoiced,
    // sent or deleted it): a new one could be invoiced a second time.
    if (!own && madeBefore !== undefined)
      return await orderNoLongerDraft(ctx, document, order.source.orderNumber, reference, madeBefore);
    // The same for the other flow's draft order.
    if (earlier?.reference && !theirs) {
      const by = `another flow's createOrder step (the order's ${earlier.from.stage}-stage transfer ${earlier.from.transferId})`;
      return await orderNoLongerDraft(ctx, document, order.source.orderNumber, earlier.reference, earlier.orderNumber, by);
    }
    const existing = own ?? theirs;
    const adoptedFrom =
      theirs && earlier
        ? {
            adoptedFrom: earlier.from,
            reason: `The order's e-conomic draft order ${theirs.orderNumber} was made earlier by another flow (step ${earlier.from.stepIndex + 1} of the order's ${earlier.from.stage}-stage transfer ${earlier.from.transferId}); Orderly adopted it instead of making a second one.`,
          }
        : {};
    const customer =
      existing?.customerNumber !== undefined
        ? { customerNumber: existing.customerNumber, created: false }
        : await documentCustomer(ctx, order, document, settings, prepared);
    const body = withCustomer(prepared.header, customer.customerNumber);
    ctx.mapped({ document, order: body });
    let orderNumber: number;
    if (existing) {
      await economicRequest(ctx, { method: "PUT", path: `/orders/drafts/${existing.orderNumber}`, json: body });
      orderNumber = existing.orderNumber;
    } else {
      const made = await economicRequest<{ orderNumber: number }>(ctx, { method: "POST", path: "/orders/drafts", json: body });
      orderNumber = made.body.orderNumber;
    }
    const outputs = documentOutputs(document, prepared.products);
    return {
      externalId: String(orderNumber),
      created: !existing,
      outputs: {
        orderNumber,
        customerNumber: customer.customerNumber,
        customerCreated: customer.created,
        reference: kept,
        ...outputs,
        // An order is not booked, so a totals mismatch fails only a later invoice step, if there is one:
        // a person may book the draft order first, so it is also a difference, which the tenant is told.
        ...(document.mismatch
          ? {
              warnings: [...(outputs.warnings as string[]), document.mismatch],
              differences: paidDifferences(
                document,
                { record: `draft order ${orderNumber}`, booked: false },
                order.source.orderNumber,
              ),
            }
          : {}),
        ...(existing ? { updated: true } : {}),
        ...adoptedFrom,
      },
    };
  },
});

/**
 * The draft order another flow's createOrder made that this step may adopt: one of a ladder-stage
 * transfer, and not deleted by the order's cancelOrder (a cancelled order reopened gets a fresh
 * draft order; adopting the deleted one would find it gone and make none).
 */
function adoptableOrder(ctx: StepsContext): ReturnType<typeof orderFromHistory> {
  const earlier = orderFromHistory({ ...ctx, history: ctx.history.filter((h) => isLadderStage(h.stage)) });
  return earlier && !deletedByCancel(ctx, earlier.orderNumber) ? earlier : undefined;
}

/**
 * The result when the order is already an invoice: which one, as e-conomic has it now. A booked
 * invoice stays booked; a draft's reference is looked up, as a person may have booked (or
 * deleted) it since. A draft order the invoice was made from but that is still there (an upgrade
 * interrupted before its deletion), or one the invoice was made without, is deleted, as the
 * upgrade would have.
 */
async function alreadyInvoiced(
  ctx: StepsContext & EconomicContext,
  traces: InvoiceTrace[],
  reference: string,
  leftOrderNumber: number | undefined,
): Promise<ActionResult> {
  let invoice: { state: "draft" | "booked" | "gone"; number: number | undefined } | undefined;
  const booked = traces.find((t) => t.bookedInvoiceNumber !== undefined);
  if (booked) invoice = { state: "booked", number: booked.bookedInvoiceNumber };
  for (const t of booked ? [] : traces) {
    if (!t.reference) continue;
    const now = await findInvoiceByReference(ctx, t.reference);
    if (now) {
      invoice =
        now.kind === "booked"
          ? { state: "booked", number: now.bookedInvoiceNumber }
          : { state: "draft", number: now.draftInvoiceNumber };
      break;
    }
  }
  invoice ??= { state: "gone", number: traces[0]?.draftInvoiceNumber };
  const deletedOrder = leftOrderNumber !== undefined && (await deleteDraftOrder(ctx, leftOrderNumber));
  const named = `${invoice.state === "booked" ? "booked invoice" : "draft invoice"} ${invoice.number ?? "(number unknown)"}`;
  const reason =
    invoice.state === "gone"
      ? `the order was turned into e-conomic ${named}, which is no longer in e-conomic; no draft order is made again`
      : `the order is already e-conomic ${named}; no draft order is made again, and the invoice's own step brings it up to date`;
  return {
    externalId: invoice.number === undefined ? "invoiced" : String(invoice.number),
    created: false,
    outputs: {
      invoiced: true,
      invoiceState: invoice.state,
      ...(invoice.number === undefined ? {} : { invoiceNumber: invoice.number }),
      reference,
      ...(deletedOrder ? { deletedOrders: [leftOrderNumber] } : {}),
      reason,
    },
  };
}
