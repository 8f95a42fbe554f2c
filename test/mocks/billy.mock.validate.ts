/**
 * Request validation of the Billy mock: each record type's known properties with their types and
 * required ones, per Billy's v2 resource docs and public answers (contact, contactPerson, product,
 * productPrice, invoice, invoiceLine, bankPayment, association, email). A property Billy does not
 * know is refused, so a typo in the connector fails a test instead of being silently dropped.
 *
 * Billy's error body has `errorCode`, `errorMessage` and `meta.statusCode` (seen in public clients);
 * the `validationErrors` list here is the mock's own rendering of field problems (unconfirmed shape).
 */

export type Json = Record<string, unknown>;

export interface Problem {
  /** "invoice.lines[0].productId" */
  property: string;
  message: string;
}

type Kind =
  | "string"
  | "nonEmpty"
  | "id"
  | "date"
  | "number"
  | "money"
  | "int"
  | "boolean"
  | "country"
  | "currency"
  | "email"
  | { enum: readonly string[] }
  | { array: RecordType; min?: number };

interface Field {
  kind: Kind;
  required?: boolean;
}

export type RecordType =
  | "contact"
  | "contactPerson"
  | "product"
  | "productPrice"
  | "invoice"
  | "invoiceLine"
  | "bankPayment"
  | "association"
  | "email";

const f = (kind: Kind, required = false): Field => ({ kind, required });

const SCHEMAS: Record<RecordType, Record<string, Field>> = {
  contact: {
    organizationId: f("id"),
    type: f({ enum: ["company", "person"] }, true),
    name: f("nonEmpty", true),
    countryId: f("country", true),
    street: f("string"),
    zipcodeText: f("string"),
    cityText: f("string"),
    stateText: f("string"),
    phone: f("string"),
    fax: f("string"),
    registrationNo: f("string"),
    ean: f("string"),
    contactNo: f("string"),
    currencyId: f("currency"),
    localeId: f("string"),
    isCustomer: f("boolean"),
    isSupplier: f("boolean"),
    paymentTermsMode: f({ enum: ["net", "netEndOfMonth", "cash", "onReceipt"] }),
    paymentTermsDays: f("int"),
    contactPersons: f({ array: "contactPerson" }),
  },
  contactPerson: {
    contactId: f("id"),
    isPrimary: f("boolean"),
    name: f("nonEmpty", true),
    email: f("email"),
  },
  product: {
    organizationId: f("id"),
    name: f("nonEmpty", true),
    description: f("string"),
    productNo: f("string"),
    suppliersProductNo: f("string"),
    accountId: f("id"),
    salesTaxRulesetId: f("id"),
    isArchived: f("boolean"),
    prices: f({ array: "productPrice" }),
  },
  productPrice: { unitPrice: f("number", true), currencyId: f("currency", true) },
  invoice: {
    organizationId: f("id"),
    type: f({ enum: ["invoice", "creditNote"] }),
    contactId: f("id", true),
    attContactPersonId: f("id"),
    entryDate: f("date", true),
    paymentTermsMode: f({ enum: ["net", "netEndOfMonth", "cash", "onReceipt"] }),
    paymentTermsDays: f("int"),
    dueDate: f("date"),
    state: f({ enum: ["draft", "approved"] }),
    externalId: f("string"),
    invoiceNo: f("string"),
    taxMode: f({ enum: ["incl", "excl"] }),
    currencyId: f("currency", true),
    exchangeRate: f("number"),
    creditedInvoiceId: f("id"),
    contactMessage: f("string"),
    lineDescription: f("string"),
    lines: f({ array: "invoiceLine", min: 1 }, true),
  },
  invoiceLine: {
    productId: f("id", true),
    description: f("string"),
    quantity: f("number", true),
    unitPrice: f("number", true),
    taxRateId: f("id"),
    discountText: f("string"),
    discountMode: f({ enum: ["cash", "percent"] }),
    discountValue: f("number"),
    priority: f("int"),
  },
  bankPayment: {
    organizationId: f("id"),
    contactId: f("id"),
    entryDate: f("date", true),
    cashAmount: f("money", true),
    cashSide: f({ enum: ["debit", "credit"] }, true),
    cashAccountId: f("id", true),
    cashExchangeRate: f("number"),
    subjectCurrencyId: f("currency"),
    feeAmount: f("money"),
    feeAccountId: f("id"),
    associations: f({ array: "association", min: 1 }, true),
  },
  association: { subjectReference: f("nonEmpty", true) },
  email: {
    contactPersonId: f("id", true),
    emailSubject: f("nonEmpty", true),
    emailBody: f("nonEmpty", true),
    copyToUserId: f("id"),
  },
};

