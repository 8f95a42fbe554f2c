/** The sandbox ledger's books in D1: customers matched or created, invoices unique per reference. */
import { and, eq } from "drizzle-orm";
import { database } from "../../db/client";
import { type LedgerLine, ledgerCustomers, ledgerInvoices } from "../../db/schema";

export interface LedgerCustomerInput {
  connectionId: string;
  tenantId: string;
  matchKey: string;
  name: string;
  email?: string;
  country?: string;
}

/** Finds the customer with this match key or creates it; safe under concurrent calls. */
export async function matchOrCreateCustomer(env: Env, input: LedgerCustomerInput): Promise<{ id: number; created: boolean }> {
  const db = database(env);
  const inserted = await db
    .insert(ledgerCustomers)
    .values({ ...input, email: input.email ?? null, country: input.country ?? null, createdAt: Date.now() })
    .onConflictDoNothing()
    .returning({ id: ledgerCustomers.id });
  if (inserted[0]) return { id: inserted[0].id, created: true };
  const existing = await db
    .select({ id: ledgerCustomers.id })
    .from(ledgerCustomers)
    .where(and(eq(ledgerCustomers.connectionId, input.connectionId), eq(ledgerCustomers.matchKey, input.matchKey)))
    .get();
  return { id: existing!.id, created: false };
}

export async function findInvoiceByReference(env: Env, connectionId: string, reference: string) {
  return database(env)
    .select()
    .from(ledgerInvoices)
    .where(and(eq(ledgerInvoices.connectionId, connectionId), eq(ledgerInvoices.reference, reference)))
    .get();
}

export interface LedgerInvoiceInput {
  connectionId: string;
  tenantId: string;
  reference: string;
  customerId: number;
  orderNumber: string;
  state: "draft" | "booked";
  currency: string;
  lines: LedgerLine[];
  net: number;
  vat: number;
  total: number;
}

/** Inserts the invoice unless one with the reference exists; returns the one that holds it. */
export async function createInvoiceOnce(env: Env, input: LedgerInvoiceInput): Promise<{ id: number; created: boolean }> {
  const inserted = await database(env)
    .insert(ledgerInvoices)
    .values({ ...input, createdAt: Date.now() })
    .onConflictDoNothing()
    .returning({ id: ledgerInvoices.id });
  if (inserted[0]) return { id: inserted[0].id, created: true };
  const existing = await findInvoiceByReference(env, input.connectionId, input.reference);
  return { id: existing!.id, created: false };
}
