/**
 * Hostile bodies to the JSON API with a valid token: connections and flows with one field broken
 * (plus random extra keys), bodies that are not JSON objects, other content types, 9 MiB names and
 * unicode edge cases. Each broken one is a clear 400/404, never a 5xx, and creates or changes nothing.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { connections } from "../../src/db/schema";
import { STAGES } from "../../src/domain/stage";
import { createWorld, type World } from "../helpers/world";
import {
  apiCaller,
  expectClear4xx,
  headerValue,
  hostileJson,
  hostileString,
  notABoolean,
  notAnObject,
  notAString,
  tenantCounts,
  unusableBody,
} from "./fuzz-helpers";

let world: World;
let baseline: { connections: number; flows: number };
let call: ReturnType<typeof apiCaller>;

beforeAll(async () => {
  world = await createWorld();
  await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice" }]);
  baseline = await tenantCounts(world.tenantId);
  call = apiCaller(world);
});

async function expectNothingChanged(what: string) {
  expect(await tenantCounts(world.tenantId), what).toEqual(baseline);
}

const DELETE = Symbol("delete");

/** Extra keys with random values; the schemas drop unknown keys, so these never make a bad body good. */
const extraKeys = fc.dictionary(
  hostileString(12).filter((k) => !["connector", "name", "settings", "credentials", "webhookSecret", "enabled"].includes(k)),
  hostileJson,
  { maxKeys: 3 },
);

/** Applies one breaking change to a valid body: the result must be refused whatever else it carries. */
function broken(base: Record<string, unknown>, field: string, value: unknown, extra: Record<string, unknown>) {
  const body: Record<string, unknown> = { ...extra, ...base };
  if (value === DELETE) delete body[field];
  else body[field] = value;
  return JSON.stringify(body);
}

