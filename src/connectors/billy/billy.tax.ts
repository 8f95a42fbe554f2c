/**
 * Which Billy tax rate each line carries. Orderly decides the VAT case once (domestic, OSS, EU home
 * VAT, reverse charge, export); Billy keeps VAT per invoice line as `taxRateId`, so each case maps
 * to one configured rate, reduced rates map by their basis points, and anything unmapped fails
 * before Billy is touched, naming the setting to add.
 */
import type { DocumentLine } from "../../domain/accounting/document";
import type { VatCase, VatDecision } from "../../domain/vat/vat-decision";
import { settingsError } from "./billy.api";
import type { BillyDocumentSettings } from "./billy.settings";

type TaxSettings = Pick<BillyDocumentSettings, "taxRates" | "taxRatesByRate">;

/** Lines that are not a sale of goods or services and carry no VAT of their own. */
const NOT_A_SALE = new Set<DocumentLine["kind"]>(["rounding", "giftcard", "duties"]);

const CASE_SETTING: Record<Exclude<VatCase, "oss">, "domestic" | "euHomeVat" | "reverseCharge" | "export"> = {
  domestic: "domestic",
  "eu-home-vat": "euHomeVat",
  "reverse-charge": "reverseCharge",
  export: "export",
};

/** The configured tax rate of the VAT case at its standard rate, and the setting that holds it. */
export function caseTaxRate(vat: VatDecision, settings: TaxSettings): { id: string | undefined; setting: string } {
  if (vat.case === "oss") return { id: settings.taxRates.oss[vat.destination], setting: `taxRates.oss.${vat.destination}` };
  const key = CASE_SETTING[vat.case];
  return { id: settings.taxRates[key], setting: `taxRates.${key}` };
}

export function taxRateIdFor(line: DocumentLine, vat: VatDecision, settings: TaxSettings): string {
  if (NOT_A_SALE.has(line.kind) && line.vatRateBp === 0) {
    if (settings.taxRates.noVat) return settings.taxRates.noVat;
    // Duties are not a sale on any order: an export or reverse-charge sale's rate (standard rate 0)
    // would put customs money in the VAT return's export or EU-sales box.
    if (vat.standardRateBp !== 0 || line.kind === "duties")
      throw settingsError(
        `"${line.description}" carries no VAT, and the step has no Billy tax rate for such lines: set taxRates.noVat.`,
        "billy_tax_rate_missing",
        { setting: "taxRates.noVat" },
      );
  }
  // A rate configured for the country ("FI:2400") wins: an order from before a rate change needs the old rate.
  const dated = vat.vatCountry ? settings.taxRatesByRate[`${vat.vatCountry}:${line.vatRateBp}`] : undefined;
  if (dated) return dated;
  if (line.vatRateBp === vat.standardRateBp) {
    const { id, setting } = caseTaxRate(vat, settings);
    if (id) return id;
    throw settingsError(
      `The order is a ${describeCase(vat)} sale, and the step has no Billy tax rate for it: set ${setting} to the id of the Billy tax rate to use.`,
      "billy_tax_rate_missing",
      { setting, vatCase: vat.case },
    );
  }
  const byCountry = vat.vatCountry ? settings.taxRatesByRate[`${vat.vatCountry}:${line.vatRateBp}`] : undefined;
  const byRate = byCountry ?? settings.taxRatesByRate[String(line.vatRateBp)];
  if (byRate) return byRate;
  throw settingsError(
    `"${line.description}" has VAT at ${percent(line.vatRateBp)}, not the ${percent(vat.standardRateBp)} standard rate of this ${describeCase(vat)} sale: add taxRatesByRate["${line.vatRateBp}"] (a Billy tax rate id) to the step's settings.`,
    "billy_tax_rate_missing",
    { setting: `taxRatesByRate.${line.vatRateBp}`, rateBp: line.vatRateBp },
  );
}

export function taxRateIds(lines: readonly DocumentLine[], vat: VatDecision, settings: TaxSettings): string[] {
  return lines.map((line) => taxRateIdFor(line, vat, settings));
}

/** The VAT case in words: "EU business reverse-charge (DE)". */
export function describeCase(vat: VatDecision): string {
  switch (vat.case) {
    case "domestic":
      return "domestic";
    case "oss":
      return `One Stop Shop (${vat.destination})`;
    case "eu-home-vat":
      return `EU consumer (${vat.destination}, home VAT)`;
    case "reverse-charge":
      return `EU business reverse-charge (${vat.destination})`;
    case "export":
      return `export (${vat.destination})`;
  }
}

/** 2500 → "25 %", 1250 → "12.5 %". */
export function percent(bp: number): string {
  return `${(bp / 100).toString()} %`;
}
