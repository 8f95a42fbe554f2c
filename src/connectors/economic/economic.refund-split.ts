/**
 * How registerRefund splits a refund over the gateways that paid it back, and how it tells which
 * gateway's money the credit note already shows settled. e-conomic gives that as one total, so with
 * several lines it is attributed from what this step entered in its earlier runs, carried from one
 * result to the next (`enteredBefore`, built by `attribution` for every exit), or the step fails
 * for hand entry rather than put one gateway's money on another's account.
 */
import { z } from "zod";
import { convertParts } from "../../domain/accounting/exchange";
import { OrderlyError } from "../../domain/errors";
import { toDecimalString, toMinor } from "../../domain/money";
import type { CanonicalOrder, CanonicalRefund } from "../../domain/order";
import { capLargestFirst, type RefundPayment } from "../../domain/payment";
import type { ActionResult } from "../contract";
import { customerPaymentsOf, type JournalVoucher } from "./economic.journal";
import type { BookedInvoice } from "./economic.reference";
import { amountIn, stillOwed, type targetFor } from "./economic.register-payment";

type Target = ReturnType<typeof targetFor>;

/** What an error about the refund names. */
export interface Refusal {
  creditNoteNumber: number;
  currency: string;
  journalNumber: number;
  refund: CanonicalRefund;
  order: CanonicalOrder;
}

const sum = (amounts: number[]) => amounts.reduce((total, a) => total + a, 0);
const inWords = (minor: number, about: Pick<Refusal, "currency">) =>
  `${toDecimalString(minor, about.currency)} ${about.currency}`;

/** The parts whose gateway maps to a contra account, with it. */
export function onAccounts<T extends { target: Target }>(parts: T[]): Array<T & { contraAccountNumber: number }> {
  return parts.flatMap((p) =>
    "contraAccountNumber" in p.target ? [{ ...p, contraAccountNumber: p.target.contraAccountNumber }] : [],
  );
}

/**
 * Each gateway's share in the credit note's currency. Converted as a running total, as
 * registerPayment converts, so the shares add up to the converted whole.
 */
export function inCreditNoteCurrency<T extends RefundPayment>(
  parts: T[],
  order: CanonicalOrder,
  booked: BookedInvoice,
  currency: string,
  refundCurrency: string,
): Array<T & { minor: number }> {
  const paidBack = { currency: refundCurrency, sign: -1, moved: "The refund was paid back", document: "credit note" } as const;
  const converted = convertParts(
    parts.map((p) => p.amount),
    (through) => amountIn(through, order, booked, currency, paidBack),
  );
  return parts.map((p, i) => ({ ...p, minor: converted[i] as number }));
}

/** The journal lines within what the credit note has open (nothing known open: no cap), the largest cut first. */
export function linesWithinOpen<T extends { gateway: string; minor: number }>(
  entries: T[],
  open: number | undefined,
): { kept: T[]; cut: T[] } {
  if (open === undefined) return { kept: entries, cut: [] };
  return capLargestFirst(entries, open, {
    amount: (e) => e.minor,
    key: (e) => e.gateway,
    withAmount: (e, minor) => ({ ...e, minor }),
  });
}

/**
 * The account lines still to enter once what the credit note shows settled is taken off. With a
 * single gateway on an account it is that gateway's, as always; otherwise it is attributed from what
 * this step entered before (`earlier`, per gateway) and the payment terms gateways' shares. Settled
 * at least all that is still owed means nothing is owed, whoever paid it (an entry this step has no
 * record of, or lines a cent short of the note); with one line still owed the rest is counted as
 * that line's (`countedAs`, which the result names); anything else that cannot be attributed fails
 * for hand entry instead of being taken off whichever line comes first. With what the note shows
 * settled unknown (`shown` undefined: e-conomic gave no remainder or total) the account lines are
 * entered whole and the payment terms gateways enter nothing, as a single gateway always did.
 */
