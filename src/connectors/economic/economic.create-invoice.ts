/**
 * `createInvoice`: the order's invoice document as an e-conomic draft invoice, booked at once when
 * the step says so and the totals match. A draft already carrying the step's reference is updated
 * with the current order (e-conomic has no PATCH: the whole document is PUT); a booked one is never
 * touched, and the differences the update would have made are reported instead. When an earlier
 * createOrder step made a draft order, that order becomes the invoice; when that order is gone
 * because a person invoiced it in e-conomic, the person's invoice is adopted (`invoicedByPerson`);
 * when a person sent it, the sent order becomes the invoice (and is deleted, should e-conomic not
 * archive it). The order is used up (deleted) only once the invoice passed its checks, so a retry
 * after a failed check still finds it. An order gone without trace fails the step rather than be
 * invoiced a second time, unless this step's earlier success or the order's cancelOrder used it up.
 * Without an invoice of its own, the step adopts the order's invoice another flow made on this
 * connection (economic.earlier-invoice.ts), unless credit notes took that back in full.
 */
import { buildInvoiceDocument } from "../../domain/accounting/build-document";
import type { AccountingDocument } from "../../domain/accounting/document";
import { OrderlyError } from "../../domain/errors";
import type { CanonicalOrder } from "../../domain/order";
import { type ActionContext, type ActionResult, defineAction } from "../contract";
import { economicRequest, isRecord } from "./economic.api";
import { economicReference, withCustomer } from "./economic.body";
import { bookDraft } from "./economic.book-invoice";
import {
  bookedDifferences,
  checkComputedTotal,
  documentCustomer,
  documentOutputs,
  mismatchError,
  type PreparedDocument,
  prepareDocument,
} from "./economic.document-steps";
import { earlierInvoice } from "./economic.earlier-invoice";
import { historyResults, invoiceTraces, orderFromHistory, type StepsContext } from "./economic.history";
import { deleteDraftOrder, deleteSentOrder, findSentOrder, upgradedInvoiceBody, upgradeInstructions } from "./economic.orders";
import { termsFromGateways } from "./economic.payment-terms";
import { type FoundInvoice, findInvoiceByReference, getBookedInvoice } from "./economic.reference";
import {
  type CreateInvoiceSettings,
  createInvoiceSettings,
  type EconomicConnectionSettings,
  type EconomicCredentials,
} from "./economic.settings";

type Ctx = ActionContext<CreateInvoiceSettings, EconomicCredentials, EconomicConnectionSettings>;

