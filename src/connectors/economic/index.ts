/**
 * Visma e-conomic (legacy REST API): an accounting target that creates draft invoices with their
 * customers and books them. The pure mappings are exported so they can be tested without HTTP.
 */
import type { Connector } from "../contract";
import { bookInvoice } from "./economic.book-invoice";
import { createInvoice } from "./economic.create-invoice";
import { economicConnectionSettings, economicCredentials } from "./economic.settings";

/** The e-conomic connector: actions `createInvoice` and `bookInvoice`. */
export const economicConnector: Connector<typeof economicConnectionSettings, typeof economicCredentials> = {
  id: "economic",
  name: "Visma e-conomic",
  category: "accounting",
  settings: economicConnectionSettings,
  credentials: economicCredentials,
  actions: { createInvoice, bookInvoice },
};

export { describeEconomicError, economicRequest, eqFilter, escapeFilterValue } from "./economic.api";
export { bookInvoice, draftFromPrevious, invoiceNumberFromOrderNumber } from "./economic.book-invoice";
export { createInvoice } from "./economic.create-invoice";
export { customerBody, customerLookup, customerName } from "./economic.customer";
export {
  type DraftInvoiceBody,
  type DraftInvoiceLine,
  draftInvoiceBody,
  draftInvoiceLines,
  economicReference,
  mapDraftInvoice,
  unitNet,
} from "./economic.invoice";
export {
  bookInvoiceSettings,
  type CreateInvoiceSettings,
  createInvoiceSettings,
  DEFAULT_ECONOMIC_BASE_URL,
  type EconomicConnectionSettings,
  type EconomicCredentials,
  economicConnectionSettings,
  economicCredentials,
} from "./economic.settings";
export { EU_COUNTRIES, vatZoneKind, vatZoneNumberFor } from "./economic.vat-zone";
