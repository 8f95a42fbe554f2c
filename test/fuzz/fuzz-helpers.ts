/**
 * Shared pieces of the hostile-input properties: what a clear 4xx looks like, what a kept delivery
 * looks like (signed, but not one Orderly can take: a dead letter, answered 200), what "nothing was
 * stored" means, and arbitraries for the inputs a hostile or broken sender produces.
 */
import { env, SELF } from "cloudflare:test";
import { and, count, eq } from "drizzle-orm";
import fc from "fast-check";
import { expect } from "vitest";
import { SHOPIFY_TOPICS } from "../../src/connectors/shopify";
import { database } from "../../src/db/client";
import { connections, deadLetters, flows, transfers } from "../../src/db/schema";
import { BASE, eventually, type World } from "../helpers/world";

export interface ErrorBody {
  error: { code: string; message: string };
}

/**
 * Asserts a clear client error: a 4xx (one of `allowed` when given), a JSON body of the one error
 * shape with a non-empty code and message. Never a 5xx, never a 2xx.
 */
export async function expectClear4xx(res: Response, allowed?: readonly number[], context = ""): Promise<ErrorBody> {
  const text = await res.text();
  const where = `${context} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, where).toBeGreaterThanOrEqual(400);
  expect(res.status, where).toBeLessThan(500);
  if (allowed) expect(allowed, where).toContain(res.status);
  expect(res.headers.get("content-type") ?? "", where).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(typeof body.error?.code, where).toBe("string");
  expect(body.error.code.length, where).toBeGreaterThan(0);
  expect(typeof body.error.message, where).toBe("string");
  expect(body.error.message.trim().length, where).toBeGreaterThan(0);
  return body;
}

export interface Kept {
  deadLetterId: number;
  code: string;
  reason: string;
}

/**
 * Asserts a signed delivery Orderly could not take was kept and not processed (routes/hooks.ts): a
 * 200 naming its dead letter, with a code and a reason a person can act on, and that dead letter
 * listed for the world's tenant as a refused delivery. Never a 4xx or 5xx, which would lose it.
 */
export async function expectKept(res: Response, world: World, context = "", sent?: Headers, orderId?: unknown): Promise<Kept> {
  const text = await res.text();
  const where = `${context} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, where).toBe(200);
  const body = JSON.parse(text) as { ok: boolean; kept?: Kept; accepted?: number };
  expect(body.ok, where).toBe(true);
  if (body.accepted === 1 && sent) {
    const kept = await keptLater(world, sent, orderId);
    expect(kept, `${where}: neither kept nor stored after the answer`).not.toBe("stored");
    return kept as Kept;
  }
  expect(body.accepted, where).toBeUndefined();
  expect(body.kept, where).toMatchObject({ deadLetterId: expect.any(Number), code: expect.any(String) });
  const kept = body.kept as Kept;
  expect(kept.code.length, where).toBeGreaterThan(0);
  expect(kept.reason.trim().length, where).toBeGreaterThan(0);
  const [row] = await database(env)
    .select({ body: deadLetters.body })
    .from(deadLetters)
    .where(and(eq(deadLetters.tenantId, world.tenantId), eq(deadLetters.id, kept.deadLetterId)));
  expect(row?.body, `${where}: its dead letter`).toMatchObject({ kind: "refused_delivery", code: kept.code });
  return kept;
}

/**
 * What became of a Shopify delivery answered 200 accepted: its payload is validated and mapped in
 * the inbox's hand-off after the answer (src/worker/deferred-intake.ts), so it ends as an event in
 * its order's object ("stored"; the order named as Shopify's route reads the id), or kept as a dead
 * letter (found by its webhook id).
 */
