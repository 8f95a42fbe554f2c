/**
 * `createInvoice`: the order's invoice document as an e-conomic draft invoice, booked at once when
 * the step says so and the totals match. A draft already carrying the step's reference is updated
 * with the current order (e-conomic has no PATCH: the whole document is PUT); a booked one is never
 * touched, and the differences the update would have made are reported instead. When an earlier
 * createOrder step made a draft order, that order becomes the invoice; when that order is gone
 * because a person invoiced it in e-conomic, the person's invoice is adopted (`invoicedByPerson`).
 */
import { buildInvoiceDocument } from "../../domain/accounting/build-document";
import type { AccountingDocument } from "../../domain/accounting/document";
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
import { orderFromHistory } from "./economic.history";
import { deleteDraftOrder, upgradedInvoiceBody, upgradeInstructions } from "./economic.orders";
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
    const own = await findInvoiceByReference(ctx, reference);
    const fromOrder = orderFromHistory(ctx);
    const template = !own && fromOrder ? await upgradeInstructions(ctx, fromOrder.orderNumber) : undefined;
    // The order is gone: if a person made it an invoice, a fresh draft would invoice the order twice.
    const adopted = !own && fromOrder && !template ? await invoicedByPerson(ctx, fromOrder) : undefined;
    const existing = own ?? adopted?.invoice;
    if (existing?.kind === "booked") {
      // A booked invoice is never changed; the transfer log shows what the update would have changed.
      const booked = await getBookedInvoice(ctx, existing.bookedInvoiceNumber);
      return {
        externalId: String(existing.bookedInvoiceNumber),
        created: false,
        outputs: {
          bookedInvoiceNumber: existing.bookedInvoiceNumber,
          customerNumber: existing.customerNumber,
          customerCreated: false,
          reference: adopted?.reference ?? reference,
          ...documentOutputs(document),
          differences: bookedDifferences(booked, document, order.source.orderNumber),
          ...adopted?.outputs,
        },
      };
    }
    const prepared = await prepareDocument(ctx, order, document, ctx.settings, { reference });
    const made = existing
      ? await updateDraft(ctx, order, document, prepared, existing, adopted !== undefined)
      : await createDraft(ctx, order, document, prepared, fromOrder?.orderNumber, template);
    // Idempotent: also finishes an upgrade whose order deletion an interrupted attempt did not reach.
    if (fromOrder) await deleteDraftOrder(ctx, fromOrder.orderNumber);
    if (document.mismatch) throw mismatchError(document, made.draftInvoiceNumber);
    checkComputedTotal(made.grossAmount, document, made.draftInvoiceNumber);
    const bookedInvoiceNumber =
      ctx.settings.invoiceState === "booked" ? await bookDraft(ctx, made.draftInvoiceNumber) : undefined;
    const upgradedFrom = made.upgradedFromOrder ? fromOrder?.orderNumber : undefined;
    return result(made, reference, document, prepared, bookedInvoiceNumber, upgradedFrom, adopted?.outputs);
  },
});

/**
 * The invoice a person made in e-conomic from the draft order an earlier createOrder made, once
 * that order is gone. It is looked up by the createOrder step's reference, which e-conomic may copy
 * from the order onto the invoice a person makes of it ([unconfirmed]; if it does not, nothing is
 * found and a fresh draft is made, as before). Adopted, it is not made a second time.
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
  // Without the order's template (no createOrder before, or its order is gone and no invoice a
  // person made of it was found) a fresh draft is made.
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
  adopted: Record<string, unknown> | undefined,
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
      ...adopted,
    },
  };
}