/** Checks one record; with `partial` (a PUT) nothing is required, since PUT updates only what it names. */
export function validateRecord(type: RecordType, value: unknown, path: string, partial = false): Problem[] {
  if (!isRecord(value)) return [{ property: path, message: `must be a ${type} object` }];
  const schema = SCHEMAS[type];
  const problems: Problem[] = [];
  for (const key of Object.keys(value))
    if (!(key in schema)) problems.push({ property: `${path}.${key}`, message: `is not a property of ${type}` });
  for (const [key, field] of Object.entries(schema)) {
    const v = value[key];
    const at = `${path}.${key}`;
    if (v === undefined || v === null) {
      if (field.required && !partial) problems.push({ property: at, message: "is required" });
      continue;
    }
    const kind = field.kind;
    if (typeof kind === "object" && "array" in kind) {
      if (!Array.isArray(v)) problems.push({ property: at, message: "must be an array" });
      else {
        if (v.length < (kind.min ?? 0)) problems.push({ property: at, message: `needs at least ${kind.min} item(s)` });
        v.forEach((item, i) => {
          problems.push(...validateRecord(kind.array, item, `${at}[${i}]`));
        });
      }
      continue;
    }
    const wrong = typeProblem(kind, v);
    if (wrong) problems.push({ property: at, message: wrong });
  }
  return problems;
}

function typeProblem(kind: Exclude<Kind, { array: RecordType }>, v: unknown): string | undefined {
  if (typeof kind === "object")
    return typeof v === "string" && kind.enum.includes(v) ? undefined : `must be one of ${kind.enum.join(", ")}`;
  switch (kind) {
    case "string":
      return typeof v === "string" ? undefined : "must be a string";
    case "nonEmpty":
    case "id":
      return typeof v === "string" && v.trim() !== "" ? undefined : "must be a non-empty string";
    case "date":
      return typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v))
        ? undefined
        : "must be a date YYYY-MM-DD";
    case "number":
      return typeof v === "number" && Number.isFinite(v) ? undefined : "must be a number";
    case "money":
      if (typeof v !== "number" || !Number.isFinite(v)) return "must be a number";
      return Number(v.toFixed(2)) === v ? undefined : "has more than two decimals";
    case "int":
      return Number.isInteger(v) ? undefined : "must be an integer";
    case "boolean":
      return typeof v === "boolean" ? undefined : "must be true or false";
    case "country":
      return typeof v === "string" && /^[A-Z]{2}$/.test(v) ? undefined : "must be an ISO 3166-1 alpha-2 country id";
    case "currency":
      return typeof v === "string" && /^[A-Z]{3}$/.test(v) ? undefined : "must be an ISO 4217 currency id";
    case "email":
      return typeof v === "string" && /^[^@\s]+@[^@\s]+$/.test(v) ? undefined : "must be an e-mail address";
  }
}

/** Billy's error answer. */
export function billyError(status: number, errorCode: string, errorMessage: string, problems?: Problem[]): Response {
  return json(status, {
    errorCode,
    errorMessage,
    ...(problems && problems.length > 0 ? { validationErrors: problems } : {}),
    meta: { statusCode: status, success: false },
  });
}

export function validationError(problems: Problem[]): Response {
  const sentence = problems.map((p) => `${p.property} ${p.message}`).join("; ");
  return billyError(422, "VALIDATION_ERROR", `Validation failed: ${sentence}.`, problems);
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Integer division rounded half away from zero (the mock's VAT rounding, per line). */
export function divideHalfUp(n: number, d: number): number {
  const q = Math.trunc(n / d);
  const r = n - q * d;
  return Math.abs(r) * 2 >= d ? q + Math.sign(n) : q;
}

export const cents = (major: number): number => Math.round(major * 100);
export const major = (minor: number): number => minor / 100;