export async function keptLater(world: World, sent: Headers, orderId?: unknown): Promise<Kept | "stored"> {
  const webhookId = sent.get("x-shopify-webhook-id");
  const routed = typeof orderId === "number" || (typeof orderId === "string" && /^\d+$/.test(orderId));
  return eventually(async () => {
    const rows = await database(env)
      .select({ id: deadLetters.id, body: deadLetters.body, reason: deadLetters.reason })
      .from(deadLetters)
      .where(eq(deadLetters.tenantId, world.tenantId));
    const row = rows.find(
      (r) => (r.body as { headers?: Record<string, string> }).headers?.["x-shopify-webhook-id"] === webhookId,
    );
    if (row) return { deadLetterId: row.id, code: (row.body as { code: string }).code, reason: row.reason ?? "" };
    if (!routed) return undefined;
    const state = await env.ORDERS.get(env.ORDERS.idFromName(`${world.shopId}:${String(orderId)}`)).describe();
    return state.events.some((e) => e.delivery_id === webhookId) ? ("stored" as const) : undefined;
  }, `what became of delivery ${webhookId}`);
}

/** Whether an answer is a kept delivery (200 naming a dead letter), not an accepted one; reads a clone. */
export async function isKept(res: Response): Promise<boolean> {
  return res.status === 200 && "kept" in ((await res.clone().json()) as object);
}

/**
 * A kept delivery's body in R2 (raw/<tenant>/<connection>/refused-…): the dead letter's, not an
 * accepted event's.
 */
const KEPT_BODY = /^raw\/[^/]+\/[^/]+\/refused-/;

/**
 * Nothing of a delivery was taken: no transfer, no raw body of an accepted event in R2, no event in
 * the order's object. A kept delivery (expectKept) leaves only its dead letter and its body.
 */
export async function expectNothingStored(world: World, orderId?: string | number): Promise<void> {
  const rows = await database(env).select({ n: count() }).from(transfers).where(eq(transfers.tenantId, world.tenantId));
  expect(rows[0]?.n, "transfer rows").toBe(0);
  const blobs = await env.BLOBS.list({ prefix: `raw/${world.tenantId}/` });
  expect(
    blobs.objects.map((o) => o.key).filter((key) => !KEPT_BODY.test(key)),
    "raw bodies of events in R2",
  ).toHaveLength(0);
  if (orderId !== undefined) {
    const state = await env.ORDERS.get(env.ORDERS.idFromName(`${world.shopId}:${orderId}`)).describe();
    expect(state.events, "events in the order's object").toHaveLength(0);
  }
}

/** How many connections and flows the tenant has; an invalid API call must leave both as they were. */
export async function tenantCounts(tenantId: string): Promise<{ connections: number; flows: number }> {
  const db = database(env);
  const [c] = await db.select({ n: count() }).from(connections).where(eq(connections.tenantId, tenantId));
  const [f] = await db.select({ n: count() }).from(flows).where(eq(flows.tenantId, tenantId));
  return { connections: c?.n ?? 0, flows: f?.n ?? 0 };
}

/** POSTs raw bytes to the world's Shopify webhook URL. */
export function postHook(world: World, body: BodyInit | null, headers: HeadersInit) {
  return SELF.fetch(`${BASE}/hooks/${world.shopId}`, { method: "POST", headers, body });
}

const encoder = new TextEncoder();

/**
 * Encodes a string as WTF-8: like UTF-8, but a lone surrogate becomes its own three bytes
 * (ED A0 80 for U+D800) instead of U+FFFD, which is what a broken sender puts on the wire.
 */
export function wtf8(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      bytes.push(...encoder.encode(text.slice(i, i + 2)));
      i++;
    } else if (unit >= 0xd800 && unit <= 0xdfff) {
      bytes.push(0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f));
    } else {
      bytes.push(...encoder.encode(String.fromCharCode(unit)));
    }
  }
  return new Uint8Array(bytes);
}

/** One UTF-16 code unit that is a lone surrogate. */
export const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit));

