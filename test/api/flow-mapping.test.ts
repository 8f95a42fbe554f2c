/**
 * A step's mapping over the API (kept with the step, refused at save naming the step, previewable
 * on a transfer of the tenant's own log) and in the UI (the editor's field, its error beside the
 * step, and the dry run showing what the mapping makes).
 */
import { describe, expect, it } from "vitest";
import { createWorld, settledTransfers, shopifyOrder, type World } from "../helpers/world";
import { signedIn } from "../ui/ui-client";

const PREFIX = '$ ~> |order.lines|{"title": "Webshop: " & title}|';
const step = (world: World, mapping?: string | null) => ({
  target: world.ledgerId,
  action: "createInvoice",
  ...(mapping === undefined ? {} : { mapping }),
});

async function oneTransfer(world: World, steps: object[] = [step(world)]) {
  await world.flow("paid", steps as never);
  const order = shopifyOrder();
  await world.sendShopify("orders/paid", order);
  const [transfer] = await settledTransfers(world, String(order.id), 1);
  return { transferId: transfer.id as string, order };
}

describe("step mapping over the API", () => {
  it("is kept with its step on create, read and update; none when null or empty", async () => {
    const world = await createWorld();
    const created = await world.api("/flows", {
      body: { name: "Mapped", source: world.shopId, stage: "paid", steps: [step(world, ` ${PREFIX} `)] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.steps[0].mapping).toBe(PREFIX);
    const id = created.body.id as string;
    expect((await world.api(`/flows/${id}`)).body.steps[0].mapping).toBe(PREFIX);
    const cleared = await world.api(`/flows/${id}`, { method: "PATCH", body: { steps: [step(world, "  ")] } });
    expect(cleared.status).toBe(200);
    expect(cleared.body.steps[0]).not.toHaveProperty("mapping");
    expect((await world.api(`/flows/${id}`, { method: "PATCH", body: { steps: [step(world, null)] } })).status).toBe(200);
  });

  it("refuses a mapping that does not parse, or uses a regular expression, naming the step; nothing is saved", async () => {
    const world = await createWorld();
    const bad = await world.api("/flows", {
      body: {
        name: "Bad",
        source: world.shopId,
        stage: "paid",
        steps: [step(world), { target: world.ledgerId, action: "registerPayment", mapping: "$ ~> |order|{" }],
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("flow_mapping_invalid");
    expect(bad.body.error.message).toMatch(
      /^Step 2: mapping: the JSONata expression does not parse: .+ \(S\d+ at character \d+\)\.$/,
    );
    expect(bad.body.error.details).toMatchObject({ step: 2, jsonata: expect.stringMatching(/^S/), position: expect.any(Number) });
    expect((await world.api("/flows")).body.flows).toHaveLength(0);

    const id = await world.flow("paid", [step(world)]);
    const regex = await world.api(`/flows/${id}`, {
      method: "PATCH",
      body: { steps: [step(world, '$ ~> |order.lines|{"title": $replace(title, /a+/, "b")}|')] },
    });
    expect(regex.status).toBe(400);
    expect(regex.body.error.code).toBe("flow_mapping_invalid");
    expect(regex.body.error.message).toContain("Step 1: mapping: regular expressions (/…/) are not allowed in a mapping");
    expect((await world.api(`/flows/${id}`)).body.steps[0]).not.toHaveProperty("mapping");
  });

  it("refuses a mapping that reads the clock or chance ($now, $millis, $random, $shuffle): it runs on every attempt", async () => {
    const world = await createWorld();
    for (const fn of ["$now()", "$millis()", "$random()", "$shuffle(lines)"]) {
      const res = await world.api("/flows", {
        body: {
          name: "Dated",
          source: world.shopId,
          stage: "paid",
          steps: [step(world, `$ ~> |order|{"note": $string(${fn})}|`)],
        },
      });
      expect(res.status, fn).toBe(400);
      expect(res.body.error.code).toBe("flow_mapping_invalid");
      expect(res.body.error.message).toContain("a mapping runs on every attempt and must give the same result each time");
    }
    expect((await world.api("/flows")).body.flows).toHaveLength(0);
    // A filter is evaluated once, when the transfer is planned: it may still read the clock.
    const filtered = await world.api("/flows", {
      body: {
        name: "Recent",
        source: world.shopId,
        stage: "paid",
        filter: "$now() > order.source.createdAt",
        steps: [step(world)],
      },
    });
    expect(filtered.status, JSON.stringify(filtered.body)).toBe(201);
  });

  it("previews a mapping on a transfer from the log: the mapped input, the error, or a refusal", async () => {
    const world = await createWorld();
    // Two steps on the ledger: the second one's `previous` holds the invoice the first made.
    const { transferId, order } = await oneTransfer(world, [step(world), { target: world.ledgerId, action: "registerPayment" }]);
    const preview = (mapping: string, extra: Record<string, unknown> = {}) =>
      world.api("/flows/mapping-preview", { body: { mapping, transferId, ...extra } });

    const ok = await preview(PREFIX);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.error).toBeNull();
    expect(ok.body.stepIndex).toBe(0);
    expect(ok.body.input.order.lines.map((l: { title: string }) => l.title)).toEqual(["Webshop: T-shirt"]);
    expect(ok.body.input.order.source.orderNumber).toBe(order.name);

    // `previous` holds what the transfer's earlier steps on the same connection returned.
    const previous = await world.api("/flows/mapping-preview", {
      body: { mapping: '$ ~> |order|{"note": "Invoice " & $$.previous[0].externalId}|', transferId, stepIndex: 1 },
    });
    const invoice = (await world.api(`/ledger/invoices?connection=${world.ledgerId}`)).body.invoices[0];
    expect(previous.body.input.order.note).toBe(`Invoice ${invoice.id}`);

    const failing = await preview('$ ~> |order|{"currency": "EUR"}|');
    expect(failing.status).toBe(200);
    expect(failing.body.input).toBeNull();
    expect(failing.body.error).toContain('changed order.currency from "DKK" to "EUR"');
    // No mapping: the input as it is.
    expect((await preview("")).body.input.order.lines[0].title).toBe("T-shirt");

    const bad = await preview("$ ~> |order|{");
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("flow_mapping_invalid");
    expect((await world.api("/flows/mapping-preview", { body: { mapping: "$", transferId: "trf_nope" } })).status).toBe(404);

    const mine = await createWorld();
    const theirs = await mine.api("/flows/mapping-preview", { body: { mapping: "$", transferId } });
    expect(theirs.status).toBe(404);
  });

  it("is documented in the OpenAPI document", async () => {
    const world = await createWorld();
    const doc = (await world.api("/openapi.json")).body;
    expect(doc.paths["/flows/mapping-preview"].post.summary).toContain("mapping");
    expect(doc.components.schemas.FlowStep.properties.mapping.description).toContain("flow_mapping_invalid");
  });
});

describe("step mapping in the UI", () => {
  const form = (world: World, extra: Record<string, string>) => ({
    name: "Mapped",
    source: world.shopId,
    stage: "paid",
    stepCount: "1",
    "step0.use": `${world.ledgerId}|createInvoice`,
    ...extra,
  });

  it("has a field per step, shows a refused mapping's error beside its step, saves a good one", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId);
    await browser.get("/flows/new");
    expect(browser.lastHtml).toContain("Advanced: mapping (JSONata)");
    expect(browser.lastHtml).toContain("Shop order");

    const refused = await browser.post("/flows", form(world, { _op: "save", "step0.mapping": "$ ~> |order|{" }));
    expect(refused.status).toBe(400);
    // Beside the step: in its (opened) details, tied to the textarea.
    expect(browser.lastHtml).toMatch(
      /<details class="mapping" open="">[\s\S]*id="step0-mapping-error"[^>]*>Step 1: mapping: the JSONata/,
    );
    expect(browser.lastHtml).toContain('aria-invalid="true"');
    expect(browser.lastHtml).toContain("$ ~&gt; |order|{</textarea>");

    await browser.get("/flows/new");
    const saved = await browser.post("/flows", form(world, { _op: "save", "step0.mapping": PREFIX }));
    expect(saved.status).toBe(303);
    const flows = (await world.api("/flows")).body.flows as Array<{ name: string; steps: Array<{ mapping?: string }> }>;
    expect(flows.find((f) => f.name === "Mapped")?.steps[0]?.mapping).toBe(PREFIX);
  });

  it("dry run shows the order as each step's mapping makes it, or its error", async () => {
    const world = await createWorld();
    await oneTransfer(world);
    const other = (await world.api("/connections", { body: { connector: "sandbox-ledger", name: "Ledger 2" } })).body.id;
    const flow = await world.api("/flows", {
      body: {
        name: "Two ledgers",
        source: world.shopId,
        stage: "fulfilled",
        steps: [
          { target: other, action: "createInvoice", mapping: PREFIX },
          { target: world.ledgerId, action: "createInvoice", mapping: '$ ~> |order.lines[0]|{"unitPrice": 12.5}|' },
        ],
      },
    });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    const { browser } = await signedIn(world.tenantId);
    await browser.get(`/flows/${flow.body.id}/dry-run`);
    const html = browser.lastHtml;
    expect(html).toContain("The order as step 1&#39;s mapping makes it");
    expect(html).toContain("Webshop: T-shirt");
    expect(html).toContain("This step&#39;s mapping fails on this order");
    expect(html).toContain("order.lines[0].unitPrice");
  });
});
