/**
 * Mock routes for the agreement's master data and journals: customers, products, accounting years,
 * payment terms and `POST/GET /journals/{n}/vouchers` with customer payment entries. Voucher entries are checked
 * like e-conomic's schema asks: accounting year, a date inside it, amount, customer, contra account.
 */
import { validationBody } from "./economic.mock.error-body";
import { error, json, list, nextNumber, SELF } from "./economic.mock.http";
import type { MockRequest, MockState } from "./economic.mock.state";
import { check, isRecord, type Json, nulls, type Problem, type Rule, validate } from "./economic.mock.validate";

const PAYMENT_RULES: Rule[] = [
  { path: "customer.customerNumber", kind: "int", required: true },
  { path: "amount", kind: "price", required: true },
  { path: "date", kind: "date", required: true },
  { path: "contraAccount.accountNumber", kind: "int" },
  { path: "currency.code", kind: "currency" },
  // 250 is the mock's guess for the entry text.
  { path: "text", kind: "string", max: 250 },
  { path: "customerInvoice", kind: "int" },
];

export function ledgerRoute(req: MockRequest, state: MockState): Response | undefined {
  const [collection, id, sub] = req.segments;
  if (collection === "customers") {
    if (id !== undefined)
      return one(
        state.customers.find((c) => String(c.customerNumber) === id),
        `customer ${id}`,
      );
    if (req.method === "GET") return list("customers", state.customers, req.url);
    return create(req, state, "customers", () => {
      const input = req.body as Json;
      const customerNumber = (input.customerNumber as number | undefined) ?? nextNumber(state.customers, "customerNumber");
      return { ...input, customerNumber, self: `${SELF}/customers/${customerNumber}` };
    });
  }
  if (collection === "products") {
    if (id !== undefined)
      return one(
        state.products.find((p) => selfLinkId(String(p.productNumber)) === percentDecoded(id)),
        `product ${id}`,
      );
    if (req.method === "GET") return list("products", state.products, req.url);
    return create(req, state, "products", () => {
      const input = req.body as Json;
      return { ...input, barred: false, self: `${SELF}/products/${encodeURIComponent(selfLinkId(String(input.productNumber)))}` };
    });
  }
  if (collection === "payment-terms" && req.method === "GET") {
    if (id === undefined) return list("paymentTerms", state.paymentTerms, req.url);
    return one(
      state.paymentTerms.find((t) => String(t.paymentTermsNumber) === id),
      `payment terms ${id}`,
    );
  }
  if (collection === "accounting-years" && id === undefined && req.method === "GET")
    return list("accountingYears", state.accountingYears, req.url);
  if (collection === "journals" && id !== undefined && sub === "vouchers" && req.segments.length === 3) {
    const journalNumber = Number(id);
    if (!state.journals.some((j) => j.journalNumber === journalNumber)) return error(404, "NOT_FOUND", `No journal ${id}.`);
    const vouchers = state.vouchers.filter((v) => (v.journal as Json).journalNumber === journalNumber);
    if (req.method === "GET") {
      if (req.url.searchParams.has("filter")) return error(400, "E04300", "The mock knows no filterable properties on vouchers.");
      return list("vouchers", vouchers, req.url);
    }
    if (req.method !== "POST") return error(405, "METHOD_NOT_ALLOWED", `${req.method} is not allowed here.`);
    const problems = voucherProblems(req.body, state, journalNumber);
    if (problems.length > 0) return json(400, validationBody(problems));
    const input = req.body as Json;
    const voucherNumber = nextNumber(state.vouchers, "voucherNumber");
    const year = (input.accountingYear as Json).year as string;
    const payments = ((input.entries as Json).customerPayments as Json[] | undefined) ?? [];
    const voucher = {
      accountingYear: { year },
      journal: { journalNumber },
      voucherNumber,
      entries: {
        customerPayments: payments.map((p, i) => ({
          ...p,
          journalEntryNumber: state.vouchers.length + i + 1,
          type: "customerPayment",
        })),
      },
      self: `${SELF}/journals/${journalNumber}/vouchers/${year}-${voucherNumber}`,
    };
    state.vouchers.push(voucher);
    return json(201, [voucher]);
  }
  return undefined;
}

