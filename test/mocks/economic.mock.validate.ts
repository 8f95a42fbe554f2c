/**
 * Request validation of the e-conomic mock: the required properties and types of the documented
 * POST/PUT schemas (customers, products, draft invoices and orders, booking), no nulls anywhere
 * (e-conomic wants them omitted), references to records that must exist (customer, line products,
 * product group), and the annotated 400 body that mirrors the request (`lines[i]` carry `arrayIndex`).
 * Lengths not in the retrieved documentation (product name, payment entry text) are marked where used.
 */
import type { MockState } from "./economic.mock.state";

export type Json = Record<string, unknown>;

export interface Problem {
  path: Array<string | number>;
  errorCode: string;
  message: string;
  value?: unknown;
}

type Kind = "string" | "nonEmpty" | "currency" | "int" | "number" | "price" | "date";
export type ValidatedKind = "customers" | "drafts" | "orders" | "booked" | "products";
export type Rule = { path: string; kind: Kind; required?: boolean; max?: number };

const CUSTOMER_RULES: Rule[] = [
  { path: "currency", kind: "currency", required: true },
  { path: "customerGroup.customerGroupNumber", kind: "int", required: true },
  { path: "name", kind: "nonEmpty", required: true, max: 255 },
  { path: "paymentTerms.paymentTermsNumber", kind: "int", required: true },
  { path: "vatZone.vatZoneNumber", kind: "int", required: true },
  { path: "customerNumber", kind: "int" },
  { path: "email", kind: "string", max: 255 },
  { path: "address", kind: "string", max: 510 },
  { path: "zip", kind: "string", max: 30 },
  { path: "city", kind: "string", max: 50 },
  { path: "country", kind: "string", max: 50 },
  { path: "telephoneAndFaxNumber", kind: "string", max: 255 },
  { path: "corporateIdentificationNumber", kind: "string", max: 40 },
  { path: "vatNumber", kind: "string", max: 50 },
  { path: "ean", kind: "string", max: 40 },
];

const PRODUCT_RULES: Rule[] = [
  { path: "productNumber", kind: "nonEmpty", required: true, max: 25 },
  // 300 is the mock's guess; the documented maximum was not retrieved.
  { path: "name", kind: "nonEmpty", required: true, max: 300 },
  { path: "productGroup.productGroupNumber", kind: "int", required: true },
  { path: "salesPrice", kind: "price" },
  { path: "costPrice", kind: "price" },
];

const DRAFT_RULES: Rule[] = [
  { path: "currency", kind: "currency", required: true },
  { path: "customer.customerNumber", kind: "int", required: true },
  { path: "date", kind: "date", required: true },
  { path: "layout.layoutNumber", kind: "int", required: true },
  { path: "paymentTerms.paymentTermsNumber", kind: "int", required: true },
  { path: "recipient.name", kind: "nonEmpty", required: true, max: 250 },
  { path: "recipient.vatZone.vatZoneNumber", kind: "int", required: true },
  { path: "recipient.address", kind: "string", max: 250 },
  { path: "recipient.zip", kind: "string", max: 50 },
  { path: "recipient.city", kind: "string", max: 250 },
  { path: "recipient.country", kind: "string", max: 50 },
  { path: "references.other", kind: "string", max: 250 },
  // 13 in the draft invoice and order schemas (a customer's own ean holds 40).
  { path: "recipient.ean", kind: "string", max: 13 },
  { path: "exchangeRate", kind: "number" },
  { path: "notes.heading", kind: "string", max: 250 },
  // Documented in the invoice schemas: heading 250, each free-text line 1000.
  { path: "notes.textLine1", kind: "string", max: 1000 },
  { path: "notes.textLine2", kind: "string", max: 1000 },
];

const LINE_RULES: Rule[] = [
  { path: "lineNumber", kind: "int" },
  { path: "product.productNumber", kind: "string", max: 25 },
  { path: "description", kind: "string", max: 2500 },
  { path: "quantity", kind: "number" },
  { path: "unitNetPrice", kind: "price" },
];

const BOOK_RULES: Rule[] = [
  { path: "draftInvoice.draftInvoiceNumber", kind: "int", required: true },
  { path: "bookWithNumber", kind: "int" },
];

