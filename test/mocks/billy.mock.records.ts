/**
 * The records of the in-memory Billy and what writes do to them: contacts with their persons,
 * products with their prices, invoices and credit notes (amounts computed from their lines and tax
 * rates; draft → approved is one way; an approved invoice cannot be edited), bank payments that
 * settle an invoice through balance modifiers, and invoice e-mails that mark it sent.
 */
import {
  billyError,
  cents,
  divideHalfUp,
  isRecord,
  type Json,
  json,
  major,
  type Problem,
  validateRecord,
  validationError,
} from "./billy.mock.validate";

export interface BillyState {
  organizationId: string;
  /** Tax rate id → rate in basis points. */
  taxRates: Record<string, number>;
  /** Payment-enabled accounts a bank payment may use: id → the account's currency. */
  cashAccounts: Map<string, string>;
  contacts: Json[];
  contactPersons: Json[];
  products: Json[];
  productPrices: Json[];
  invoices: Json[];
  invoiceLines: Json[];
  bankPayments: Json[];
  balanceModifiers: Json[];
  emails: Json[];
  seq: number;
  nextInvoiceNo: number;
  /** Product id → the tax rate its lines get whatever they sent (a line's `taxRate` is readonly in Billy's docs). */
  taxRateFromProduct: Record<string, string>;
}

export const nextId = (state: BillyState, prefix: string) => `${prefix}-${++state.seq}`;
const byId = (list: Json[], id: unknown) => list.find((r) => r.id === id);

export function createContact(state: BillyState, input: Json): Response {
  const problems = validateRecord("contact", input, "contact");
  if (problems.length > 0) return validationError(problems);
  const { contactPersons = [], ...fields } = input as Json & { contactPersons?: Json[] };
  const contact = { id: nextId(state, "con"), organizationId: state.organizationId, isCustomer: false, ...fields };
  const persons = contactPersons.map((p, i) => ({ id: nextId(state, "cp"), contactId: contact.id, isPrimary: i === 0, ...p }));
  state.contacts.push(contact);
  state.contactPersons.push(...persons);
  return json(200, { contacts: [contact], contactPersons: persons });
}

export function createProduct(state: BillyState, input: Json): Response {
  const problems = validateRecord("product", input, "product");
  if (problems.length > 0) return validationError(problems);
  const { prices = [], ...fields } = input as Json & { prices?: Json[] };
  const product = { id: nextId(state, "prod"), organizationId: state.organizationId, isArchived: false, ...fields };
  const productPrices = prices.map((p) => ({ id: nextId(state, "pp"), productId: product.id, ...p }));
  state.products.push(product);
  state.productPrices.push(...productPrices);
  return json(200, { products: [product], productPrices });
}

/** Foreign keys and rules the types alone do not catch. */
function invoiceProblems(state: BillyState, input: Json, existing?: Json): Problem[] {
  const problems: Problem[] = [];
  if (input.contactId !== undefined && !byId(state.contacts, input.contactId))
    problems.push({ property: "invoice.contactId", message: `no contact ${String(input.contactId)}` });
  if (Array.isArray(input.lines))
    input.lines.forEach((line, i) => {
      if (!isRecord(line)) return;
      if (line.productId !== undefined && !byId(state.products, line.productId))
        problems.push({ property: `invoice.lines[${i}].productId`, message: `no product ${String(line.productId)}` });
      if (line.taxRateId !== undefined && !(String(line.taxRateId) in state.taxRates))
        problems.push({ property: `invoice.lines[${i}].taxRateId`, message: `no tax rate ${String(line.taxRateId)}` });
    });
  const type = input.type ?? existing?.type ?? "invoice";
  const credited = input.creditedInvoiceId;
  if (credited !== undefined) {
    const original = byId(state.invoices, credited);
    if (type !== "creditNote") problems.push({ property: "invoice.creditedInvoiceId", message: "is for credit notes only" });
    else if (original?.type !== "invoice" || original.state !== "approved")
      problems.push({ property: "invoice.creditedInvoiceId", message: "must be an approved invoice" });
  }
  return problems;
}

