/**
 * Billy (billy.dk, API v2): an accounting target that books orders as invoices (draft or approved),
 * registers their payments, has Billy e-mail them, credits refunds and registers the money paid back,
 * and deletes the draft of a cancelled order. The pure mappings are exported so they can be tested without HTTP.
 */
import type { Connector } from "../contract";
import { cancelOrder } from "./billy.cancel-order";
import { createInvoice } from "./billy.create-invoice";
import { createCreditNote } from "./billy.credit-note";
import { registerPayment } from "./billy.register-payment";
import { registerRefund } from "./billy.register-refund";
import { sendInvoiceEmail } from "./billy.send-email";
import { billyConnectionSettings, billyCredentials } from "./billy.settings";

/**
 * The Billy connector: actions `createInvoice`, `registerPayment`, `sendInvoiceEmail`, `createCreditNote`,
 * `registerRefund` and `cancelOrder`.
 */
export const billyConnector: Connector<typeof billyConnectionSettings, typeof billyCredentials> = {
  id: "billy",
  name: "Billy",
  category: "accounting",
  settings: billyConnectionSettings,
  credentials: billyCredentials,
  notCopied: { organizationId: "it is the other shop's Billy company" },
  // Billy publishes no limits: a prudent rate, and every 429 is honoured.
  limits: { ratePerSecond: 5, burst: 5, concurrency: 2 },
  actions: { createInvoice, registerPayment, sendInvoiceEmail, createCreditNote, registerRefund, cancelOrder },
};

export { billyRequest, changedRecord, describeBillyError, envelope, listed } from "./billy.api";
export { cancelOrder, type InvoiceMade, invoicesMade } from "./billy.cancel-order";
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
export { findByReference, mismatchError, type TaxRateProblem, taxRateProblems, totalsProblem } from "./billy.documents";
export { earlierCreditNote, invoiceFromHistory, invoiceFromPrevious } from "./billy.history";
export {
  type BillyInvoice,
  type BillyInvoiceBody,
  type BillyLine,
  billyLines,
  exchangeRateFor,
  invoiceBody,
  invoiceDifferences,
  linesAsSent,
  referencesOf,
  sameLines,
  wantsShopRate,
} from "./billy.invoice";
export { baseCurrency, documentExchangeRate } from "./billy.organization";
export {
  type CashSide,
  cashAccountFor,
  cashSide,
  type PaymentPart,
  type PaymentPlan,
  paymentPlan,
  paymentsToMake,
} from "./billy.payment";
export { checkProductSettings, type ProductSource, productBody, productSourceFor } from "./billy.products";
export { registerPayment } from "./billy.register-payment";
export { registerRefund } from "./billy.register-refund";
export { emailValues, renderInvoiceEmail, sendInvoiceEmail } from "./billy.send-email";
export {
  type BillyConnectionSettings,
  type BillyCredentials,
  type BillyCustomerMatch,
  type BillyDocumentSettings,
  billyConnectionSettings,
  billyCredentials,
  billyDocumentSettings,
  type CancelOrderSettings,
  type CreateCreditNoteSettings,
  type CreateInvoiceSettings,
  CUSTOMER_MATCH,
  cancelOrderSettings,
  createCreditNoteSettings,
  createInvoiceSettings,
  DEFAULT_BILLY_BASE_URL,
  EMAIL_PLACEHOLDERS,
  type RegisterPaymentSettings,
  registerPaymentSettings,
  type SendInvoiceEmailSettings,
  sendInvoiceEmailSettings,
} from "./billy.settings";
export { caseTaxRate, describeCase, percent, taxRateIdFor, taxRateIds } from "./billy.tax";
