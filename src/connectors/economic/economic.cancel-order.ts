/**
 * `cancelOrder` (flows on `cancelled`): removes what earlier steps made for the order in e-conomic
 * while it is still a draft: the draft order and the draft invoice. A booked invoice is never
 * deleted (bookkeeping law and e-conomic both forbid it): the step fails and says to credit it.
 * Every invoice is checked before anything is deleted, so a refusal leaves everything as it was.
 *
 * Besides what completed steps made (`history`), the order's createInvoice and createOrder steps on
 * this connection that ran but did not complete are looked up by the reference they write into
 * `references.other` (the transfer log names them, order-steps.ts): a totals mismatch leaves the
 * draft invoice in e-conomic and fails the step. Their reference prefix is the one their flow step
 * has now.
 */
import { OrderlyError } from "../../domain/errors";
import { defineAction } from "../contract";
import { type LoggedStep, unfinishedSteps } from "../order-steps";
import { type EconomicContext, economicRequest } from "./economic.api";
import { economicReference } from "./economic.body";
import {
  asInt,
  historyResults,
  INVOICE_ACTIONS,
  type InvoiceTrace,
  invoiceTraces,
  orderFromHistory,
  type StepsContext,
} from "./economic.history";
import { deleteDraftOrder } from "./economic.orders";
import { findDraftOrderByReference, findInvoiceByReference } from "./economic.reference";
import { cancelOrderSettings, type EconomicConnectionSettings, type EconomicCredentials } from "./economic.settings";

export const cancelOrder = defineAction<typeof cancelOrderSettings, EconomicCredentials, EconomicConnectionSettings>({
  description:
    "Delete the e-conomic draft order and draft invoice made for a cancelled order; a booked invoice must be credited.",
  settings: cancelOrderSettings,
  async run(ctx) {
    const traces = invoiceTraces({ ...ctx, previous: [] });
    const unfinished = await unfinishedSteps(ctx, ["createInvoice", "createOrder"]);
    const known = new Set(traces.flatMap((t) => (t.reference ? [t.reference] : [])));
    const leftoverInvoices = unfinished.filter((s) => s.action === "createInvoice").map((s) => referenceOf(s));
    const drafts = new Set<number>();
    const leftoverReferences: string[] = [];
    const candidates: Array<{ trace: InvoiceTrace; leftover: boolean }> = [
      ...traces.map((trace) => ({ trace, leftover: false })),
      ...leftoverInvoices.filter((r) => !known.has(r)).map((reference) => ({ trace: { reference }, leftover: true })),
    ];
    for (const { trace, leftover } of candidates) {
      // The invoice may have been booked (or deleted) by a person since the step ran: ask e-conomic.
      const now = trace.reference ? await findInvoiceByReference(ctx, trace.reference) : undefined;
      const booked = now?.kind === "booked" ? now.bookedInvoiceNumber : trace.bookedInvoiceNumber;
      if (booked !== undefined)
        throw new OrderlyError(
          `Invoice ${booked} is booked in e-conomic and cannot be deleted: credit it instead (a createCreditNote step, or a credit note in e-conomic).`,
          { errorClass: "validation", code: "economic_invoice_booked", details: { bookedInvoiceNumber: booked } },
        );
      if (now?.kind === "draft") {
        if (leftover && trace.reference && !drafts.has(now.draftInvoiceNumber)) leftoverReferences.push(trace.reference);
        drafts.add(now.draftInvoiceNumber);
      }
    }
    const orders = await draftOrders(ctx, unfinished, leftoverReferences);
    const deletedDraftInvoices: number[] = [];
    for (const draftInvoiceNumber of drafts) {
      const deleted = await economicRequest(ctx, {
        method: "DELETE",
        path: `/invoices/drafts/${draftInvoiceNumber}`,
        accept: [404],
      });
      if (deleted.status !== 404) deletedDraftInvoices.push(draftInvoiceNumber);
    }
    const deletedOrders: number[] = [];
    for (const orderNumber of orders) if (await deleteDraftOrder(ctx, orderNumber)) deletedOrders.push(orderNumber);
    const nothing = historyResults(ctx, new Set([...INVOICE_ACTIONS, "createOrder"])).length === 0;
    return {
      externalId:
        [...deletedOrders.map((n) => `order ${n}`), ...deletedDraftInvoices.map((n) => `draft ${n}`)].join(", ") ||
        "nothing deleted",
      created: false,
      outputs: {
        deletedOrders,
        deletedDraftInvoices,
        // Drafts that unfinished createInvoice/createOrder steps left, found by their reference.
        ...(leftoverReferences.length > 0 ? { leftoverReferences } : {}),
        ...(deletedOrders.length + deletedDraftInvoices.length === 0
          ? { reason: nothingReason(nothing, unfinished.length) }
          : {}),
      },
    };
  },
});

