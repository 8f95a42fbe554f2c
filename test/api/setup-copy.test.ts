/**
 * Copying a shop's setup: its connections (settings, never credentials or secrets) and flows go
 * into another shop all or none; what needs credentials stays off until they are given, every
 * flow comes off, and a copied setup then runs orders like the one it came from.
 */
import { env, SELF } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { connections, flows, memberships } from "../../src/db/schema";
import { OrderlyError } from "../../src/domain/errors";
import { importSetup } from "../../src/worker/routes/api/setup";
import { shopifyDelivery } from "../fixtures/shopify";
import { BASE, createWorld, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { signedIn } from "../ui/ui-client";

async function resend(world: World): Promise<string> {
  const res = await world.api("/connections", {
    body: { connector: "resend", name: "Mail", settings: { from: "shop@lund.dk" }, credentials: { apiKey: "re_secret_key" } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

/**
 * A shop with a paid flow to the ledger and an e-mail step that names its mail connection; its
 * connections are named apart from a new world's, and its Shopify source names its own shop.
 */
async function template(): Promise<World & { mailId: string }> {
  const world = await createWorld();
  const mailId = await resend(world);
  for (const [id, name] of [
    [world.shopId, "Template shop"],
    [world.ledgerId, "Template ledger"],
    [world.economicId, "Template books"],
  ] as const) {
    const settings = id === world.shopId ? { shopDomain: "template-shop.myshopify.com", reconcile: true } : undefined;
    const res = await world.api(`/connections/${id}`, { method: "PATCH", body: { name, ...(settings ? { settings } : {}) } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  await world.flow("paid", [{ target: world.ledgerId, action: "createInvoice", settings: { invoiceState: "booked" } }]);
  const email = await world.api("/flows", {
    body: {
      name: "Email invoices",
      source: world.shopId,
      stage: "paid",
      filter: '$not(order.channel = "pos")',
      steps: [
        {
          target: world.economicId,
          action: "sendInvoiceEmail",
          settings: { mailConnection: mailId },
          mapping: '$ ~> |order|{"note": "Order " & source.orderNumber}|',
        },
      ],
    },
  });
  expect(email.status, JSON.stringify(email.body)).toBe(201);
  return { ...world, mailId };
}

const count = async (tenantId: string) => ({
  connections: (await database(env).select().from(connections).where(eq(connections.tenantId, tenantId))).length,
  flows: (await database(env).select().from(flows).where(eq(flows.tenantId, tenantId))).length,
});

describe("a shop's setup", () => {
  it("is exported with its settings and flows, and without credentials or secrets", async () => {
    const world = await template();
    const res = await world.api("/setup");
    expect(res.status).toBe(200);
    const text = JSON.stringify(res.body);
    for (const secret of ["app-ok", "grant-ok", "re_secret_key", world.secret]) expect(text).not.toContain(secret);
    expect(res.body.kind).toBe("orderly.setup");
    expect(res.body.connections.map((c: { connector: string }) => c.connector)).toEqual([
      "shopify",
      "sandbox-ledger",
      "economic",
      "resend",
    ]);
    const economic = res.body.connections.find((c: { connector: string }) => c.connector === "economic");
    expect(economic).toMatchObject({ ref: world.economicId, settings: { baseUrl: "https://economic.test" } });
    expect(res.body.flows[1]).toMatchObject({
      name: "Email invoices",
      source: world.shopId,
      stage: "paid",
      filter: '$not(order.channel = "pos")',
      steps: [{ target: world.economicId, action: "sendInvoiceEmail", settings: { mailConnection: world.mailId } }],
    });
  });

  it("is copied into another shop: credentials left to enter, flows off, references to the copies", async () => {
    const from = await template();
    const doc = (await from.api("/setup")).body;
    const into = await createWorld();
    const before = await count(into.tenantId);
    const res = await into.api("/setup", { body: doc });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(await count(into.tenantId)).toEqual({ connections: before.connections + 4, flows: before.flows + 2 });

    const byConnector = Object.fromEntries(res.body.connections.map((c: { connector: string }) => [c.connector, c]));
    // Nothing shared with the shop it came from: new ids, a new webhook secret for the source.
    for (const c of res.body.connections) expect([from.shopId, from.ledgerId, from.economicId, from.mailId]).not.toContain(c.id);
    expect(byConnector.shopify.webhookUrl).toBe(`${BASE}/hooks/${byConnector.shopify.id}`);
    expect(byConnector.shopify.webhookSecret).toMatch(/^[0-9a-f]{48}$/);
    // Needs credentials: off. Needs none (the sandbox ledger): as it was.
    expect(byConnector.economic.enabled).toBe(false);
    expect(byConnector.resend.enabled).toBe(false);
    expect(byConnector["sandbox-ledger"].enabled).toBe(true);
    const todo = res.body.todo.join("\n");
    expect(todo).toContain('Enter the credentials of "Template books" (economic)');
    // The other shop's own domain and its sweep are not carried over; a non-vendor address is pointed out.
    expect(todo).toContain('"Template shop": shopDomain was not copied');
    expect(todo).toContain('"Template shop": reconcile was not copied');
    expect(todo).toContain('"Template books": check its address https://economic.test');
    const shopCopy = (await into.api(`/connections/${byConnector.shopify.id}`)).body;
    expect(shopCopy.settings).not.toHaveProperty("shopDomain");
    expect(shopCopy.settings).not.toHaveProperty("reconcile");

    const copied = (await into.api("/flows")).body.flows.filter((f: { source: string }) => f.source === byConnector.shopify.id);
    expect(copied).toHaveLength(2);
    for (const f of copied) expect(f.enabled).toBe(false);
    const email = copied.find((f: { name: string }) => f.name === "Email invoices");
    expect(email.filter).toBe('$not(order.channel = "pos")');
    expect(email.steps[0]).toMatchObject({
      target: byConnector.economic.id,
      settings: { mailConnection: byConnector.resend.id },
      mapping: '$ ~> |order|{"note": "Order " & source.orderNumber}|',
    });

    // A connection that needs credentials is not switched on without them.
    const bare = await into.api(`/connections/${byConnector.economic.id}`, { method: "PATCH", body: { enabled: true } });
    expect(bare.status).toBe(400);
    expect(bare.body.error.code).toBe("credentials_required");
    expect(bare.body.error.message).toContain("copied from another shop");
    const withCredentials = await into.api(`/connections/${byConnector.economic.id}`, {
      method: "PATCH",
      body: { enabled: true, credentials: { appSecretToken: "app-ok", agreementGrantToken: "grant-ok" } },
    });
    expect(withCredentials.status, JSON.stringify(withCredentials.body)).toBe(200);
    // A connection switched off by its owner, credentials and all, switches on again as before.
    const off = await into.api(`/connections/${into.economicId}`, { method: "PATCH", body: { enabled: false } });
    expect(off.status).toBe(200);
    expect((await into.api(`/connections/${into.economicId}`, { method: "PATCH", body: { enabled: true } })).status).toBe(200);
  });

  it("copied, runs an order like the shop it came from", async () => {
    const from = await template();
    const into = await createWorld();
    const res = await into.api("/setup", { body: (await from.api("/setup")).body });
    expect(res.status).toBe(201);
    const shop = res.body.connections.find((c: { connector: string }) => c.connector === "shopify");
    const toLedger = (await into.api("/flows")).body.flows.find(
      (f: { source: string; name: string }) => f.source === shop.id && f.name === "paid flow",
    );
    expect((await into.api(`/flows/${toLedger.id}`, { method: "PATCH", body: { enabled: true } })).status).toBe(200);

    const order = shopifyOrder();
    const delivery = await shopifyDelivery("orders/paid", order, shop.webhookSecret);
    const hook = await SELF.fetch(shop.webhookUrl, { method: "POST", headers: delivery.headers, body: delivery.body });
    expect(hook.status).toBe(200);
    const [transfer] = await settledTransfers({ ...into, shopId: shop.id }, String(order.id), 1);
    expect(transfer).toMatchObject({ status: "completed", flowId: toLedger.id });
  });

  it("is not copied twice into one shop (a reload, a second click)", async () => {
    const from = await template();
    const doc = (await from.api("/setup")).body;
    const into = await createWorld();
    expect((await into.api("/setup", { body: doc })).status).toBe(201);
    const after = await count(into.tenantId);
    const again = await into.api("/setup", { body: doc });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("setup_copied_before");
    expect(again.body.error.message).toContain('already has a shopify connection named "Template shop"');
    expect(await count(into.tenantId)).toEqual(after);
  });

  it("is copied once when two copies start at the same moment (a double click): the other is refused, nothing of it written", async () => {
    const from = await template();
    const doc = (await from.api("/setup")).body;
    const into = await createWorld();
    const before = await count(into.tenantId);
    // Both pass the check before either writes; the write itself must refuse the second.
    const results = await Promise.allSettled([
      importSetup(env, into.tenantId, doc, BASE),
      importSetup(env, into.tenantId, doc, BASE),
    ]);
    const copied = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected").map((r) => r.reason);
    expect(copied).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(OrderlyError);
    expect(refused[0]).toMatchObject({ errorClass: "conflict", code: "setup_copied_before" });
    expect((refused[0] as OrderlyError).status).toBe(409);
    expect(await count(into.tenantId)).toEqual({ connections: before.connections + 4, flows: before.flows + 2 });
  });

  it("leaves out a Billy company id, and renames only the settings that name a connection", async () => {
    const from = await createWorld();
    const billy = await from.api("/connections", {
      body: { connector: "billy", name: "Billy A", settings: { organizationId: "org_A" }, credentials: { accessToken: "tok_a" } },
    });
    expect(billy.status, JSON.stringify(billy.body)).toBe(201);
    const doc = (await from.api("/setup")).body;
    const into = await createWorld();
    const renamedDoc = {
      ...doc,
      connections: doc.connections.map((c: { name: string }) => ({ ...c, name: `${c.name} (A)` })),
    };
    const res = await into.api("/setup", { body: renamedDoc });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const copy = res.body.connections.find((c: { connector: string }) => c.connector === "billy");
    expect((await into.api(`/connections/${copy.id}`)).body.settings).not.toHaveProperty("organizationId");
    expect(res.body.todo.join("\n")).toContain("organizationId was not copied (it is the other shop's Billy company)");
  });

  it("is refused whole, naming the flow or connection at fault, and nothing is written", async () => {
    const from = await template();
    const doc = (await from.api("/setup")).body;
    const into = await createWorld();
    const before = await count(into.tenantId);
    const expectRefused = async (body: unknown, message: string) => {
      const res = await into.api("/setup", { body });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.message).toContain(message);
      expect(await count(into.tenantId)).toEqual(before);
    };
    // A flow whose target is in no connection of the document (nor may it name one of the shop's own).
    await expectRefused(
      { ...doc, flows: [{ ...doc.flows[0], steps: [{ target: into.ledgerId, action: "createInvoice", settings: {} }] }] },
      `Flow 1 ("paid flow"): No connection in the document has the ref "${into.ledgerId}".`,
    );
    await expectRefused(
      { ...doc, flows: [{ ...doc.flows[0], steps: [{ ...doc.flows[0].steps[0], action: "explode" }] }] },
      'Flow 1 ("paid flow"): Step 1: sandbox-ledger has no action "explode"',
    );
    await expectRefused({ ...doc, flows: [{ ...doc.flows[0], filter: "order.(" }] }, 'Flow 1 ("paid flow")');
    await expectRefused(
      {
        ...doc,
        connections: doc.connections.map((c: { connector: string }) =>
          c.connector === "economic" ? { ...c, settings: { baseUrl: "http://10.0.0.1" } } : c,
        ),
      },
      'Connection "Template books"',
    );
    await expectRefused({ ...doc, connections: [...doc.connections, doc.connections[0]] }, "Two connections have the ref");
    await expectRefused({ ...doc, connections: [{ ...doc.connections[0], connector: "nope" }] }, 'Unknown connector "nope"');
    const wrongKind = await into.api("/setup", { body: { ...doc, kind: "something.else" } });
    expect(wrongKind.status).toBe(400);
  });

  it("is copied in the UI from another shop the person works in, by owners and admins only", async () => {
    const from = await template();
    const into = await createWorld();
    const { browser, user } = await signedIn(into.tenantId, "owner");
    const page = await browser.get("/setup");
    expect(page.status).toBe(200);
    // Not a member of `from` yet: it is not offered, and a forged choice is refused.
    expect(browser.lastHtml).not.toContain(from.tenantId);
    const forged = await browser.post("/setup/copy", { from: from.tenantId });
    expect(forged.status).toBe(400);
    expect(browser.lastHtml).toContain("choose one of the other shops you work in");

    await database(env).insert(memberships).values({ userId: user.id, tenantId: from.tenantId, role: "viewer" });
    await browser.get("/setup");
    expect(browser.lastHtml).toContain(`<option value="${from.tenantId}">`);
    const copied = await browser.post("/setup/copy", { from: from.tenantId });
    expect(copied.status).toBe(200);
    expect(browser.lastHtml).toContain("What is left to do");
    expect(browser.lastHtml).toMatch(/<code>[0-9a-f]{48}<\/code>/);
    expect((await count(into.tenantId)).flows).toBe(2);
    // The result page answered the POST: reloading it posts again, and is refused.
    expect((await browser.post("/setup/copy", { from: from.tenantId })).status).toBe(400);
    expect(browser.lastHtml).toContain("it looks copied before");
    expect((await count(into.tenantId)).flows).toBe(2);

    const download = await browser.get("/setup/export.json");
    expect(download.headers.get("content-disposition")).toContain("orderly-setup.json");
    expect(JSON.parse(browser.lastHtml).flows).toHaveLength(2);

    const viewer = await signedIn(into.tenantId, "viewer");
    await viewer.browser.get("/setup");
    expect(viewer.browser.lastHtml).toContain("can read but not change anything");
    expect((await viewer.browser.post("/setup/copy", { from: from.tenantId })).status).toBe(403);
  });
});
