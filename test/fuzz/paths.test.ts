/**
 * Path and method fuzz: random connection ids in the webhook URL (unicode, dot segments, very long,
 * percent-encoded, malformed escapes) and other methods on /hooks. Each gets a JSON 404 (or 405),
 * never a 5xx, and nothing is stored for the tenant whose secret signed the delivery.
 */
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, it } from "vitest";
import { shopifyDelivery } from "../fixtures/shopify";
import { BASE, createWorld, shopifyOrder, type World } from "../helpers/world";
import { expectClear4xx, expectNothingStored, headerValue, hostileString } from "./fuzz-helpers";

let world: World;
beforeAll(async () => {
  world = await createWorld();
  await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
});

/** A path segment as a hostile client writes it: raw, percent-encoded, or with broken escapes. */
const segment = fc.oneof(
  hostileString(40).map((s) => encodeURIComponent(s.toWellFormed())),
  hostileString(40).map((s) => s.toWellFormed()),
  headerValue(40),
  fc.constantFrom(
    "..",
    ".",
    "%2e%2e",
    "%2E%2E%2F",
    "%",
    "%zz",
    "%E0%A4%A",
    "%00",
    "%C0%AF",
    "con_%2F..%2F",
    "..%2F..%2Fapi",
    "%FF%FE",
  ),
  fc.nat({ max: 100_000 }).map((n) => "c".repeat(n)),
);

describe("paths and methods at the webhook endpoint", () => {
  it("a random connection id gets a JSON 404 and stores nothing, even with a correctly signed order", async () => {
    await fc.assert(
      fc.asyncProperty(segment, fc.constantFrom("", "/", "/x"), async (id, suffix) => {
        const order = shopifyOrder();
        const delivery = await shopifyDelivery("orders/paid", order, world.secret);
        let url: string;
        try {
          url = new URL(`${BASE}/hooks/${id}${suffix}`).href;
        } catch {
          return; // not a URL a client could send
        }
        // Dot segments can take the URL out of /hooks (to the UI at "/"): that is no longer this endpoint.
        if (!new URL(url).pathname.startsWith("/hooks")) return;
        const res = await SELF.fetch(url, { method: "POST", headers: delivery.headers, body: delivery.body });
        await expectClear4xx(res, [404], `POST ${url.slice(0, 120)}`);
        await expectNothingStored(world, order.id);
      }),
      { seed: 0x5eed_0501, numRuns: 150 },
    );
  }, 60_000);

  it("the ids of connections that are not sources (the ledger, e-conomic) get a JSON 404", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("ledger", "economic"), async (which) => {
        const id = which === "ledger" ? world.ledgerId : world.economicId;
        const order = shopifyOrder();
        const delivery = await shopifyDelivery("orders/paid", order, world.secret);
        const res = await SELF.fetch(`${BASE}/hooks/${id}`, { method: "POST", headers: delivery.headers, body: delivery.body });
        await expectClear4xx(res, [404], `POST to ${which}`);
        await expectNothingStored(world, order.id);
      }),
      { seed: 0x5eed_0502, numRuns: 4 },
    );
  }, 30_000);

  it("other methods on /hooks and /hooks/:id get a JSON 404 or 405, never a 5xx", async () => {
    const method = fc.constantFrom("GET", "PUT", "DELETE", "PATCH", "OPTIONS");
    const path = fc.oneof(
      fc.constant(() => world.shopId),
      fc.constant(() => ""),
      segment.map((s) => () => s),
    );
    await fc.assert(
      fc.asyncProperty(method, path, async (verb, id) => {
        let url: string;
        try {
          url = new URL(`${BASE}/hooks/${id()}`).href;
        } catch {
          return;
        }
        // As above: a URL that dot segments took out of /hooks is not this endpoint.
        if (!new URL(url).pathname.startsWith("/hooks")) return;
        const order = shopifyOrder();
        const delivery = await shopifyDelivery("orders/paid", order, world.secret);
        const body = verb === "GET" ? null : delivery.body;
        const res = await SELF.fetch(url, { method: verb, headers: delivery.headers, body });
        await expectClear4xx(res, [404, 405], `${verb} ${url.slice(0, 120)}`);
        await expectNothingStored(world, order.id);
      }),
      { seed: 0x5eed_0503, numRuns: 80 },
    );
  }, 60_000);
});
