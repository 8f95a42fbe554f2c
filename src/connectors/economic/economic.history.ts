/**
 * What earlier steps made in e-conomic for this order: the steps before this one in the same
 * transfer (`previous`), and the completed steps of the order's other transfers on this same
 * connection (`history`), e.g. the invoice a paid-stage flow made, found by a refund's credit note.
 */
import { isLadderStage } from "../../domain/stage";
import type { ActionContext, ActionResult, StepHistoryEntry } from "../contract";
import type { EconomicContext } from "./economic.api";
import { findBookedByReference } from "./economic.reference";
import type { EconomicConnectionSettings, EconomicCredentials } from "./economic.settings";

export type StepsContext = Pick<
  ActionContext<unknown, EconomicCredentials, EconomicConnectionSettings>,
  "connection" | "previous" | "history"
>;

/** Actions whose outputs name the order's invoice (credit notes are not invoices to pay or email). */
export const INVOICE_ACTIONS: ReadonlySet<string> = new Set(["createInvoice", "bookInvoice"]);

export interface InvoiceTrace {
  draftInvoiceNumber?: number;
  bookedInvoiceNumber?: number;
  customerNumber?: number;
  reference?: string;
  /** The draft order the invoice was made from (createInvoice's upgrade of a createOrder's order). */
  fromOrderNumber?: number;
}

export function asInt(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) ? value : undefined;
}

/** The invoice a step's outputs name, if any. */
export function invoiceTrace(outputs: Record<string, unknown>): InvoiceTrace | undefined {
  const draft = asInt(outputs.draftInvoiceNumber);
  const booked = asInt(outputs.bookedInvoiceNumber);
  if (draft === undefined && booked === undefined) return undefined;
  const customer = asInt(outputs.customerNumber);
  const fromOrder = asInt(outputs.fromOrderNumber);
  return {
    ...(draft === undefined ? {} : { draftInvoiceNumber: draft }),
    ...(booked === undefined ? {} : { bookedInvoiceNumber: booked }),
    ...(customer === undefined ? {} : { customerNumber: customer }),
    ...(typeof outputs.reference === "string" ? { reference: outputs.reference } : {}),
    ...(fromOrder === undefined ? {} : { fromOrderNumber: fromOrder }),
  };
}

/** Results of completed steps of other transfers on this connection with one of `actions`, oldest first. */
export function historyResults(ctx: StepsContext, actions: ReadonlySet<string>): ActionResult[] {
  return ctx.history.filter((h) => h.target === ctx.connection.id && actions.has(h.action)).map((h) => h.result);
}

/**
 * The order's invoice steps in its other transfers on this connection, oldest first. Only
 * transfers of the ladder stages (created ... completed) count: a refunded or cancelled flow's
 * bookInvoice books that flow's credit note, which is no invoice of the order to credit, pay or e-mail.
 */
export function invoiceHistoryEntries(ctx: StepsContext): StepHistoryEntry[] {
  return ctx.history.filter((h) => h.target === ctx.connection.id && INVOICE_ACTIONS.has(h.action) && isLadderStage(h.stage));
}

/** Results of invoiceHistoryEntries, oldest first. */
export function invoiceHistory(ctx: StepsContext): ActionResult[] {
  return invoiceHistoryEntries(ctx).map((h) => h.result);
}

/** Every invoice earlier steps made, newest first: this transfer's steps, then the order's history. */
export function invoiceTraces(ctx: StepsContext): InvoiceTrace[] {
  const previous = [...ctx.previous].reverse().flatMap((r) => (r ? [invoiceTrace(r.outputs)] : []));
  const history = invoiceHistory(ctx)
    .reverse()
    .map((r) => invoiceTrace(r.outputs));
  return [...previous, ...history].filter((t): t is InvoiceTrace => t !== undefined);
}

/**
 * The newest booked invoice earlier steps made. A draft they left may have been booked by a person
 * since, so a draft's reference is looked up among booked invoices too.
 */
export async function bookedInvoiceFromSteps(ctx: StepsContext & EconomicContext): Promise<InvoiceTrace | undefined> {
  const traces = invoiceTraces(ctx);
  const booked = traces.find((t) => t.bookedInvoiceNumber !== undefined);
  if (booked) return booked;
  for (const t of traces) {
    if (!t.reference) continue;
    const found = await findBookedByReference(ctx, t.reference);
    if (found?.kind === "booked")
      return { ...t, bookedInvoiceNumber: found.bookedInvoiceNumber, customerNumber: found.customerNumber ?? t.customerNumber };
  }
  return undefined;
}

export interface OrderFromHistory {
  orderNumber: number;
  reference?: string;
  /** The step that made it. */
  from: { transferId: string; stage: string; stepIndex: number };
}

/** The draft order a createOrder step of an earlier transfer made on this connection (the newest). */
export function orderFromHistory(ctx: StepsContext): OrderFromHistory | undefined {
  for (const h of [...ctx.history].reverse()) {
    if (h.target !== ctx.connection.id || h.action !== "createOrder") continue;
    const { outputs } = h.result;
    const orderNumber = asInt(outputs.orderNumber);
    if (orderNumber !== undefined)
      return {
        orderNumber,
        ...(typeof outputs.reference === "string" ? { reference: outputs.reference } : {}),
        from: { transferId: h.transferId, stage: h.stage, stepIndex: h.stepIndex },
      };
  }
  return undefined;
}
