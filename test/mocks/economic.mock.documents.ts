/**
 * Mock routes for sales documents: draft invoices (POST, PUT, DELETE), booking and booked invoices
 * with their PDF, and draft and sent orders with their upgrade instructions to a draft invoice
 * (answered wrapped, `{ "draftInvoice": {...} }`, as clients of the real API read it). Totals are
 * computed as e-conomic does it: net from the lines, VAT from each product's group and the
 * recipient's VAT zone; a booked invoice's remainder starts at its gross amount, or at 0 when its
 * payment terms are of a type that settles on booking (SETTLED_ON_BOOKING: paidInCash ...).
 */
import { validationBody } from "./economic.mock.error-body";
import { error, json, list, nextNumber, SELF } from "./economic.mock.http";
import { type MockRequest, type MockState, SETTLED_ON_BOOKING } from "./economic.mock.state";
import { type Json, validate } from "./economic.mock.validate";

/** Fields e-conomic computes or owns; a PUT or upgrade template does not carry them over. */
const COMPUTED = ["netAmount", "vatAmount", "grossAmount", "self", "templates", "draftInvoiceNumber", "orderNumber"];

export function documentRoute(req: MockRequest, state: MockState): Response | undefined {
  const [collection, sub, id, ...rest] = req.segments;
  if (collection === "invoices" && sub === "drafts") return drafts(req, state, id);
  if (collection === "invoices" && sub === "booked") return booked(req, state, id, rest);
  if (collection === "orders" && sub === "drafts") return orders(req, state, id, rest);
  if (collection === "orders" && sub === "sent") return sentOrders(req, state, id, rest);
  return undefined;
}

/** The upgrade instructions: the order as a draft invoice to POST, wrapped in `draftInvoice`. */
function upgradeTemplate(order: Json): Response {
  return json(200, { draftInvoice: Object.fromEntries(Object.entries(order).filter(([k]) => !COMPUTED.includes(k))) });
}

/**
 * Sent orders: `POST /orders/sent` with a draft order's document registers it as sent (it leaves the
 * drafts, keeping its number); they are listed, read, upgraded and deleted like draft orders. That
 * the upgrade archives a sent order is not mocked.
 */
function sentOrders(req: MockRequest, state: MockState, id: string | undefined, rest: string[]): Response {
  if (id === undefined) {
    if (req.method === "GET") return list("sentOrders", state.sentOrders, req.url);
    if (req.method !== "POST") return notAllowed(req);
    const number = (req.body as Json | undefined)?.orderNumber;
    const index = state.orders.findIndex((o) => o.orderNumber === number);
    if (index < 0) return error(404, "NOT_FOUND", `No draft order ${String(number)} to register as sent.`);
    const [order] = state.orders.splice(index, 1) as [Json];
    const self = `${SELF}/orders/sent/${String(number)}`;
    const upgradeInstructions = `${self}/templates/upgrade-instructions/draftInvoice`;
    // The document posted is what is registered (a person may edit it on the way).
    const sent = {
      ...order,
      ...withoutComputed(req.body as Json),
      orderNumber: number,
      self,
      templates: { upgradeInstructions },
    };
    state.sentOrders.push(sent);
    return json(201, sent);
  }
  const index = state.sentOrders.findIndex((o) => String(o.orderNumber) === id);
  if (index < 0) return error(404, "NOT_FOUND", `No sent order ${id}.`);
  const order = state.sentOrders[index] as Json;
  if (rest.join("/") === "templates/upgrade-instructions/draftInvoice" && req.method === "GET") return upgradeTemplate(order);
  if (rest.length > 0) return error(404, "NOT_FOUND", `No resource at ${req.path}.`);
  if (req.method === "GET") return json(200, order);
  if (req.method === "DELETE") {
    state.sentOrders.splice(index, 1);
    return new Response(null, { status: 204 });
  }
  return notAllowed(req);
}

function drafts(req: MockRequest, state: MockState, id: string | undefined): Response {
  if (id === undefined) {
    if (req.method === "GET") return list("drafts", state.drafts, req.url);
    if (req.method !== "POST") return notAllowed(req);
    return write(req, state, "drafts", () => {
      const n = state.counters.draft++;
      return draftDocument(n, req.body as Json, state);
    });
  }
  const index = state.drafts.findIndex((d) => String(d.draftInvoiceNumber) === id);
  if (index < 0) return error(404, "NOT_FOUND", `No draft invoice ${id}.`);
  const n = Number(id);
  if (req.method === "GET") return json(200, state.drafts[index]);
  if (req.method === "PUT") return write(req, state, "drafts", () => draftDocument(n, req.body as Json, state), index);
  if (req.method === "DELETE") {
    state.drafts.splice(index, 1);
    return json(200, {
      message: "Deleted invoice.",
      deletedCount: 1,
      deletedItems: [{ draftInvoiceNumber: n, self: `${SELF}/invoices/drafts/${n}` }],
    });
  }
  return notAllowed(req);
}