export function stillToEnter<T extends RefundPayment & { target: Target; minor: number }>(
  lines: T[],
  shown: { settled: number; gross: number } | undefined,
  earlier: Map<string, number>,
  about: Refusal,
): {
  owed: Array<T & { contraAccountNumber: number }>;
  enteredBefore: Map<string, number>;
  countedAs?: { gateway: string; minor: number };
} {
  const accounts = onAccounts(lines);
  const byTerms = lines.filter((l) => !("contraAccountNumber" in l.target));
  const none = new Map<string, number>();
  const settled = shown?.settled ?? 0;
  if (byTerms.length === 0 && accounts.length === 1) return { owed: stillOwed(accounts, settled), enteredBefore: none };
  if (!shown) return { owed: accounts.filter((l) => l.minor > 0), enteredBefore: none };
  // Nothing settled yet: an earlier run's entries were not booked (a removed voucher is entered again).
  const mine = settled > 0 ? earlier : none;
  let rest = settled - sum([...mine.values()]);
  if (rest < 0)
    throw unattributed(
      about,
      settled,
      `less than the ${inWords(settled - rest, about)} this step entered before (its voucher was changed before the journal was booked?)`,
      accounts,
    );
  // The payment terms share still owed: each terms line less what this step entered for its gateway
  // (on an account, before it was mapped to terms), at most what the note can take beside the
  // account lines (a refund larger than its note is cut there first).
  const termsOwed = byTerms.map((l) => ({ ...l, minor: Math.max(0, l.minor - (mine.get(l.gateway) ?? 0)) }));
  const room = shown.gross - sum(accounts.map((l) => l.minor)) - sum(byTerms.map((l) => mine.get(l.gateway) ?? 0));
  const termsShare = Math.min(sum(termsOwed.map((l) => l.minor)), Math.max(0, room));
  if (termsShare > rest)
    throw termsLeftOpen(
      about,
      termsOwed.filter((l) => l.minor > 0),
      termsShare - rest,
      sum(byTerms.map((l) => earlier.get(l.gateway) ?? 0)),
    );
  rest -= termsShare;
  const owed = accounts.flatMap((l) => {
    const left = l.minor - (mine.get(l.gateway) ?? 0);
    return left > 0 ? [{ ...l, minor: left }] : [];
  });
  if (rest >= sum(owed.map((l) => l.minor))) return { owed: [], enteredBefore: mine };
  if (rest === 0) return { owed, enteredBefore: mine };
  const [only] = owed;
  if (owed.length === 1 && only)
    return { owed: stillOwed(owed, rest), enteredBefore: mine, countedAs: { gateway: only.gateway, minor: rest } };
  throw unattributed(
    about,
    settled,
    `more than this step's earlier entries and payment terms account for, and e-conomic does not say through which gateway`,
    accounts,
  );
}

/**
 * Settled in part, and not attributable. Part or all of the lines may already be booked (an entry
 * this step lost track of), so the person is sent to compare, not to enter the amounts.
 */
function unattributed(
  about: Refusal,
  settled: number,
  why: string,
  lines: Array<{ gateway: string; minor: number; contraAccountNumber: number }>,
): OrderlyError {
  const { creditNoteNumber, currency, journalNumber, refund, order } = about;
  const each = lines.map((l) => `${l.gateway} ${inWords(l.minor, about)} (contra account ${l.contraAccountNumber})`);
  return new OrderlyError(
    `Refund ${refund.source.refundId} of order ${order.source.orderNumber} was not registered: credit note ${creditNoteNumber} shows ${inWords(settled, about)} paid out in e-conomic, ${why}. The refund's lines are ${each.join(", ")}, and Orderly cannot tell which of them that covers. Some or all of them may already be booked: compare the credit note's payments in e-conomic with journal ${journalNumber} and its booked entries before entering anything, enter by hand only what is missing, then retry (a credit note that shows the refund paid out is skipped).`,
    {
      errorClass: "validation",
      code: "economic_refund_settled_unattributed",
      details: {
        creditNoteNumber,
        currency,
        settled: toDecimalString(settled, currency),
        lines: lines.map((l) => ({
          gateway: l.gateway,
          contraAccountNumber: l.contraAccountNumber,
          amount: toDecimalString(l.minor, currency),
        })),
      },
      madeNothing: true,
    },
  );
}

/**
 * A gateway mapped to payment terms beside gateways on accounts: its terms say its share was paid
 * back, but the credit note still has it open, and entering only the others would report the
 * refund registered with that share still owed to the customer.
 */
function termsLeftOpen(
  about: Refusal,
  byTerms: Array<{ gateway: string; minor: number }>,
  leftOpen: number,
  enteredByStep: number,
): OrderlyError {
  const { creditNoteNumber, currency, journalNumber, refund, order } = about;
  const names = byTerms.map((l) => `"${l.gateway}" (${inWords(l.minor, about)})`).join(" and ");
  const settings = byTerms.map((l) => `byGateway.${l.gateway}`).join(" and ");
  // The step's own earlier result shows the share entered (a voucher since removed, or not booked):
  // entering it by hand could book it twice, so the person is sent to compare first.
  const next =
    enteredByStep > 0
      ? `This step's earlier run entered ${inWords(enteredByStep, about)} for it on an account, which the credit note does not show: compare journal ${journalNumber} and the credit note's payments in e-conomic before entering anything, enter by hand only what is missing, then retry.`
      : `Map ${settings} in this step's settings to the contra account the refund was paid from and retry, or enter that share by hand in e-conomic and retry.`;
  return new OrderlyError(
    `Refund ${refund.source.refundId} of order ${order.source.orderNumber} was not registered: the step maps ${names} to payment terms, but credit note ${creditNoteNumber} still shows ${inWords(leftOpen, about)} of that open, so nothing would say it was paid back. ${next}`,
    {
      errorClass: "validation",
      code: "economic_refund_terms_open",
      details: {
        creditNoteNumber,
        currency,
        leftOpen: toDecimalString(leftOpen, currency),
        open: byTerms.map((l) => ({ gateway: l.gateway, amount: toDecimalString(l.minor, currency) })),
      },
      madeNothing: true,
    },
  );
}

