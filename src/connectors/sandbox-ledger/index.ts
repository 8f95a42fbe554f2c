/**
 * Sandbox ledger: a built-in accounting target that keeps its books in D1 and shows them through
 * the API, so a newcomer sees an order become an invoice without any outside account. It behaves
 * like a real target: it matches or creates the customer and adopts an invoice that already
 * carries the step's reference instead of booking a second one.
 */
import { z } from "zod";
import { OrderlyError } from "../../domain/errors";
import { invoiceLinesFromOrder, sumLines } from "../../domain/invoice-lines";
import { type Connector, defineAction } from "../contract";
import { createInvoiceOnce, findInvoiceByReference, matchOrCreateCustomer } from "./ledger.books";

const settings = z.object({
  rejectOrdersAbove: z
    .number()
    .int()
    .positive()
    .optional()
    .describe(
      "Demo aid: orders whose total (minor units) is above this are rejected as a validation error, to show a failure and its retry.",
    ),
});

const credentials = z.object({});

const invoiceSettings = z.object({
  state: z.enum(["draft", "booked"]).default("booked").describe("Create the invoice as a draft, or booked at once."),
  customerMatch: z
    .enum(["email", "shared"])
    .default("email")
    .describe("Match customers by email (created when new), or put every order on one shared customer."),
});

export const sandboxLedgerConnector: Connector<typeof settings, typeof credentials> = {
  id: "sandbox-ledger",
  name: "Sandbox ledger",
  category: "accounting",
  settings,
  credentials,
  actions: {
    createInvoice: defineAction<typeof invoiceSettings, z.infer<typeof credentials>, z.infer<typeof settings>>({
      description: "Books the order as an invoice in the sandbox ledger (kept in Orderly's own database).",
      settings: invoiceSettings,
      async run(ctx, input) {
        const { order } = input;
        const existing = await findInvoiceByReference(ctx.env, ctx.connection.id, ctx.reference);
        if (existing) return { externalId: String(existing.id), created: false, outputs: { invoiceId: existing.id } };
        const limit = ctx.connection.settings.rejectOrdersAbove;
        if (limit !== undefined && order.totals.total > limit) {
          throw new OrderlyError(
            `The sandbox ledger rejects orders above ${limit} minor units (this one is ${order.totals.total}).`,
            {
              errorClass: "validation",
              code: "ledger_rejected",
            },
          );
        }
        const invoiceLines = invoiceLinesFromOrder(order);
        const lines = invoiceLines.map((l) => ({
          description: l.description,
          ...(l.sku ? { sku: l.sku } : {}),
          quantity: l.quantity,
          net: l.net,
          vat: l.vat,
          ...(l.vatRateBp === undefined ? {} : { vatRateBp: l.vatRateBp }),
        }));
        const totals = sumLines(invoiceLines);
        const email = order.customer?.email?.trim().toLowerCase();
        const name =
          [order.customer?.firstName, order.customer?.lastName].filter(Boolean).join(" ") ||
          order.billingAddress?.name ||
          email ||
          "Webshop customer";
        const matchKey = ctx.settings.customerMatch === "shared" || !email ? "shared" : `email:${email}`;
        const customer = await matchOrCreateCustomer(ctx.env, {
          connectionId: ctx.connection.id,
          tenantId: ctx.connection.tenantId,
          matchKey,
          name: matchKey === "shared" ? "Webshop customers" : name,
          ...(email ? { email } : {}),
          ...(order.billingAddress?.country ? { country: order.billingAddress.country } : {}),
        });
        const invoice = {
          connectionId: ctx.connection.id,
          tenantId: ctx.connection.tenantId,
          reference: ctx.reference,
          customerId: customer.id,
          orderNumber: order.source.orderNumber,
          state: ctx.settings.state,
          currency: order.currency,
          lines,
          ...totals,
        };
        ctx.mapped(invoice);
        const made = await createInvoiceOnce(ctx.env, invoice);
        return {
          externalId: String(made.id),
          created: made.created,
          outputs: { invoiceId: made.id, customerId: customer.id, customerCreated: customer.created, total: totals.total },
        };
      },
    }),
  },
};