function booked(req: MockRequest, state: MockState, id: string | undefined, rest: string[]): Response {
  if (id === undefined) {
    if (req.method === "GET") return list("booked", state.booked, req.url);
    if (req.method !== "POST") return notAllowed(req);
    const problems = validate("booked", req.body, state);
    if (problems.length > 0) return json(400, validationBody(problems));
    const input = req.body as Json;
    const draftNumber = (input.draftInvoice as Json).draftInvoiceNumber;
    const draft = state.drafts.find((d) => d.draftInvoiceNumber === draftNumber) as Json;
    const number = (input.bookWithNumber as number | undefined) ?? nextNumber(state.booked, "bookedInvoiceNumber");
    const { draftInvoiceNumber: _n, templates: _t, self: _s, ...kept } = draft;
    const terms = state.paymentTerms.find(
      (t) => t.paymentTermsNumber === (kept.paymentTerms as Json | undefined)?.paymentTermsNumber,
    );
    const settles = SETTLED_ON_BOOKING.has(String(terms?.paymentTermsType));
    const invoice = {
      bookedInvoiceNumber: number,
      ...kept,
      remainder: settles ? 0 : kept.grossAmount,
      pdf: { download: `${SELF}/invoices/booked/${number}/pdf` },
      self: `${SELF}/invoices/booked/${number}`,
    };
    state.drafts.splice(state.drafts.indexOf(draft), 1);
    state.booked.push(invoice);
    return json(201, invoice);
  }
  const invoice = state.booked.find((b) => String(b.bookedInvoiceNumber) === id);
  if (!invoice) return error(404, "NOT_FOUND", `No booked invoice ${id}.`);
  if (req.method !== "GET") return notAllowed(req);
  if (rest.length === 0) return json(200, invoice);
  if (rest.join("/") !== "pdf") return error(404, "NOT_FOUND", `No resource at ${req.path}.`);
  const pdf = new TextEncoder().encode(`%PDF-1.4\n% e-conomic mock: invoice ${id}\n%%EOF\n`);
  return new Response(pdf, { status: 200, headers: { "content-type": "application/pdf" } });
}

function orders(req: MockRequest, state: MockState, id: string | undefined, rest: string[]): Response {
  if (id === undefined) {
    if (req.method === "GET") return list("orders", state.orders, req.url);
    if (req.method !== "POST") return notAllowed(req);
    return write(req, state, "orders", () => orderDocument(state.counters.order++, req.body as Json, state));
  }
  const index = state.orders.findIndex((o) => String(o.orderNumber) === id);
  if (index < 0) return error(404, "NOT_FOUND", `No draft order ${id}.`);
  const order = state.orders[index] as Json;
  if (rest.join("/") === "templates/upgrade-instructions/draftInvoice" && req.method === "GET") return upgradeTemplate(order);
  if (rest.length > 0) return error(404, "NOT_FOUND", `No resource at ${req.path}.`);
  if (req.method === "GET") return json(200, order);
  if (req.method === "PUT") return write(req, state, "orders", () => orderDocument(Number(id), req.body as Json, state), index);
  if (req.method === "DELETE") {
    state.orders.splice(index, 1);
    return new Response(null, { status: 204 });
  }
  return notAllowed(req);
}

/** Validates, then adds the new document or replaces the one at `index` (PUT: the whole document). */
function write(req: MockRequest, state: MockState, key: "drafts" | "orders", make: () => Json, index?: number): Response {
  const problems = validate(key, req.body, state);
  if (problems.length > 0) return json(400, validationBody(problems));
  const document = make();
  if (index === undefined) state[key].push(document);
  else state[key][index] = document;
  return json(index === undefined ? 201 : 200, document);
}

function draftDocument(n: number, input: Json, state: MockState): Json {
  const self = `${SELF}/invoices/drafts/${n}`;
  return {
    draftInvoiceNumber: n,
    ...withoutComputed(input),
    ...amounts(input, state),
    self,
    templates: { bookingInstructions: `${self}/templates/booking-instructions` },
  };
}

function orderDocument(n: number, input: Json, state: MockState): Json {
  const self = `${SELF}/orders/drafts/${n}`;
  return {
    orderNumber: n,
    ...withoutComputed(input),
    ...amounts(input, state),
    self,
    templates: { upgradeInstructions: `${self}/templates/upgrade-instructions/draftInvoice` },
  };
}

function withoutComputed(input: Json): Json {
  return Object.fromEntries(Object.entries(input).filter(([k]) => !COMPUTED.includes(k)));
}

/**
 * Net from the lines; VAT at each product group's rate where the group charges VAT in the
 * recipient's zone, rounded once per rate on the document's total (as docs/accounting.md models
 * e-conomic: `roundingBasis: "total"`). In whole cents, as e-conomic's decimal amounts are: a float
 * sum would round some half cents the wrong way.
 */
export function amounts(document: Json, state: MockState): { netAmount: number; vatAmount: number; grossAmount: number } {
  const zone = ((document.recipient as Json | undefined)?.vatZone as Json | undefined)?.vatZoneNumber;
  let net = 0;
  const netByRate = new Map<number, number>();
  for (const line of (document.lines as Json[] | undefined) ?? []) {
    const amount = Math.round(Number(line.quantity ?? 0) * Number(line.unitNetPrice ?? 0) * 100);
    const product = state.products.find((p) => p.productNumber === (line.product as Json | undefined)?.productNumber);
    const group = state.productGroups.find(
      (g) => g.productGroupNumber === (product?.productGroup as Json | undefined)?.productGroupNumber,
    );
    net += amount;
    if (group && (group.vatZones ?? [1]).includes(Number(zone)))
      netByRate.set(group.vatRateBp, (netByRate.get(group.vatRateBp) ?? 0) + amount);
  }
  // Half away from zero, so a credit note's negative VAT mirrors the invoice's.
  const vat = [...netByRate].reduce((sum, [rate, base]) => sum + Math.sign(base) * Math.round(Math.abs(base * rate) / 10_000), 0);
  return { netAmount: net / 100, vatAmount: vat / 100, grossAmount: (net + vat) / 100 };
}

function notAllowed(req: MockRequest): Response {
  return error(405, "METHOD_NOT_ALLOWED", `${req.method} is not allowed here.`);
}
