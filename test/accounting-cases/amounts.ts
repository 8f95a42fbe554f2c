/** Exact arithmetic on the cases' written amounts ("249.00"), in hundredths, without floats. */
import type { Amount } from "./case-types";

/** "249.00" → 24900; "-2.5" → -250. Amounts with more than two decimals are refused. */
export function cents(amount: Amount): number {
  const match = /^(-)?(\d+)(?:\.(\d{1,2}))?$/.exec(amount);
  if (!match) throw new RangeError(`not an amount with at most two decimals: ${amount}`);
  const value = Number(match[2]) * 100 + Number((match[3] ?? "").padEnd(2, "0"));
  return match[1] ? -value : value;
}

/** 24900 → "249.00" */
export function amount(hundredths: number): Amount {
  const sign = hundredths < 0 ? "-" : "";
  const abs = Math.abs(hundredths);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

export function sum(values: ReadonlyArray<Amount | undefined>): Amount {
  return amount(values.reduce((total, v) => total + (v === undefined ? 0 : cents(v)), 0));
}

export function minus(a: Amount, b: Amount): Amount {
  return amount(cents(a) - cents(b));
}

export function times(a: Amount, quantity: number): Amount {
  return amount(cents(a) * quantity);
}

/** An amount as the JSON number the targets take: "159.20" → 159.2. */
export function major(a: Amount): number {
  return cents(a) / 100;
}

/**
 * An amount converted at a decimal rate and rounded half-up (away from zero), as Shopify shows each
 * amount of a multi-currency order in the shop's money: "53.55" at "7.4603" → "399.50".
 */
export function convertAt(a: Amount, rate: string): Amount {
  const [whole = "0", fraction = ""] = rate.split(".");
  const scale = 10 ** fraction.length;
  const product = Math.abs(cents(a)) * Number(whole + fraction);
  const rounded = Math.floor(product / scale) + (2 * (product % scale) >= scale ? 1 : 0);
  return amount(cents(a) < 0 ? -rounded : rounded);
}
