/**
 * An in-memory e-conomic REST API (restapi.e-conomic.com) that checks requests as strictly as the
 * documented one: both token headers, JSON on writes, required fields and types per the POST
 * schemas, no nulls, `filter=<prop>$eq:<value>` only on documented filterable properties with the
 * `$` escapes, collections with pagination, and 400 bodies in e-conomic's annotated-error shape.
 * Error codes E06000/E04740/E04500/E04730 are the documented ones; the others are stand-ins.
 */
import { onTestFinished, vi } from "vitest";
import { type Json, validate, validationBody } from "./economic.mock.validate";

const SELF = "https://restapi.e-conomic.com";
const FILTERABLE: Record<string, ReadonlySet<string>> = {
  customers: words(
    "address balance barred city corporateIdentificationNumber country creditLimit currency customerNumber ean email lastUpdated name publicEntryNumber telephoneAndFaxNumber vatNumber website zip",
  ),
  drafts: words(
    "currency customer.customerNumber date delivery.address delivery.city delivery.country delivery.deliveryDate delivery.deliveryTerms delivery.zip deliveryLocation.deliveryLocationNumber draftInvoiceNumber exchangeRate notes.heading notes.textLine1 notes.textLine2 paymentTerms.paymentTermsNumber recipient.address recipient.city recipient.country recipient.ean recipient.name recipient.publicEntryNumber recipient.zip references.customerContact.customer.customerNumber references.other references.salesPerson.employeeNumber references.vendorReference.employeeNumber soap.currentInvoiceHandle.id",
  ),
  booked: words(
    "bookedInvoiceNumber currency customer.customerNumber date delivery.address delivery.city delivery.country delivery.deliveryDate delivery.deliveryTerms delivery.zip deliveryLocation.deliveryLocationNumber notes.heading notes.textLine1 notes.textLine2 paymentTerms.paymentTermsNumber recipient.address recipient.city recipient.country recipient.ean recipient.name recipient.publicEntryNumber recipient.vatZone.vatZoneNumber recipient.zip references.customerContact.customer.customerNumber references.other references.salesPerson.employeeNumber references.vendorReference.employeeNumber",
  ),
};

export interface EconomicMockOptions {
  appSecretToken?: string;
  agreementGrantToken?: string;
  /** Customers the agreement already has; each needs a customerNumber. */
  customers?: Json[];
}

export interface FaultSpec {
  status: 500 | 429 | 503;
  retryAfter?: number;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** Tested against the request path (without the query string). */
  path?: RegExp;
  method?: "GET" | "POST" | "PUT" | "DELETE";
  /** Apply the write, then answer with the fault: the caller cannot know it succeeded. */
  afterEffect?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** The decoded query string, e.g. `filter=email$eq:ane@example.dk`. */
  query: string;
  body: unknown;
}

export type EconomicMock = ReturnType<typeof createEconomicMock>;

