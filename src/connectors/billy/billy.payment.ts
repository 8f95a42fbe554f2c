/**
 * Pure part of `registerPayment`: what the order says was paid, through which gateway, into which
 * Billy cash account, and how much is still to register once the payments already on the invoice
 * are counted. Counting what is there (per cash account) instead of matching single payments makes a
 * re-run register nothing and a later capture register only the rest.
 *
 * Amounts are counted in the invoice's currency (Billy's `subjectCurrency`). What is sent is the
 * cash side: `cashAmount` in the cash account's own currency, with `cashExchangeRate` (1 unit of the
 * invoice's currency = that many units of the account's) when the two differ, as Billy requires.
 */
import { convertMinor } from "../../domain/accounting/exchange";
import { divideRoundedBig, minorUnitExponent } from "../../domain/money";
import type { CanonicalOrder } from "../../domain/order";
import { gatewaysOf, isReceived, paidAsAWhole, splitUnknown } from "../../domain/payment";
import { settingsError } from "./billy.api";
import type { RegisterPaymentSettings } from "./billy.settings";

export interface PaymentPart {
  gateway: string;
  cashAccountId: string;
  /** Minor units of the invoice currency. */
  amount: number;
}

export type PaymentPlan = { kind: "skip"; reason: string } | { kind: "pay"; parts: PaymentPart[]; total: number };

export function paymentPlan(order: CanonicalOrder, settings: RegisterPaymentSettings, invoiceCurrency: string): PaymentPlan {
  // Money that came in (a payment refunded later included: the refund is the credit note's);
  // with onlyWhenPaid off, an authorisation counts too.
  const counts = (status: string | undefined) => isReceived(status) || (!settings.onlyWhenPaid && status === "authorized");
  const paid = order.payments.filter((p) => counts(p.status) && (p.amount ?? 0) > 0);
  let raw: Array<{ gateway: string; amount: number }>;
  if (paid.length > 0) raw = paid.map((p) => ({ gateway: p.gateway, amount: p.amount as number }));
  else if (paidAsAWhole(order)) {
    const gateways = gatewaysOf(order);
    if (gateways.length > 1) throw splitUnknown(order, gateways, "Billy");
    raw = [{ gateway: gateways[0] ?? "(no gateway)", amount: order.totals.total }];
  } else return { kind: "skip", reason: `Order ${order.source.orderNumber} has no paid payment to register.` };

  const byGateway = new Map<string, number>();
  for (const p of raw) byGateway.set(p.gateway, (byGateway.get(p.gateway) ?? 0) + p.amount);
  // Running totals are converted, each part being what its total adds: rounded one by one, two
  // parts of 0.01 EUR at 7.4561 would make 0.07 + 0.07 DKK, short of the invoice's 0.15.
  let paidSoFar = 0;
  let assigned = 0;
  const parts = [...byGateway].map(([gateway, amount]) => {
    paidSoFar += amount;
    const part = inInvoiceCurrency(paidSoFar, order, invoiceCurrency) - assigned;
    assigned += part;
    return { gateway, cashAccountId: cashAccountFor(gateway, settings), amount: part };
  });
  return { kind: "pay", parts, total: assigned };
}

export function cashAccountFor(gateway: string, settings: RegisterPaymentSettings): string {
  const account = settings.byGateway[gateway]?.cashAccountId ?? settings.defaultCashAccountId;
  if (account) return account;
  throw settingsError(
    `Payments through "${gateway}" have no Billy cash account: add byGateway["${gateway}"] (or defaultCashAccountId) to the step's settings.`,
    "billy_cash_account_missing",
    { gateway },
  );
}

export function inInvoiceCurrency(amount: number, order: CanonicalOrder, invoiceCurrency: string): number {
  if (order.currency === invoiceCurrency) return amount;
  if (order.exchange?.shopCurrency === invoiceCurrency)
    return convertMinor(amount, order.currency, invoiceCurrency, order.exchange.rate, "half-up");
  throw settingsError(
    `The Billy invoice is in ${invoiceCurrency} but the order was paid in ${order.currency}, with no rate between them.`,
    "billy_payment_currency",
  );
}

export interface ExistingPayment {
  id: string;
  cashAccountId: string;
  /** Minor units. */
  amount: number;
}

export interface PaymentToMake {
  cashAccountId: string;
  gateways: string[];
  amount: number;
}

