/**
 * "Kept, not processed" (/dead-letters): the dead letters a merchant reaches from the alert e-mail
 * in a browser, newest first and paged, tenant-scoped, and one of them with its reason, kept headers
 * and raw body (inline or from R2, read through the API's own code).
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { deadLetters, transfers } from "../../src/db/schema";
import { deadLetterPath } from "../../src/notifications/alert-emails";
import { BODY_SHOWN_BYTES } from "../../src/worker/routes/ui/dead-letters";
import { BASE, createWorld, type World } from "../helpers/world";
import { signedIn } from "./ui-client";

const BASE_TIME = 1_700_000_000_000;

/** A refused delivery as routes/hooks.ts keeps it: the body inline when given, else under an R2 key. */
async function keptDelivery(
  world: World,
  opts: { at?: number; body?: string; blobKey?: string; size?: number; reason?: string; order?: string | null; code?: string },
): Promise<number> {
  const at = opts.at ?? Date.now();
  const body = opts.body ?? null;
  const row = await database(env)
    .insert(deadLetters)
    .values({
      transferId: null,
      tenantId: world.tenantId,
      body: {
        kind: "refused_delivery",
        code: opts.code ?? "connection_disabled",
        connectionId: world.shopId,
        connector: "shopify",
        order: opts.order === undefined ? "#1001" : opts.order,
        receivedAt: at,
        headers: { "content-type": "application/json", "x-shopify-topic": "orders/paid" },
        raw: { body, blobKey: opts.blobKey ?? null, size: opts.size ?? (body ? new TextEncoder().encode(body).byteLength : 0) },
      },
      reason: opts.reason ?? "The connection is disabled. Enable it, then add a tag to the order in Shopify admin.",
      createdAt: at,
    })
    .returning({ id: deadLetters.id })
    .get();
  return row.id;
}

