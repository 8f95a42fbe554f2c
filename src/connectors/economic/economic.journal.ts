/**
 * Journals (kassekladder): draft entries a bookkeeper reviews and books. A customer payment is
 * entered with `POST /journals/{journalNumber}/vouchers` (the documented path was
 * /journals-experimental while the endpoint was experimental; e-conomic's tech blog names /journals
 * as its final name). The voucher needs the accounting year its date falls in, and e-conomic's
 * accounting years run 6 to 18 months, so the year is looked up instead of taken from the date.
 *
 * Finding an entry made before: no filterable property of journal vouchers or entries could be
 * confirmed, so the journal's vouchers are paged through and matched on the entry text, which
 * carries Orderly's reference. Journals hold only unbooked entries, so once a bookkeeper books the
 * journal the entry is no longer there; the invoice's remainder covers that case (see registerPayment).
 */
import { z } from "zod";
import { OrderlyError } from "../../domain/errors";
import { type EconomicCollection, type EconomicContext, economicRequest, isRecord } from "./economic.api";

const PAGE_SIZE = 1000;
/** Pages searched for an entry; a journal larger than this is not a journal a person reviews. */
const MAX_PAGES = 10;

export interface JournalVoucher {
  accountingYear?: { year?: string };
  voucherNumber?: number;
  entries?: Record<string, unknown>;
}

interface AccountingYear {
  year: string;
  fromDate?: string;
  toDate?: string;
}

/** One customer payment entry of a voucher; `amount` signed (negative credits the customer). */
export interface CustomerPaymentEntry {
  amount: number;
  contraAccountNumber: number;
  text: string;
  customerInvoice: number;
}

/**
 * Posts one voucher of customer payments dated `date` in the step's journal (registerPayment,
 * registerRefund) and answers the voucher e-conomic made, if its answer names one.
 */
export async function postCustomerPayments(
  ctx: EconomicContext & { settings: { journalNumber: number }; mapped(body: unknown): void },
  payment: { customerNumber: number; currency: string; date: string; entries: CustomerPaymentEntry[] },
): Promise<JournalVoucher | undefined> {
  const { customerNumber, currency, date } = payment;
  const body = {
    accountingYear: { year: await accountingYearFor(ctx, date) },
    journal: { journalNumber: ctx.settings.journalNumber },
    entries: {
      customerPayments: payment.entries.map((e) => ({
        customer: { customerNumber },
        amount: e.amount,
        contraAccount: { accountNumber: e.contraAccountNumber },
        currency: { code: currency },
        date,
        text: e.text,
        customerInvoice: e.customerInvoice,
      })),
    },
  };
  ctx.mapped(body);
  const posted = await economicRequest<JournalVoucher[]>(ctx, {
    method: "POST",
    path: `/journals/${ctx.settings.journalNumber}/vouchers`,
    json: body,
  });
  return Array.isArray(posted.body) ? posted.body[0] : undefined;
}

/** How long an agreement's accounting years are taken from memory: a year's period does not change once made. */
const YEARS_KEPT_MS = 60 * 60_000;
/** Accounting years per connection and agreement, as last read in this isolate. */
const yearsRead = new Map<string, { years: AccountingYear[]; at: number }>();

const covering = (years: AccountingYear[], date: string) =>
  years.find((y) => (y.fromDate ?? "") <= date && date <= (y.toDate ?? ""));

/**
 * The accounting year whose period holds the date (fields `fromDate`/`toDate` [unconfirmed names]).
 * Read once an hour per connection, not once per payment: a year found in memory is used, and a
 * date no remembered year covers (a new year just made) reads them again.
 */
