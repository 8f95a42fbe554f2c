/**
 * An in-memory Billy API v2 that checks requests as strictly as the documented one: the
 * X-Access-Token header (401 without it or with a wrong one), JSON bodies wrapping one record in its
 * singular name, required properties and their types, known ids (contact, product, tax rate, cash
 * account, contact person), list filters it knows (anything else is a 400), answers that list the
 * changed records under their plural names, draft → approved one way, payments that settle, and
 * DELETE of an invoice: no body, idempotent (200 for an id that is not there), the deleted ids in
 * `meta.deletedRecords`, drafts only. Cash accounts have a currency (`GET /accounts/:id`); a bank
 * payment into an account in another currency than the invoice's needs `cashExchangeRate`, as
 * Billy's bankPayments documentation requires. The company (`GET /organization`, or
 * `/organizations/:id`) answers with its `baseCurrencyId`.
 *
 * Lists page as Billy's "Paging" documents: `page` and `pageSize` (at most and by default 1,000),
 * and `meta.paging` with page, pageCount, pageSize, total and the first/previous/next/last URLs.
 * Billy documents list filters for invoices only, so a filter on contacts, contact persons or
 * products may be ignored: `ignoredFilters` makes the mock accept such a filter and list every
 * record, page by page. An invoice line's `taxRate` is documented as readonly, Billy taking it from
 * the product's sales tax ruleset: `taxRateFromProduct` makes the mock apply a product's rate
 * whatever the line asked for (otherwise it keeps the line's `taxRateId`, as public answers show).
 */
import { onTestFinished, vi } from "vitest";
import {
  type BillyState,
  createBankPayment,
  createContact,
  createInvoice,
  createProduct,
  deleteInvoice,
  invoiceView,
  sendEmail,
  updateInvoice,
} from "./billy.mock.records";
import { billyError, isRecord, type Json, json } from "./billy.mock.validate";

export interface BillyMockOptions {
  accessToken?: string;
  organizationId?: string;
  /** Tax rate id → basis points. */
  taxRates?: Record<string, number>;
  /** Payment-enabled accounts: an id (in `baseCurrency`), or an id with its own currency. */
  cashAccounts?: Array<string | { id: string; currencyId: string }>;
  /** The company's base currency (default DKK): the currency of accounts given without one. */
  baseCurrency?: string;
  /** Cash accounts (in the base currency) that `GET /accounts/:id` answers with `currencyId: null`. */
  accountsWithoutCurrency?: string[];
  contacts?: Json[];
  contactPersons?: Json[];
  products?: Json[];
  /** Filters accepted but not applied, as "resource.filter" ("contactPersons.email"). */
  ignoredFilters?: string[];
  /** Product id → the tax rate Billy puts on its lines (its sales tax ruleset's), whatever the line sent. */
  taxRateFromProduct?: Record<string, string>;
}

export interface FaultSpec {
  status: 429 | 500 | 502 | 503;
  retryAfter?: number;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** Tested against the path (without the query string). */
  path?: RegExp;
  method?: "GET" | "POST" | "PUT" | "DELETE";
  /** Apply the write, then answer with the fault: the caller cannot know it succeeded. */
  afterEffect?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
}

/** The tax rates a Danish OSS seller would have set up: standard, reduced and zero rates. */
export const BILLY_TAX_RATES: Record<string, number> = {
  "tr-dk-25": 2500,
  "tr-de-19": 1900,
  "tr-de-7": 700,
  "tr-eu-rc": 0,
  "tr-export": 0,
  "tr-none": 0,
};

/** List filters per resource (besides page, pageSize, include, organizationId). */
const FILTERS: Record<string, readonly string[]> = {
  invoices: ["externalId", "contactId", "creditedInvoiceId", "state", "invoiceNo", "currencyId", "isPaid"],
  contacts: ["contactNo", "registrationNo", "phone", "ean", "name", "zipcodeText", "isCustomer"],
  contactPersons: ["contactId", "email"],
  products: ["productNo"],
};
const SINGULAR: Record<string, string> = {
  invoices: "invoice",
  contacts: "contact",
  contactPersons: "contactPerson",
  products: "product",
  bankPayments: "bankPayment",
  accounts: "account",
};

export type BillyMock = ReturnType<typeof createBillyMock>;

