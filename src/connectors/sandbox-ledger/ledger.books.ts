/** The sandbox ledger's books in D1: customers matched or created, documents and payments unique per reference. */
import { and, eq, sql } from "drizzle-orm";
import { database } from "../../db/client";
import { type LedgerLine, ledgerCustomers, ledgerInvoices, ledgerPayments } from "../../db/schema";
import type { AccountingDocument } from "../../domain/accounting/document";

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

export type LedgerInvoice = typeof ledgerInvoices.$inferSelect;

export async function findInvoiceByReference(
  env: Env,
  connectionId: string,
  reference: string,
): Promise<LedgerInvoice | undefined> {
  return database(env)
    .select()
    .from(ledgerInvoices)
    .where(and(eq(ledgerInvoices.connectionId, connectionId), eq(ledgerInvoices.reference, reference)))
    .get();
}

export async function findInvoiceById(env: Env, connectionId: string, id: number): Promise<LedgerInvoice | undefined> {
  return database(env)
    .select()
    .from(ledgerInvoices)
    .where(and(eq(ledgerInvoices.connectionId, connectionId), eq(ledgerInvoices.id, id)))
    .get();
}

/** The credit notes that credit the invoice, drafts included, oldest first. */
export async function creditNotesOf(env: Env, connectionId: string, invoiceId: number): Promise<LedgerInvoice[]> {
  return database(env)
    .select()
    .from(ledgerInvoices)
    .where(
      and(
        eq(ledgerInvoices.connectionId, connectionId),
        eq(ledgerInvoices.type, "credit-note"),
        eq(ledgerInvoices.creditedInvoiceId, invoiceId),
      ),
    )
    .orderBy(ledgerInvoices.id)
    .all();
}

export function ledgerLines(document: AccountingDocument): LedgerLine[] {
  return document.lines.map((l) => ({
    kind: l.kind,
    description: l.description,
    ...(l.sku ? { sku: l.sku } : {}),
    quantity: l.quantity,
    unitNet: l.unitNet,
    net: l.net,
    vatRateBp: l.vatRateBp,
    vat: l.vat,
  }));
}

export interface LedgerDocumentInput {
  connectionId: string;
  tenantId: string;
  reference: string;
  customerId: number;
  orderNumber: string;
  state: "draft" | "booked";
  type: "invoice" | "credit-note";
  creditedInvoiceId?: number;
  document: AccountingDocument;
}

function row(input: LedgerDocumentInput) {
  const { document, ...rest } = input;
  return {
    ...rest,
    creditedInvoiceId: input.creditedInvoiceId ?? null,
    currency: document.currency,
    vatCase: document.vat.case,
    lines: ledgerLines(document),
    net: document.totals.net,
    vat: document.totals.vat,
    total: document.totals.total,
  };
}

/** Inserts the document unless one with the reference exists; returns the one that holds it. */
export async function createDocumentOnce(env: Env, input: LedgerDocumentInput): Promise<{ id: number; created: boolean }> {
  const inserted = await database(env)
    .insert(ledgerInvoices)
    .values({ ...row(input), createdAt: Date.now() })
    .onConflictDoNothing()
    .returning({ id: ledgerInvoices.id });
  if (inserted[0]) return { id: inserted[0].id, created: true };
  const existing = await findInvoiceByReference(env, input.connectionId, input.reference);
  return { id: existing!.id, created: false };
}

/** Replaces a draft's content with a newer version of the order. Booked documents are never changed. */
export async function updateDraft(env: Env, id: number, input: LedgerDocumentInput): Promise<void> {
  const { reference: _r, connectionId: _c, tenantId: _t, ...changes } = row(input);
  await database(env)
    .update(ledgerInvoices)
    .set({ ...changes, updatedAt: Date.now() })
    .where(and(eq(ledgerInvoices.id, id), eq(ledgerInvoices.state, "draft")));
}

export async function bookDocument(env: Env, id: number): Promise<void> {
  await database(env).update(ledgerInvoices).set({ state: "booked", updatedAt: Date.now() }).where(eq(ledgerInvoices.id, id));
}

/** The payment a step recorded under its reference, if any. */
export async function findPaymentByReference(
  env: Env,
  connectionId: string,
  reference: string,
): Promise<{ id: number; amount: number } | undefined> {
  return database(env)
    .select({ id: ledgerPayments.id, amount: ledgerPayments.amount })
    .from(ledgerPayments)
    .where(and(eq(ledgerPayments.connectionId, connectionId), eq(ledgerPayments.reference, reference)))
    .get();
}

/** Records a payment once per reference and adds it to the invoice's paid amount, in one batch. */
export async function registerPaymentOnce(
  env: Env,
  input: { connectionId: string; tenantId: string; reference: string; invoiceId: number; amount: number; method: string },
): Promise<{ id: number; created: boolean }> {
  const db = database(env);
  const existing = await findPaymentByReference(env, input.connectionId, input.reference);
  if (existing) return { id: existing.id, created: false };
  const [inserted] = await db.batch([
    db
      .insert(ledgerPayments)
      .values({ ...input, createdAt: Date.now() })
      .onConflictDoNothing()
      .returning({ id: ledgerPayments.id }),
    db
      .update(ledgerInvoices)
      .set({ paid: sql`${ledgerInvoices.paid} + ${input.amount}`, updatedAt: Date.now() })
      .where(
        and(
          eq(ledgerInvoices.id, input.invoiceId),
          // Only when this call inserted the payment: a concurrent twin adds nothing.
          sql`changes() = 1`,
        ),
      ),
  ]);
  return { id: inserted[0]?.id ?? 0, created: Boolean(inserted[0]) };
}

/** "total: 249.00 → 299.00"-style lines comparing a booked document with a newer version. */
export function differences(existing: LedgerInvoice, document: AccountingDocument, format: (minor: number) => string): string[] {
  const out: string[] = [];
  if (existing.total !== document.totals.total) out.push(`total: ${format(existing.total)} → ${format(document.totals.total)}`);
  if (existing.vat !== document.totals.vat) out.push(`VAT: ${format(existing.vat)} → ${format(document.totals.vat)}`);
  if (existing.lines.length !== document.lines.length) out.push(`lines: ${existing.lines.length} → ${document.lines.length}`);
  return out;
}
