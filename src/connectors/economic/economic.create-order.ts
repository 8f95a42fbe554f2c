/**
 * `createOrder` ("synchronise from the order stage"): the order as an e-conomic draft order, made
 * at an earlier stage than the invoice (e.g. `created`) so the order is visible, and stock reserved,
 * before it is paid. A later createInvoice on the same connection turns it into the invoice. A
 * draft order already carrying the step's reference is replaced with the current order (PUT).
 * Note: e-conomic documents /orders as unavailable for creating and changing orders on agreements
 * with the inventory module.
 */
import { buildInvoiceDocument } from "../../domain/accounting/build-document";
import { defineAction } from "../contract";
import { economicRequest } from "./economic.api";
import { economicReference, withCustomer } from "./economic.body";
import { documentCustomer, documentOutputs, prepareDocument } from "./economic.document-steps";
import { findDraftOrderByReference } from "./economic.reference";
import { createOrderSettings, type EconomicConnectionSettings, type EconomicCredentials } from "./economic.settings";

export const createOrder = defineAction<typeof createOrderSettings, EconomicCredentials, EconomicConnectionSettings>({
  estimatedCalls: 6,
  description: "Create the order as a draft order in e-conomic; a later createInvoice turns it into the invoice.",
  settings: createOrderSettings,
  async run(ctx, { order }) {
    const settings = { ...ctx.settings, invoiceState: "draft" as const };
    const reference = economicReference(settings, ctx.reference);
    const document = buildInvoiceDocument(order, settings);
    const prepared = await prepareDocument(ctx, order, document, settings, { reference });
    const existing = await findDraftOrderByReference(ctx, reference);
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
        reference,
        ...outputs,
        // An order is not booked, so a totals mismatch is reported here and fails the invoice step later.
        ...(document.mismatch ? { warnings: [...(outputs.warnings as string[]), document.mismatch] } : {}),
        ...(existing ? { updated: true } : {}),
      },
    };
  },
});