export function createInvoice(state: BillyState, input: Json): Response {
  const problems = [...validateRecord("invoice", input, "invoice"), ...invoiceProblems(state, input)];
  if (problems.length > 0) return validationError(problems);
  const { lines, state: wanted = "draft", ...fields } = input as Json & { lines: Json[]; state?: string };
  const invoice: Json = {
    id: nextId(state, "inv"),
    organizationId: state.organizationId,
    type: "invoice",
    taxMode: "incl",
    paymentTermsDays: 0,
    createdTime: "2026-01-01T00:00:00",
    approvedTime: null,
    invoiceNo: null,
    externalId: null,
    creditedInvoiceId: null,
    sentState: "unsent",
    ...fields,
    state: "draft",
  };
  state.invoices.push(invoice);
  const saved = replaceLines(state, invoice, lines);
  if (wanted === "approved") approveInvoice(state, invoice);
  return json(200, { invoices: [invoice], invoiceLines: saved });
}

export function updateInvoice(state: BillyState, id: string, input: Json): Response {
  const invoice = byId(state.invoices, id);
  if (!invoice) return billyError(404, "RECORD_NOT_FOUND", `No invoice ${id}.`);
  const problems = [...validateRecord("invoice", input, "invoice", true), ...invoiceProblems(state, input, invoice)];
  if (problems.length > 0) return validationError(problems);
  const { lines, state: wanted, ...fields } = input as Json & { lines?: Json[]; state?: string };
  // Billy's docs of both: "This parameter must not be set if the invoice has already been created."
  // What Billy answers when it is set anyway is unconfirmed; the mock refuses it.
  const once = ["entryDate", "invoiceNo"].filter((k) => input[k] !== undefined);
  if (once.length > 0)
    return validationError(
      once.map((k) => ({ property: `invoice.${k}`, message: "must not be set if the invoice has already been created" })),
    );
  if (invoice.state === "approved") {
    const changes = Object.keys(input).filter((k) => !(k === "state" && wanted === "approved"));
    if (changes.length > 0)
      return billyError(
        422,
        "INVOICE_APPROVED",
        `Invoice ${id} is approved and cannot be changed (${changes.join(", ")}); credit it instead.`,
      );
    return json(200, { invoices: [invoice] });
  }
  if (fields.type !== undefined && fields.type !== invoice.type)
    return billyError(422, "VALIDATION_ERROR", "The type of an invoice cannot change.");
  Object.assign(invoice, fields);
  const saved = lines ? replaceLines(state, invoice, lines) : [];
  if (wanted === "approved") approveInvoice(state, invoice);
  else recompute(state, invoice);
  return json(200, { invoices: [invoice], ...(lines ? { invoiceLines: saved } : {}) });
}

/**
 * `DELETE /invoices/:id`. Idempotent as Billy documents it: an id that is not there (any more) is
 * answered 200 with nothing deleted. The deleted record and its lines are listed by plural name
 * under `meta.deletedRecords`. Only a draft can be deleted: an approved invoice is final and is
 * credited instead (Billy's exact error for this is unconfirmed; the mock answers 422).
 */
export function deleteInvoice(state: BillyState, id: string): Response {
  const invoice = byId(state.invoices, id);
  if (!invoice) return json(200, { meta: { deletedRecords: {} } });
  if (invoice.state !== "draft")
    return billyError(
      422,
      "INVOICE_NOT_DRAFT",
      `Invoice ${id} is ${String(invoice.state)} and cannot be deleted; credit it with a credit note instead.`,
    );
  const lines = state.invoiceLines.filter((l) => l.invoiceId === id);
  state.invoices.splice(state.invoices.indexOf(invoice), 1);
  state.invoiceLines = state.invoiceLines.filter((l) => l.invoiceId !== id);
  return json(200, {
    meta: { deletedRecords: { invoices: [id], ...(lines.length > 0 ? { invoiceLines: lines.map((l) => l.id) } : {}) } },
  });
}

