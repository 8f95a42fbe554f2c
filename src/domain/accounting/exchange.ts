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

/**
 * Parts of one amount converted as a running total: each part is the converted total through it
 * less the converted total before it, so the parts add up to the converted whole (each part
 * rounded on its own could leave a cent open, or pay one too many).
 */
export function convertParts(amounts: readonly number[], convertTotal: (minor: number) => number): number[] {
  let through = 0;
  let before = 0;
  return amounts.map((amount) => {
    through += amount;
    const converted = convertTotal(through);
    const part = converted - before;
    before = converted;
    return part;
  });
}
