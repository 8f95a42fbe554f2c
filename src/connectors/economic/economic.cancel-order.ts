/**
 * `cancelOrder` (flows on `cancelled`): removes what earlier steps made for the order in e-conomic
 * while it is still a draft: the draft order and the draft invoice. A booked invoice is never
 * deleted (bookkeeping law and e-conomic both forbid it): the step fails and says to credit it.
 * Every invoice is checked before anything is deleted, so a refusal leaves everything as it was.
 */
import { OrderlyError } from "../../domain/errors";
import { defineAction } from "../contract";
import { economicRequest } from "./economic.api";
import { historyResults, INVOICE_ACTIONS, invoiceTraces, orderFromHistory } from "./economic.history";
import { deleteDraftOrder } from "./economic.orders";
import { findInvoiceByReference } from "./economic.reference";
import { cancelOrderSettings, type EconomicConnectionSettings, type EconomicCredentials } from "./economic.settings";

export const cancelOrder = defineAction<typeof cancelOrderSettings, EconomicCredentials, EconomicConnectionSettings>({
  estimatedCalls: 3,
  description:
    "Delete the e-conomic draft order and draft invoice made for a cancelled order; a booked invoice must be credited.",
  settings: cancelOrderSettings,
  async run(ctx) {
    const drafts = new Set<number>();
    for (const trace of invoiceTraces({ ...ctx, previous: [] })) {
      // The invoice may have been booked (or deleted) by a person since the step ran: ask e-conomic.
      const now = trace.reference ? await findInvoiceByReference(ctx, trace.reference) : undefined;
      const booked = now?.kind === "booked" ? now.bookedInvoiceNumber : trace.bookedInvoiceNumber;
      if (booked !== undefined)
        throw new OrderlyError(
          `Invoice ${booked} is booked in e-conomic and cannot be deleted: credit it instead (a createCreditNote step, or a credit note in e-conomic).`,
          { errorClass: "validation", code: "economic_invoice_booked", details: { bookedInvoiceNumber: booked } },
        );
      if (now?.kind === "draft") drafts.add(now.draftInvoiceNumber);
    }
    const order = orderFromHistory(ctx);
    const deletedDraftInvoices: number[] = [];
    for (const draftInvoiceNumber of drafts) {
      const deleted = await economicRequest(ctx, {
        method: "DELETE",
        path: `/invoices/drafts/${draftInvoiceNumber}`,
        accept: [404],
      });
      if (deleted.status !== 404) deletedDraftInvoices.push(draftInvoiceNumber);
    }
    const deletedOrders = order && (await deleteDraftOrder(ctx, order.orderNumber)) ? [order.orderNumber] : [];
    const nothing = historyResults(ctx, new Set([...INVOICE_ACTIONS, "createOrder"])).length === 0;
    return {
      externalId:
        [...deletedOrders.map((n) => `order ${n}`), ...deletedDraftInvoices.map((n) => `draft ${n}`)].join(", ") ||
        "nothing deleted",
      created: false,
      outputs: {
        deletedOrders,
        deletedDraftInvoices,
        ...(deletedOrders.length + deletedDraftInvoices.length === 0
          ? { reason: nothing ? "nothing was made in e-conomic for this order" : "what was made is already gone" }
          : {}),
      },
    };
  },
});
