/**
 * The strict in-memory e-conomic mock (test/mocks/economic.mock.ts) served over HTTP on
 * 127.0.0.1, with the seeded fault injector in front of it, an optional rate limit that answers
 * 429 above it (T7), a list of markers whose documents are refused with a permanent 400 (T4), and
 * a log of every effect it applied, keyed by Orderly's reference.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createEconomicMock } from "../../test/mocks/economic.mock";
import { createFaultInjector } from "./faults.mjs";

export type EffectKind = "order" | "draft" | "book" | "payment" | "customer" | "update" | "delete";

export interface Effect {
  kind: EffectKind;
  /** Orderly's step reference (orderly-<transfer>-<step>), or the e-mail for a customer. */
  key: string;
  method: string;
  path: string;
  at: number;
  /** The caller never saw the answer (timeout after the effect). */
  hidden: boolean;
  /** Quantity of the document's TS-1 line, which tells order versions apart (T3). */
  quantity?: number;
}

export interface MockTargetOptions {
  seed: string | number;
  faults?: { error500?: number; timeout?: number; timeoutAfterEffect?: number; rateLimited?: number };
  /** How long a "timeout" holds the request: past Orderly's OUTBOUND_TIMEOUT_MS. */
  hangMs: number;
  retryAfterSeconds?: number;
  /** Requests per second the target accepts; above it, 429 with Retry-After (T7). */
  ratePerSecond?: number;
  products?: Array<Record<string, unknown>>;
}

const REFERENCE = /orderly-[0-9a-f]{32}-\d+/g;
const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;

