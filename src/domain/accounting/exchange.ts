/** Converting an order's amounts to the shop currency at the rate its source reported. */
import { divideRoundedBig, minorUnitExponent, type RoundingMode } from "../money";

/** amount (minor, `from`) × rate (decimal string, `to` per `from`) → minor units of `to`. */
export function convertMinor(amount: number, from: string, to: string, rate: string, mode: RoundingMode): number {
  const [whole = "0", fraction = ""] = rate.split(".");
  const scale = 10n ** BigInt(fraction.length);
  const rateScaled = BigInt(whole + fraction);
  const shift = minorUnitExponent(to) - minorUnitExponent(from);
  let numerator = BigInt(amount) * rateScaled;
  let denominator = scale;
  if (shift >= 0) numerator *= 10n ** BigInt(shift);
  else denominator *= 10n ** BigInt(-shift);
  return Number(divideRoundedBig(numerator, denominator, mode));
}