/** What an earlier run of the step said it entered; amounts as its outputs write them. */
const enteredLine = z.object({ gateway: z.string(), amount: z.string().regex(/^\d+(\.\d+)?$/) });
const earlierRun = z.object({
  creditNoteNumber: z.number().int(),
  currency: z.string(),
  voucher: z.string().optional(),
  lastVoucher: z.string().optional(),
  gateway: z.string().optional(),
  amount: enteredLine.shape.amount.optional(),
  lines: z.array(enteredLine).optional(),
  enteredBefore: z.array(enteredLine).optional(),
});

export interface Earlier {
  /** Per gateway (minor units), everything this step entered against the credit note so far. */
  all: Map<string, number>;
  /** The same without the lines of the voucher the last result names (`voucher`). */
  beforeVoucher: Map<string, number>;
  voucher?: string;
  /** The last voucher this step wrote whose lines `all` includes: `voucher`, or one a skip carried. */
  lastVoucher?: string;
}

/**
 * What this step entered in its earlier runs, read from its last success (`prior`): what that run
 * carried forward (`enteredBefore`) plus its own lines (or its one gateway's amount).
 */
export function enteredEarlier(prior: ActionResult | undefined, creditNoteNumber: number, currency: string): Earlier {
  const parsed = earlierRun.safeParse(prior?.outputs);
  if (!parsed.success || parsed.data.creditNoteNumber !== creditNoteNumber || parsed.data.currency !== currency)
    return { all: new Map(), beforeVoucher: new Map() };
  const { gateway, amount, lines = [], enteredBefore = [], voucher, lastVoucher } = parsed.data;
  const one = gateway !== undefined && amount !== undefined ? [{ gateway, amount }] : [];
  const add = (to: Map<string, number>, from: Array<{ gateway: string; amount: string }>) => {
    for (const l of from) to.set(l.gateway, (to.get(l.gateway) ?? 0) + toMinor(l.amount, currency));
    return to;
  };
  const beforeVoucher = add(new Map(), enteredBefore);
  const last = voucher ?? lastVoucher;
  return {
    all: add(new Map(beforeVoucher), [...lines, ...one]),
    beforeVoucher,
    ...(voucher ? { voucher } : {}),
    ...(last ? { lastVoucher: last } : {}),
  };
}

/** `entered` less a voucher's `lines` (as results write them), per gateway, never below 0. */
export function without(
  entered: Map<string, number>,
  lines: ReadonlyArray<{ gateway: string; amount: string }>,
  currency: string,
): Map<string, number> {
  const left = new Map(entered);
  for (const l of lines) left.set(l.gateway, Math.max(0, (left.get(l.gateway) ?? 0) - toMinor(l.amount, currency)));
  return left;
}

/**
 * The attribution every result of a split refund carries, so the next run can still tell each
 * gateway's part: the credit note's currency and what this step entered before the result's own
 * lines. A refund through one gateway needs none (its settled amount is always that gateway's), so
 * its results keep the shape they had before refunds were split.
 */
export function attribution(
  split: boolean,
  currency: string,
  before: Map<string, number>,
  lastVoucher?: string,
): Record<string, unknown> {
  if (!split) return {};
  const entered = [...before].filter(([, minor]) => minor > 0);
  return {
    currency,
    ...(entered.length > 0
      ? {
          enteredBefore: entered.map(([gateway, minor]) => ({ gateway, amount: toDecimalString(minor, currency) })),
          // A skip's: the voucher whose lines enteredBefore includes, found again by a later run.
          ...(lastVoucher ? { lastVoucher } : {}),
        }
      : {}),
  };
}

/**
 * The lines of a voucher an earlier run wrote (text `<prefix><gateway><suffix>`), as a run that
 * entered them reports them, with their currency; nothing when they are not all in one currency.
 */
export function voucherLines(voucher: JournalVoucher, prefix: string, suffix: string) {
  const lines = customerPaymentsOf(voucher).flatMap((l) => {
    const currency = l.currency?.code;
    if (!currency || l.contraAccount === undefined || !l.text.startsWith(prefix) || !l.text.endsWith(suffix)) return [];
    const gateway = l.text.slice(prefix.length, l.text.length - suffix.length);
    return [{ gateway, contraAccountNumber: l.contraAccount.accountNumber, currency, minor: toMinor(l.amount, currency) }];
  });
  const currency = lines[0]?.currency;
  if (currency === undefined || lines.some((l) => l.currency !== currency)) return undefined;
  return {
    currency,
    lines: lines.map((l) => ({
      gateway: l.gateway,
      contraAccountNumber: l.contraAccountNumber,
      amount: toDecimalString(l.minor, currency),
    })),
  };
}
