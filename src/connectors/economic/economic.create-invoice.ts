/**
 * `createInvoice`: a draft invoice for the order, with its customer found or created first. A draft
 * (or booked invoice) already carrying the step's reference is adopted instead of made again.
 */
import { defineAction } from "../contract";
import { economicRequest } from "./economic.api";
import { findOrCreateCustomer } from "./economic.customer";
import { economicReference, mapDraftInvoice, withCustomer } from "./economic.invoice";
import { findInvoiceByReference } from "./economic.reference";
import { createInvoiceSettings, type EconomicConnectionSettings, type EconomicCredentials } from "./economic.settings";

export const createInvoice = defineAction<typeof createInvoiceSettings, EconomicCredentials, EconomicConnectionSettings>({
  description: "Create a draft invoice in e-conomic for the order, creating its customer when none matches.",
  settings: createInvoiceSettings,
  async run(ctx, { order }) {
    const reference = economicReference(ctx.settings, ctx.reference);

    const existing = await findInvoiceByReference(ctx, reference);
    if (existing?.kind === "draft")
      return {
        externalId: String(existing.draftInvoiceNumber),
        created: false,
        outputs: {
          draftInvoiceNumber: existing.draftInvoiceNumber,
          customerNumber: existing.customerNumber,
          customerCreated: false,
          reference,
        },
      };
    if (existing?.kind === "booked")
      return {
        externalId: String(existing.bookedInvoiceNumber),
        created: false,
        outputs: {
          bookedInvoiceNumber: existing.bookedInvoiceNumber,
          customerNumber: existing.customerNumber,
          customerCreated: false,
          reference,
        },
      };

    const invoice = mapDraftInvoice(order, ctx.settings, reference);
    const customer = await findOrCreateCustomer(ctx, order, ctx.settings);
    const body = withCustomer(invoice, customer.customerNumber);
    ctx.mapped(body);
    const created = await economicRequest<{ draftInvoiceNumber: number }>(ctx, {
      method: "POST",
      path: "/invoices/drafts",
      json: body,
    });
    const draftInvoiceNumber = created.body.draftInvoiceNumber;
    return {
      externalId: String(draftInvoiceNumber),
      created: true,
      outputs: { draftInvoiceNumber, customerNumber: customer.customerNumber, customerCreated: customer.created, reference },
    };
  },
});