function replaceLines(state: BillyState, invoice: Json, lines: Json[]): Json[] {
  state.invoiceLines = state.invoiceLines.filter((l) => l.invoiceId !== invoice.id);
  const saved = lines.map((l, priority) => {
    const fromProduct = state.taxRateFromProduct[String(l.productId)];
    return {
      id: nextId(state, "line"),
      invoiceId: invoice.id,
      priority,
      ...l,
      ...(fromProduct ? { taxRateId: fromProduct } : {}),
    };
  });
  state.invoiceLines.push(...saved);
  recompute(state, invoice);
  return saved;
}

/** Net, VAT (per line, half-up) and gross from the lines; balance from the payments. */
export function recompute(state: BillyState, invoice: Json): void {
  let net = 0;
  let tax = 0;
  for (const line of state.invoiceLines.filter((l) => l.invoiceId === invoice.id)) {
    const rate = line.taxRateId === undefined ? 0 : (state.taxRates[String(line.taxRateId)] ?? 0);
    const amount = Math.round(Number(line.quantity) * Number(line.unitPrice) * 100);
    const lineNet = invoice.taxMode === "incl" ? divideHalfUp(amount * 10_000, 10_000 + rate) : amount;
    const lineTax = invoice.taxMode === "incl" ? amount - lineNet : divideHalfUp(lineNet * rate, 10_000);
    line.amount = major(lineNet);
    line.tax = major(lineTax);
    net += lineNet;
    tax += lineTax;
  }
  const paid = state.balanceModifiers
    .filter((m) => m.subjectReference === `invoice:${invoice.id}` && !m.isVoided)
    .reduce((sum, m) => sum - cents(Number(m.amount)), 0);
  invoice.amount = major(net);
  invoice.tax = major(tax);
  invoice.grossAmount = major(net + tax);
  invoice.balance = major(net + tax - paid);
  invoice.isPaid = invoice.state === "approved" && net + tax - paid <= 0;
}

function approveInvoice(state: BillyState, invoice: Json): void {
  invoice.state = "approved";
  invoice.approvedTime = "2026-01-01T00:00:00";
  invoice.invoiceNo = String(state.nextInvoiceNo++);
  recompute(state, invoice);
}

export function sendEmail(state: BillyState, id: string, input: Json): Response {
  const invoice = byId(state.invoices, id);
  if (!invoice) return billyError(404, "RECORD_NOT_FOUND", `No invoice ${id}.`);
  const problems = validateRecord("email", input, "email");
  const person = byId(state.contactPersons, input.contactPersonId);
  if (input.contactPersonId !== undefined && (!person || person.contactId !== invoice.contactId))
    problems.push({ property: "email.contactPersonId", message: "is not a contact person of the invoice's contact" });
  if (problems.length > 0) return validationError(problems);
  if (invoice.state !== "approved")
    return billyError(422, "INVOICE_NOT_APPROVED", `Invoice ${id} is a draft; only approved invoices can be sent.`);
  const email = { id: nextId(state, "mail"), invoiceId: id, ...input };
  state.emails.push(email);
  invoice.sentState = "sent";
  return json(200, { invoices: [invoice] });
}

/**
 * `POST /bankPayments`. The payment's currency (`subjectCurrencyId`) is that of the invoices it is
 * associated with, which must all share one. `cashAmount` (and `feeAmount`) are in the cash
 * account's currency; when that is not the subject currency, `cashExchangeRate` (1 subject unit =
 * that many account units) must be given, and the invoices are settled with cash ÷ rate. With equal
 * currencies the rate is ignored and stored as 1, as Billy documents.
 */
