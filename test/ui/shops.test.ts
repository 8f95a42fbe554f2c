/**
 * "All shops" (GET /shops): the figures of every shop the signed-in person belongs to and of no
 * other, those needing attention first, a filter, and an Open form that switches to the shop and
 * lands on its dashboard. The header links to it only for people in two or more shops. "Kept"
 * counts only refused deliveries still waiting (not replayed, not handled), of any age; each
 * count stops at COUNT_CAP and shows as "1,000+" there.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { COUNT_CAP, SHOPS_LIMIT } from "../../src/worker/routes/ui/data/shops-overview";
import { transferWithSteps } from "./step-rows";
import { addUser, Browser, PASSWORD } from "./ui-client";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function tenant(name: string): Promise<string> {
  const id = `ten_${crypto.randomUUID().slice(0, 12)}`;
  await env.DB.prepare("INSERT INTO tenants (id, name) VALUES (?, ?)").bind(id, name).run();
  return id;
}

const transfer = (tenantId: string, status: string, createdAt: number) =>
  transferWithSteps(tenantId, { updatedAt: createdAt, status }, []);

/** Dead letters' bodies: a refused delivery waiting, one a replay took, one a person handled, and a failed step's. */
const WAITING = { kind: "refused_delivery", connectionId: "con_shop" };
const REPLAYED = { ...WAITING, replayed: { at: 1, by: "someone@example.test", accepted: 1, ignored: false } };
const HANDLED = { ...WAITING, handled: { at: 1, by: "someone@example.test" } };
const STEP = { target: "con_ledger", action: "createInvoice", stepIndex: 0 };

const kept = (tenantId: string, createdAt: number, body: object = WAITING) =>
  env.DB.prepare("INSERT INTO dead_letters (tenant_id, body, reason, created_at) VALUES (?, ?, 'kept', ?)")
    .bind(tenantId, JSON.stringify(body), createdAt)
    .run();

const connection = (tenantId: string, pausedUntil: number | null) =>
  env.DB.prepare(
    "INSERT INTO connections (id, tenant_id, connector, name, settings, credentials, paused_until) VALUES (?, ?, 'ledger', 'Ledger', '{}', 'x', ?)",
  )
    .bind(`con_${crypto.randomUUID().slice(0, 12)}`, tenantId, pausedUntil)
    .run();

/** A person who belongs to each of `tenants` (the first as owner, the rest as viewer), signed in. */
async function personIn(tenantIds: string[]) {
  const email = `agency-${crypto.randomUUID().slice(0, 8)}@example.test`;
  for (const [i, id] of tenantIds.entries()) await addUser(id, i === 0 ? "owner" : "viewer", email);
  const browser = new Browser();
  await browser.get("/sign-in");
  expect((await browser.post("/sign-in", { email, password: PASSWORD })).status).toBe(303);
  return browser;
}

/** The table's rows as the text of their cells (the Open column left out). */
function tableRows(html: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? "";
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...(row[1] ?? "").matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)]
      .map((cell) =>
        (cell[1] ?? "")
          .replace(/<form[\s\S]*<\/form>/, "")
          .replace(/<[^>]+>/g, "")
          .replace(/\s+/g, " ")
          .trim(),
      )
      .slice(0, 7),
  );
}

