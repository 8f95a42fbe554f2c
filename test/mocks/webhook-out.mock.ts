/**
 * A receiver of Orderly's outbound webhooks, as strict as a careful warehouse endpoint: POST only,
 * `Content-Type: application/json` exactly, an `Idempotency-Key` equal to the body's `reference`,
 * a timestamp within five minutes, an HMAC-SHA256 signature over `<timestamp>.<raw body>` checked
 * by its own implementation (crypto.subtle.verify, as docs/webhook-out.md tells a receiver), the
 * bearer token and static headers it was configured with (and no Authorization when none), and a
 * body of exactly the documented shape. A request that breaks a rule gets 400 and is listed in
 * `refused`, so a test fails on it. A key seen before is answered 409 with the first answer's id and
 * the key (`idempotencyKey`).
 * Scripted answers (`answer`) come first, for 4xx/5xx/429 cases.
 */
import { onTestFinished, vi } from "vitest";
import { orderSchema } from "../../src/domain/order";

export const WEBHOOK_URL = "https://wms.example.com/orderly/orders";
export const WEBHOOK_SECRET = "whsec_0123456789abcdef0123456789abcdef";
const TOLERANCE_SECONDS = 300;

export interface ReceiverOptions {
  url?: string;
  secret?: string;
  bearerToken?: string;
  /** Static headers the endpoint expects (lowercase names). */
  headers?: Record<string, string>;
  /** The endpoint's clock, to test replays. */
  now?: () => number;
}

