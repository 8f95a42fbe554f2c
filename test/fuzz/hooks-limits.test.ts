/**
 * Bodies at the limits of POST /hooks/:connectionId: JSON nested 1e3 to 1e5 deep (JSON.parse may
 * give up with a RangeError, which must not become a 5xx), a 9 MiB JSON array that is not an
 * order, and bodies over the 10 MiB limit, declared or streamed. A signed body Orderly cannot take
 * is kept as a dead letter (200); one over the limit is not read, so not verified: 413.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { shopifyDelivery } from "../fixtures/shopify";
import { createWorld, shopifyOrder, type World } from "../helpers/world";
import { expectClear4xx, expectKept, expectNothingStored, isKept, postHook, shopifyTopic } from "./fuzz-helpers";

let world: World;
beforeAll(async () => {
  world = await createWorld();
  await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
});

type Shape = "array" | "object";

/** `[[[…]]]` or `{"a":{"a":…}}`, `depth` levels deep, built as text (no recursion in the test either). */
function nested(shape: Shape, depth: number): string {
  return shape === "array" ? `${"[".repeat(depth)}${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

describe("bodies at the limits of the webhook endpoint", () => {
  it("JSON nested 1e3 to 1e5 deep gets 401 unsigned and is kept signed, never a 5xx", async () => {
    const depth = fc.oneof(fc.constantFrom(1_000, 10_000, 100_000), fc.integer({ min: 1, max: 100_000 }));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<Shape>("array", "object"), depth, shopifyTopic, async (shape, levels, topic) => {
        const body = nested(shape, levels);
        const unsigned = await shopifyDelivery(topic, body, "not-the-secret");
        await expectClear4xx(await postHook(world, unsigned.body, unsigned.headers), [401], `unsigned ${shape} ×${levels}`);
        const signed = await shopifyDelivery(topic, body, world.secret);
        await expectKept(await postHook(world, signed.body, signed.headers), world, `signed ${shape} ×${levels}`);
        await expectNothingStored(world);
      }),
      { seed: 0x5eed_0301, numRuns: 24 },
    );
  }, 60_000);

  it("an order carrying a deeply nested extra field is stored or kept as a dead letter, never a 5xx", async () => {
    // Its own world: accepted orders here would leave transfers in the shared one.
    const orders = await createWorld();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Shape>("array", "object"),
        fc.constantFrom(1_000, 10_000, 100_000),
        async (shape, levels) => {
          const order = shopifyOrder();
          const text = JSON.stringify(order).replace(/}$/, `,"note_attributes":${nested(shape, levels)}}`);
          const delivery = await shopifyDelivery("orders/create", text, orders.secret);
          const res = await postHook(orders, delivery.body, delivery.headers);
          if (await isKept(res)) await expectKept(res, orders, `order with ${shape} ×${levels}`);
          else expect(await res.json()).toMatchObject({ ok: true, accepted: 1 });
        },
      ),
      { seed: 0x5eed_0302, numRuns: 6 },
    );
  }, 60_000);

  it("a signed 9 MiB JSON array that is not an order is kept, its body in R2, and processes nothing", async () => {
    const element = JSON.stringify("x".repeat(1022));
    const body = `[${Array.from({ length: 9 * 1024 }, () => element).join(",")}]`;
    expect(body.length).toBeGreaterThan(9 * 1024 * 1024);
    const delivery = await shopifyDelivery("orders/paid", body, world.secret);
    const kept = await expectKept(await postHook(world, delivery.body, delivery.headers), world, "9 MiB array");
    expect(kept.code).toBe("shopify_payload_invalid");
    const stored = (await world.api(`/dead-letters/${kept.deadLetterId}`)).body.rawBody as string;
    expect(stored.length).toBe(body.length);
    await expectNothingStored(world);
  }, 30_000);

  it("a signed body over 10 MiB gets 413, with or without a declared length, and stores nothing", async () => {
    const body = new Uint8Array(11 * 1024 * 1024).fill(0x20);
    const declared = await shopifyDelivery("orders/paid", body, world.secret);
    const error = await expectClear4xx(await postHook(world, declared.body, declared.headers), [413], "11 MiB");
    expect(error.error.code).toBe("body_too_large");
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 11; i++) controller.enqueue(new Uint8Array(1024 * 1024).fill(0x20));
        controller.close();
      },
    });
    await expectClear4xx(await postHook(world, stream, declared.headers), [413], "11 MiB streamed");
    await expectNothingStored(world);
  }, 30_000);

  it("a signed order too large to store once mapped is kept, and stores no event, nor its body as one in R2", async () => {
    // 2 MB of note: the body goes to R2 (over the inline limit), the mapped order would not fit in a row.
    const order = shopifyOrder({ note: "n".repeat(2_000_000) });
    const delivery = await shopifyDelivery("orders/paid", JSON.stringify(order), world.secret);
    const kept = await expectKept(
      await postHook(world, delivery.body, delivery.headers),
      world,
      "2 MB note",
      delivery.headers,
      order.id,
    );
    expect(kept.code).toBe("event_too_large");
    expect(kept.reason).toMatch(/too large to store/);
    await expectNothingStored(world, order.id);
  }, 30_000);

  it("a lying Content-Length (larger, smaller, negative, garbage) never makes a 5xx: the body read is kept, or 413", async () => {
    const lengths = fc.oneof(
      fc.constantFrom("0", "-1", "1e400", "NaN", "abc", " 12 ", "99999999999999999999", "1, 2"),
      fc.nat().map(String),
    );
    await fc.assert(
      fc.asyncProperty(lengths, fc.uint8Array({ maxLength: 256 }), async (length, body) => {
        const delivery = await shopifyDelivery("orders/paid", body, world.secret);
        delivery.headers.set("content-length", length);
        let res: Response;
        try {
          res = await postHook(world, delivery.body, delivery.headers);
        } catch {
          return; // the client refused to send a body that contradicts its own length: nothing reached Orderly
        }
        if (res.status === 200) await expectKept(res, world, `content-length ${length}`);
        else await expectClear4xx(res, [413], `content-length ${length}`);
        await expectNothingStored(world);
      }),
      { seed: 0x5eed_0303, numRuns: 60 },
    );
  }, 60_000);
});
