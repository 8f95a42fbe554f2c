/**
 * Shared pieces of the e-conomic mock: JSON and error responses in e-conomic's shape, collections
 * with `skippages`/`pagesize` pagination, and `filter=` parsing that accepts `$eq:` and `$and:` on
 * the properties the documentation marks filterable, with the `$` escapes.
 */
import type { Json } from "./economic.mock.validate";

export const SELF = "https://restapi.e-conomic.com";

const DOCUMENT_FILTERS =
  "currency customer.customerNumber date delivery.address delivery.city delivery.country delivery.deliveryDate delivery.deliveryTerms delivery.zip deliveryLocation.deliveryLocationNumber exchangeRate notes.heading notes.textLine1 notes.textLine2 paymentTerms.paymentTermsNumber recipient.address recipient.city recipient.country recipient.ean recipient.name recipient.publicEntryNumber recipient.zip references.customerContact.customer.customerNumber references.other references.salesPerson.employeeNumber references.vendorReference.employeeNumber";

/** Filterable properties per collection, from the REST schemas (draft and sent orders document the invoice set and orderNumber). */
export const FILTERABLE: Record<string, ReadonlySet<string>> = {
  customers: words(
    "address balance barred city corporateIdentificationNumber country creditLimit currency customerNumber ean email lastUpdated name publicEntryNumber telephoneAndFaxNumber vatNumber website zip",
  ),
  drafts: words(`${DOCUMENT_FILTERS} draftInvoiceNumber soap.currentInvoiceHandle.id`),
  booked: words(`${DOCUMENT_FILTERS} bookedInvoiceNumber recipient.vatZone.vatZoneNumber`),
  orders: words(`${DOCUMENT_FILTERS} orderNumber`),
  sentOrders: words(`${DOCUMENT_FILTERS} orderNumber`),
  products: words("productNumber name barCode barred costPrice salesPrice lastUpdated productGroup.productGroupNumber"),
};

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

export function error(status: number, errorCode: string, message: string, extra: Json = {}): Response {
  return json(status, { message, errorCode, developerHint: "", logId: crypto.randomUUID(), httpStatusCode: status, ...extra });
}

/** A collection page, filtered when `filter=` is given; an undocumented filter property is a 400 as in e-conomic. */
export function list(key: string, items: Json[], url: URL): Response {
  const filter = url.searchParams.get("filter");
  let matches = items;
  if (filter !== null) {
    const predicates = parseFilter(filter);
    if (typeof predicates === "string") return error(400, "E04300", predicates, { developerHint: `filter: ${filter}` });
    const bad = predicates.find((p) => !FILTERABLE[key]?.has(p.property));
    if (bad) return error(400, "E04300", `Filtering on ${bad.property} is not allowed.`);
    matches = items.filter((item) => predicates.every((p) => equals(read(item, p.property), p.value)));
  }
  const skipPages = Number(url.searchParams.get("skippages") ?? 0);
  const pageSize = Number(url.searchParams.get("pagesize") ?? 20);
  if (!Number.isInteger(skipPages) || skipPages < 0 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)
    return error(400, "E04300", "skippages must be 0 or more and pagesize between 1 and 1000.");
  const lastPage = Math.max(0, Math.ceil(matches.length / pageSize) - 1);
  return json(200, {
    collection: matches.slice(skipPages * pageSize, (skipPages + 1) * pageSize),
    pagination: {
      skipPages,
      pageSize,
      maxPageSizeAllowed: 1000,
      results: matches.length,
      resultsWithoutFilter: items.length,
      firstPage: `${SELF}${url.pathname}?skippages=0&pagesize=${pageSize}`,
      ...(skipPages < lastPage ? { nextPage: `${SELF}${url.pathname}?skippages=${skipPages + 1}&pagesize=${pageSize}` } : {}),
      lastPage: `${SELF}${url.pathname}?skippages=${lastPage}&pagesize=${pageSize}`,
    },
    self: `${SELF}${url.pathname}${url.search}`,
  });
}

type Predicate = { property: string; value: string };

/** Parses `a$eq:x$and:b$eq:y` with e-conomic's `$` escapes; other operators and grouping are not mocked. */
export function parseFilter(filter: string): Predicate[] | string {
  const predicates: Predicate[] = [];
  let property = "";
  let value: string | undefined;
  for (let i = 0; i < filter.length; i++) {
    const c = filter.charAt(i);
    if (c === "$") {
      const next = filter.charAt(i + 1);
      if ("$()*,[]".includes(next) && next !== "") {
        if (value === undefined) return `Unexpected "$${next}" in a property name.`;
        value += next;
        i++;
        continue;
      }
      const colon = filter.indexOf(":", i);
      const operator = colon < 0 ? "" : filter.slice(i + 1, colon);
      if (operator === "eq" && value === undefined) value = "";
      else if (operator === "and" && value !== undefined) {
        predicates.push({ property, value });
        property = "";
        value = undefined;
      } else return `Could not parse query string filter (the mock supports $eq: and $and:, saw "$${operator}:").`;
      i = colon;
      continue;
    }
    if ("()*,[]".includes(c)) return `Unescaped "${c}" in filter; escape it as "$${c}".`;
    if (value === undefined) property += c;
    else value += c;
  }
  if (value === undefined || !property) return "Could not parse query string filter.";
  predicates.push({ property, value });
  return predicates;
}

export function read(item: Json, path: string): unknown {
  return path.split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Json)[k] : undefined), item);
}

/** Strings compare case-insensitively, as e-conomic's filters do. */
function equals(actual: unknown, value: string): boolean {
  if (typeof actual === "number") return actual === Number(value);
  if (typeof actual === "boolean") return String(actual) === value;
  return typeof actual === "string" && actual.toLowerCase() === value.toLowerCase();
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export function nextNumber(items: Json[], key: string): number {
  return Math.max(0, ...items.map((i) => Number(i[key]))) + 1;
}

function words(list: string): ReadonlySet<string> {
  return new Set(list.split(" "));
}