export const createInvoice = defineAction<typeof createInvoiceSettings, EconomicCredentials, EconomicConnectionSettings>({
  description:
    "Create the order's invoice in e-conomic (draft, or booked when its totals match), with its customer and products; a re-run updates the draft.",
  settings: createInvoiceSettings,
  // The prefix is part of the reference written into the document and searched for by a re-run.
  identitySettings: ["referencePrefix"],
  async run(ctx, { order }) {
    const reference = economicReference(ctx.settings, ctx.reference);
    const document = buildInvoiceDocument(order, ctx.settings);
    const own = ctx.firstAttempt ? undefined : await findInvoiceByReference(ctx, reference);
    // No invoice of its own (each transfer has its own reference): the order's invoice another flow
    // made is adopted, not made a second time. That flow's step used up any draft order already.
    const earlier = own ? undefined : await earlierInvoice(ctx, document.currency, reference);
    const fromOrder = earlier ? undefined : orderFromHistory(ctx);
    const source = !own && fromOrder ? await orderSource(ctx, fromOrder, reference) : undefined;
    // An earlier attempt made `own` of the order but failed before it used the order up (a check, the
    // booking, a lost answer): a sent order is looked up now, while the step has only read.
    const unfinished = own !== undefined && fromOrder !== undefined && ctx.prior === undefined;
    const leftSent = unfinished && fromOrder?.reference ? await findSentOrder(ctx, fromOrder.reference) : undefined;
    const template = source?.template;
    const adopted = source?.adopted;
    const existing = own ?? adopted?.invoice ?? earlier?.invoice;
    // An earlier flow's invoice keeps its reference, by which that flow's steps find it again.
    const kept = earlier?.reference ?? reference;
    if (existing?.kind === "booked") {
      // A booked invoice is never changed; the transfer log shows what the update would have changed.
      const booked = await getBookedInvoice(ctx, existing.bookedInvoiceNumber);
      // Booked (by that attempt, or a person since), the invoice has used the order up.
      const used = unfinished && fromOrder ? await useUpOrder(ctx, fromOrder.orderNumber, leftSent) : undefined;
      return {
        externalId: String(existing.bookedInvoiceNumber),
        created: false,
        outputs: {
          bookedInvoiceNumber: existing.bookedInvoiceNumber,
          customerNumber: existing.customerNumber,
          customerCreated: false,
          reference: adopted?.reference ?? kept,
          ...documentOutputs(document),
          differences: bookedDifferences(booked, document, order.source.orderNumber),
          ...adopted?.outputs,
          ...earlier?.outputs,
          ...used,
        },
      };
    }
    // An order paid at checkout through gateways on "paid" terms: the invoice carries those terms, so
    // it does not fall due unpaid in e-conomic; registerPayment checks the booked invoice has them.
    const gatewayTerms = termsFromGateways(order, ctx.settings.paymentTermsByGateway);
    const prepared = await prepareDocument(ctx, order, document, ctx.settings, {
      reference: kept,
      ...(gatewayTerms ? { paymentTermsNumber: gatewayTerms.paymentTermsNumber } : {}),
    });
    const made = existing
      ? await updateDraft(ctx, order, document, prepared, existing, adopted !== undefined)
      : await createDraft(ctx, order, document, prepared, source?.orderNumber, template);
    try {
      if (document.mismatch) throw mismatchError(document, made.draftInvoiceNumber);
      checkComputedTotal(made.grossAmount, document, made.draftInvoiceNumber);
    } catch (error) {
      const left = orderLeft(source, fromOrder, own !== undefined && !unfinished, leftSent);
      throw left && error instanceof OrderlyError ? withOrderLeft(error, left, made.draftInvoiceNumber) : error;
    }
    const bookedInvoiceNumber =
      ctx.settings.invoiceState === "booked" ? await bookDraft(ctx, made.draftInvoiceNumber) : undefined;
    // Only now is the order used up: an attempt failing above leaves it, so a retry after a person
    // deleted the draft upgrades the order again instead of finding it gone. Idempotent: it also
    // finishes an upgrade whose order deletion an interrupted attempt did not reach.
    const fromSent = made.upgradedFromOrder && source?.sent ? source.orderNumber : undefined;
    const used = fromOrder ? await useUpOrder(ctx, fromOrder.orderNumber, fromSent ?? leftSent) : undefined;
    const upgradedFrom = made.upgradedFromOrder ? source?.orderNumber : undefined;
    const sentOutputs = fromSent === undefined ? undefined : { fromSentOrder: true };
    const outputs = {
      ...(adopted?.outputs ?? sentOutputs),
      ...earlier?.outputs,
      ...used,
      ...(gatewayTerms ? { gatewayTerms } : {}),
    };
    return result(made, kept, document, prepared, bookedInvoiceNumber, upgradedFrom, outputs);
  },
});

interface OrderSource {
  /** The draft invoice e-conomic proposes for the order, to POST. */
  template?: Record<string, unknown>;
  /** The order the template is of (a sent order's number may differ from the draft's [unconfirmed]). */
  orderNumber?: number;
  sent?: boolean;
  adopted?: Awaited<ReturnType<typeof invoicedByPerson>>;
}

/**
 * Deletes the draft order the invoice was made of, and the sent order when there is one (404: gone
 * already). Outputs name a sent order Orderly deleted, as e-conomic was to archive it.
 */
async function useUpOrder(
  ctx: Ctx,
  orderNumber: number,
  sentNumber: number | undefined,
): Promise<{ deletedSentOrder: number } | undefined> {
  await deleteDraftOrder(ctx, orderNumber);
  if (sentNumber === undefined || !(await deleteSentOrder(ctx, sentNumber))) return undefined;
  return { deletedSentOrder: sentNumber };
}

interface OrderLeft {
  kind: "draft" | "sent";
  orderNumber: number;
}

/**
 * The order a failed check leaves beside the draft invoice (it is deleted only once the invoice
 * passed them): the draft or sent order the invoice was made from, or the one an earlier attempt
 * left. None when a person's invoice was adopted or Orderly used the order up already.
 */
function orderLeft(
  source: OrderSource | undefined,
  fromOrder: { orderNumber: number } | undefined,
  usedUp: boolean,
  leftSent: number | undefined,
): OrderLeft | undefined {
  if (source?.orderNumber !== undefined) return { kind: source.sent ? "sent" : "draft", orderNumber: source.orderNumber };
  if (source !== undefined || fromOrder === undefined || usedUp) return undefined;
  return leftSent === undefined ? { kind: "draft", orderNumber: fromOrder.orderNumber } : { kind: "sent", orderNumber: leftSent };
}

/**
 * The check's error, saying the order is still there: a person who books the corrected draft by
 * hand and never retries would otherwise keep an order that reserves stock and can be invoiced again.
 */