export async function startMockTarget(options: MockTargetOptions) {
  const mock = createEconomicMock({ products: options.products ?? [] });
  const faults = createFaultInjector(options.seed, options.faults);
  const effects: Effect[] = [];
  const arrivals: number[] = [];
  const accepted: number[] = [];
  const rejectMarkers = new Set<string>();
  const stats = { requests: 0, writes: 0, rejected400: 0, limited429: 0, inFlight: 0, maxInFlight: 0 };
  const hangs = new Set<NodeJS.Timeout>();

  /** The reference a document at a numbered path carries, so a fault key does not depend on numbering. */
  function documentRef(path: string): string {
    const [, collection, sub, id] = path.split("/");
    const list =
      collection === "invoices" && sub === "drafts"
        ? mock.state.drafts
        : collection === "invoices" && sub === "booked"
          ? mock.state.booked
          : collection === "orders" && sub === "drafts"
            ? mock.state.orders
            : undefined;
    const key = sub === "booked" ? "bookedInvoiceNumber" : collection === "orders" ? "orderNumber" : "draftInvoiceNumber";
    const doc = id && list?.find((d) => String(d[key]) === id);
    return doc ? String((doc.references as { other?: string } | undefined)?.other ?? "") : "";
  }

  function identity(method: string, path: string, query: string, body: string): string {
    const refs = [...`${query} ${body}`.matchAll(REFERENCE)].map((m) => m[0]);
    const emails = [...`${decodeURIComponent(query)} ${body}`.matchAll(EMAIL)].map((m) => m[0]);
    return `${method} ${path.replace(/\d+/g, "#")} ${documentRef(path)} ${[...new Set([...refs, ...emails])].join(",")}`;
  }

  /** What a write will do, read before the mock applies it (booking removes the draft). */
  function classify(method: string, path: string, body: unknown): { kind: EffectKind; key: string } | null {
    const json = (body ?? {}) as {
      references?: { other?: string };
      draftInvoice?: { draftInvoiceNumber?: number };
      email?: string;
    };
    const other = (): string => String(json.references?.other ?? "");
    if (method === "POST" && path === "/orders/drafts") return { kind: "order", key: other() };
    if (method === "POST" && path === "/invoices/drafts") return { kind: "draft", key: other() };
    if (method === "POST" && path === "/invoices/booked") {
      const n = json.draftInvoice?.draftInvoiceNumber;
      const draft = mock.state.drafts.find((d) => d.draftInvoiceNumber === n);
      return { kind: "book", key: String((draft?.references as { other?: string } | undefined)?.other ?? `draft-${n}`) };
    }
    if (method === "POST" && /^\/journals\/\d+\/vouchers$/.test(path))
      return { kind: "payment", key: JSON.stringify(json).match(REFERENCE)?.[0] ?? "" };
    if (method === "POST" && path === "/customers") return { kind: "customer", key: String(json.email ?? "") };
    if (method === "PUT") return { kind: "update", key: other() || documentRef(path) };
    if (method === "DELETE") return { kind: "delete", key: documentRef(path) };
    return null;
  }

  function limited(now: number): boolean {
    if (!options.ratePerSecond) return false;
    while (accepted.length > 0 && accepted[0]! <= now - 1000) accepted.shift();
    if (accepted.length >= options.ratePerSecond) return true;
    accepted.push(now);
    return false;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const now = Date.now();
    stats.requests++;
    arrivals.push(now);
    const isWrite = method !== "GET";
    if (isWrite) stats.writes++;

    const send = (status: number, headers: Record<string, string>, body: string) => {
      if (res.destroyed) return;
      res.writeHead(status, headers);
      res.end(body);
    };
    const fail = (status: number, extra: Record<string, string> = {}) =>
      send(
        status,
        { "content-type": "application/json", ...extra },
        JSON.stringify({ message: `Injected fault ${status}.`, httpStatusCode: status }),
      );

    if (limited(now)) {
      stats.limited429++;
      return fail(429, { "retry-after": String(options.retryAfterSeconds ?? 1) });
    }
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (isWrite && [...rejectMarkers].some((m) => text.includes(m))) {
      stats.rejected400++;
      return send(
        400,
        { "content-type": "application/json" },
        JSON.stringify({
          message: "Validation failed.",
          errorCode: "E04300",
          httpStatusCode: 400,
          errors: { lines: { errors: [{ errorCode: "E04300", message: "A line's product is barred from sale." }] } },
        }),
      );
    }
    const fault = faults.decide(identity(method, path, url.search, text), isWrite);
    const hang = (then: () => void) => {
      const timer = setTimeout(() => {
        hangs.delete(timer);
        then();
      }, options.hangMs);
      hangs.add(timer);
    };
    if (fault === "500") return fail(500);
    if (fault === "429") return fail(429, { "retry-after": String(options.retryAfterSeconds ?? 1) });
    if (fault === "timeout") return hang(() => fail(504));

    const effect = isWrite ? classify(method, path, body) : null;
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
    const response = await mock.handle(
      new Request(url, { method, headers, ...(method === "GET" || method === "HEAD" ? {} : { body: text }) }),
    );
    const out = await response.text();
    if (effect && response.status < 300) {
      const lines = (body as { lines?: Array<{ product?: { productNumber?: string }; quantity?: number }> } | undefined)?.lines;
      const quantity = lines?.find((l) => l.product?.productNumber === "TS-1")?.quantity;
      effects.push({
        ...effect,
        method,
        path,
        at: now,
        hidden: fault === "timeout-after-effect",
        ...(quantity === undefined ? {} : { quantity }),
      });
    }
    const reply = () => send(response.status, Object.fromEntries(response.headers), out);
    if (fault === "timeout-after-effect") return hang(reply);
    reply();
  }

  const server = createServer((req, res) => {
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    res.on("close", () => stats.inFlight--);
    handle(req, res).catch((error) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ message: `mock error: ${String(error)}` }));
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    mock,
    effects,
    arrivals,
    stats,
    faults,
    /** Refuse (400) every write whose body contains one of these markers, until cleared. */
    reject(markers: string[]) {
      for (const m of markers) rejectMarkers.add(m);
    },
    clearRejects() {
      rejectMarkers.clear();
    },
    async close() {
      for (const timer of hangs) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type MockTarget = Awaited<ReturnType<typeof startMockTarget>>;
