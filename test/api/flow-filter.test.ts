/**
 * The API's side of a flow's filter: kept on create, update and read, refused at save when it does
 * not parse or is too long, and previewable on a transfer of the tenant's own log; and the flow
 * editor's field and preview button in the UI.
 */
import { describe, expect, it } from "vitest";
import { createWorld, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { signedIn } from "../ui/ui-client";

const steps = (world: World) => [{ target: world.ledgerId, action: "createInvoice" }];

async function oneTransfer(world: World, overrides: Record<string, unknown> = {}) {
  await world.flow("paid", steps(world));
  const order = shopifyOrder(overrides);
  await world.sendShopify("orders/paid", order);
  const [transfer] = await settledTransfers(world, String(order.id), 1);
  return transfer.id as string;
}

describe("flow filter over the API", () => {
  it("is kept on create, read and update; null by default; removed with null or empty", async () => {
    const world = await createWorld();
    const plain = await world.flow("paid", steps(world));
    expect((await world.api(`/flows/${plain}`)).body.filter).toBeNull();

    const created = await world.api("/flows", {
      body: {
        name: "DK",
        source: world.shopId,
        stage: "fulfilled",
        filter: ' order.billingAddress.country = "DK" ',
        steps: steps(world),
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.filter).toBe('order.billingAddress.country = "DK"');
    const id = created.body.id as string;
    expect((await world.api(`/flows/${id}`)).body.filter).toBe('order.billingAddress.country = "DK"');

    // A PATCH without `filter` keeps it.
    expect((await world.api(`/flows/${id}`, { method: "PATCH", body: { name: "Danish" } })).body.filter).toBe(
      'order.billingAddress.country = "DK"',
    );
    const changed = await world.api(`/flows/${id}`, { method: "PATCH", body: { filter: "$exists(order.customer.vatNumber)" } });
    expect(changed.body.filter).toBe("$exists(order.customer.vatNumber)");
    expect((await world.api(`/flows/${id}`, { method: "PATCH", body: { filter: "  " } })).body.filter).toBeNull();
    await world.api(`/flows/${id}`, { method: "PATCH", body: { filter: "true" } });
    expect((await world.api(`/flows/${id}`, { method: "PATCH", body: { filter: null } })).body.filter).toBeNull();
  });

  it("refuses a filter that does not parse, or is too long, with JSONata's message and position; nothing is saved", async () => {
    const world = await createWorld();
    const bad = await world.api("/flows", {
      body: { name: "Bad", source: world.shopId, stage: "paid", filter: "order.tags[", steps: steps(world) },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("flow_filter_invalid");
    expect(bad.body.error.message).toBe(
      'Filter: the JSONata expression does not parse: Expected "]" before end of expression (S0203 at character 11).',
    );
    expect(bad.body.error.details).toMatchObject({ jsonata: "S0203", position: 11 });
    expect((await world.api("/flows")).body.flows).toHaveLength(0);

    const long = await world.api("/flows", {
      body: { name: "Long", source: world.shopId, stage: "paid", filter: `"${"x".repeat(2000)}"`, steps: steps(world) },
    });
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe("flow_filter_invalid");
    expect(long.body.error.message).toContain("at most 2000");

    const id = await world.flow("paid", steps(world));
    const patched = await world.api(`/flows/${id}`, { method: "PATCH", body: { filter: "$not(" } });
    expect(patched.status).toBe(400);
    expect(patched.body.error.code).toBe("flow_filter_invalid");
    expect((await world.api(`/flows/${id}`)).body.filter).toBeNull();
  });

  it("previews a filter on a transfer from the log: match, no match, the run-time error, or a refusal", async () => {
    const world = await createWorld();
    const transferId = await oneTransfer(world, { tags: "wholesale" });
    const preview = (filter: string, id = transferId) => world.api("/flows/filter-preview", { body: { filter, transferId: id } });

    expect((await preview('"wholesale" in order.tags')).body).toEqual({ transferId, match: true, error: null });
    expect((await preview('$not("wholesale" in order.tags)')).body).toEqual({ transferId, match: false, error: null });
    expect((await preview('order.billingAddress.country = "DK"')).body.match).toBe(true);
    const failing = await preview('order.totals.total + "x"');
    expect(failing.status).toBe(200);
    expect(failing.body.match).toBeNull();
    expect(failing.body.error).toContain("T2002");
    // An empty filter is no filter: every order.
    expect((await preview("")).body.match).toBe(true);

    const bad = await preview("order.(");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("flow_filter_invalid");
    expect((await preview("true", "trf_nope")).status).toBe(404);
  });

  it("does not preview another tenant's transfer (404)", async () => {
    const theirs = await createWorld();
    const theirTransfer = await oneTransfer(theirs);
    const mine = await createWorld();
    const res = await mine.api("/flows/filter-preview", { body: { filter: "true", transferId: theirTransfer } });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("not_found");
    expect(JSON.stringify(res.body)).not.toContain("order");
  });
});

describe("flow filter in the UI", () => {
  const form = (world: World, extra: Record<string, string>) => ({
    name: "Filtered",
    source: world.shopId,
    stage: "paid",
    stepCount: "1",
    "step0.use": `${world.ledgerId}|createInvoice`,
    ...extra,
  });

  it("shows the field with examples, refuses bad syntax with JSONata's message, saves a good one, and previews it", async () => {
    const world = await createWorld();
    const transferId = await oneTransfer(world, { tags: "wholesale" });
    const { browser } = await signedIn(world.tenantId);
    await browser.get("/flows/new");
    expect(browser.lastHtml).toContain("Filter (optional)");
    expect(browser.lastHtml).toContain("order.billingAddress.country");

    const refused = await browser.post("/flows", form(world, { _op: "save", filter: "order.tags[", stage: "fulfilled" }));
    expect(refused.status).toBe(400);
    expect(browser.lastHtml).toContain("Expected &quot;]&quot; before end of expression (S0203 at character 11)");
    // The typed filter stays in the form to be fixed.
    expect(browser.lastHtml).toContain("order.tags[</textarea>");

    await browser.get("/flows/new");
    const tried = await browser.post(
      "/flows",
      form(world, { _op: "preview", filter: '$not("wholesale" in order.tags)', previewTransfer: transferId }),
    );
    expect(tried.status).toBe(200);
    expect(browser.lastHtml).toContain(`No match: the flow would not take transfer ${transferId}`);

    await browser.get("/flows/new");
    const saved = await browser.post("/flows", form(world, { _op: "save", stage: "fulfilled", filter: '"vip" in order.tags' }));
    expect(saved.status).toBe(303);
    const flows = (await world.api("/flows")).body.flows as Array<{ name: string; filter: string | null }>;
    expect(flows.find((f) => f.name === "Filtered")?.filter).toBe('"vip" in order.tags');
  });
});