export function createBillyMock(options: BillyMockOptions = {}) {
  const token = options.accessToken ?? "billy-token";
  const state: BillyState = {
    organizationId: options.organizationId ?? "org-1",
    taxRates: options.taxRates ?? BILLY_TAX_RATES,
    cashAccounts: new Map(
      (options.cashAccounts ?? ["acc-bank", "acc-stripe", "acc-mobilepay"]).map((a) =>
        typeof a === "string" ? [a, options.baseCurrency ?? "DKK"] : [a.id, a.currencyId],
      ),
    ),
    contacts: (options.contacts ?? []).map((c) => ({ isCustomer: true, ...c })),
    contactPersons: options.contactPersons ?? [],
    products: (options.products ?? []).map((p) => ({ isArchived: false, ...p })),
    productPrices: [],
    invoices: [],
    invoiceLines: [],
    bankPayments: [],
    balanceModifiers: [],
    emails: [],
    seq: 0,
    nextInvoiceNo: 1001,
    taxRateFromProduct: options.taxRateFromProduct ?? {},
  };
  const ignored = new Set(options.ignoredFilters ?? []);
  const requests: RecordedRequest[] = [];
  const faults: Array<FaultSpec & { remaining: number }> = [];

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
    requests.push({ method: request.method, path, query: Object.fromEntries(url.searchParams), body });
    const fault = faults.find(
      (f) => f.remaining > 0 && (!f.method || f.method === request.method) && (!f.path || f.path.test(path)),
    );
    if (fault) fault.remaining--;
    if (fault && !fault.afterEffect) return faultResponse(fault);
    const response = route();
    return fault && response.status < 400 ? faultResponse(fault) : response;

    function route(): Response {
      const given = request.headers.get("x-access-token");
      if (!given) return billyError(401, "AUTHENTICATION_REQUIRED", "You must be authenticated to access this resource.");
      if (given !== token) return billyError(401, "OAUTH_INVALID_ACCESS_TOKEN", "The access token is invalid or revoked.");
      const [, resource = "", id, sub] = path.split("/").map(decodeURIComponent);
      if (request.method === "DELETE") {
        // Billy's DELETE takes no body and deletes one record by id.
        if (text) return billyError(400, "INVALID_REQUEST", "A DELETE request must not have a body.");
        if (resource === "invoices" && id && !sub) return deleteInvoice(state, id);
        return billyError(405, "METHOD_NOT_ALLOWED", `DELETE ${path} is not supported by the mock.`);
      }
      if (request.method !== "GET") {
        if (!request.headers.get("content-type")?.startsWith("application/json"))
          return billyError(400, "INVALID_REQUEST", "The body must be JSON (Content-Type: application/json).");
        if (!parsed) return billyError(400, "INVALID_REQUEST", "The body is not valid JSON.");
      }
      if (request.method === "GET") return read(resource, id, url);
      const singular = sub === "emails" ? "email" : SINGULAR[resource];
      if (!singular) return billyError(404, "ROUTE_NOT_FOUND", `No resource ${path}.`);
      const record = isRecord(body) ? body[singular] : undefined;
      if (!isRecord(body) || !isRecord(record) || Object.keys(body).length !== 1)
        return billyError(400, "INVALID_REQUEST", `The body must be {"${singular}": {...}} with one record.`);
      if (request.method === "POST" && resource === "invoices" && id && sub === "emails") return sendEmail(state, id, record);
      if (request.method === "PUT" && resource === "invoices" && id && !sub) return updateInvoice(state, id, record);
      if (request.method !== "POST" || id)
        return billyError(405, "METHOD_NOT_ALLOWED", `${request.method} ${path} is not supported.`);
      if (resource === "contacts") return createContact(state, record);
      if (resource === "products") return createProduct(state, record);
      if (resource === "invoices") return createInvoice(state, record);
      if (resource === "bankPayments") return createBankPayment(state, record);
      return billyError(405, "METHOD_NOT_ALLOWED", `POST ${path} is not supported by the mock.`);
    }
  }

  function read(resource: string, id: string | undefined, url: URL): Response {
    const params = url.searchParams;
    // The token's company (`GET /organization`), or one by id for a user-bound token.
    if (resource === "organization" && id === undefined) return json(200, { organization: organization() });
    if (resource === "organizations" && id !== undefined)
      return id === state.organizationId
        ? json(200, { organization: organization() })
        : billyError(404, "RECORD_NOT_FOUND", `No organization ${id}.`);
    const records = collection(resource);
    if (!records) return billyError(404, "ROUTE_NOT_FOUND", `No resource /${resource}.`);
    const embeds = new Set<string>();
    for (const item of (params.get("include") ?? "").split(",").filter(Boolean)) {
      const match = /^invoice\.(lines|balanceModifiers):embed$/.exec(item);
      if (resource !== "invoices" || !match?.[1]) return billyError(400, "INVALID_REQUEST", `Unsupported include ${item}.`);
      embeds.add(match[1]);
    }
    const view = (r: Json) => (resource === "invoices" ? invoiceView(state, r, embeds) : r);
    if (id !== undefined) {
      const record = records.find((r) => r.id === id);
      if (!record) return billyError(404, "RECORD_NOT_FOUND", `No ${SINGULAR[resource]} ${id}.`);
      return json(200, { [SINGULAR[resource] as string]: view(record) });
    }
    const allowed = new Set([...(FILTERS[resource] ?? []), "page", "pageSize", "include", "organizationId"]);
    const unknown = [...params.keys()].filter((k) => !allowed.has(k));
    if (unknown.length > 0)
      return billyError(400, "INVALID_REQUEST", `Unknown filter(s) for ${resource}: ${unknown.join(", ")}.`);
    const filters = [...params].filter(
      ([k]) => !["page", "pageSize", "include", "organizationId"].includes(k) && !ignored.has(`${resource}.${k}`),
    );
    const matches = records.filter((r) => filters.every(([k, v]) => same(r[k], v)));
    const page = Number(params.get("page") ?? 1);
    const pageSize = Number(params.get("pageSize") ?? 1000);
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000)
      return billyError(400, "INVALID_REQUEST", "page must be 1 or more and pageSize between 1 and 1000.");
    const pageCount = Math.max(1, Math.ceil(matches.length / pageSize));
    const pageUrl = (n: number) => {
      const link = new URL(url);
      link.searchParams.delete("page");
      if (n > 1) link.searchParams.set("page", String(n));
      link.searchParams.set("pageSize", String(pageSize));
      return link.toString();
    };
    return json(200, {
      meta: {
        paging: {
          page,
          pageCount,
          pageSize,
          total: matches.length,
          firstUrl: pageUrl(1),
          ...(page > 1 ? { previousUrl: pageUrl(page - 1) } : {}),
          ...(page < pageCount ? { nextUrl: pageUrl(page + 1) } : {}),
          lastUrl: pageUrl(pageCount),
        },
      },
      [resource]: matches.slice((page - 1) * pageSize, page * pageSize).map(view),
    });
  }

  function organization(): Json {
    return { id: state.organizationId, name: "Webshop ApS", countryId: "DK", baseCurrencyId: options.baseCurrency ?? "DKK" };
  }

  function collection(resource: string): Json[] | undefined {
    const map: Record<string, Json[]> = {
      invoices: state.invoices,
      contacts: state.contacts,
      contactPersons: state.contactPersons,
      products: state.products,
      bankPayments: state.bankPayments,
      accounts: [...state.cashAccounts].map(([id, currencyId]) => ({
        id,
        name: `Account ${id}`,
        currencyId: options.accountsWithoutCurrency?.includes(id) ? null : currencyId,
        isPaymentEnabled: true,
        isBankAccount: true,
        isArchived: false,
      })),
    };
    return map[resource];
  }

  return {
    handle,
    state,
    requests,
    /** Makes the next matching request(s) fail with the given status. */
    failNext(spec: FaultSpec): void {
      faults.push({ ...spec, remaining: spec.times ?? 1 });
    },
    /** Non-GET requests, in order: what the connector wrote. */
    writes: (): RecordedRequest[] => requests.filter((r) => r.method !== "GET"),
    invoice: (id: string): Json | undefined => state.invoices.find((i) => i.id === id),
    linesOf: (id: string): Json[] => state.invoiceLines.filter((l) => l.invoiceId === id),
  };
}

