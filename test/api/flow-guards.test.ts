import { describe, expect, it } from "vitest";
import { createWorld } from "../helpers/world";
import { signedIn } from "../ui/ui-client";

const invoice = (target: string) => ({ target, action: "createInvoice" });

describe("a flow that would run a step of another enabled flow again", () => {
  it("is refused on create (409 flow_duplicate, naming the other flow and the step), and a double-click saves one flow", async () => {
    const world = await createWorld();
    const first = await world.api("/flows", {
      body: { name: "Paid to ledger", source: world.shopId, stage: "paid", steps: [invoice(world.ledgerId)] },
    });
    expect(first.status).toBe(201);
    const again = await world.api("/flows", {
      body: {
        name: "Paid to ledger (again)",
        source: world.shopId,
        stage: "paid",
        steps: [invoice(world.economicId), { ...invoice(world.ledgerId), settings: { invoiceState: "booked" } }],
      },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("flow_duplicate");
    expect(again.body.error.message).toContain(first.body.id);
    expect(again.body.error.message).toContain("Paid to ledger");
    expect(again.body.error.message).toContain("Step 2");
    expect(again.body.error.details).toMatchObject({
      flow: first.body.id,
      step: 2,
      target: world.ledgerId,
      action: "createInvoice",
    });

    // Two saves at once (a double-click, a setup script run twice): one flow, not two.
    const body = { name: "Paid to e-conomic", source: world.shopId, stage: "paid", steps: [invoice(world.economicId)] };
    const both = await Promise.all([world.api("/flows", { body }), world.api("/flows", { body })]);
    expect(both.map((r) => r.status).sort()).toEqual([201, 409]);
    const flows = (await world.api("/flows")).body.flows as Array<{ name: string }>;
    expect(flows.map((f) => f.name).sort()).toEqual(["Paid to e-conomic", "Paid to ledger"]);
  });

  it("allows the same step for another stage, and a disabled copy, but refuses enabling or changing it into a duplicate", async () => {
    const world = await createWorld();
    const paid = await world.flow("paid", [invoice(world.ledgerId)]);
    await world.flow("fulfilled", [invoice(world.ledgerId)]);
    const copy = await world.api("/flows", {
      body: { name: "Copy", source: world.shopId, stage: "paid", steps: [invoice(world.ledgerId)], enabled: false },
    });
    expect(copy.status).toBe(201);
    const enable = await world.api(`/flows/${copy.body.id}`, { method: "PATCH", body: { enabled: true } });
    expect(enable.status).toBe(409);
    expect(enable.body.error.message).toContain(paid);
    expect((await world.api(`/flows/${copy.body.id}`)).body.enabled).toBe(false);

    const other = await world.flow("paid", [invoice(world.economicId)]);
    const change = await world.api(`/flows/${other}`, { method: "PATCH", body: { steps: [invoice(world.ledgerId)] } });
    expect(change.status).toBe(409);
    expect(change.body.error.code).toBe("flow_duplicate");
    // A flow changed on its own steps is no duplicate of itself.
    const rename = await world.api(`/flows/${paid}`, { method: "PATCH", body: { name: "Renamed", enabled: true } });
    expect(rename.status).toBe(200);
    // Once the first is off, the copy may take over.
    expect((await world.api(`/flows/${paid}`, { method: "PATCH", body: { enabled: false } })).status).toBe(200);
    expect((await world.api(`/flows/${copy.body.id}`, { method: "PATCH", body: { enabled: true } })).status).toBe(200);
  });

  it("the flow form shows the reason and keeps what was typed", async () => {
    const world = await createWorld();
    const paid = await world.flow("paid", [invoice(world.ledgerId)]);
    const { browser } = await signedIn(world.tenantId);
    await browser.get("/flows/new");
    const res = await browser.post("/flows", {
      _op: "save",
      name: "My second ledger flow",
      source: world.shopId,
      stage: "paid",
      enabled: "on",
      stepCount: "1",
      "step0.use": `${world.ledgerId}|createInvoice`,
      "step0.settings.invoiceState": "booked",
    });
    expect(res.status).toBe(409);
    expect(browser.lastHtml).toContain(paid);
    expect(browser.lastHtml).toContain("My second ledger flow");
    expect(browser.lastHtml).toContain(`value="${world.ledgerId}|createInvoice" selected=""`);
    expect((await world.api("/flows")).body.flows).toHaveLength(1);
  });
});

describe("an action named after an object builtin", () => {
  it("is a 400 naming the unknown action, in the API", async () => {
    const world = await createWorld();
    for (const action of ["constructor", "toString", "__proto__", "hasOwnProperty"]) {
      const res = await world.api("/flows", {
        body: { name: "Odd", source: world.shopId, stage: "paid", steps: [{ target: world.ledgerId, action }] },
      });
      expect(res.status, action).toBe(400);
      expect(res.body.error.code).toBe("flow_action_invalid");
      expect(res.body.error.message).toContain(`no action "${action}"`);
    }
  });

  it("is a 400 with the reason in the flow form, not a 500 page", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId);
    await browser.get("/flows/new");
    for (const op of ["refresh", "save"]) {
      const res = await browser.post("/flows", {
        _op: op,
        name: "Odd",
        source: world.shopId,
        stage: "paid",
        enabled: "on",
        stepCount: "1",
        "step0.use": `${world.ledgerId}|constructor`,
      });
      expect(res.status, op).toBe(op === "save" ? 400 : 200);
      if (op === "save") expect(browser.lastHtml).toContain("no action &quot;constructor&quot;");
    }
  });
});

describe("a PATCH without `enabled`", () => {
  it("leaves a disabled flow disabled (the create schema's default used to switch it on)", async () => {
    const world = await createWorld();
    const off = await world.api("/flows", {
      body: { name: "Off", source: world.shopId, stage: "paid", steps: [invoice(world.ledgerId)], enabled: false },
    });
    expect(off.status).toBe(201);
    const renamed = await world.api(`/flows/${off.body.id}`, { method: "PATCH", body: { name: "Still off" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: "Still off", enabled: false });
    expect((await world.api(`/flows/${off.body.id}`)).body.enabled).toBe(false);
  });
});
