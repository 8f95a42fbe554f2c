/**
 * Sandbox ledger: a built-in accounting target that keeps its books in D1 and shows them through
 * the API, so a newcomer sees an order become an invoice without any outside account. It behaves
 * like a real target: it builds the same accounting document, matches or creates the customer,
 * and adopts (or updates, while a draft) a document that already carries the step's reference.
 */
import { z } from "zod";
import type { Connector } from "../contract";
import { createCreditNote, createInvoice, ledgerSettings, registerPayment } from "./ledger.actions";

const credentials = z.object({});

export const sandboxLedgerConnector: Connector<typeof ledgerSettings, typeof credentials> = {
  id: "sandbox-ledger",
  name: "Sandbox ledger",
  category: "accounting",
  settings: ledgerSettings,
  credentials,
  actions: { createInvoice, registerPayment, createCreditNote },
};
