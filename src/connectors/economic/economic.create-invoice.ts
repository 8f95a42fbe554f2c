/**
 * `createInvoice`: the order's invoice document as an e-conomic draft invoice, booked at once when
 * the step says so and the totals match. A draft already carrying the step's reference is updated
 * with the current order (e-conomic has no PATCH: the whole document is PUT); a booked one is never
 * touched, and the differences the update would have made are reported instead. When an earlier
 * createOrder step made a draft order, that order becomes the invoice.
 */
import { buildInvoiceDocument } from "../../domain/accounting/build-document";
import type { AccountingDocument } from "../../domain/accounting/document";
import type { CanonicalOrder } from "../../domain/order";
import { type ActionContext, type ActionResult, defineAction } from "../contract";
import { economicRequest } from "./economic.api";
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
import { findInvoiceByReference, getBookedInvoice } from "./economic.reference";
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
  async run(ctx, { order }) {
    const reference = economicReference(ctx.settings, ctx.reference);
    const document = buildInvoiceDocument(order, ctx.settings);
    const existing = await findInvoiceByReference(ctx, reference);
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
          reference,
          ...documentOutputs(document),
          differences: bookedDifferences(booked, document),
        },
      };
    }
    const prepared = await prepareDocument(ctx, order, document, ctx.settings, { reference });
    const fromOrder = orderFromHistory(ctx);
    const made = existing
      ? await updateDraft(ctx, order, document, prepared, existing.draftInvoiceNumber, existing.customerNumber)
      : await createDraft(ctx, order, document, prepared, fromOrder?.orderNumber);
    // Idempotent: also finishes an upgrade whose order deletion an interrupted attempt did not reach.
    if (fromOrder) await deleteDraftOrder(ctx, fromOrder.orderNumber);
    if (document.mismatch) throw mismatchError(document, made.draftInvoiceNumber);
    checkComputedTotal(made.grossAmount, document, made.draftInvoiceNumber);
    const bookedInvoiceNumber =
      ctx.settings.invoiceState === "booked" ? await bookDraft(ctx, made.draftInvoiceNumber) : undefined;
    return result(
      made,
      reference,
      document,
      prepared,
      bookedInvoiceNumber,
      made.upgradedFromOrder ? fromOrder?.orderNumber : undefined,
    );
  },
});

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
  draftInvoiceNumber: number,
  customerNumber: number | undefined,
): Promise<MadeDraft> {
  // The draft keeps its customer: a person may have moved it to the right one.
  const customer = customerNumber ?? (await documentCustomer(ctx, order, document, ctx.settings, prepared)).customerNumber;
  const body = withCustomer(prepared.header, customer);
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
): Promise<MadeDraft> {
  // An order that is gone (deleted or already invoiced by a person) leaves a fresh draft to make.
  const template = orderNumber === undefined ? undefined : await upgradeInstructions(ctx, orderNumber);
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
    },
  };
}
