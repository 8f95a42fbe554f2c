/**
 * Billy (billy.dk, API v2): an accounting target that books orders as invoices (draft or approved),
 * registers their payments, has Billy e-mail them, and credits refunds. The pure mappings are
 * exported so they can be tested without HTTP.
 */
import type { Connector } from "../contract";
import { createInvoice } from "./billy.create-invoice";
import { createCreditNote } from "./billy.credit-note";
import { registerPayment } from "./billy.register-payment";
import { sendInvoiceEmail } from "./billy.send-email";
import { billyConnectionSettings, billyCredentials } from "./billy.settings";

/** The Billy connector: actions `createInvoice`, `registerPayment`, `sendInvoiceEmail` and `createCreditNote`. */
export const billyConnector: Connector<typeof billyConnectionSettings, typeof billyCredentials> = {
  id: "billy",
  name: "Billy",
  category: "accounting",
  settings: billyConnectionSettings,
  credentials: billyCredentials,
  // Billy publishes no limits: a prudent rate, and every 429 is honoured.
  limits: { ratePerSecond: 5, burst: 5, concurrency: 2 },
  actions: { createInvoice, registerPayment, sendInvoiceEmail, createCreditNote },
};

export { billyRequest, changedRecord, describeBillyError, envelope, listed } from "./billy.api";
export {
  type ContactLookup,
  type ContactPlan,
  contactBody,
  contactName,
  contactPlan,
  findOrCreateContact,
  isBusiness,
} from "./billy.contact";
export { createInvoice } from "./billy.create-invoice";
export { createCreditNote } from "./billy.credit-note";
export { findByReference, mismatchError, totalsProblem } from "./billy.documents";
export { earlierCreditNote, invoiceFromHistory, invoiceFromPrevious } from "./billy.history";
export {
  type BillyInvoice,
  type BillyInvoiceBody,
  type BillyLine,
  billyLines,
  invoiceBody,
  invoiceDifferences,
  linesAsSent,
  referencesOf,
  sameLines,
} from "./billy.invoice";
export { cashAccountFor, type PaymentPart, type PaymentPlan, paymentPlan, paymentsToMake } from "./billy.payment";
export { checkProductSettings, type ProductSource, productBody, productSourceFor } from "./billy.products";
export { registerPayment } from "./billy.register-payment";
export { emailValues, renderInvoiceEmail, sendInvoiceEmail } from "./billy.send-email";
export {
  type BillyConnectionSettings,
  type BillyCredentials,
  type BillyCustomerMatch,
  type BillyDocumentSettings,
  billyConnectionSettings,
  billyCredentials,
  billyDocumentSettings,
  type CreateCreditNoteSettings,
  type CreateInvoiceSettings,
  CUSTOMER_MATCH,
  createCreditNoteSettings,
  createInvoiceSettings,
  DEFAULT_BILLY_BASE_URL,
  EMAIL_PLACEHOLDERS,
  type RegisterPaymentSettings,
  registerPaymentSettings,
  type SendInvoiceEmailSettings,
  sendInvoiceEmailSettings,
} from "./billy.settings";
export { caseTaxRate, percent, taxRateIdFor, taxRateIds } from "./billy.tax";