describe("kept deliveries in the UI", () => {
  it("lists them newest first, on (time, id) pages, with connection, code, order and reason", async () => {
    const world = await createWorld();
    // 60 rows over 55 times out of id order: five pairs share a time, so the id breaks the tie.
    const rows: Array<{ id: number; at: number }> = [];
    for (let i = 0; i < 60; i++) {
      const at = BASE_TIME + ((i * 7) % 55) * 1000;
      rows.push({ id: await keptDelivery(world, { at, body: `{"n":${i}}`, order: `#${2000 + i}` }), at });
    }
    const expected = [...rows].sort((a, b) => b.at - a.at || b.id - a.id).map((r) => String(r.id));

    const { browser } = await signedIn(world.tenantId, "viewer");
    const seen: string[] = [];
    let next: string | undefined = deadLetterPath();
    let pages = 0;
    for (; next && pages < 5; pages++) {
      expect((await browser.get(next)).status).toBe(200);
      seen.push(...[...browser.lastHtml.matchAll(/<a href="\/dead-letters\/(\d+)">/g)].map((m) => m[1] as string));
      next = /<a href="(\/dead-letters\?[^"]+)" rel="next">/.exec(browser.lastHtml)?.[1]?.replaceAll("&amp;", "&");
    }
    expect(pages).toBe(2);
    expect(seen).toEqual(expected);

    await browser.get("/dead-letters");
    expect(browser.lastHtml).toContain('aria-current="page">Kept, not processed</a>');
    expect(browser.lastHtml).toContain(`<a href="/connections/${world.shopId}">Shop</a>`);
    expect(browser.lastHtml).toContain("<code>connection_disabled</code>");
    expect(browser.lastHtml).toContain("<td>#2059</td>");
    expect(browser.lastHtml).toContain("add a tag to the order in Shopify admin");
    // A cursor it did not give out starts from the newest.
    for (const query of ["?cursor=garbage", `?cursor=${btoa("123:abc")}`]) {
      expect((await browser.get(`/dead-letters${query}`)).status, query).toBe(200);
    }
  });

  it("shows a failed step too, with its target and the order from its transfer", async () => {
    const world = await createWorld();
    const now = Date.now();
    const transferId = `trf_${crypto.randomUUID().slice(0, 8)}`;
    await database(env).insert(transfers).values({
      id: transferId,
      tenantId: world.tenantId,
      flowId: "flw_x",
      sourceConnectionId: world.shopId,
      orderId: "450789469",
      orderNumber: "#1077",
      stage: "paid",
      status: "failed",
      stepCount: 1,
      createdAt: now,
      updatedAt: now,
    });
    const row = await database(env)
      .insert(deadLetters)
      .values({
        transferId,
        tenantId: world.tenantId,
        body: {
          kind: "step",
          order: `${world.shopId}:450789469`,
          tenantId: world.tenantId,
          transferId,
          stepIndex: 0,
          target: world.ledgerId,
          action: "createInvoice",
          reason: "the ledger refused it",
        },
        reason: "the ledger refused it",
        createdAt: now,
      })
      .returning({ id: deadLetters.id })
      .get();
    const { browser } = await signedIn(world.tenantId, "viewer");
    await browser.get("/dead-letters");
    expect(browser.lastHtml).toContain(`<a href="/connections/${world.ledgerId}">Ledger</a>`);
    expect(browser.lastHtml).toContain("Step 1 failed · <code>createInvoice</code>");
    expect(browser.lastHtml).toContain("<td>#1077</td>");
    expect((await browser.get(`/dead-letters/${row.id}`)).status).toBe(200);
    expect(browser.lastHtml).toContain(`href="/transfers/${transferId}"`);
    expect(browser.lastHtml).toContain("the ledger refused it");
  });

  it("shows one with its whole reason, the headers kept and the body: inline JSON indented, an R2 body read from R2", async () => {
    const world = await createWorld();
    const reason = `Order 1001 could not be read: ${"the field total_price is not a number. ".repeat(10)}Fix it, then re-save the order.`;
    const inline = await keptDelivery(world, {
      body: '{"id":1001,"note":"<script>alert(1)</script>"}',
      reason,
    });
    const blobKey = `raw/${world.tenantId}/${world.shopId}/refused-test-${crypto.randomUUID()}`;
    const large = JSON.stringify({ id: 1002, lines: Array.from({ length: 50 }, (_, i) => ({ sku: `SKU-${i}` })) });
    await env.BLOBS.put(blobKey, large);
    const fromR2 = await keptDelivery(world, { blobKey, size: large.length, order: "#1002" });

    const { browser } = await signedIn(world.tenantId, "viewer");
    expect((await browser.get(deadLetterPath(inline))).status).toBe(200);
    const html = browser.lastHtml;
    expect(html).toContain(reason);
    expect(html).toContain("<code>x-shopify-topic</code>");
    expect(html).toContain("<code>orders/paid</code>");
    // Indented JSON, and the page escapes what the shop sent.
    expect(html).toContain(
      "{\n  &quot;id&quot;: 1001,\n  &quot;note&quot;: &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;\n}",
    );
    expect(html).not.toContain("<script>alert(1)");

    expect((await browser.get(deadLetterPath(fromR2))).status).toBe(200);
    expect(browser.lastHtml).toContain("&quot;sku&quot;: &quot;SKU-49&quot;");
    expect(browser.lastHtml).not.toContain("Cut:");

    // The API reads the same body through the same code.
    const api = await world.api(`/dead-letters/${fromR2}`);
    expect(api.body.rawBody).toBe(large);
  });

  it("shows a large R2 body's start only, says so, and says when the body is gone", async () => {
    const world = await createWorld();
    const blobKey = `raw/${world.tenantId}/${world.shopId}/refused-big-${crypto.randomUUID()}`;
    // An odd-length start, so the cut falls inside a two-byte "é".
    const big = `{"id":10031,"pad":"${"é".repeat(BODY_SHOWN_BYTES)}"}`;
    await env.BLOBS.put(blobKey, big);
    const size = new TextEncoder().encode(big).byteLength;
    const cut = await keptDelivery(world, { blobKey, size, order: "#1003", code: "event_too_large" });
    const gone = await keptDelivery(world, { blobKey: `${blobKey}-gone`, size: 5000 });

    const { browser } = await signedIn(world.tenantId);
    expect((await browser.get(`/dead-letters/${cut}`)).status).toBe(200);
    expect(browser.lastHtml).toContain("only the first 256 KB of 512 KB are shown");
    expect(browser.lastHtml).toContain(`GET /api/v1/dead-letters/${cut}`);
    expect(browser.lastHtml).toContain("{&quot;id&quot;:10031,&quot;pad&quot;:&quot;éé");
    expect(browser.lastHtml).not.toContain("�");

    expect((await browser.get(`/dead-letters/${gone}`)).status).toBe(200);
    expect(browser.lastHtml).toContain("The body is no longer stored (it was 5 KB)");
  });

  it("answers 404 for another tenant's, and lists none of them", async () => {
    const mine = await createWorld();
    const theirs = await createWorld();
    const id = await keptDelivery(theirs, { body: '{"id":9}', reason: "Their secret reason" });
    const { browser } = await signedIn(mine.tenantId);
    for (const path of [`/dead-letters/${id}`, "/dead-letters/0", "/dead-letters/abc", `/dead-letters/${id}9999999`]) {
      expect((await browser.get(path)).status, path).toBe(404);
      expect(browser.lastHtml).not.toContain("Their secret reason");
    }
    await browser.get("/dead-letters");
    expect(browser.lastHtml).not.toContain("Their secret reason");
    expect(browser.lastHtml).toContain("Nothing kept");
  });

  it("sends a signed-out visitor to sign in, and back to the page after", async () => {
    const world = await createWorld();
    const id = await keptDelivery(world, { body: "{}" });
    for (const path of ["/dead-letters", `/dead-letters/${id}`]) {
      const res = await SELF.fetch(`${BASE}${path}`, { redirect: "manual" });
      expect(res.status, path).toBe(303);
      expect(res.headers.get("location")).toBe(`/sign-in?next=${encodeURIComponent(path)}`);
    }
  });
});
