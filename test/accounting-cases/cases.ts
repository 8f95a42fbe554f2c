/** Every worked accounting case, in table order. docs/accounting-cases.md is rendered from this list. */
import type { AccountingCase } from "./case-types";
import { abroadCases } from "./cases/abroad";
import { chargeCases } from "./cases/charges";
import { currencyCases } from "./cases/currency";
import { discountCases } from "./cases/discounts";
import { domesticCases } from "./cases/domestic";
import { euCases } from "./cases/eu";
import { ossCases } from "./cases/oss";
import { refundCases } from "./cases/refunds";
import { amountOnlyRefundCases } from "./cases/refunds-amount-only";
import { roundingCases } from "./cases/rounding";

export const accountingCases: AccountingCase[] = [
  ...domesticCases,
  ...discountCases,
  ...chargeCases,
  ...roundingCases,
  ...ossCases,
  ...euCases,
  ...abroadCases,
  ...refundCases,
  ...amountOnlyRefundCases,
  ...currencyCases,
].sort((a, b) => a.id.localeCompare(b.id));

export function casesOf(topic: AccountingCase["topic"]): AccountingCase[] {
  return accountingCases.filter((c) => c.topic === topic);
}
