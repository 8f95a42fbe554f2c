/**
 * Hostile headers at POST /hooks/:connectionId around a correctly signed order: missing and
 * doubled Shopify headers, wrong content types, and header values with every byte and 8 KB long.
 *
 * Content type is not enforced, by decision: Shopify always sends application/json, but the
 * signature already authenticates the exact bytes, and a proxy that rewrites the header would
 * otherwise lose orders. A signed order is accepted whatever its Content-Type says; a signed
 * body that is not an order, or a signed order whose topic or webhook id is missing or unreadable,
 * is kept as a dead letter and answered 200 (Shopify would drop it after its retries) whatever it
 * says. None is ever a 5xx.
 */
import { env } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { SHOPIFY_TOPICS } from "../../src/connectors/shopify";
import { shopifyDelivery } from "../fixtures/shopify";
import { createWorld, shopifyOrder, type World } from "../helpers/world";
import {
  expectClear4xx,
  expectKept,
  expectNothingStored,
  headerValue,
  isKept,
  postHook,
  unicodeHeaderValue,
} from "./fuzz-helpers";

// No flow: an accepted order is kept in its Durable Object only, so a refused one is checkable per order.
let world: World;
beforeAll(async () => {
  world = await createWorld();
});

const TOPIC = "X-Shopify-Topic";
const WEBHOOK_ID = "X-Shopify-Webhook-Id";
const SIGNATURE = "X-Shopify-Hmac-Sha256";
const OPTIONAL = [
  "X-Shopify-Event-Id",
  "X-Shopify-Triggered-At",
  "X-Shopify-Shop-Domain",
  "X-Shopify-API-Version",
  "Content-Type",
];

/** What the webhook may do with a delivery: take it, keep it as a dead letter (200), or refuse it. */
type Outcome = "accepted" | "kept" | 401;

/** Sends a signed order with its headers edited; answers the outcome after checking the body shape. */
async function sendOrder(
  target: World,
  edit: (headers: Headers) => void,
  expected: readonly Outcome[],
  what: string,
  order = shopifyOrder(),
): Promise<Outcome> {
  const delivery = await shopifyDelivery("orders/paid", order, target.secret);
  edit(delivery.headers);
  const res = await postHook(target, delivery.body, delivery.headers);
  if (res.status === 200 && !(await isKept(res))) {
    expect(expected, what).toContain("accepted");
    expect(await res.json(), what).toEqual({ ok: true, accepted: 1, duplicates: 0 });
    return "accepted";
  }
  if (res.status === 200) {
    expect(expected, what).toContain("kept");
    await expectKept(res, target, what);
  } else {
    await expectClear4xx(
      res,
      expected.filter((o) => typeof o === "number"),
      what,
    );
  }
  await expectNothingStored(target, order.id);
  return res.status === 200 ? "kept" : 401;
}

/** Whether a header value names a topic Orderly handles, as the parser reads it (trimmed). */
const isKnownTopic = (value: string) => (SHOPIFY_TOPICS as readonly string[]).includes(value.trim());