function withOrderLeft(error: OrderlyError, left: OrderLeft, draftInvoiceNumber: number): OrderlyError {
  const order = `${left.kind} order ${left.orderNumber}`;
  return new OrderlyError(
    `${error.message} The e-conomic ${order} it was made from is still there: a retry deletes it once the invoice passes its checks. If you book draft invoice ${draftInvoiceNumber} by hand instead, delete ${order} in e-conomic, or it stays there, reserving stock, and can be invoiced a second time.`,
    {
      errorClass: error.errorClass,
      code: error.code,
      details: { ...(isRecord(error.details) ? error.details : {}), orderLeft: left },
      ...(error.internal === undefined ? {} : { internal: error.internal }),
      madeNothing: error.madeNothing,
    },
  );
}

/** Whether a cancelOrder of the order on this connection deleted the draft order (outputs.deletedOrders). */
export function deletedByCancel(ctx: StepsContext, orderNumber: number): boolean {
  return historyResults(ctx, new Set(["cancelOrder"])).some(
    (r) => Array.isArray(r.outputs.deletedOrders) && r.outputs.deletedOrders.includes(orderNumber),
  );
}

/** Whether an earlier invoice step of the order on this connection was made of the draft order (its fromOrderNumber). */
function madeInto(ctx: Ctx, orderNumber: number): boolean {
  return invoiceTraces(ctx).some((t) => t.fromOrderNumber === orderNumber);
}

/**
 * Where the invoice comes from when an earlier createOrder made a draft order: that draft order; else
 * the invoice a person made of it; else, as a person sent it, the sent order (left in /orders/sent, a
 * person could invoice it a second time beside a fresh draft). Gone from all three, the order was
 * invoiced under another reference or deleted, and a fresh draft could invoice it twice: the step
 * fails, unless Orderly itself used the order up: this step's earlier success (its invoice, which a
 * person has deleted since) or the order's cancelOrder (a cancelled order paid after all).
 */
async function orderSource(
  ctx: Ctx,
  fromOrder: { orderNumber: number; reference?: string },
  reference: string,
): Promise<OrderSource> {
  const draft = await upgradeInstructions(ctx, fromOrder.orderNumber);
  if (draft) return { template: draft, orderNumber: fromOrder.orderNumber };
  const adopted = await invoicedByPerson(ctx, fromOrder);
  if (adopted) return { adopted };
  const sentNumber = fromOrder.reference ? await findSentOrder(ctx, fromOrder.reference) : undefined;
  const sent = sentNumber === undefined ? undefined : await upgradeInstructions(ctx, sentNumber, "sent");
  if (sent) return { template: sent, orderNumber: sentNumber, sent: true };
  // Any success of this step used the order up, whether or not its outputs name it (a re-run that
  // found its own draft, or a release before fromOrderNumber), as did another flow's invoice made of
  // it (one credited in full, so not adopted); a fresh draft is made, as without an order.
  if (ctx.prior !== undefined || deletedByCancel(ctx, fromOrder.orderNumber) || madeInto(ctx, fromOrder.orderNumber)) return {};
  const other = fromOrder.reference ? ` and no invoice carries its reference ${fromOrder.reference}` : "";
  throw new OrderlyError(
    `e-conomic draft order ${fromOrder.orderNumber}, which the order's createOrder step made, is neither among the draft nor the sent orders${other}: a person invoiced it under another reference, or deleted it. No invoice is made, as it could invoice the order twice. If a person invoiced it, write ${fromOrder.reference ?? "the order's reference"} in that invoice's "Other reference" and retry, so Orderly takes it over; otherwise invoice the order in e-conomic.`,
    {
      errorClass: "validation",
      code: "economic_order_gone",
      details: { orderNumber: fromOrder.orderNumber, reference: fromOrder.reference, invoiceReference: reference },
      // Only reads before it: a retry with other settings is not refused.
      madeNothing: true,
    },
  );
}

/**
 * The invoice a person made in e-conomic from the draft order an earlier createOrder made, once
 * that order is gone. It is looked up by the createOrder step's reference, which e-conomic may copy
 * from the order onto the invoice a person makes of it ([unconfirmed]; if it does not, nothing is
 * found and the step fails, see orderSource). Adopted, it is not made a second time.
 */