export interface ScriptedAnswer {
  status: number;
  /** No answer at all: the fetch fails as on a dropped or refused connection. */
  networkError?: boolean;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface Received {
  key: string;
  timestamp: string;
  signature: string;
  event: string | null;
  headers: Record<string, string>;
  raw: string;
  body: Record<string, unknown>;
}

const PICK_LIST_KEYS = ["lines", "orderId", "orderNumber", "shipTo", "shippingMethod"];
const ADDRESS_KEYS = new Set(["name", "company", "line1", "line2", "postcode", "city", "region", "country", "phone", "email"]);

/** How a receiver verifies a request: the docs' recipe, written independently of Orderly's signer. */
export async function verifyOrderlySignature(
  secret: string,
  timestamp: string,
  raw: string,
  signature: string,
): Promise<boolean> {
  if (!/^[0-9a-f]{64}$/.test(signature)) return false;
  const bytes = new Uint8Array(signature.match(/../g)?.map((h) => Number.parseInt(h, 16)) ?? []);
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  return crypto.subtle.verify("HMAC", key, bytes, encoder.encode(`${timestamp}.${raw}`));
}

export type WebhookReceiver = ReturnType<typeof createWebhookReceiver>;

export function createWebhookReceiver(options: ReceiverOptions = {}) {
  const url = options.url ?? WEBHOOK_URL;
  const secret = options.secret ?? WEBHOOK_SECRET;
  const now = options.now ?? (() => Date.now());
  const received: Received[] = [];
  const refused: string[] = [];
  const script: ScriptedAnswer[] = [];
  const ids = new Map<string, string>();

  function refuse(reason: string): Response {
    refused.push(reason);
    return Response.json({ error: reason }, { status: 400 });
  }

  /** Why the request breaks the contract, or null. */
  async function problem(request: Request, raw: string): Promise<string | null> {
    const h = request.headers;
    if (request.method !== "POST") return `method ${request.method}`;
    if (request.url !== url) return `url ${request.url}`;
    if (h.get("content-type") !== "application/json") return `content-type ${h.get("content-type")}`;
    const key = h.get("idempotency-key");
    if (!key || key.length > 255) return "no Idempotency-Key";
    const timestamp = h.get("x-orderly-timestamp") ?? "";
    if (!/^\d{10}$/.test(timestamp)) return `timestamp ${timestamp}`;
    if (Math.abs(now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return "timestamp outside five minutes (a replay?)";
    if (!(await verifyOrderlySignature(secret, timestamp, raw, h.get("x-orderly-signature") ?? ""))) return "bad signature";
    const auth = h.get("authorization");
    if (options.bearerToken ? auth !== `Bearer ${options.bearerToken}` : auth !== null) return `authorization ${auth}`;
    for (const [name, value] of Object.entries(options.headers ?? {}))
      if (h.get(name) !== value) return `header ${name}: ${h.get(name)}`;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw);
    } catch {
      return "body is not JSON";
    }
    if (body.reference !== key) return `reference ${String(body.reference)} is not the Idempotency-Key ${key}`;
    const event = h.get("x-orderly-event");
    if ((body.event ?? null) !== event) return `event ${String(body.event)} differs from the header ${event}`;
    const envelope = ["reference", "type", ...(event === null ? [] : ["event"]), body.type === "pickList" ? "pickList" : "order"];
    if (Object.keys(body).sort().join() !== envelope.sort().join()) return `envelope keys ${Object.keys(body).join()}`;
    if (body.type === "order") {
      const order = orderSchema.safeParse(body.order);
      return order.success ? null : `order: ${order.error.message}`;
    }
    if (body.type === "pickList") return pickListProblem(body.pickList);
    return `type ${String(body.type)}`;
  }

  async function handle(request: Request): Promise<Response> {
    const raw = await request.text();
    const wrong = await problem(request, raw);
    if (wrong) return refuse(wrong);
    const h = request.headers;
    const key = h.get("idempotency-key") as string;
    received.push({
      key,
      timestamp: h.get("x-orderly-timestamp") as string,
      signature: h.get("x-orderly-signature") as string,
      event: h.get("x-orderly-event"),
      headers: Object.fromEntries(h),
      raw,
      body: JSON.parse(raw),
    });
    const scripted = script.shift();
    if (scripted?.networkError) throw new TypeError("Network connection lost.");
    if (scripted) {
      const init = { status: scripted.status, headers: scripted.headers ?? {} };
      if (scripted.body === undefined) return new Response(null, init);
      return typeof scripted.body === "string" ? new Response(scripted.body, init) : Response.json(scripted.body, init);
    }
    const known = ids.get(key);
    // As docs/webhook-out.md asks of a receiver: a repeated key's 409 names the key.
    if (known) return Response.json({ id: known, idempotencyKey: key, error: "duplicate Idempotency-Key" }, { status: 409 });
    const id = `wh_${ids.size + 1}`;
    ids.set(key, id);
    return Response.json({ id, status: "accepted" }, { status: 201 });
  }

  /** Installs the receiver as the test's only outbound endpoint (other URLs go to a spy installed before). */
  function install() {
    const alreadySpied = vi.isMockFunction(globalThis.fetch);
    const spy = alreadySpied ? vi.mocked(globalThis.fetch) : vi.spyOn(globalThis, "fetch");
    const previous = alreadySpied ? spy.getMockImplementation() : undefined;
    const unexpected: string[] = [];
    spy.mockImplementation(async (input, init) => {
      const request = new Request(input, init);
      if (new URL(request.url).origin === new URL(url).origin) {
        if (init?.redirect !== "manual") return refuse("the client follows redirects");
        return handle(request);
      }
      if (previous) return previous(input, init);
      unexpected.push(`${request.method} ${request.url}`);
      throw new Error(`test network is closed: unexpected ${request.method} ${request.url}`);
    });
    onTestFinished(() => {
      if (alreadySpied) {
        if (previous) spy.mockImplementation(previous);
      } else spy.mockRestore();
      if (unexpected.length > 0) throw new Error(`unexpected outbound requests: ${unexpected.join(", ")}`);
    });
    return spy;
  }

  return {
    url,
    secret,
    received,
    refused,
    handle,
    install,
    /** Answers the next request(s) with these, in order, after checking them. */
    answer(...answers: ScriptedAnswer[]) {
      script.push(...answers);
    },
  };
}

function pickListProblem(value: unknown): string | null {
  if (!value || typeof value !== "object") return "pickList is not an object";
  const list = value as Record<string, unknown>;
  if (Object.keys(list).sort().join() !== PICK_LIST_KEYS.join()) return `pickList keys ${Object.keys(list).join()}`;
  if (typeof list.orderNumber !== "string" || typeof list.orderId !== "string") return "pickList order number or id";
  if (list.shipTo !== null) {
    if (typeof list.shipTo !== "object") return "shipTo";
    for (const [k, v] of Object.entries(list.shipTo as object))
      if (!ADDRESS_KEYS.has(k) || typeof v !== "string") return `shipTo.${k}`;
  }
  const method = list.shippingMethod as Record<string, unknown> | null;
  if (method !== null && (typeof method?.title !== "string" || Object.keys(method).some((k) => k !== "title" && k !== "code")))
    return "shippingMethod";
  if (!Array.isArray(list.lines) || list.lines.length === 0) return "pickList has no lines";
  for (const line of list.lines as Array<Record<string, unknown>>) {
    if (Object.keys(line).sort().join() !== "name,quantity,sku") return `line keys ${Object.keys(line).join()}`;
    if (!(line.sku === null || typeof line.sku === "string") || typeof line.name !== "string") return "line sku or name";
    if (!Number.isInteger(line.quantity) || (line.quantity as number) <= 0) return `line quantity ${String(line.quantity)}`;
  }
  return null;
}
