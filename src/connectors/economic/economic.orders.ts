/**
 * Draft and sent orders (`/orders/drafts`, `/orders/sent`): e-conomic's stages before an invoice.
 * The documented way from an order to an invoice is its upgrade instructions: `GET /orders/drafts/{n}/
 * templates/upgrade-instructions/draftInvoice` returns a draft invoice to `POST /invoices/drafts`.
 * The documentation says a *sent* order is archived by that upgrade but does not say what becomes of
 * a *draft* order [unconfirmed], so Orderly deletes the draft order afterwards (404 means it is
 * already gone): left behind, it would still reserve stock and could be invoiced a second time. A
 * sent order still in /orders/sent after its upgrade is deleted too (its archiving is unconfirmed).
 */
import { z } from "zod";
import { OrderlyError } from "../../domain/errors";
import { type EconomicContext, economicRequest, isRecord } from "./economic.api";
import { type BodyWithoutCustomer, type EconomicDocumentBody, withCustomer } from "./economic.body";
import { findCarrying } from "./economic.reference";

/**
 * The draft invoice e-conomic proposes for a draft or sent order, or undefined when the order is not
 * there. The documentation says it "returns a draftInvoice entity"; clients read it wrapped,
 * `{ "draftInvoice": {...} }`, so that is taken first, else the body itself. Both paths: the sent
 * order's schema documents `templates.upgradeInstructions` ("the document to POST to /invoices/drafts
 * to upgrade the order"); the `/orders/sent/{n}/...` spelling is the drafts one, as clients use it.
 */
export async function upgradeInstructions(
  ctx: EconomicContext,
  orderNumber: number,
  state: "drafts" | "sent" = "drafts",
): Promise<Record<string, unknown> | undefined> {
  const found = await economicRequest<unknown>(ctx, {
    method: "GET",
    path: `/orders/${state}/${orderNumber}/templates/upgrade-instructions/draftInvoice`,
    accept: [404],
  });
  if (found.status !== 200 || !isRecord(found.body)) return undefined;
  return isRecord(found.body.draftInvoice) ? found.body.draftInvoice : found.body;
}

/** The parts of a page of sent orders Orderly reads (`GET /orders/sent`). */
const sentOrders = z.object({
  collection: z.array(
    z.object({ orderNumber: z.number().int(), references: z.object({ other: z.string().optional() }).optional() }),
  ),
  pagination: z.object({ nextPage: z.string().optional() }).optional(),
});

/**
 * The sent order carrying `reference`: a person sent the draft order an earlier createOrder made,
 * which moves it to /orders/sent, where `references.other` is documented filterable. Every page is
 * read (findCarrying, up to its bound), and only an order that carries the reference is taken, so a
 * filter e-conomic ignored can neither hand over another order nor hide this one on a later page.
 */
export async function findSentOrder(ctx: EconomicContext, reference: string): Promise<number | undefined> {
  const found = await findCarrying(ctx, "/orders/sent", reference, (body) => {
    const page = sentOrders.safeParse(body);
    if (page.success) return page.data;
    throw new OrderlyError(
      `e-conomic answered its sent orders without a readable list (${page.error.issues[0]?.message}); Orderly retries the step, and if it persists check /orders/sent in e-conomic.`,
      // A garbled answer is taken as passing; the lookup only reads, so a retry cannot make anything twice.
      { errorClass: "unavailable", code: "economic_unexpected_response", details: { reference }, madeNothing: true },
    );
  }).catch((error: unknown) => {
    // Past findCarrying's last page the sent order is taken as not found (as when one page was read):
    // the bound keeps a find-or-create from making a document twice, while this lookup only reads,
    // and failing it would fail a step whose invoice already exists.
    if (error instanceof OrderlyError && error.code === "economic_reference_filter_ignored") return undefined;
    throw error;
  });
  // findCarrying takes a lone summary without references on the filter's word; a sent order is taken only by its reference.
  return found?.references?.other === reference ? found.orderNumber : undefined;
}

/**
 * Objects Orderly fills only part of: the template's other fields in them (references.salesPerson,
 * customerContact, vendorReference, recipient.attention, notes.textLine2 ...) are a person's and are
 * kept. Other objects (layout, paymentTerms, vatZone ...) are references, replaced whole: a kept
 * `self` beside Orderly's new number would point at the old record.
 */
const MERGED = ["references", "recipient", "notes"] as const;

/**
 * The invoice body made from the order's template: Orderly's mapping of the current order wins
 * (lines, prices, VAT zone, reference), while what only the order has (delivery, sales person,
 * a person's edits to fields Orderly does not set) is kept. The customer stays the order's.
 */
export function upgradedInvoiceBody(
  template: Record<string, unknown>,
  header: BodyWithoutCustomer,
  fallbackCustomer: number | undefined,
): EconomicDocumentBody | undefined {
  const customer = isRecord(template.customer) ? template.customer.customerNumber : undefined;
  const customerNumber = typeof customer === "number" ? customer : fallbackCustomer;
  if (customerNumber === undefined) return undefined;
  // `metaData` is not in the POST /invoices/drafts schema, and a client reports it breaking the POST.
  const { self: _self, orderNumber: _order, templates: _templates, soap: _soap, metaData: _meta, ...kept } = template;
  const body: Record<string, unknown> = { ...kept, ...withCustomer(header, customerNumber) };
  for (const key of MERGED) {
    const mine = header[key];
    const theirs = kept[key];
    if (mine !== undefined && isRecord(theirs)) body[key] = { ...theirs, ...mine };
  }
  return body as unknown as EconomicDocumentBody;
}

/** Deletes a draft order; one already gone (deleted by a person, or archived by the upgrade) is fine. */
export async function deleteDraftOrder(ctx: EconomicContext, orderNumber: number): Promise<boolean> {
  return deleteOrder(ctx, "drafts", orderNumber);
}

/**
 * Deletes a sent order an invoice was made from (`DELETE /orders/sent/{n}`, documented: 204, then
 * 404). The upgrade is documented to archive it, which is not confirmed; left in /orders/sent, a
 * person could invoice it a second time. 404 means it is already gone (archived).
 */
export async function deleteSentOrder(ctx: EconomicContext, orderNumber: number): Promise<boolean> {
  return deleteOrder(ctx, "sent", orderNumber);
}

async function deleteOrder(ctx: EconomicContext, state: "drafts" | "sent", orderNumber: number): Promise<boolean> {
  const deleted = await economicRequest(ctx, { method: "DELETE", path: `/orders/${state}/${orderNumber}`, accept: [404] });
  return deleted.status !== 404;
}