export function validate(key: ValidatedKind, body: unknown, state: MockState): Problem[] {
  if (!isRecord(body)) return [{ path: ["body"], errorCode: "E04300", message: "The request body must be a JSON object." }];
  const problems = nulls(body, []);
  const rules = {
    customers: CUSTOMER_RULES,
    drafts: DRAFT_RULES,
    orders: DRAFT_RULES,
    booked: BOOK_RULES,
    products: PRODUCT_RULES,
  }[key];
  for (const rule of rules) check(body, rule, [], problems);

  if (key === "products") {
    const group = read(body, "productGroup.productGroupNumber");
    if (Number.isInteger(group) && !state.productGroups.some((g) => g.productGroupNumber === group))
      problems.push({ path: ["productGroup"], errorCode: "E06000", message: "productGroup does not exist.", value: group });
    if (state.products.some((p) => p.productNumber === body.productNumber))
      problems.push({
        path: ["productNumber"],
        errorCode: "E04300",
        message: "productNumber is already in use.",
        value: body.productNumber,
      });
  }

  if (
    key === "customers" &&
    typeof body.customerNumber === "number" &&
    state.customers.some((c) => c.customerNumber === body.customerNumber)
  )
    problems.push({
      path: ["customerNumber"],
      errorCode: "E04300",
      message: "customerNumber is already in use.",
      value: body.customerNumber,
    });

  if (key === "drafts" || key === "orders") {
    const number = read(body, "customer.customerNumber");
    if (Number.isInteger(number) && !state.customers.some((c) => c.customerNumber === number))
      problems.push({ path: ["customer"], errorCode: "E06000", message: "customer does not exist.", value: String(number) });
    if (body.lines !== undefined && !Array.isArray(body.lines))
      problems.push({ path: ["lines"], errorCode: "E04300", message: "lines must be an array." });
    if (Array.isArray(body.lines))
      body.lines.forEach((line, i) => {
        checkLine(line, i, problems, state);
      });
  }

  if (key === "booked") {
    const number = read(body, "draftInvoice.draftInvoiceNumber");
    if (Number.isInteger(number) && !state.drafts.some((d) => d.draftInvoiceNumber === number))
      problems.push({ path: ["draftInvoice"], errorCode: "E06000", message: "draftInvoice does not exist.", value: number });
    const wanted = body.bookWithNumber;
    if (typeof wanted === "number" && (wanted < 1 || state.booked.some((b) => b.bookedInvoiceNumber === wanted)))
      problems.push({
        path: ["bookWithNumber"],
        errorCode: "E04300",
        message: "bookWithNumber is already used or below 1.",
        value: wanted,
      });
  }
  return problems;
}

function checkLine(line: unknown, index: number, problems: Problem[], state: MockState): void {
  const at: Array<string | number> = ["lines", index];
  if (!isRecord(line)) {
    problems.push({ path: [...at, "line"], errorCode: "E04300", message: "A line must be an object." });
    return;
  }
  for (const rule of LINE_RULES) check(line, rule, at, problems);
  if (line.product === undefined) return;
  if (!isRecord(line.product) || (line.product.productNumber === undefined && line.product.self === undefined))
    problems.push({
      path: [...at, "product"],
      errorCode: "E04500",
      message: "No identifiers present on product. Please include either a self link or a productNumber.",
    });
  const productNumber = isRecord(line.product) ? line.product.productNumber : undefined;
  if (typeof productNumber === "string" && !state.products.some((p) => p.productNumber === productNumber))
    problems.push({ path: [...at, "product"], errorCode: "E06000", message: "product does not exist.", value: productNumber });
  if (line.quantity === undefined)
    problems.push({
      path: [...at, "quantity"],
      errorCode: "E04730",
      message: "Property quantity must have a value when product is set.",
    });
  if (line.description === undefined)
    problems.push({
      path: [...at, "description"],
      errorCode: "E04200",
      message: "description is required when a product is set.",
    });
}

export function check(body: Json, rule: Rule, at: Array<string | number>, problems: Problem[]): void {
  const value = read(body, rule.path);
  const path = [...at, ...rule.path.split(".")];
  if (value === null) return; // reported by nulls()
  if (value === undefined) {
    if (rule.required) problems.push({ path, errorCode: "E04200", message: `${rule.path} is required.` });
    return;
  }
  const found = typeProblem(rule, value);
  if (found) problems.push({ path, errorCode: found[1] ?? "E04300", message: found[0], value });
}

/** What is wrong with a present value, as [message, errorCode?]. */
function typeProblem(rule: Rule, value: unknown): [string, string?] | undefined {
  const p = rule.path;
  switch (rule.kind) {
    case "string":
    case "nonEmpty":
      if (typeof value !== "string") return [`${p} must be a string.`];
      if (rule.kind === "nonEmpty" && value.trim() === "") return [`${p} must not be empty.`];
      if (rule.max !== undefined && value.length > rule.max) return [`${p} is longer than ${rule.max} characters.`];
      return undefined;
    case "currency":
      return typeof value === "string" && /^[A-Z]{3}$/.test(value) ? undefined : [`${p} must be a three-letter ISO 4217 code.`];
    case "int":
      return Number.isInteger(value) ? undefined : [`${p} must be an integer.`];
    case "number":
    case "price":
      if (typeof value !== "number" || !Number.isFinite(value)) return [`${p} must be a number.`];
      if (rule.kind === "price" && Number(value.toFixed(2)) !== value)
        return [`${p} scale cannot be greater then two decimal places.`, "E04740"];
      return undefined;
    case "date":
      return typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))
        ? undefined
        : [`${p} must be a date formatted YYYY-MM-DD.`];
  }
}

export function nulls(value: unknown, path: Array<string | number>): Problem[] {
  if (value === null)
    return [{ path, errorCode: "E04300", message: "null is not accepted; leave the property out instead.", value: null }];
  if (Array.isArray(value)) return value.flatMap((v, i) => nulls(v, [...path, i]));
  if (isRecord(value)) return Object.entries(value).flatMap(([k, v]) => nulls(v, [...path, k]));
  return [];
}

function read(item: Json, path: string): unknown {
  return path.split(".").reduce<unknown>((v, k) => (isRecord(v) ? v[k] : undefined), item);
}

export function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
