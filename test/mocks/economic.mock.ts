/**
 * An in-memory e-conomic REST API (restapi.e-conomic.com) that checks requests as strictly as the
 * documented one: both token headers, JSON on writes, required fields and types per the POST/PUT
 * schemas, no nulls, records referred to must exist (customer, product, product group, accounting
 * year), `filter=<prop>$eq:<value>` only on documented filterable properties with the `$` escapes,
 * collections with pagination, and 400 bodies in e-conomic's annotated-error shape. Error codes
 * E06000/E04740/E04500/E04730 are the documented ones; the others are stand-ins.
 * Routes: customers, products, invoices (drafts, booked, PDF), orders (drafts, sent, upgrade), journals
 * (vouchers), accounting years, payment terms; see economic.mock.documents.ts and economic.mock.ledger.ts.
 */
import { onTestFinished, vi } from "vitest";
import { documentRoute } from "./economic.mock.documents";
import { error, json } from "./economic.mock.http";
import { ledgerRoute } from "./economic.mock.ledger";
import {
  calendarYears,
  DEFAULT_PAYMENT_TERMS,
  DEFAULT_PRODUCT_GROUPS,
  DEFAULT_PRODUCTS,
  type MockProductGroup,
  type MockState,
  type RecordedRequest,
} from "./economic.mock.state";
import type { Json } from "./economic.mock.validate";

export type { RecordedRequest } from "./economic.mock.state";

export interface EconomicMockOptions {
  appSecretToken?: string;
  agreementGrantToken?: string;
  /** Customers the agreement already has; each needs a customerNumber. */
  customers?: Json[];
  /** Products in addition to the defaults ("1", shipping, fee, giftcard, adjustment, rounding). */
  products?: Json[];
  productGroups?: MockProductGroup[];
  /** Journal numbers of the agreement (default [1]). */
  journals?: number[];
  /** Payment terms beside (or, by number, instead of) DEFAULT_PAYMENT_TERMS. */
  paymentTerms?: Json[];
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

export type EconomicMock = ReturnType<typeof createEconomicMock>;

export function createEconomicMock(options: EconomicMockOptions = {}) {
  const tokens = { app: options.appSecretToken ?? "app-ok", grant: options.agreementGrantToken ?? "grant-ok" };
  const state: MockState = {
    customers: (options.customers ?? []).map(
      (c): Json => ({ ...c, self: `https://restapi.e-conomic.com/customers/${c.customerNumber}` }),
    ),
    products: [...DEFAULT_PRODUCTS, ...(options.products ?? [])].map((p) => ({ barred: false, ...p })),
    productGroups: options.productGroups ?? DEFAULT_PRODUCT_GROUPS,
    drafts: [],
    booked: [],
    orders: [],
    sentOrders: [],
    journals: (options.journals ?? [1]).map((journalNumber) => ({ journalNumber, name: `Journal ${journalNumber}` })),
    vouchers: [],
    paymentTerms: [
      ...DEFAULT_PAYMENT_TERMS.filter((d) => !options.paymentTerms?.some((t) => t.paymentTermsNumber === d.paymentTermsNumber)),
      ...(options.paymentTerms ?? []),
    ].map((t) => ({ ...t, self: `https://restapi.e-conomic.com/payment-terms/${t.paymentTermsNumber}` })),
    accountingYears: calendarYears(2023, 2027),
    requests: [] as RecordedRequest[],
    counters: { draft: 1, order: 1 },
  };
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
      const req = { method: request.method, path, segments: path.split("/").slice(1), url, body };
      return documentRoute(req, state) ?? ledgerRoute(req, state) ?? error(404, "NOT_FOUND", `No resource at ${path}.`);
    }
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
    /** What a bookkeeper booking the journal does: its entries leave it and settle the invoices they name. */
    bookJournal(journalNumber: number): void {
      for (const voucher of state.vouchers.filter((v) => (v.journal as Json).journalNumber === journalNumber)) {
        for (const entry of ((voucher.entries as Json).customerPayments as Json[] | undefined) ?? []) {
          const invoice = state.booked.find((b) => b.bookedInvoiceNumber === entry.customerInvoice);
          if (invoice) invoice.remainder = Math.round((Number(invoice.remainder) + Number(entry.amount)) * 100) / 100;
        }
        state.vouchers.splice(state.vouchers.indexOf(voucher), 1);
      }
    },
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

function faultResponse(fault: FaultSpec): Response {
  const headers: Record<string, string> = fault.retryAfter === undefined ? {} : { "retry-after": String(fault.retryAfter) };
  return json(fault.status, { message: `Injected fault ${fault.status}.`, httpStatusCode: fault.status }, headers);
}