describe("hostile headers at the webhook endpoint", () => {
  it("a signed order missing its signature gets 401, missing its topic or webhook id is kept, missing others is fine", async () => {
    const names = fc.subarray([TOPIC, WEBHOOK_ID, SIGNATURE, ...OPTIONAL], { minLength: 1 });
    await fc.assert(
      fc.asyncProperty(names, fc.constantFrom("delete", "empty", "blank"), async (missing, how) => {
        const expected: Outcome[] = missing.includes(SIGNATURE)
          ? [401]
          : missing.includes(TOPIC) || missing.includes(WEBHOOK_ID)
            ? ["kept"]
            : ["accepted"];
        await sendOrder(
          world,
          (headers) => {
            for (const name of missing) {
              if (how === "delete") headers.delete(name);
              else headers.set(name, how === "empty" ? "" : " \t ");
            }
          },
          expected,
          `${how} ${missing.join(", ")}`,
        );
      }),
      { seed: 0x5eed_0401, numRuns: 80 },
    );
  }, 60_000);

  it("doubled headers (Headers.append twice) never make a 5xx: a doubled signature is refused, a doubled topic kept", async () => {
    const header = fc.constantFrom(TOPIC, WEBHOOK_ID, SIGNATURE, ...OPTIONAL);
    await fc.assert(
      fc.asyncProperty(header, fc.boolean(), async (name, same) => {
        // "orders/paid, orders/paid" is no topic and "sig, sig" is no base64; a doubled id or date is opaque text.
        const expected: Outcome[] = name === SIGNATURE ? [401] : name === TOPIC ? ["kept"] : ["accepted", "kept"];
        await sendOrder(
          world,
          (headers) => {
            const value = headers.get(name) ?? "orders/paid";
            headers.append(name, same ? value : `${value}-other`);
          },
          expected,
          `doubled ${name} (${same ? "same" : "different"} value)`,
        );
      }),
      { seed: 0x5eed_0402, numRuns: 60 },
    );
  }, 60_000);

  it("a signed order is accepted whatever its content type; a signed non-order is kept whatever its content type", async () => {
    const contentType = fc.oneof(
      fc.constantFrom(
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
        "application/json; charset=latin1",
        "application/xml",
        "",
      ),
      headerValue(200),
    );
    await fc.assert(
      fc.asyncProperty(contentType, fc.boolean(), async (type, isOrder) => {
        const edit = (headers: Headers) => headers.set("Content-Type", type);
        if (isOrder) {
          await sendOrder(world, edit, ["accepted"], `order as ${JSON.stringify(type)}`);
          return;
        }
        const delivery = await shopifyDelivery("orders/paid", "a=1&b=2", world.secret);
        edit(delivery.headers);
        const kept = await expectKept(await postHook(world, delivery.body, delivery.headers), world, `form body as ${type}`);
        expect(kept.code).toBe("shopify_body_not_json");
      }),
      { seed: 0x5eed_0403, numRuns: 60 },
    );
  }, 60_000);

  it("header values with any ASCII byte and 8 KB of length never make a 5xx", async () => {
    const name = fc.constantFrom(TOPIC, WEBHOOK_ID, ...OPTIONAL, "User-Agent", "X-Forwarded-For");
    const value = fc.oneof(
      headerValue(64),
      headerValue(8192),
      fc.nat({ max: 8192 }).map((n) => "a".repeat(n)),
    );
    await fc.assert(
      fc.asyncProperty(name, value, async (header, text) => {
        // Senders trim header values; an empty one is a missing one.
        const expected: Outcome[] =
          header === TOPIC
            ? isKnownTopic(text)
              ? ["accepted"]
              : ["kept"]
            : header === WEBHOOK_ID && text.trim() === ""
              ? ["kept"]
              : ["accepted", "kept"];
        await sendOrder(
          world,
          (headers) => headers.set(header, text),
          expected,
          `${header}: ${JSON.stringify(text.slice(0, 60))}`,
        );
      }),
      { seed: 0x5eed_0404, numRuns: 120 },
    );
  }, 60_000);

  it("non-ASCII header values (sent as UTF-8) never make a 5xx", async () => {
    const name = fc.constantFrom(TOPIC, WEBHOOK_ID, "X-Shopify-Event-Id", "X-Shopify-Triggered-At", "Content-Type");
    await fc.assert(
      fc.asyncProperty(name, unicodeHeaderValue(), fc.boolean(), async (header, text, big) => {
        const expected: Outcome[] = header === TOPIC ? (isKnownTopic(text) ? ["accepted"] : ["kept"]) : ["accepted", "kept"];
        // A big body also puts the webhook id into an R2 key.
        const order = shopifyOrder(big ? { note: "n".repeat(110_000) } : {});
        const target = big ? await createWorld() : world;
        await sendOrder(target, (headers) => headers.set(header, text), expected, `${header}: ${JSON.stringify(text)}`, order);
      }),
      { seed: 0x5eed_0406, numRuns: 12 },
    );
  }, 60_000);

  it("a body kept in R2 with a hostile or 8 KB webhook id is stored or kept as a dead letter, never a 5xx", async () => {
    const webhookId = fc.oneof(
      headerValue(8192).filter((v) => v.trim() !== ""),
      fc.constantFrom("../../etc", "a/b?c#d", "%2F%00", ".", "..", " x "),
      fc.integer({ min: 1, max: 8192 }).map((n) => "w".repeat(n)),
    );
    await fc.assert(
      fc.asyncProperty(webhookId, async (id) => {
        // A world per run: raw bodies of accepted runs would otherwise sit under the same tenant's prefix.
        const fresh = await createWorld();
        // Over the 100 KB inline limit, so the raw body goes to R2 under a key made from the webhook id.
        const order = shopifyOrder({ note: "n".repeat(110_000) });
        await sendOrder(
          fresh,
          (headers) => headers.set(WEBHOOK_ID, id),
          ["accepted", "kept"],
          `webhook id ${JSON.stringify(id.slice(0, 60))} (${id.length})`,
          order,
        );
      }),
      { seed: 0x5eed_0405, numRuns: 20 },
    );
  }, 60_000);

  // Regression found by the property above (seed 0x5eed0405): a 983-character webhook id made the R2 key
  // longer than R2's 1,024 bytes, and a valid order got a 503 the sender would retry forever.
  it("a body kept in R2 under a 983-character webhook id is stored under a hashed name", async () => {
    const fresh = await createWorld();
    const order = shopifyOrder({ note: "n".repeat(110_000) });
    await sendOrder(
      fresh,
      (headers) => headers.set(WEBHOOK_ID, "w".repeat(983)),
      ["accepted"],
      "983-character webhook id",
      order,
    );
    const { objects } = await env.BLOBS.list({ prefix: `raw/${fresh.tenantId}/` });
    // src/worker/event-bodies.ts: raw/<tenant>/days/<UTC day>/<connection>/<order>/<delivery>.
    expect(objects.map((o) => o.key)).toEqual([
      expect.stringMatching(
        new RegExp(`^raw/${fresh.tenantId}/days/\\d{4}-\\d{2}-\\d{2}/${fresh.shopId}/${order.id}/sha256-[0-9a-f]{64}$`),
      ),
    ]);
    // An ordinary id keeps its readable name.
    const id = crypto.randomUUID();
    const second = shopifyOrder({ note: "n".repeat(110_000) });
    await sendOrder(fresh, (headers) => headers.set(WEBHOOK_ID, id), ["accepted"], "uuid webhook id", second);
    const named = (await env.BLOBS.list({ prefix: `raw/${fresh.tenantId}/` })).objects.map((o) => o.key);
    expect(named).toContainEqual(expect.stringMatching(new RegExp(`/${fresh.shopId}/${second.id}/${id}$`)));
  });
});