/**
 * Per cash account: what the order says minus what the invoice already has. At most the invoice's
 * open balance is registered in all, so a rounding of the source can never overpay the invoice.
 */
export function paymentsToMake(
  parts: readonly PaymentPart[],
  existing: readonly ExistingPayment[],
  balance: number,
): PaymentToMake[] {
  const wanted = new Map<string, PaymentToMake>();
  for (const p of parts) {
    const entry = wanted.get(p.cashAccountId) ?? { cashAccountId: p.cashAccountId, gateways: [], amount: 0 };
    entry.gateways.push(p.gateway);
    entry.amount += p.amount;
    wanted.set(p.cashAccountId, entry);
  }
  let open = balance;
  const out: PaymentToMake[] = [];
  for (const entry of wanted.values()) {
    const there = existing.filter((e) => e.cashAccountId === entry.cashAccountId).reduce((sum, e) => sum + e.amount, 0);
    const amount = Math.min(entry.amount - there, open);
    if (amount <= 0) continue;
    out.push({ ...entry, amount });
    open -= amount;
  }
  return out;
}

/** The cash side of one bank payment: what arrived in the cash account, in the account's currency. */
export interface CashSide {
  /** Minor units of `cashCurrency`. */
  cashAmount: number;
  cashCurrency: string;
  /** 1 unit of the invoice's currency = `cashExchangeRate` units of `cashCurrency`; only when they differ. */
  cashExchangeRate?: number;
}

/**
 * `amount` (minor units of the invoice's currency) as it arrived in a cash account in
 * `cashCurrency`. The only rate Orderly has is the order's (`order.exchange`: shop currency per
 * order-currency unit), so the two currencies must be the order's and the shop's, either way round:
 * an invoice in the customer's currency paid into an account in the shop's currency (the usual
 * case: a EUR invoice paid into a DKK bank account), or an invoice converted into the shop's
 * currency paid into an account in the customer's currency. Any other pair is refused, naming it.
 */
export function cashSide(
  amount: number,
  invoiceCurrency: string,
  cashCurrency: string,
  order: CanonicalOrder,
  where: { cashAccountId: string; gateways: readonly string[] },
): CashSide {
  if (cashCurrency === invoiceCurrency) return { cashAmount: amount, cashCurrency };
  const exchange = order.exchange;
  if (exchange && invoiceCurrency === order.currency && cashCurrency === exchange.shopCurrency)
    return {
      cashAmount: convertMinor(amount, invoiceCurrency, cashCurrency, exchange.rate, "half-up"),
      cashCurrency,
      cashExchangeRate: Number(exchange.rate),
    };
  if (exchange && invoiceCurrency === exchange.shopCurrency && cashCurrency === order.currency)
    return {
      cashAmount: convertBack(amount, invoiceCurrency, cashCurrency, exchange.rate),
      cashCurrency,
      cashExchangeRate: Number((1 / Number(exchange.rate)).toPrecision(12)),
    };
  const gateways = where.gateways.map((g) => `"${g}"`).join(", ");
  const rate = exchange
    ? `the order's only rate is between ${order.currency} and ${exchange.shopCurrency}`
    : `the order carries no exchange rate (it was paid in ${order.currency})`;
  throw settingsError(
    `Billy cash account ${where.cashAccountId} (for ${gateways}) is in ${cashCurrency}, but the invoice is in ${invoiceCurrency} and ${rate}: choose a cash account in ${invoiceCurrency}${exchange && exchange.shopCurrency !== invoiceCurrency ? ` or ${exchange.shopCurrency}` : ""} for that gateway in the step's settings.`,
    "billy_payment_currency",
    { cashAccountId: where.cashAccountId, cashCurrency, invoiceCurrency },
  );
}

/** amount (minor, `from`) ÷ rate (decimal string, `from` per `to`) → minor units of `to`, half-up. */
function convertBack(amount: number, from: string, to: string, rate: string): number {
  const [whole = "0", fraction = ""] = rate.split(".");
  const rateScaled = BigInt(whole + fraction);
  if (rateScaled <= 0n) throw new RangeError(`cannot convert at a rate of ${rate}`);
  const shift = minorUnitExponent(to) - minorUnitExponent(from);
  let numerator = BigInt(amount) * 10n ** BigInt(fraction.length);
  let denominator = rateScaled;
  if (shift >= 0) numerator *= 10n ** BigInt(shift);
  else denominator *= 10n ** BigInt(-shift);
  return Number(divideRoundedBig(numerator, denominator, "half-up"));
}