/** The reference a logged step wrote into `references.other`: its flow step's prefix, then Orderly's. */
function referenceOf(step: LoggedStep): string {
  const prefix = step.settings?.referencePrefix;
  return economicReference({ referencePrefix: typeof prefix === "string" ? prefix : undefined }, step.reference);
}

/**
 * Draft orders to delete: the newest one a completed createOrder made, and any that unfinished
 * createOrder steps left (found by reference; one already turned into an invoice is gone).
 */
async function draftOrders(
  ctx: EconomicContext & StepsContext,
  unfinished: readonly LoggedStep[],
  found: string[],
): Promise<number[]> {
  const orders = new Set<number>();
  const fromHistory = orderFromHistory(ctx);
  if (fromHistory) orders.add(fromHistory.orderNumber);
  for (const step of unfinished) {
    if (step.action !== "createOrder") continue;
    const reference = referenceOf(step);
    const order = await findDraftOrderByReference(ctx, reference);
    if (order && !orders.has(order.orderNumber)) {
      orders.add(order.orderNumber);
      found.push(reference);
    }
  }
  return [...orders];
}

function nothingReason(nothingMade: boolean, unfinished: number): string {
  if (!nothingMade) return "what was made is already gone";
  if (unfinished === 0) return "nothing was made in e-conomic for this order";
  return `no e-conomic draft carries the reference of this order's unfinished step${unfinished === 1 ? "" : "s"} (${unfinished}): none was left, or it is already gone`;
}

/**
 * What cancelOrder would do for an order, from its steps on this connection in the transfer log
 * (`orderSteps`, newest first), for the flow dry run. Nothing is asked of e-conomic, so it says what
 * the log last saw; the step itself looks every invoice up first.
 */
export function cancelPreview(steps: readonly LoggedStep[]): string {
  const booked = new Set<number>();
  const drafts: string[] = [];
  const upgraded = new Set<number>();
  let newestOrder: number | undefined;
  for (const step of steps) {
    const out = step.output ?? {};
    if (step.status !== "completed") {
      if (step.attempts > 0 && (step.action === "createInvoice" || step.action === "createOrder"))
        drafts.push(
          `the draft ${step.action === "createOrder" ? "order" : "invoice"} its ${step.status} ${step.action} step may have left (reference ${referenceOf(step)})`,
        );
      continue;
    }
    const bookedNumber = asInt(out.bookedInvoiceNumber);
    if (bookedNumber !== undefined) booked.add(bookedNumber);
    const fromOrder = asInt(out.fromOrderNumber);
    if (fromOrder !== undefined) upgraded.add(fromOrder);
    const draftNumber = asInt(out.draftInvoiceNumber);
    if (step.action === "createInvoice" && bookedNumber === undefined && draftNumber !== undefined)
      drafts.push(`draft invoice ${draftNumber}`);
    if (step.action === "createOrder" && newestOrder === undefined) newestOrder = asInt(out.orderNumber);
  }
  if (booked.size > 0) {
    const numbers = [...booked].join(", ");
    return `Would fail and delete nothing: ${booked.size === 1 ? "invoice" : "invoices"} ${numbers} ${booked.size === 1 ? "is" : "are"} booked in e-conomic and cannot be deleted; credit instead (a createCreditNote step, or a credit note in e-conomic).`;
  }
  if (newestOrder !== undefined && !upgraded.has(newestOrder)) drafts.unshift(`draft order ${newestOrder}`);
  if (drafts.length === 0)
    return "Would delete nothing: no draft invoice or draft order was made for this order on this connection.";
  return `Would delete the e-conomic drafts made for this order: ${[...new Set(drafts)].join("; ")}. This is what the transfer log last saw; the step looks each invoice up first and refuses one booked since.`;
}
