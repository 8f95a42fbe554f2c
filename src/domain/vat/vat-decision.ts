/**
 * The one place where the VAT treatment of an order is decided. Targets model VAT differently
 * (e-conomic by VAT zone and product group, Billy by tax ruleset), so they map this decision
 * through their settings instead of deciding again.
 */
import type { CanonicalOrder } from "../order";
import { euStandardRateBp, isEuCountry, normaliseCountry } from "./vat-rates";

export type VatCase =
  /** Sold in the merchant's own country: its VAT. */
  | "domestic"
  /** B2C distance sale to another EU country under One Stop Shop: the destination's VAT. */
  | "oss"
  /** B2C distance sale to another EU country by a merchant not in OSS (under the EUR 10,000 threshold): home VAT. */
  | "eu-home-vat"
  /** B2B sale to another EU country with a VAT number: no VAT, the buyer accounts for it. */
  | "reverse-charge"
  /** Outside the EU: zero-rated export. */
  | "export";

/** How a target that books VAT by zone (e-conomic) must treat the sale: by the VAT charged, not by geography. */
export type VatZone = "domestic" | "eu" | "abroad";

export interface VatDecision {
  case: VatCase;
  zone: VatZone;
  /** Where the goods go (shipping country, else billing country, else home). */
  destination: string;
  /** Country whose VAT applies, or null when no VAT is due. */
  vatCountry: string | null;
  /** Standard rate of vatCountry on the order date; 0 when no VAT is due. */
  standardRateBp: number;
  b2b: boolean;
}

export interface VatSettings {
  /** The merchant's country (ISO-2). */
  homeCountry: string;
  /** Registered for One Stop Shop: EU B2C sales carry the destination's VAT. */
  ossRegistered: boolean;
  /** Standard rate at home when home is outside the EU table (e.g. NO 2500); basis points. */
  homeRateBp?: number;
}

export function decideVat(order: CanonicalOrder, settings: VatSettings): VatDecision {
  const home = normaliseCountry(settings.homeCountry);
  const destination = normaliseCountry(order.shippingAddress?.country ?? order.billingAddress?.country ?? home);
  const date = order.source.createdAt.slice(0, 10);
  const homeRate = euStandardRateBp(home, date) ?? settings.homeRateBp ?? 0;
  const b2b = Boolean(order.customer?.vatNumber?.trim());
  if (destination === home)
    return { case: "domestic", zone: "domestic", destination, vatCountry: home, standardRateBp: homeRate, b2b };
  if (!isEuCountry(destination) || !isEuCountry(home)) {
    return { case: "export", zone: "abroad", destination, vatCountry: null, standardRateBp: 0, b2b };
  }
  if (b2b) return { case: "reverse-charge", zone: "eu", destination, vatCountry: null, standardRateBp: 0, b2b };
  if (settings.ossRegistered) {
    return {
      case: "oss",
      zone: "eu",
      destination,
      vatCountry: destination,
      standardRateBp: euStandardRateBp(destination, date) ?? 0,
      b2b,
    };
  }
  // VAT-wise this is a domestic sale (home VAT is charged), so targets book it in the domestic zone.
  return { case: "eu-home-vat", zone: "domestic", destination, vatCountry: home, standardRateBp: homeRate, b2b };
}