describe("hostile bodies to the JSON API", () => {
  it("POST /connections with a broken body gets a JSON 400 and creates nothing", async () => {
    const base = { connector: "sandbox-ledger", name: "Fuzzed ledger" };
    const breakage = fc.oneof(
      fc.tuple(fc.constant("connector"), fc.oneof(notAString, hostileString(30), fc.constant<unknown>(DELETE))),
      fc.tuple(
        fc.constant("name"),
        fc.oneof(
          notAString,
          fc.constantFrom<unknown>("", DELETE),
          fc.integer({ min: 121, max: 100_000 }).map((n) => "n".repeat(n)),
        ),
      ),
      fc.tuple(fc.constant("settings"), notAnObject),
      fc.tuple(fc.constant("credentials"), notAnObject),
      fc.tuple(fc.constant("webhookSecret"), fc.oneof(notAString, fc.string({ maxLength: 7 }))),
      fc.tuple(
        fc.constant("enabled"),
        notABoolean.filter((v) => v !== undefined),
      ),
    );
    await fc.assert(
      fc.asyncProperty(breakage, extraKeys, async ([field, value], extra) => {
        // An unknown connector string could only be valid if it named a real one.
        if (field === "connector" && ["shopify", "economic", "sandbox-ledger"].includes(value as string)) return;
        const body = broken(base, field, value, extra);
        await expectClear4xx(await call("POST", "/connections", { body }), [400], `POST /connections ${body.slice(0, 200)}`);
        await expectNothingChanged("after a broken POST /connections");
      }),
      { seed: 0x5eed_0602, numRuns: 150 },
    );
    const deepName = fc
      .constantFrom(1_000, 10_000, 100_000)
      .map((depth) => `{"connector":"sandbox-ledger","name":${"[".repeat(depth)}${"]".repeat(depth)}}`);
    await fc.assert(
      fc.asyncProperty(fc.oneof(unusableBody, deepName), async (body) => {
        await expectClear4xx(await call("POST", "/connections", { body }), [400], `POST /connections ${body.slice(0, 100)}`);
        await expectNothingChanged("after an unusable POST /connections");
      }),
      { seed: 0x5eed_0603, numRuns: 60 },
    );
  }, 60_000);

  it("a valid connection body sent as another content type creates nothing and is never a 5xx", async () => {
    const type = fc.oneof(
      fc.constantFrom(
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "application/xml",
        "",
      ),
      headerValue(60).filter((t) => !/json/i.test(t)),
    );
    await fc.assert(
      fc.asyncProperty(type, async (contentType) => {
        const body = JSON.stringify({ connector: "sandbox-ledger", name: "Wrong type" });
        const res = await call("POST", "/connections", { body, headers: { "content-type": contentType } });
        await expectClear4xx(res, [400, 415], `POST /connections as ${JSON.stringify(contentType)}`);
        await expectNothingChanged("after a POST /connections of another content type");
      }),
      { seed: 0x5eed_0604, numRuns: 30 },
    );
  }, 60_000);

  it("POST /flows with a broken body gets a JSON 400 or 404 and creates nothing", async () => {
    const valid = () => ({
      name: "Fuzzed flow",
      source: world.shopId,
      stage: "paid",
      steps: [{ target: world.ledgerId, action: "createInvoice" }],
    });
    const step = (change: Record<string, unknown>) => [{ target: world.ledgerId, action: "createInvoice", ...change }];
    const breakage = fc.oneof(
      fc.tuple(fc.constant("name"), fc.oneof(notAString, fc.constantFrom<unknown>("", DELETE))),
      fc.tuple(fc.constant("source"), fc.oneof(notAString, hostileString(30), fc.constant<unknown>(DELETE))),
      fc.tuple(
        fc.constant("source"),
        fc.constant(null).map(() => world.ledgerId as unknown),
      ),
      fc.tuple(
        fc.constant("stage"),
        fc.oneof(
          notAString,
          hostileString(20).filter((s) => !(STAGES as readonly string[]).includes(s)),
        ),
      ),
      fc.tuple(
        fc.constant("steps"),
        fc.oneof(
          notAnObject.filter((v) => !Array.isArray(v) || v.length === 0 || v.length > 20),
          fc.constant([] as unknown),
          fc.constant(null).map(() => Array.from({ length: 21 }, () => step({})[0]) as unknown),
          hostileString(30).map((target) => step({ target }) as unknown),
          hostileString(30)
            .filter((a) => !["createInvoice", "registerPayment", "createCreditNote"].includes(a))
            .map((action) => step({ action }) as unknown),
          notAnObject.filter((v) => v !== null).map((settings) => step({ settings }) as unknown),
          notAString.map((target) => step({ target }) as unknown),
        ),
      ),
      fc.tuple(fc.constant("enabled"), notABoolean),
    );
    await fc.assert(
      fc.asyncProperty(breakage, extraKeys, async ([field, value], extra) => {
        const body = broken(valid(), field, value, extra);
        await expectClear4xx(await call("POST", "/flows", { body }), [400, 404], `POST /flows ${body.slice(0, 200)}`);
        await expectNothingChanged("after a broken POST /flows");
      }),
      { seed: 0x5eed_0605, numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(unusableBody, async (body) => {
        await expectClear4xx(await call("POST", "/flows", { body }), [400], `POST /flows ${body.slice(0, 100)}`);
        await expectNothingChanged("after an unusable POST /flows");
      }),
      { seed: 0x5eed_0606, numRuns: 40 },
    );
  }, 60_000);

  it("PATCH /connections/:id with a broken body gets a JSON 400 (404 for an unknown id) and changes nothing", async () => {
    const [before] = await database(env).select().from(connections).where(eq(connections.id, world.shopId));
    const breakage = fc.oneof(
      fc.tuple(
        fc.constant("name"),
        fc.oneof(
          notAString,
          fc.constant<unknown>(""),
          fc.integer({ min: 121, max: 10_000 }).map((n) => "n".repeat(n)),
        ),
      ),
      fc.tuple(fc.constant("settings"), notAnObject),
      fc.tuple(fc.constant("settings"), fc.constant({ shopDomain: "not a shop domain" } as unknown)),
      fc.tuple(fc.constant("credentials"), notAnObject),
      fc.tuple(fc.constant("webhookSecret"), fc.oneof(notAString, fc.string({ maxLength: 7 }))),
      fc.tuple(fc.constant("enabled"), notABoolean),
    );
    const target = fc.oneof(
      fc.constant(null),
      hostileString(30)
        .map((s) => s.toWellFormed())
        .filter((s) => s.trim() !== ""),
    );
    await fc.assert(
      fc.asyncProperty(breakage, extraKeys, target, async ([field, value], extra, id) => {
        const body = broken({}, field, value, extra);
        const path = `/connections/${id === null ? world.shopId : encodeURIComponent(id)}`;
        await expectClear4xx(
          await call("PATCH", path, { body }),
          id === null ? [400] : [400, 404],
          `PATCH ${path} ${body.slice(0, 200)}`,
        );
        await expectNothingChanged("after a broken PATCH");
      }),
      { seed: 0x5eed_0607, numRuns: 120 },
    );
    await fc.assert(
      fc.asyncProperty(unusableBody, async (body) => {
        await expectClear4xx(await call("PATCH", `/connections/${world.shopId}`, { body }), [400], `PATCH ${body.slice(0, 100)}`);
      }),
      { seed: 0x5eed_0608, numRuns: 40 },
    );
    const [after] = await database(env).select().from(connections).where(eq(connections.id, world.shopId));
    expect(after).toEqual(before);
  }, 60_000);

  it("a connection name up to 9 MiB long gets a JSON 400 (413 above the API's 1 MiB body limit) and creates nothing", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 121, max: 9 * 1024 * 1024 }), async (length) => {
        const body = JSON.stringify({ connector: "sandbox-ledger", name: "n".repeat(length) });
        const expected = body.length > 1024 * 1024 ? [413] : [400];
        await expectClear4xx(await call("POST", "/connections", { body }), expected, `name of ${length}`);
        await expectNothingChanged("after a huge name");
      }),
      { seed: 0x5eed_060d, numRuns: 6 },
    );
  }, 60_000);

  it("unicode edge cases in a valid connection name are stored as sent, or at least never make a 5xx", async () => {
    // Its own tenant: these bodies are valid and do create connections.
    const other = await createWorld();
    const name = hostileString(40).filter((n) => n.length > 0);
    await fc.assert(
      fc.asyncProperty(name, async (text) => {
        const made = await other.api("/connections", { body: { connector: "sandbox-ledger", name: text } });
        expect(made.status, JSON.stringify(made.body)).toBeLessThan(500);
        if (made.status !== 201) return;
        const read = await other.api(`/connections/${made.body.id}`);
        expect(read.status).toBe(200);
        // A lone surrogate cannot be stored as UTF-8 and reads back as U+FFFD: only well-formed text round-trips.
        if (text.isWellFormed()) expect(read.body.name).toBe(text);
      }),
      { seed: 0x5eed_060e, numRuns: 40 },
    );
  }, 60_000);
});