function same(actual: unknown, wanted: string): boolean {
  if (typeof actual === "boolean" || typeof actual === "number") return String(actual) === wanted;
  return typeof actual === "string" && actual.toLowerCase() === wanted.toLowerCase();
}

function faultResponse(fault: FaultSpec): Response {
  const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { "retry-after": String(fault.retryAfter) };
  return json(
    fault.status,
    {
      errorCode: fault.status === 429 ? "RATE_LIMITED" : "INTERNAL_ERROR",
      errorMessage: `Injected fault ${fault.status}.`,
      meta: { statusCode: fault.status, success: false },
    },
    headers,
  );
}

/**
 * Routes every fetch to `baseUrl` into the mock and fails the test for any other URL. When fetch is
 * already a spy (another vendor's mock), the URLs this mock does not own go to that spy's
 * implementation, so mocks compose; install the Billy mock after the others.
 */
export function installBillyMock(mock: BillyMock, baseUrl = "https://billy.test") {
  const base = baseUrl.replace(/\/+$/, "");
  const basePath = new URL(base).pathname.replace(/\/+$/, "");
  const unexpected: string[] = [];
  const current = globalThis.fetch;
  const composed = vi.isMockFunction(current);
  const previous = composed ? current.getMockImplementation() : undefined;
  const owns = (url: string) => url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`);
  const spy = composed ? (current as typeof current & ReturnType<typeof vi.fn>) : vi.spyOn(globalThis, "fetch");
  spy.mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const target = input instanceof Request ? input.url : String(input);
    if (!owns(target)) {
      if (previous) return previous(input, init);
      unexpected.push(`${init?.method ?? (input instanceof Request ? input.method : "GET")} ${target}`);
      throw new Error(`test network is closed: unexpected request to ${target}`);
    }
    const request = new Request(input, init);
    const url = new URL(request.url);
    url.pathname = url.pathname.slice(basePath.length) || "/";
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text();
    return mock.handle(new Request(url, { method: request.method, headers: request.headers, body }));
  });
  const restore = () => {
    if (previous) spy.mockImplementation(previous);
    else if (composed) spy.mockReset();
    else spy.mockRestore();
  };
  try {
    onTestFinished(() => {
      restore();
      // The connector turns a thrown fetch into an error it may expect; the stray call itself must fail the test.
      if (unexpected.length > 0) throw new Error(`unexpected outbound requests: ${unexpected.join(", ")}`);
    });
  } catch {
    // Installed outside a test (beforeAll): the caller restores with vi.restoreAllMocks().
  }
  return { spy, unexpected, restore };
}
