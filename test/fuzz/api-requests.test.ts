/**
 * Hostile requests to the JSON API: random Authorization headers (401 on every route), retries of
 * transfers that do not exist, garbage query strings and random ids. Each is a clear 4xx in the
 * API's one error shape, never a 5xx, and nothing is created, changed or deleted.
 */
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { TRANSFER_STATUSES } from "../../src/db/schema";
import { STAGES } from "../../src/domain/stage";
import { BASE, createWorld, type World } from "../helpers/world";
import {
  apiCaller,
  expectClear4xx,
  headerValue,
  hostileJson,
  hostileString,
  notABoolean,
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

describe("hostile requests to the JSON API", () => {
  it("random Authorization headers get a JSON 401 on every route, and change nothing", async () => {
    const route = fc.constantFrom(
      ["GET", "/connections"],
      ["POST", "/connections"],
      ["PATCH", "/connections/x"],
      ["DELETE", "/connections/x"],
      ["GET", "/flows"],
      ["POST", "/flows"],
      ["GET", "/transfers"],
      ["POST", "/transfers/x/retry"],
      ["GET", "/ledger/invoices"],
      ["GET", "/connectors"],
      ["GET", "/no-such-route"],
    );
    const authorization = fc.oneof(
      fc.constant(undefined),
      headerValue(200),
      headerValue(100).map((v) => `Bearer ${v}`),
      headerValue(100).map((v) => `Basic ${btoa(v)}`),
      fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), maxLength: 48 }).map((v) => `Bearer oly_${v}`),
      headerValue(64).map((v) => `Bearer oly_${v}`),
      fc.nat({ max: 65_536 }).map((n) => `Bearer oly_${"f".repeat(n)}`),
      fc.constant(null).map(() => `Token ${world.token}`),
      fc.constant(null).map(() => `Bearer ${world.token}x`),
      fc.constant(null).map(() => `Bearer ${world.token}, Bearer ${world.token}`),
      fc.constant(null).map(() => `Bearer ${world.token.toUpperCase()}`),
      fc.constant(null).map(() => world.token),
    );
    await fc.assert(
      fc.asyncProperty(route, authorization, async ([method, path], auth) => {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (auth !== undefined) headers.authorization = auth;
        const body = method === "GET" ? undefined : JSON.stringify({ connector: "sandbox-ledger", name: "Sneaky" });
        const res = await SELF.fetch(`${BASE}/api/v1${path}`, { method, headers, ...(body ? { body } : {}) });
        await expectClear4xx(res, [401], `${method} ${path} with ${JSON.stringify(auth?.slice(0, 80))}`);
        await expectNothingChanged("after an unauthorised call");
      }),
      { seed: 0x5eed_0601, numRuns: 150 },
    );
  }, 60_000);

  it("POST /transfers/:id/retry of a random id with a random body gets a JSON 400 or 404", async () => {
    const id = fc.oneof(
      hostileString(40),
      headerValue(40),
      fc.nat({ max: 10_000 }).map((n) => "t".repeat(n)),
    );
    const body = fc.oneof(
      fc.constant(undefined),
      hostileJson.map((v) => JSON.stringify(v)),
      unusableBody,
      fc.record({ fromStart: notABoolean, useCurrentSettings: notABoolean }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
    );
    const contentType = fc.constantFrom("application/json", "text/plain", "");
    await fc.assert(
      fc.asyncProperty(id, body, contentType, async (transferId, text, type) => {
        const segment = encodeURIComponent(transferId.toWellFormed());
        const path = `/transfers/${segment}/retry`;
        const res = await call("POST", path, {
          ...(text === undefined ? {} : { body: text }),
          headers: { "content-type": type },
        });
        // 415 when the content type is not JSON: still a clear JSON error.
        await expectClear4xx(res, [400, 404, 415], `POST ${path.slice(0, 100)} ${text?.slice(0, 100)}`);
      }),
      { seed: 0x5eed_0609, numRuns: 120 },
    );
  }, 60_000);

  it("GET /transfers with a garbage limit, cursor, from or to gets a JSON 400", async () => {
    const garbage = fc.oneof(
      hostileString(30),
      headerValue(30),
      fc.constantFrom("", " ", "NaN", "1e400", "-1", "0", "201", "1.5", "0x10", "Infinity"),
    );
    const badLimit = garbage.filter((v) => {
      const n = Number(v);
      return !(Number.isInteger(n) && n >= 1 && n <= 200);
    });
    const badTime = garbage.filter((v) => !Number.isSafeInteger(Number(v)));
    const badCursor = fc
      .oneof(
        garbage,
        garbage.map((v) => btoa(encodeURIComponent(v.toWellFormed()))),
      )
      .filter((v) => {
        try {
          const [at, id] = atob(v).split(":");
          return !(at && id && Number.isFinite(Number(at)));
        } catch {
          return true;
        }
      });
    const bad = fc.oneof(
      badLimit.map((v) => ["limit", v] as const),
      badTime.map((v) => ["from", v] as const),
      badTime.map((v) => ["to", v] as const),
      badCursor.filter((v) => v !== "").map((v) => ["cursor", v] as const),
      garbage.filter((v) => !(TRANSFER_STATUSES as readonly string[]).includes(v)).map((v) => ["status", v] as const),
      garbage.filter((v) => !(STAGES as readonly string[]).includes(v)).map((v) => ["stage", v] as const),
    );
    const others = fc.dictionary(fc.constantFrom("order", "flow", "connection", "x", "limit"), headerValue(20), { maxKeys: 2 });
    await fc.assert(
      fc.asyncProperty(bad, others, async ([key, value], more) => {
        const query = new URLSearchParams({ ...more });
        query.delete(key);
        query.append(key, value.toWellFormed());
        const res = await call("GET", `/transfers?${query}`);
        await expectClear4xx(res, [400], `GET /transfers?${query.toString().slice(0, 200)}`);
      }),
      { seed: 0x5eed_060a, numRuns: 150 },
    );
  }, 60_000);

  it("GET /transfers with any raw query string answers 200 or a JSON 400, never a 5xx", async () => {
    const raw = fc.oneof(
      headerValue(200).map((v) => v.replace(/[#\s]/g, "")),
      fc.constantFrom("%", "%zz", "limit=%", "cursor=%E0%A4%A", "from=1&from=2", "limit=1&limit=2", "a=b=c&&&", "cursor==="),
    );
    await fc.assert(
      fc.asyncProperty(raw, async (query) => {
        const res = await call("GET", `/transfers?${query}`);
        if (res.status === 200) {
          expect(await res.json()).toMatchObject({ transfers: [] });
          return;
        }
        await expectClear4xx(res, [400], `GET /transfers?${query}`);
      }),
      { seed: 0x5eed_060b, numRuns: 100 },
    );
  }, 60_000);

  it("random ids in GET and DELETE routes get a JSON 400 or 404 and delete nothing", async () => {
    const route = fc.constantFrom(
      ["GET", "/connections/"],
      ["DELETE", "/connections/"],
      ["GET", "/flows/"],
      ["DELETE", "/flows/"],
      ["GET", "/transfers/"],
      ["GET", "/ledger/invoices/"],
    );
    const id = fc.oneof(
      hostileString(40),
      headerValue(40),
      fc.integer().map(String),
      fc.nat({ max: 20_000 }).map((n) => "i".repeat(n)),
    );
    await fc.assert(
      fc.asyncProperty(route, id, async ([method, prefix], value) => {
        const segment = encodeURIComponent(value.toWellFormed());
        if (segment === "" || segment === "." || segment === "..") return; // not an id once the URL is normalised
        const res = await call(method, `${prefix}${segment}`);
        await expectClear4xx(res, [400, 404], `${method} ${prefix}${segment.slice(0, 80)}`);
        await expectNothingChanged(`after ${method} ${prefix}`);
      }),
      { seed: 0x5eed_060c, numRuns: 100 },
    );
  }, 60_000);
});