/** Any code point, or now and then a lone surrogate, a NUL, a BOM or a right-to-left override. */
export const hostileChar = fc.oneof(
  { arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), weight: 6 },
  { arbitrary: loneSurrogate, weight: 2 },
  {
    arbitrary: fc.constantFrom(
      "\u0000",
      "\uFEFF",
      "\u202E",
      "\u200B",
      "\uFFFF",
      "\uD83D\uDE00",
      "\r\n",
      '"',
      "\\",
      "ß",
      "ﬀ",
      "ı",
      "İ",
    ),
    weight: 1,
  },
);

/** Strings with every code point, lone surrogates and the usual trouble makers. */
export const hostileString = (maxLength = 64) => fc.string({ unit: hostileChar, maxLength });

/** Any JSON value, strings included lone surrogates (JSON.stringify escapes them as \udXXX). */
export const hostileJson = fc.jsonValue({ maxDepth: 4, stringUnit: hostileChar });

/** Calls the JSON API as the world's tenant (JSON unless the headers say otherwise). */
export function apiCaller(world: World) {
  return (method: string, path: string, init: { body?: BodyInit; headers?: Record<string, string> } = {}) =>
    SELF.fetch(`${BASE}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${world.token}`, "content-type": "application/json", ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
}

/** Any JSON value that is not a plain object (arrays, strings, numbers, booleans, null). */
export const notAnObject = hostileJson.filter((v) => v === null || typeof v !== "object" || Array.isArray(v));
export const notAString = hostileJson.filter((v) => typeof v !== "string");
export const notABoolean = hostileJson.filter((v) => typeof v !== "boolean");

/** Bodies that are not JSON at all, or JSON a schema cannot take at its root. */
export const unusableBody = fc.oneof(
  notAnObject.map((v) => JSON.stringify(v)),
  fc.constantFrom("", "{", '{"a":', "nul", "[1,]", "{'name':'x'}", "\u0000", `${"[".repeat(100_000)}${"]".repeat(100_000)}`),
  hostileString(100),
);

/** A Shopify topic Orderly handles, so a delivery gets past the topic check to its body. */
export const shopifyTopic = fc.constantFrom(...SHOPIFY_TOPICS);

/** A header value of any ASCII byte but NUL, CR and LF (what the Fetch API lets a client send as is). */
export const headerValue = (maxLength = 200) =>
  fc.string({
    unit: fc
      .integer({ min: 1, max: 0x7f })
      .filter((c) => c !== 0x0a && c !== 0x0d)
      .map((c) => String.fromCharCode(c)),
    maxLength,
  });

/**
 * A header value with non-ASCII text, which workerd's fetch sends as UTF-8 (and warns about on
 * stderr each time, so properties use few of these).
 */
export const unicodeHeaderValue = (maxLength = 32) =>
  fc
    .string({
      unit: fc.oneof(fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }), fc.constantFrom("é", "ß", "\u202E", "😀")),
      maxLength,
    })
    .map((v) => v.replace(/[\0\r\n]/g, ""));

/** A path into a JSON value, as the field-replacing properties name the fields they change. */
export type Path = ReadonlyArray<string | number>;

/** A field's replacement that deletes it. */
export const DELETE = Symbol("delete");

/** Sets (or deletes) the value at a path of a JSON object, creating nothing that is not there. */
export function setAt(target: Record<string, unknown>, path: Path, value: unknown): void {
  let current: unknown = target;
  for (const key of path.slice(0, -1)) {
    if (current === null || typeof current !== "object") return;
    current = (current as Record<string | number, unknown>)[key];
  }
  if (current === null || typeof current !== "object") return;
  const last = path.at(-1)!;
  if (value === DELETE) delete (current as Record<string | number, unknown>)[last];
  else (current as Record<string | number, unknown>)[last] = value;
}

/** The changes a property made, for its failure message. */
export const describeChanges = (changes: ReadonlyArray<readonly [Path, unknown]>) =>
  changes.map(([p, v]) => `${p.join(".")}=${v === DELETE ? "<deleted>" : JSON.stringify(v)}`).join(", ");
