/** EU membership and the dated table of EU standard VAT rates (eu-vat-rates.json, with its source). */
import table from "./eu-vat-rates.json";

type RateHistory = ReadonlyArray<{ from: string; bp: number }>;
const RATES = table.rates as Record<string, RateHistory>;

/** ISO 3166-1 alpha-2 codes of the EU member states (Greece is GR here, as webshops send it). */
export const EU_COUNTRIES: ReadonlySet<string> = new Set(Object.keys(RATES));

export function isEuCountry(country: string): boolean {
  return EU_COUNTRIES.has(normaliseCountry(country));
}

/** Greece's VAT code is EL; webshops send the ISO code GR. */
export function normaliseCountry(country: string): string {
  const upper = country.trim().toUpperCase();
  return upper === "EL" ? "GR" : upper;
}

/** The standard rate in force in an EU country on a date (YYYY-MM-DD), in basis points. */
export function euStandardRateBp(country: string, date: string): number | undefined {
  const history = RATES[normaliseCountry(country)];
  if (!history) return undefined;
  let rate: number | undefined;
  for (const entry of history) if (entry.from <= date) rate = entry.bp;
  return rate ?? history[0]?.bp;
}

export const VAT_TABLE_SOURCE = {
  source: table.source,
  compiledOn: table.compiledOn,
  validUntilReviewed: table.validUntilReviewed,
};
