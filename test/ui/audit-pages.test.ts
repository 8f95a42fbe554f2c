import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createWorld } from "../helpers/world";
import { signedIn } from "./ui-client";

const BASE_TIME = 1_700_000_000_000;

describe("the audit log's pages", () => {
  it("show every row once, newest first, when times are out of id order", async () => {
    const world = await createWorld();
    // 150 rows in id and time order, then a row written late with an early time, as an API call
    // that took long writes its row when it ends, stamped with when it started.
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150)
       INSERT INTO audit_log (tenant_id, actor, action, target, created_at)
       SELECT ?1, 'usr_x', 'connection.update', 'row-' || i, ?2 + i * 1000 FROM n`,
    )
      .bind(world.tenantId, BASE_TIME)
      .run();
    await env.DB.prepare(
      "INSERT INTO audit_log (tenant_id, actor, action, target, created_at) VALUES (?1, 'token:tok_x', 'api PATCH flows', 'row-late', ?2)",
    )
      .bind(world.tenantId, BASE_TIME + 10_500)
      .run();

    const { browser } = await signedIn(world.tenantId);
    const seen: string[] = [];
    let next: string | undefined = "/audit";
    for (let pages = 0; next && pages < 5; pages++) {
      expect((await browser.get(next)).status).toBe(200);
      seen.push(...[...browser.lastHtml.matchAll(/<td>(row-\w+)<\/td>/g)].map((m) => m[1] as string));
      next = /<a href="(\/audit\?[^"]+)" rel="next">/.exec(browser.lastHtml)?.[1]?.replaceAll("&amp;", "&");
    }
    const expected = [
      ...Array.from({ length: 140 }, (_, k) => `row-${150 - k}`),
      "row-late",
      ...Array.from({ length: 10 }, (_, k) => `row-${10 - k}`),
    ];
    expect(seen).toEqual(expected);
  });

  it("starts from the newest for a cursor it did not give out", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId);
    for (const query of ["?cursor=garbage", `?cursor=${btoa("123:abc")}`, "?before=5"]) {
      expect((await browser.get(`/audit${query}`)).status, query).toBe(200);
    }
  });
});
