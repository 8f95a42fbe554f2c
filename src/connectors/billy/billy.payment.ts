/**
 * Pure part of `registerPayment`: what the order says was paid, through which gateway, into which
 * Billy cash account, and how much is still to register once the payments already on the invoice
 * are counted. Counting what is there (per cash account) instead of matching single payments makes a
 * re-run register nothing and a later capture register only the rest.
 */
import { convertMinor } from "../../domain/accounting/exchange";
import type { CanonicalOrder } from "../../domain/order";
import { settingsError } from "./billy.api";
import type { RegisterPaymentSettings } from "./billy.settings";

export interface PaymentPart {
  gateway: string;
  cashAccountId: string;
  /** Minor units of the invoice currency. */
  amount: number;
}

export type PaymentPlan = { kind: "skip"; reason: string } | { kind: "pay"; parts: PaymentPart[]; total: number };

const PAID = new Set(["paid", "partially_paid"]);

export function paymentPlan(order: CanonicalOrder, settings: RegisterPaymentSettings, invoiceCurrency: string): PaymentPlan {
  const counted = new Set(settings.onlyWhenPaid ? PAID : [...PAID, "authorized"]);
  const paid = order.payments.filter((p) => p.status !== undefined && counted.has(p.status) && (p.amount ?? 0) > 0);
  let raw: Array<{ gateway: string; amount: number }>;
  if (paid.length > 0) raw = paid.map((p) => ({ gateway: p.gateway, amount: p.amount as number }));
  else if (order.financialStatus === "paid")
    raw = [{ gateway: order.payments[0]?.gateway ?? "(no gateway)", amount: order.totals.total }];
  else return { kind: "skip", reason: `Order ${order.source.orderNumber} has no paid payment to register.` };

  const byGateway = new Map<string, number>();
  for (const p of raw) byGateway.set(p.gateway, (byGateway.get(p.gateway) ?? 0) + p.amount);
  const parts = [...byGateway].map(([gateway, amount]) => ({
    gateway,
    cashAccountId: cashAccountFor(gateway, settings),
    amount: inInvoiceCurrency(amount, order, invoiceCurrency),
  }));
  return { kind: "pay", parts, total: parts.reduce((sum, p) => sum + p.amount, 0) };
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

function inInvoiceCurrency(amount: number, order: CanonicalOrder, invoiceCurrency: string): number {
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
