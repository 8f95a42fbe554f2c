/**
 * Visma e-conomic (legacy REST API): an accounting target for the whole life of an order: a draft
 * order at an early stage, the invoice (draft or booked, VAT by zone and product), updates, the
 * payment in a journal, the invoice PDF by email, cancellation, credit notes and the refund paid back. The pure mappings
 * are exported so they can be tested without HTTP.
 */
import type { Connector } from "../contract";
import { bookInvoice } from "./economic.book-invoice";
import { cancelOrder } from "./economic.cancel-order";
import { createInvoice } from "./economic.create-invoice";
import { createOrder } from "./economic.create-order";
import { createCreditNote } from "./economic.credit-note";
import { registerPayment } from "./economic.register-payment";
import { registerRefund } from "./economic.register-refund";
import { sendInvoiceEmail } from "./economic.send-invoice-email";
import { economicConnectionSettings, economicCredentials } from "./economic.settings";

/** The e-conomic connector and its actions. */
export const economicConnector: Connector<typeof economicConnectionSettings, typeof economicCredentials> = {
  id: "economic",
  name: "Visma e-conomic",
  category: "accounting",
  settings: economicConnectionSettings,
  credentials: economicCredentials,
  // e-conomic rate-limits per agreement without published numbers: stay well inside and honour 429.
  limits: { ratePerSecond: 10, burst: 10, concurrency: 2 },
  actions: {
    createInvoice,
    bookInvoice,
    registerPayment,
    sendInvoiceEmail,
    createOrder,
    cancelOrder,
    createCreditNote,
    registerRefund,
  },
};

export {
  allEqFilter,
  describeEconomicError,
  economicRequest,
  eqFilter,
  escapeFilterValue,
  resourceId,
} from "./economic.api";
export {
  type BodyWithoutCustomer,
  documentBody,
  type EconomicDocumentBody,
  type EconomicLine,
  economicLines,
  economicReference,
  exchangeFields,
  per100,
  withCustomer,
} from "./economic.body";
export { bookDraft, bookInvoice, draftFromPrevious, invoiceNumberFromOrderNumber } from "./economic.book-invoice";
export { cancelOrder } from "./economic.cancel-order";
export { createInvoice } from "./economic.create-invoice";
export { createOrder } from "./economic.create-order";
export { createCreditNote, restockNotes } from "./economic.credit-note";
export { customerBody, customerLookup, customerName, forBuyer, isBusinessBuyer } from "./economic.customer";
export { bookedDifferences } from "./economic.document-steps";
export {
  INVOICE_EMAIL_PLACEHOLDERS,
  type RegisterPaymentSettings,
  registerPaymentSettings,
  type SendInvoiceEmailSettings,
  sendInvoiceEmailSettings,
} from "./economic.payment-mail.settings";
export { type PlannedProduct, planProduct } from "./economic.products";
export { paidByGateway, registerPayment } from "./economic.register-payment";
export { refundGateway, registerRefund } from "./economic.register-refund";
export { sendInvoiceEmail } from "./economic.send-invoice-email";
export {
  bookInvoiceSettings,
  type CreateInvoiceSettings,
  CUSTOMER_MATCH,
  cancelOrderSettings,
  createInvoiceSettings,
  createOrderSettings,
  DEFAULT_ECONOMIC_BASE_URL,
  type EconomicConnectionSettings,
  type EconomicCredentials,
  type EconomicDocumentSettings,
  economicConnectionSettings,
  economicCredentials,
  economicDocumentSettings,
} from "./economic.settings";