async function invoicedByPerson(
  ctx: Ctx,
  fromOrder: { orderNumber: number; reference?: string },
): Promise<{ invoice: FoundInvoice; reference: string; outputs: Record<string, unknown> } | undefined> {
  if (!fromOrder.reference) return undefined;
  const invoice = await findInvoiceByReference(ctx, fromOrder.reference);
  if (!invoice) return undefined;
  const named =
    invoice.kind === "booked" ? `booked invoice ${invoice.bookedInvoiceNumber}` : `draft invoice ${invoice.draftInvoiceNumber}`;
  return {
    invoice,
    reference: fromOrder.reference,
    outputs: {
      adopted: true,
      fromOrderNumber: fromOrder.orderNumber,
      reason: `a person turned draft order ${fromOrder.orderNumber} into e-conomic ${named}; Orderly adopted it instead of making a second invoice`,
    },
  };
}

interface MadeDraft {
  draftInvoiceNumber: number;
  /** The total e-conomic computed for the draft (its own VAT from zone and product group). */
  grossAmount?: number;
  customerNumber: number;
  customerCreated: boolean;
  created: boolean;
  upgradedFromOrder: boolean;
}

async function updateDraft(
  ctx: Ctx,
  order: CanonicalOrder,
  document: AccountingDocument,
  prepared: PreparedDocument,
  existing: { draftInvoiceNumber: number; customerNumber: number | undefined },
  madeByPerson: boolean,
): Promise<MadeDraft> {
  const { draftInvoiceNumber } = existing;
  // The draft keeps its customer: a person may have moved it to the right one.
  const customer =
    existing.customerNumber ?? (await documentCustomer(ctx, order, document, ctx.settings, prepared)).customerNumber;
  // A draft a person made from the order keeps what only it has (delivery, sales person ...), as the upgrade would.
  const current = madeByPerson
    ? await economicRequest<Record<string, unknown>>(ctx, { method: "GET", path: `/invoices/drafts/${draftInvoiceNumber}` })
    : undefined;
  const body =
    (current && isRecord(current.body) ? upgradedInvoiceBody(current.body, prepared.header, customer) : undefined) ??
    withCustomer(prepared.header, customer);
  ctx.mapped({ document, draft: body });
  const put = await economicRequest<{ grossAmount?: number }>(ctx, {
    method: "PUT",
    path: `/invoices/drafts/${draftInvoiceNumber}`,
    json: body,
  });
  return {
    draftInvoiceNumber,
    ...(typeof put.body?.grossAmount === "number" ? { grossAmount: put.body.grossAmount } : {}),
    customerNumber: customer,
    customerCreated: false,
    created: false,
    upgradedFromOrder: false,
  };
}

async function createDraft(
  ctx: Ctx,
  order: CanonicalOrder,
  document: AccountingDocument,
  prepared: PreparedDocument,
  orderNumber: number | undefined,
  template: Record<string, unknown> | undefined,
): Promise<MadeDraft> {
  // Without the order's template (no createOrder before, or this step's own invoice of the order
  // was deleted by a person since) a fresh draft is made.
  const upgraded = template ? upgradedInvoiceBody(template, prepared.header, undefined) : undefined;
  const customer = upgraded
    ? { customerNumber: upgraded.customer.customerNumber, created: false }
    : await documentCustomer(ctx, order, document, ctx.settings, prepared);
  const body = upgraded ?? withCustomer(prepared.header, customer.customerNumber);
  ctx.mapped({ document, draft: body, ...(upgraded ? { fromOrderNumber: orderNumber } : {}) });
  const made = await economicRequest<{ draftInvoiceNumber: number; grossAmount?: number }>(ctx, {
    method: "POST",
    path: "/invoices/drafts",
    json: body,
  });
  return {
    draftInvoiceNumber: made.body.draftInvoiceNumber,
    ...(typeof made.body.grossAmount === "number" ? { grossAmount: made.body.grossAmount } : {}),
    customerNumber: customer.customerNumber,
    customerCreated: customer.created,
    created: true,
    upgradedFromOrder: upgraded !== undefined,
  };
}

function result(
  made: MadeDraft,
  reference: string,
  document: AccountingDocument,
  prepared: PreparedDocument,
  bookedInvoiceNumber: number | undefined,
  orderNumber: number | undefined,
  extra: Record<string, unknown>,
): ActionResult {
  return {
    externalId: String(bookedInvoiceNumber ?? made.draftInvoiceNumber),
    created: made.created,
    outputs: {
      draftInvoiceNumber: made.draftInvoiceNumber,
      ...(bookedInvoiceNumber === undefined ? {} : { bookedInvoiceNumber }),
      customerNumber: made.customerNumber,
      customerCreated: made.customerCreated,
      reference,
      ...documentOutputs(document, prepared.products),
      ...(made.created ? {} : { updated: true }),
      ...(orderNumber === undefined ? {} : { fromOrderNumber: orderNumber }),
      ...extra,
    },
  };
}