export async function accountingYearFor(ctx: EconomicContext, date: string): Promise<string> {
  const key = `${ctx.connection.id}:${ctx.connection.credentials.agreementGrantToken}`;
  const kept = yearsRead.get(key);
  const remembered = kept && Date.now() - kept.at < YEARS_KEPT_MS ? covering(kept.years, date) : undefined;
  if (remembered) return remembered.year;
  const page = await economicRequest<EconomicCollection<AccountingYear>>(ctx, {
    method: "GET",
    path: `/accounting-years?pagesize=${PAGE_SIZE}`,
  });
  yearsRead.set(key, { years: page.body.collection, at: Date.now() });
  const year = covering(page.body.collection, date);
  if (!year)
    throw new OrderlyError(`No accounting year in e-conomic covers ${date}; create it in e-conomic, then retry.`, {
      errorClass: "validation",
      code: "economic_accounting_year_missing",
      // Read before the step's only write (registerPayment's voucher POST).
      madeNothing: true,
    });
  return year.year;
}

/**
 * The voucher of the journal with an entry whose text contains `needle` as a whole word:
 * `orderly-…-1` must not match the text of `orderly-…-12`. A journal too large to search to its end
 * fails instead of answering "not found": the entry of a POST that timed out but landed may be on a
 * page not read, and the booked invoice's remainder does not count unbooked entries, so the payment
 * would be entered twice.
 */
export async function findVoucherByText(
  ctx: EconomicContext,
  journalNumber: number,
  needle: string,
): Promise<JournalVoucher | undefined> {
  for (let skip = 0; skip < MAX_PAGES; skip++) {
    const page = await economicRequest<EconomicCollection<JournalVoucher>>(ctx, {
      method: "GET",
      path: `/journals/${journalNumber}/vouchers?skippages=${skip}&pagesize=${PAGE_SIZE}`,
    });
    const { collection, pagination } = page.body;
    const found = collection.find((v) => entryTexts(v).some((t) => containsWord(t, needle)));
    if (found) return found;
    // The last page: a short one, or one whose pagination names no next (a full journal of exactly 10,000).
    if (collection.length < PAGE_SIZE || (pagination && !pagination.nextPage)) return undefined;
  }
  throw new OrderlyError(
    `e-conomic journal ${journalNumber} holds more than ${MAX_PAGES * PAGE_SIZE} unbooked vouchers, too many to check whether this payment (${needle}) was entered before; book or clear the journal's entries in e-conomic, then retry the step.`,
    {
      errorClass: "validation",
      code: "economic_journal_too_large",
      details: { journalNumber, reference: needle },
      // Reads only: a flow pointed at a smaller journal may take the step's place (OrderDO.stepMovedAway).
      madeNothing: true,
    },
  );
}

function containsWord(text: string, word: string): boolean {
  for (let at = text.indexOf(word); at >= 0; at = text.indexOf(word, at + 1)) {
    const before = text[at - 1];
    const after = text[at + word.length];
    if ((before === undefined || !WORD_CHAR.test(before)) && (after === undefined || !WORD_CHAR.test(after))) return true;
  }
  return false;
}

const WORD_CHAR = /[\w-]/;

function entryTexts(voucher: JournalVoucher): string[] {
  if (!isRecord(voucher.entries)) return [];
  return Object.values(voucher.entries).flatMap((list) =>
    Array.isArray(list) ? list.flatMap((e) => (isRecord(e) && typeof e.text === "string" ? [e.text] : [])) : [],
  );
}

/** A customer payment line as e-conomic answers it; one it reads otherwise is left out. */
const customerPaymentLine = z.object({
  amount: z.number(),
  text: z.string(),
  contraAccount: z.object({ accountNumber: z.number().int() }).optional(),
  currency: z.object({ code: z.string() }).optional(),
});

/** The voucher's customer payment lines: what a step entered there, read back by a later run. */
export function customerPaymentsOf(voucher: JournalVoucher): Array<z.infer<typeof customerPaymentLine>> {
  const lines = isRecord(voucher.entries) ? voucher.entries.customerPayments : undefined;
  if (!Array.isArray(lines)) return [];
  return lines.flatMap((line) => {
    const parsed = customerPaymentLine.safeParse(line);
    return parsed.success ? [parsed.data] : [];
  });
}

/** "2025-17": how e-conomic addresses a voucher (`/journals/{n}/vouchers/{accountingYear}-{voucherNumber}`). */
export function voucherId(voucher: JournalVoucher): string {
  return `${voucher.accountingYear?.year ?? "?"}-${voucher.voucherNumber ?? "?"}`;
}