/**
 * e-conomic's "custom resource self-link encoding" (REST introduction): these characters of an id
 * are replaced in resource URLs, the rest is URL-encoded. A product is found only under that form:
 * `/products/TS_6_1` is "TS/1", while `/products/TS%2F1` or `/products/TS.1` find nothing.
 */
const SELF_LINK_ESCAPES: Record<string, string> = {
  "<": "_0_",
  ">": "_1_",
  "*": "_2_",
  "%": "_3_",
  ":": "_4_",
  "&": "_5_",
  "/": "_6_",
  "\\": "_7_",
  _: "_8_",
  " ": "_9_",
  "?": "_10_",
  ".": "_11_",
  "#": "_12_",
  "+": "_13_",
};

function selfLinkId(value: string): string {
  return [...value].map((c) => SELF_LINK_ESCAPES[c] ?? c).join("");
}

function percentDecoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function one(item: Json | undefined, what: string): Response {
  return item ? json(200, item) : error(404, "NOT_FOUND", `No ${what}.`);
}

function create(req: MockRequest, state: MockState, key: "customers" | "products", make: () => Json): Response {
  if (req.method !== "POST") return error(405, "METHOD_NOT_ALLOWED", `${req.method} is not allowed here.`);
  const problems = validate(key, req.body, state);
  if (problems.length > 0) return json(400, validationBody(problems));
  const item = make();
  state[key].push(item);
  return json(201, item);
}

function voucherProblems(body: unknown, state: MockState, journalNumber: number): Problem[] {
  if (!isRecord(body)) return [{ path: ["body"], errorCode: "E04300", message: "The request body must be a JSON object." }];
  const problems = nulls(body, []);
  check(body, { path: "accountingYear.year", kind: "nonEmpty", required: true }, [], problems);
  check(body, { path: "journal.journalNumber", kind: "int" }, [], problems);
  const journal = isRecord(body.journal) ? body.journal.journalNumber : undefined;
  if (journal !== undefined && journal !== journalNumber)
    problems.push({ path: ["journal"], errorCode: "E04300", message: "journal does not match the path.", value: journal });
  const year = state.accountingYears.find((y) => isRecord(body.accountingYear) && y.year === body.accountingYear.year);
  if (isRecord(body.accountingYear) && !year)
    problems.push({
      path: ["accountingYear"],
      errorCode: "E06000",
      message: "accountingYear does not exist.",
      value: body.accountingYear.year,
    });
  const payments = isRecord(body.entries) ? body.entries.customerPayments : undefined;
  if (!Array.isArray(payments) || payments.length === 0)
    return [...problems, { path: ["entries"], errorCode: "E04200", message: "entries must hold at least one entry." }];
  for (const [i, entry] of payments.entries()) {
    const at = ["entries", "customerPayments", i];
    if (!isRecord(entry)) {
      problems.push({ path: at, errorCode: "E04300", message: "An entry must be an object." });
      continue;
    }
    for (const rule of PAYMENT_RULES) check(entry, rule, at, problems);
    const customer = isRecord(entry.customer) ? entry.customer.customerNumber : undefined;
    if (Number.isInteger(customer) && !state.customers.some((c) => c.customerNumber === customer))
      problems.push({ path: [...at, "customer"], errorCode: "E06000", message: "customer does not exist.", value: customer });
    const date = entry.date;
    if (year && typeof date === "string" && (date < String(year.fromDate) || date > String(year.toDate)))
      problems.push({ path: [...at, "date"], errorCode: "E04300", message: "date is outside the accounting year.", value: date });
  }
  return problems;
}
