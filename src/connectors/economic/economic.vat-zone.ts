/**
 * Which e-conomic VAT zone a buyer falls in: the home country is domestic, another EU member state
 * is EU, anything else is abroad. OSS distance sales and EU B2B reverse charge refine this later.
 */
import type { CanonicalOrder } from "../../domain/order";
import type { CreateInvoiceSettings } from "./economic.settings";

/** EU member states (ISO 3166-1 alpha-2; Greece also as EL, the code EU VAT uses). */
export const EU_COUNTRIES: ReadonlySet<string> = new Set([
  "AT",
  "BE",
  "BG",
  "CY",
  "CZ",
  "DE",
  "DK",
  "EE",
  "EL",
  "ES",
  "FI",
  "FR",
  "GR",
  "HR",
  "HU",
  "IE",
  "IT",
  "LT",
  "LU",
  "LV",
  "MT",
  "NL",
  "PL",
  "PT",
  "RO",
  "SE",
  "SI",
  "SK",
]);

export type VatZoneKind = "domestic" | "eu" | "abroad";

export function vatZoneKind(country: string, homeCountry: string): VatZoneKind {
  const code = country.toUpperCase();
  if (code === homeCountry.toUpperCase()) return "domestic";
  return EU_COUNTRIES.has(code) ? "eu" : "abroad";
}

/**
 * The buyer's country for VAT: where the goods go (shipping address), else the billing address,
 * else the home country (an order without any address is treated as a domestic sale).
 */
export function buyerCountry(order: CanonicalOrder, homeCountry: string): string {
  return (order.shippingAddress?.country ?? order.billingAddress?.country ?? homeCountry).toUpperCase();
}

export function vatZoneNumberFor(
  order: CanonicalOrder,
  settings: Pick<CreateInvoiceSettings, "vatZones" | "homeCountry">,
): number {
  return settings.vatZones[vatZoneKind(buyerCountry(order, settings.homeCountry), settings.homeCountry)];
}