export function createBankPayment(state: BillyState, input: Json): Response {
  const problems = validateRecord("bankPayment", input, "bankPayment");
  const cashCurrency = input.cashAccountId === undefined ? undefined : state.cashAccounts.get(String(input.cashAccountId));
  if (input.cashAccountId !== undefined && cashCurrency === undefined)
    problems.push({ property: "bankPayment.cashAccountId", message: "is not an account enabled for payments" });
  if (typeof input.cashAmount === "number" && input.cashAmount <= 0)
    problems.push({ property: "bankPayment.cashAmount", message: "must be positive" });
  const associations = Array.isArray(input.associations) ? input.associations.filter(isRecord) : [];
  const subjects = associations.map((a, i) => {
    const [kind, id] = String(a.subjectReference ?? "").split(":");
    const invoice = kind === "invoice" ? byId(state.invoices, id) : undefined;
    if (invoice?.state !== "approved")
      problems.push({
        property: `bankPayment.associations[${i}].subjectReference`,
        message: "must reference an approved invoice",
      });
    return invoice;
  });
  // Money in settles an invoice (debit side of the cash account), money paid back a credit note (credit).
  for (const [i, subject] of subjects.entries()) {
    const side = subject?.type === "creditNote" ? "credit" : "debit";
    if (subject && input.cashSide !== undefined && input.cashSide !== side)
      problems.push({
        property: `bankPayment.associations[${i}].subjectReference`,
        message: `is a${subject.type === "creditNote" ? " credit note" : "n invoice"}, settled by a payment on the ${side} side`,
      });
  }
  const currencies = new Set(subjects.flatMap((s) => (s ? [String(s.currencyId)] : [])));
  if (currencies.size > 1) problems.push({ property: "bankPayment.associations", message: "must all be in the same currency" });
  const subjectCurrency = [...currencies][0];
  if (input.subjectCurrencyId !== undefined && subjectCurrency !== undefined && input.subjectCurrencyId !== subjectCurrency)
    problems.push({ property: "bankPayment.subjectCurrencyId", message: `must be ${subjectCurrency}, the invoices' currency` });
  const crossCurrency = cashCurrency !== undefined && subjectCurrency !== undefined && cashCurrency !== subjectCurrency;
  if (crossCurrency && input.cashExchangeRate === undefined)
    problems.push({
      property: "bankPayment.cashExchangeRate",
      message: `is required: the cash account is in ${cashCurrency} and the invoice in ${subjectCurrency}`,
    });
  if (typeof input.cashExchangeRate === "number" && input.cashExchangeRate <= 0)
    problems.push({ property: "bankPayment.cashExchangeRate", message: "must be positive" });
  if (problems.length > 0) return validationError(problems);
  const rate = crossCurrency ? Number(input.cashExchangeRate) : 1;
  const { associations: _a, ...fields } = input;
  const payment: Json = {
    id: nextId(state, "bp"),
    organizationId: state.organizationId,
    isVoided: false,
    ...fields,
    ...(subjectCurrency === undefined ? {} : { subjectCurrencyId: subjectCurrency }),
    cashExchangeRate: rate,
  };
  // What the payment settles, in the invoices' currency.
  let left = Math.round((cents(Number(input.cashAmount)) + cents(Number(input.feeAmount ?? 0))) / rate);
  const modifiers: Json[] = [];
  payment.associations = associations.map((a, i) => {
    const invoice = subjects[i] as Json;
    const amount = Math.min(left, cents(Number(invoice.balance)));
    left -= amount;
    const modifier = {
      id: nextId(state, "bm"),
      modifierReference: `bankPayment:${payment.id}`,
      subjectReference: a.subjectReference,
      amount: -major(amount),
      isVoided: false,
    };
    modifiers.push(modifier);
    return { id: modifier.id, subjectReference: a.subjectReference, amount: -major(amount) };
  });
  state.bankPayments.push(payment);
  state.balanceModifiers.push(...modifiers);
  for (const invoice of subjects) recompute(state, invoice as Json);
  return json(200, { bankPayments: [payment], balanceModifiers: modifiers, invoices: subjects });
}

/** An invoice as `GET /invoices/:id` answers it, with the embeds asked for. */
export function invoiceView(state: BillyState, invoice: Json, embeds: ReadonlySet<string>): Json {
  return {
    ...invoice,
    ...(embeds.has("lines") ? { lines: state.invoiceLines.filter((l) => l.invoiceId === invoice.id) } : {}),
    ...(embeds.has("balanceModifiers")
      ? { balanceModifiers: state.balanceModifiers.filter((m) => m.subjectReference === `invoice:${invoice.id}`) }
      : {}),
  };
}
