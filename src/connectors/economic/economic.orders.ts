/**
 * Draft orders (`/orders/drafts`): e-conomic's stage before an invoice. The documented way from an
 * order to an invoice is its upgrade instructions: `GET /orders/drafts/{n}/templates/upgrade-
 * instructions/draftInvoice` returns a draft invoice to `POST /invoices/drafts`. The documentation
 * says a *sent* order is archived by that upgrade but does not say what becomes of a *draft* order
 * [unconfirmed], so Orderly deletes the draft order afterwards (404 means it is already gone):
 * left behind, it would still reserve stock and could be invoiced a second time.
 */
import { type EconomicContext, economicRequest, isRecord } from "./economic.api";
import { type BodyWithoutCustomer, type EconomicDocumentBody, withCustomer } from "./economic.body";

/** The draft invoice e-conomic proposes for a draft order, or undefined when the order is gone. */
export async function upgradeInstructions(
  ctx: EconomicContext,
  orderNumber: number,
): Promise<Record<string, unknown> | undefined> {
  const found = await economicRequest<unknown>(ctx, {
    method: "GET",
    path: `/orders/drafts/${orderNumber}/templates/upgrade-instructions/draftInvoice`,
    accept: [404],
  });
  return found.status === 200 && isRecord(found.body) ? found.body : undefined;
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
  const { self: _self, orderNumber: _order, templates: _templates, soap: _soap, ...kept } = template;
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
  const deleted = await economicRequest(ctx, { method: "DELETE", path: `/orders/drafts/${orderNumber}`, accept: [404] });
  return deleted.status !== 404;
}
