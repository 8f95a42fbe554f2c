/**
 * Hostile bodies at POST /hooks/:connectionId: random bytes, unicode edge cases and random JSON,
 * each sent unsigned and correctly signed. An unsigned one is not the sender's at all (401); a signed
 * body that is not an order is kept as a dead letter and answered 200 (Shopify would drop it after
 * its retries); neither is processed.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { shopifyDelivery } from "../fixtures/shopify";
import { createWorld, type World } from "../helpers/world";
import {
  expectClear4xx,
  expectKept,
  expectNothingStored,
  hostileJson,
  hostileString,
  postHook,
  shopifyTopic,
  wtf8,
} from "./fuzz-helpers";

let world: World;

beforeAll(async () => {
  world = await createWorld();
  // With a flow in place, anything wrongly accepted would also leave a transfer row behind.
  await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
});

type Unsigned = "missing" | "wrong-secret" | "not-base64";
const unsigned = fc.constantFrom<Unsigned>("missing", "wrong-secret", "not-base64");

/** Sends the body twice: without a valid signature (must be 401) and correctly signed (must be kept). */
async function sendBothWays(body: Uint8Array, topic: string, how: Unsigned, what: string) {
  const bad = await shopifyDelivery(topic, body, how === "wrong-secret" ? "not-the-secret" : world.secret);
  if (how === "missing") bad.headers.delete("X-Shopify-Hmac-Sha256");
  if (how === "not-base64") bad.headers.set("X-Shopify-Hmac-Sha256", "%%not base64%%");
  const rejected = await expectClear4xx(await postHook(world, bad.body, bad.headers), [401], `unsigned (${how}) ${what}`);
  expect(rejected.error.code).toBe("signature_invalid");

  const signed = await shopifyDelivery(topic, body, world.secret);
  const kept = await expectKept(await postHook(world, signed.body, signed.headers), world, `signed ${what}`);
  expect(kept.code).toMatch(/^shopify_/);
  await expectNothingStored(world);
}

describe("hostile bodies at the webhook endpoint", () => {
  it("random bytes get 401 unsigned and are kept signed, and nothing is processed", async () => {
    const bytes = fc.oneof(
      { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 3 },
      { arbitrary: fc.uint8Array({ maxLength: 65_536, size: "max" }), weight: 1 },
    );
    await fc.assert(
      fc.asyncProperty(bytes, shopifyTopic, unsigned, (body, topic, how) =>
        sendBothWays(body, topic, how, `${body.byteLength} random bytes`),
      ),
      { seed: 0x5eed_0101, numRuns: 100 },
    );
  }, 60_000);

  it("random unicode text, as UTF-8 and with lone surrogates as raw bytes, gets 401 unsigned and is kept signed", async () => {
    const text = fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), hostileString(200));
    const encoding = fc.constantFrom("utf-8", "wtf-8");
    await fc.assert(
      fc.asyncProperty(text, encoding, shopifyTopic, unsigned, (value, how, topic, sig) => {
        const body = how === "utf-8" ? new TextEncoder().encode(value) : wtf8(value);
        return sendBothWays(body, topic, sig, `${how} text ${JSON.stringify(value.slice(0, 40))}`);
      }),
      { seed: 0x5eed_0102, numRuns: 150 },
    );
  }, 60_000);

  it("random JSON values, lone surrogates escaped inside, get 401 unsigned and are kept signed", async () => {
    await fc.assert(
      fc.asyncProperty(hostileJson, shopifyTopic, unsigned, (value, topic, sig) =>
        sendBothWays(new TextEncoder().encode(JSON.stringify(value)), topic, sig, `JSON ${JSON.stringify(value).slice(0, 80)}`),
      ),
      { seed: 0x5eed_0103, numRuns: 150 },
    );
  }, 60_000);
});