export function createEconomicMock(options: EconomicMockOptions = {}) {
  const tokens = { app: options.appSecretToken ?? "app-ok", grant: options.agreementGrantToken ?? "grant-ok" };
  const state = {
    customers: (options.customers ?? []).map((c): Json => ({ ...c, self: `${SELF}/customers/${c.customerNumber}` })),
    drafts: [] as Json[],
    booked: [] as Json[],
    requests: [] as RecordedRequest[],
  };
  const faults: Array<FaultSpec & { remaining: number }> = [];
  let nextDraft = 1;
  const nextNumber = (items: Json[], key: string) => Math.max(0, ...items.map((i) => Number(i[key]))) + 1;

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const text = request.method === "GET" ? "" : await request.text();
    let body: unknown;
    let parsed = true;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
      parsed = false;
    }
    state.requests.push({ method: request.method, path, query: decodeURIComponent(url.search.slice(1)), body });

    const fault = takeFault(request.method, path);
    if (fault && !fault.afterEffect) return faultResponse(fault);
    const response = route();
    return fault && response.status < 400 ? faultResponse(fault) : response;

    function route(): Response {
      const app = request.headers.get("x-appsecrettoken");
      const grant = request.headers.get("x-agreementgranttoken");
      if (app !== tokens.app || grant !== tokens.grant)
        return error(401, "UNAUTHORIZED", app && grant ? "The tokens are not valid." : "A token header is missing.", {
          developerHint: "Send X-AppSecretToken and X-AgreementGrantToken.",
        });
      if (request.method !== "GET" && !request.headers.get("content-type")?.startsWith("application/json"))
        return error(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json.");
      if (!parsed) return error(400, "E04300", "The request body is not valid JSON.");

      const [, collection, sub, id] = path.split("/");
      const key = collection === "customers" ? "customers" : collection === "invoices" ? sub : undefined;
      const number = collection === "customers" ? sub : id;
      if (key !== "customers" && key !== "drafts" && key !== "booked") return error(404, "NOT_FOUND", `No resource at ${path}.`);
      const items = state[key];
      if (number !== undefined) {
        if (request.method !== "GET") return error(405, "METHOD_NOT_ALLOWED", `${request.method} is not allowed here.`);
        const idKey = { customers: "customerNumber", drafts: "draftInvoiceNumber", booked: "bookedInvoiceNumber" }[key];
        const item = items.find((i) => String(i[idKey]) === number);
        return item ? json(200, item) : error(404, "NOT_FOUND", `No ${key} numbered ${number}.`);
      }
      if (request.method === "GET") return list(key, items, url);
      if (request.method !== "POST") return error(405, "METHOD_NOT_ALLOWED", `${request.method} is not allowed here.`);
      const problems = validate(key, body, state);
      if (problems.length > 0) return json(400, validationBody(problems));
      const input = body as Json;
      if (key === "customers") {
        const customerNumber = (input.customerNumber as number | undefined) ?? nextNumber(state.customers, "customerNumber");
        const customer = { ...input, customerNumber, self: `${SELF}/customers/${customerNumber}` };
        state.customers.push(customer);
        return json(201, customer);
      }
      if (key === "drafts") {
        const draftInvoiceNumber = nextDraft++;
        const lines = (input.lines as Json[] | undefined) ?? [];
        const netAmount = round2(lines.reduce((s, l) => s + Number(l.quantity ?? 0) * Number(l.unitNetPrice ?? 0), 0));
        const self = `${SELF}/invoices/drafts/${draftInvoiceNumber}`;
        const draft = {
          draftInvoiceNumber,
          ...input,
          netAmount,
          self,
          templates: { bookingInstructions: `${self}/templates/booking-instructions` },
        };
        state.drafts.push(draft);
        return json(201, draft);
      }
      const draftNumber = (input.draftInvoice as Json).draftInvoiceNumber;
      const draft = state.drafts.find((d) => d.draftInvoiceNumber === draftNumber) as Json;
      const bookedInvoiceNumber = (input.bookWithNumber as number | undefined) ?? nextNumber(state.booked, "bookedInvoiceNumber");
      const { draftInvoiceNumber: _n, templates: _t, self: _s, ...rest } = draft;
      const booked = { bookedInvoiceNumber, ...rest, self: `${SELF}/invoices/booked/${bookedInvoiceNumber}` };
      state.drafts.splice(state.drafts.indexOf(draft), 1);
      state.booked.push(booked);
      return json(201, booked);
    }
  }

  function list(key: string, items: Json[], url: URL): Response {
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
    const self = `${SELF}${url.pathname}${url.search}`;
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
      self,
    });
  }

  function takeFault(method: string, path: string): FaultSpec | undefined {
    const fault = faults.find((f) => f.remaining > 0 && (!f.method || f.method === method) && (!f.path || f.path.test(path)));
    if (fault) fault.remaining--;
    return fault;
  }

  return {
    handle,
    state,
    /** Makes the next matching request(s) fail with the given status. */
    failNext(spec: FaultSpec): void {
      faults.push({ ...spec, remaining: spec.times ?? 1 });
    },
    /** Invoices in the ledger, drafts and booked: a duplicate shows up here. */
    createdInvoiceCount: (): number => state.drafts.length + state.booked.length,
  };
}

/**
 * Routes every fetch to `baseUrl` into the mock (tests run in workerd, where the queue consumer,
 * Durable Objects and SELF share this isolate) and fails the test for any other URL.
 */
export function installEconomicMock(mock: EconomicMock, baseUrl = "https://economic.test") {
  const base = baseUrl.replace(/\/+$/, "");
  const basePath = new URL(base).pathname.replace(/\/+$/, "");
  const unexpected: string[] = [];
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input, init);
    if (request.url !== base && !request.url.startsWith(`${base}/`) && !request.url.startsWith(`${base}?`)) {
      unexpected.push(`${request.method} ${request.url}`);
      throw new Error(`test network is closed: unexpected ${request.method} ${request.url}`);
    }
    const url = new URL(request.url);
    url.pathname = url.pathname.slice(basePath.length) || "/";
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text();
    return mock.handle(new Request(url, { method: request.method, headers: request.headers, body }));
  });
  try {
    onTestFinished(() => {
      spy.mockRestore();
      // The connector turns a thrown fetch into an error it may expect; the stray call itself must fail the test.
      if (unexpected.length > 0) throw new Error(`unexpected outbound requests: ${unexpected.join(", ")}`);
    });
  } catch {
    // Installed outside a test (beforeAll): the caller restores with vi.restoreAllMocks().
  }
  return { spy, unexpected };
}

type Predicate = { property: string; value: string };

/** Parses `a$eq:x$and:b$eq:y` with e-conomic's `$` escapes; other operators and grouping are not mocked. */
function parseFilter(filter: string): Predicate[] | string {
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

function read(item: Json, path: string): unknown {
  return path.split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Json)[k] : undefined), item);
}

/** Strings compare case-insensitively, as e-conomic's filters do. */
function equals(actual: unknown, value: string): boolean {
  if (typeof actual === "number") return actual === Number(value);
  if (typeof actual === "boolean") return String(actual) === value;
  return typeof actual === "string" && actual.toLowerCase() === value.toLowerCase();
}

function faultResponse(fault: FaultSpec): Response {
  const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { "retry-after": String(fault.retryAfter) };
  return json(fault.status, { message: `Injected fault ${fault.status}.`, httpStatusCode: fault.status }, headers);
}

function error(status: number, errorCode: string, message: string, extra: Json = {}): Response {
  return json(status, { message, errorCode, developerHint: "", logId: crypto.randomUUID(), httpStatusCode: status, ...extra });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function words(list: string): ReadonlySet<string> {
  return new Set(list.split(" "));
}