/** Five shops of one agency, named so that name order is not attention order, and one shop of someone else. */
async function agency() {
  const tag = crypto.randomUUID().slice(0, 6);
  const now = Date.now();
  const failing = await tenant(`Zeta ${tag}`);
  const keptOnly = await tenant(`Yak ${tag}`);
  const paused = await tenant(`Xylo ${tag}`);
  const quiet = await tenant(`Alpha ${tag}`);
  const settled = await tenant(`Wren ${tag}`);
  const other = await tenant(`Other agency ${tag}`);
  // Zeta: two failed transfers (one ten days old, still failed), one completed in the last day,
  // one two days ago; a delivery kept this week and one eight days ago, both waiting (any age
  // counts), and three that wait for nobody: replayed, handled, a failed step's.
  await transfer(failing, "failed", now - 10 * DAY);
  await transfer(failing, "failed", now - 2 * HOUR);
  const newest = now - HOUR;
  await transfer(failing, "completed", newest);
  await transfer(failing, "completed", now - 2 * DAY);
  await kept(failing, now - 3 * DAY);
  await kept(failing, now - 8 * DAY);
  await kept(failing, now - DAY, REPLAYED);
  await kept(failing, now - DAY, HANDLED);
  await kept(failing, now - 2 * HOUR, STEP);
  // Yak: a transfer in the last day and two kept deliveries, nothing failed.
  await transfer(keptOnly, "completed", now - 5 * HOUR);
  await kept(keptOnly, now - DAY);
  await kept(keptOnly, now - 6 * DAY);
  // Wren: only dead letters that wait for nobody, so nothing needs attention.
  await kept(settled, now - HOUR, REPLAYED);
  await kept(settled, now - 2 * HOUR, HANDLED);
  await kept(settled, now - 3 * HOUR, STEP);
  // Xylo: one connection paused by the circuit breaker, one whose pause has run out, one fine.
  await connection(paused, now + HOUR);
  await connection(paused, now - HOUR);
  await connection(paused, null);
  // The other agency's shop fails too, and is none of this person's business.
  await transfer(other, "failed", now - HOUR);
  await kept(other, now - HOUR);
  return { tag, failing, keptOnly, paused, quiet, settled, other, newest };
}

