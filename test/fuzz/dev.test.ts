/**
 * POST /dev/seed exists only where DEV_SEED_TOKEN is set (npm start); in tests it is not, so any
 * header or body gets the same JSON 404 as a route that does not exist, and seeds nothing.
 */
import { env, SELF } from "cloudflare:test";
import { count, eq } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { connections } from "../../src/db/schema";
import { DEMO } from "../../src/db/seed-demo";
import { BASE } from "../helpers/world";
import { expectClear4xx, headerValue, hostileJson, hostileString } from "./fuzz-helpers";

async function demoConnections(): Promise<number> {
  const [row] = await database(env).select({ n: count() }).from(connections).where(eq(connections.id, DEMO.shopId));
  return row?.n ?? 0;
}

describe("the dev seed endpoint when it is off", () => {
  it("answers a JSON 404 to any token, body and method, and seeds nothing", async () => {
    expect(env.DEV_SEED_TOKEN ?? "").toBe("");
    const before = await demoConnections();
    const token = fc.oneof(
      fc.constant(undefined),
      fc.constant(""),
      headerValue(64),
      fc.nat({ max: 8192 }).map((n) => "t".repeat(n)),
    );
    const body = fc.oneof(
      fc.constant(undefined),
      hostileJson.map((v) => JSON.stringify(v)),
      fc.constant(JSON.stringify({ webhookSecret: "a-secret-of-sorts" })),
      hostileString(200),
      fc.uint8Array({ maxLength: 4096 }),
    );
    const method = fc.constantFrom("POST", "POST", "POST", "GET", "PUT", "DELETE");
    const contentType = fc.constantFrom("application/json", "text/plain", "multipart/form-data; boundary=x", "");
    await fc.assert(
      fc.asyncProperty(token, body, method, contentType, async (seedToken, payload, verb, type) => {
        const headers: Record<string, string> = { "content-type": type };
        if (seedToken !== undefined) headers["x-dev-seed-token"] = seedToken;
        const send = verb === "GET" ? undefined : payload;
        const res = await SELF.fetch(`${BASE}/dev/seed`, {
          method: verb,
          headers,
          ...(send === undefined ? {} : { body: send }),
        });
        await expectClear4xx(res, [404], `${verb} /dev/seed`);
        expect(await demoConnections()).toBe(before);
      }),
      { seed: 0x5eed_0701, numRuns: 80 },
    );
  }, 60_000);
});
