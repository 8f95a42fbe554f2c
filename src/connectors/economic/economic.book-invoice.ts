/**
 * `bookInvoice`: books the draft an earlier `createInvoice` step of the same transfer made. The
 * draft's reference (in `references.other`) travels onto the booked invoice, so a re-run finds the
 * booked invoice by it and adopts it instead of booking again.
 */
import { OrderlyError } from "../../domain/errors";
import type { ActionContext, ActionResult } from "../contract";
import { defineAction } from "../contract";
import { type EconomicContext, economicRequest } from "./economic.api";
import { asInt } from "./economic.history";
import { findBookedByReference } from "./economic.reference";
import { bookInvoiceSettings, type EconomicConnectionSettings, type EconomicCredentials } from "./economic.settings";

/** What an earlier createInvoice step left for booking. */
export interface DraftToBook {
  draftInvoiceNumber?: number;
  bookedInvoiceNumber?: number;
  reference?: string;
}

/** The latest earlier step whose outputs name an e-conomic draft (or an invoice already booked). */
export function draftFromPrevious(previous: ReadonlyArray<ActionResult | undefined>): DraftToBook | undefined {
  for (let i = previous.length - 1; i >= 0; i--) {
    const outputs = previous[i]?.outputs;
    if (!outputs) continue;
    const draft = asInt(outputs.draftInvoiceNumber);
    const booked = asInt(outputs.bookedInvoiceNumber);
    if (draft === undefined && booked === undefined) continue;
    return {
      ...(draft === undefined ? {} : { draftInvoiceNumber: draft }),
      ...(booked === undefined ? {} : { bookedInvoiceNumber: booked }),
      ...(typeof outputs.reference === "string" ? { reference: outputs.reference } : {}),
    };
  }
  return undefined;
}

/** The digits of an order number ("#1001" → 1001), for booking with the shop's number. */
export function invoiceNumberFromOrderNumber(orderNumber: string): number {
  const digits = orderNumber.replace(/\D/g, "");
  const n = Number(digits);
  if (!digits || !Number.isSafeInteger(n) || n < 1 || n > 999_999_999)
    throw new OrderlyError(`Order number "${orderNumber}" has no digits e-conomic can book as an invoice number.`, {
      errorClass: "validation",
      code: "economic_invoice_number_invalid",
    });
  return n;
}

export const bookInvoice = defineAction<typeof bookInvoiceSettings, EconomicCredentials, EconomicConnectionSettings>({
  description: "Book the e-conomic draft invoice made by an earlier createInvoice step of the flow.",
  settings: bookInvoiceSettings,
  async run(ctx, { order }) {
    const { draftInvoiceNumber, bookedInvoiceNumber, reference } = draftFromPrevious(ctx.previous) ?? {};
    if (bookedInvoiceNumber !== undefined) return adopted(bookedInvoiceNumber, draftInvoiceNumber);
    if (draftInvoiceNumber === undefined)
      throw new OrderlyError("There is no e-conomic draft to book: put a createInvoice step before bookInvoice in the flow.", {
        errorClass: "validation",
        code: "economic_no_draft",
      });
    const bookedBefore = async () => {
      const found = reference ? await findBookedByReference(ctx, reference) : undefined;
      return found?.kind === "booked" ? adopted(found.bookedInvoiceNumber, draftInvoiceNumber) : undefined;
    };
    // A later attempt looks first: an earlier one may have booked the draft without an answer.
    if (!ctx.firstAttempt) {
      const before = await bookedBefore();
      if (before) return before;
    }
    const bookWithNumber = ctx.settings.bookWithNumber ? invoiceNumberFromOrderNumber(order.source.orderNumber) : undefined;
    let booked: number;
    try {
      booked = await bookDraft(ctx, draftInvoiceNumber, bookWithNumber);
    } catch (error) {
      // The first attempt books at once, and looks only when e-conomic refuses: a person may have
      // booked the draft since createInvoice made it, and it is adopted as a later attempt would.
      const refused = error instanceof OrderlyError && error.errorClass === "validation";
      const before = ctx.firstAttempt && refused ? await bookedBefore() : undefined;
      if (before) return before;
      throw error;
    }
    return {
      externalId: String(booked),
      created: true,
      outputs: { bookedInvoiceNumber: booked, draftInvoiceNumber },
    };
  },
});

/** Books a draft (`POST /invoices/booked`), optionally with a chosen number; records the request as the mapped snapshot. */
export async function bookDraft(
  ctx: EconomicContext & Pick<ActionContext<unknown, EconomicCredentials, EconomicConnectionSettings>, "mapped">,
  draftInvoiceNumber: number,
  bookWithNumber?: number,
): Promise<number> {
  const body = { draftInvoice: { draftInvoiceNumber }, ...(bookWithNumber === undefined ? {} : { bookWithNumber }) };
  ctx.mapped(body);
  const result = await economicRequest<{ bookedInvoiceNumber: number }>(ctx, {
    method: "POST",
    path: "/invoices/booked",
    json: body,
  });
  return result.body.bookedInvoiceNumber;
}

function adopted(bookedInvoiceNumber: number, draftInvoiceNumber: number | undefined): ActionResult {
  return {
    externalId: String(bookedInvoiceNumber),
    created: false,
    outputs: { bookedInvoiceNumber, ...(draftInvoiceNumber === undefined ? {} : { draftInvoiceNumber }) },
  };
}