describe("All shops", () => {
  it("lists the person's shops, and only theirs, with the figures of each, those needing attention first", async () => {
    const a = await agency();
    const browser = await personIn([a.quiet, a.failing, a.keptOnly, a.paused, a.settled]);
    const res = await browser.get("/shops");
    expect(res.status).toBe(200);
    expect(browser.lastHtml).not.toContain(`Other agency ${a.tag}`);
    expect(browser.lastHtml).not.toContain(a.other);
    expect(browser.lastHtml).toMatch(/<caption>[^<]*Your shops/);
    expect(browser.lastHtml).toContain('<th scope="col">Shop</th>');
    // The newest transfer's time, named for what it is: an order that starts no flow makes none.
    expect(browser.lastHtml).toContain('<th scope="col">Last transfer</th>');
    expect(browser.lastHtml).not.toContain("Last order");
    expect(browser.lastHtml).toMatch(/Kept, waiting\s*<\/th>/);
    const newest = `${new Date(a.newest).toISOString().slice(0, 19).replace("T", " ")} UTC`;
    // Shop, role, failed, last 24 h, last transfer, paused, kept deliveries waiting.
    expect(tableRows(browser.lastHtml)).toEqual([
      [`Zeta ${a.tag} needs attention`, "viewer", "2", "2", newest, "0", "2"],
      [`Yak ${a.tag} needs attention`, "viewer", "0", "1", expect.stringMatching(/ UTC$/), "0", "2"],
      [`Xylo ${a.tag} needs attention`, "viewer", "0", "0", "None yet", "1", "0"],
      [`Alpha ${a.tag} (current)`, "owner", "0", "0", "None yet", "0", "0"],
      [`Wren ${a.tag}`, "viewer", "0", "0", "None yet", "0", "0"],
    ]);

    // Needs attention only: the quiet shop goes, the rest keep their order.
    await browser.get("/shops?attention=1");
    expect(browser.lastHtml).toMatch(/name="attention" type="checkbox" value="1" checked/);
    expect(tableRows(browser.lastHtml).map((r) => r[0]?.split(" ")[0])).toEqual(["Zeta", "Yak", "Xylo"]);
    // A value the filter does not know shows every shop.
    await browser.get("/shops?attention=yes");
    expect(tableRows(browser.lastHtml)).toHaveLength(5);
  });

  it("Open switches to the shop and lands on its dashboard", async () => {
    const a = await agency();
    const browser = await personIn([a.quiet, a.keptOnly]);
    await browser.get("/shops");
    const form = new RegExp(
      `<form method="post" action="/switch-tenant" class="inline"><input type="hidden" name="_csrf" value="([^"]+)"/><input type="hidden" name="tenantId" value="${a.keptOnly}"/>`,
    );
    const token = form.exec(browser.lastHtml)?.[1];
    expect(token, "an Open form for Yak").toBeTruthy();
    const res = await browser.post("/switch-tenant", { tenantId: a.keptOnly }, { csrf: token ?? "" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    await browser.get("/");
    expect(browser.lastHtml).toContain(`Dashboard · Yak ${a.tag}`);
    // Open cannot reach a shop that is not theirs.
    await browser.get("/shops");
    expect((await browser.post("/switch-tenant", { tenantId: a.other })).status).toBe(404);
  });

  it("is linked from the header for people in two or more shops only; with one shop the page still answers", async () => {
    const a = await agency();
    const many = await personIn([a.quiet, a.failing]);
    await many.get("/transfers");
    expect(many.lastHtml).toContain('href="/shops"');
    await many.get("/shops");
    expect(many.lastHtml).toContain('href="/shops" aria-current="page"');

    const one = await personIn([a.quiet]);
    await one.get("/");
    expect(one.lastHtml).not.toContain('href="/shops"');
    const res = await one.get("/shops");
    expect(res.status).toBe(200);
    expect(tableRows(one.lastHtml)).toEqual([[`Alpha ${a.tag} (current)`, "owner", "0", "0", "None yet", "0", "0"]]);
  });

  it(`counts up to ${COUNT_CAP} of each figure a shop and shows "1,000+" there, and says so`, async () => {
    const tag = crypto.randomUUID().slice(0, 6);
    const now = Date.now();
    const busy = await tenant(`Busy ${tag}`);
    const quiet = await tenant(`Acorn ${tag}`);
    // Busy: 1,200 failed transfers, all in the last day, and 999 deliveries waiting.
    await env.DB.batch([
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < 1200)
         INSERT INTO transfers (id, tenant_id, flow_id, source_connection_id, order_id, stage, status, step_count, created_at, updated_at)
         SELECT printf('trp_busy_%s_%04d', ?1, i), ?2, 'flw_1', 'con_shop', 'ord' || i, 'paid', 'failed', 1, ?3 - i * 1000, ?3 - i * 1000 FROM n`,
      ).bind(tag, busy, now - HOUR),
      env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ${COUNT_CAP - 1})
         INSERT INTO dead_letters (tenant_id, body, reason, created_at) SELECT ?1, ?2, 'kept', ?3 - i * 1000 FROM n`,
      ).bind(busy, JSON.stringify(WAITING), now - HOUR),
    ]);
    const browser = await personIn([quiet, busy]);
    await browser.get("/shops");
    expect(tableRows(browser.lastHtml)[0]).toEqual([
      `Busy ${tag} needs attention`,
      "viewer",
      "1,000+",
      "1,000+",
      expect.stringMatching(/ UTC$/),
      "0",
      "999",
    ]);
    expect(browser.lastHtml).toMatch(/Counts stop at\s+1,000\./);
  });

  it(`shows the first ${SHOPS_LIMIT} shops by name and says there are more`, async () => {
    const tag = crypto.randomUUID().slice(0, 6);
    const email = `big-agency-${tag}@example.test`;
    const first = await tenant(`Big ${tag} 000`);
    const user = await addUser(first, "owner", email);
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       INSERT INTO tenants (id, name) SELECT printf('ten_big_%s_%03d', ?2, i), printf('Big %s %03d', ?2, i) FROM n`,
    )
      .bind(SHOPS_LIMIT + 4, tag)
      .run();
    await env.DB.prepare(
      "INSERT INTO memberships (user_id, tenant_id, role) SELECT ?1, id, 'viewer' FROM tenants WHERE id LIKE ?2",
    )
      .bind(user.id, `ten_big_${tag}_%`)
      .run();
    const browser = new Browser();
    await browser.get("/sign-in");
    await browser.post("/sign-in", { email, password: PASSWORD });
    await browser.get("/shops");
    const rows = tableRows(browser.lastHtml);
    expect(rows).toHaveLength(SHOPS_LIMIT);
    expect(rows.at(-1)?.[0]).toBe(`Big ${tag} ${String(SHOPS_LIMIT - 1).padStart(3, "0")}`);
    expect(browser.lastHtml).toContain(
      `You belong to ${SHOPS_LIMIT + 5} shops; this page shows the first ${SHOPS_LIMIT} by name.`,
    );
  });
});
