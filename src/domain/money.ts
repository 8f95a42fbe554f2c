/**
 * Money is an integer count of minor units plus an ISO 4217 currency; never a float in a sum.
 * Decimal strings from sources are parsed exactly, and every rounding names its policy.
 */

export type RoundingMode = "half-up" | "half-even";

const ZERO_DECIMAL = new Set([
  "BIF",
  "CLP",
  "DJF",
  "GNF",
  "ISK",
  "JPY",
  "KMF",
  "KRW",
  "PYG",
  "RWF",
  "UGX",
  "UYI",
  "VND",
  "VUV",
  "XAF",
  "XOF",
  "XPF",
]);
const THREE_DECIMAL = new Set(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"]);

/** Number of decimals in the currency's minor unit (ISO 4217). */
export function minorUnitExponent(currency: string): number {
  const code = currency.toUpperCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

/**
 * Parses a decimal ("249.00", "-10.5", 20.66) into minor units of the currency. Digits beyond the
 * minor unit are rounded with the given mode; anything that is not a plain decimal is refused.
 */
export function toMinor(value: string | number, currency: string, mode: RoundingMode = "half-up"): number {
  const text = typeof value === "number" ? numberToPlainString(value) : value.trim();
  const match = DECIMAL.exec(text);
  if (!match) throw new RangeError(`not a decimal amount: ${JSON.stringify(value)}`);
  const [, sign, whole = "0", fraction = ""] = match;
  const exp = minorUnitExponent(currency);
  const kept = fraction.slice(0, exp).padEnd(exp, "0");
  const rest = fraction.slice(exp);
  let minor = BigInt(whole + kept);
  if (rest.length > 0 && /[1-9]/.test(rest)) {
    const restValue = BigInt(rest);
    const half = 5n * 10n ** BigInt(rest.length - 1);
    if (restValue > half || (restValue === half && (mode === "half-up" || minor % 2n === 1n))) minor += 1n;
  }
  const result = Number(sign === "-" ? -minor : minor);
  if (!Number.isSafeInteger(result)) throw new RangeError(`amount out of range: ${JSON.stringify(value)}`);
  return result === 0 ? 0 : result;
}

/** Formats minor units as a plain decimal string with the currency's number of decimals. */
export function toDecimalString(minor: number, currency: string): string {
  const exp = minorUnitExponent(currency);
  const negative = minor < 0;
  const digits = Math.abs(minor)
    .toString()
    .padStart(exp + 1, "0");
  const whole = digits.slice(0, digits.length - exp);
  const fraction = exp > 0 ? `.${digits.slice(digits.length - exp)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/** Minor units as a JSON number in major units, for APIs that take numbers (e-conomic, Billy). */
export function toMajorNumber(minor: number, currency: string): number {
  return Number(toDecimalString(minor, currency));
}

/** Integer division rounded by the named policy (for tax and net-from-gross computations). */
export function divideRounded(numerator: number, denominator: number, mode: RoundingMode): number {
  if (denominator <= 0) throw new RangeError("denominator must be positive");
  return Number(divideRoundedBig(BigInt(numerator), BigInt(denominator), mode));
}

/** The same on bigints, for products that can leave the safe-integer range (currency conversion). */
export function divideRoundedBig(n: bigint, d: bigint, mode: RoundingMode): bigint {
  if (d <= 0n) throw new RangeError("denominator must be positive");
  let q = n / d;
  const r = n % d;
  const twice = (r < 0n ? -r : r) * 2n;
  const away = n < 0n ? -1n : 1n;
  if (twice > d || (twice === d && (mode === "half-up" || q % 2n !== 0n))) q += away;
  return q;
}

/** A VAT rate given as a fraction (0.25) or percent (25) turned into basis points (2500). */
export function rateToBasisPoints(rate: number, unit: "fraction" | "percent"): number {
  return Math.round(unit === "fraction" ? rate * 10_000 : rate * 100);
}

/** Net amount contained in a gross amount at a VAT rate in basis points. */
export function netFromGross(grossMinor: number, rateBp: number, mode: RoundingMode): number {
  return divideRounded(grossMinor * 10_000, 10_000 + rateBp, mode);
}

function numberToPlainString(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite amount: ${value}`);
  // toFixed(9) avoids exponent notation; amounts carry at most a few decimals.
  return value.toFixed(9).replace(/\.?0+$/, "");
}
