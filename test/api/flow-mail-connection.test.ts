/**
 * A flow step's `mailConnection` (sendInvoiceEmail) is checked like its target: it must be a mail
 * connection of the tenant, switched on while the flow runs, and it cannot be deleted or switched
 * off under an enabled flow. Otherwise every order's invoice would be booked and its e-mail fail.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { flows } from "../../src/db/schema";
import { createWorld, type World } from "../helpers/world";
import { signedIn } from "../ui/ui-client";

const emailStep = (target: string, mailConnection: string) => ({
  target,
  action: "sendInvoiceEmail",
  settings: { mailConnection },
});

async function resend(world: World, name: string, enabled = true): Promise<string> {
  const res = await world.api("/connections", {
    body: { connector: "resend", name, enabled, settings: { from: "shop@lund.dk" }, credentials: { apiKey: "re_test" } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
}

describe("a flow step's mail connection", () => {
  it("must be a mail connection of the tenant, switched on while the flow is enabled (400, saying which step)", async () => {
    const world = await createWorld();
    const flow = (mailConnection: string, enabled = true) =>
      world.api("/flows", {
        body: {
          name: "Email invoices",
          source: world.shopId,
          stage: "paid",
          enabled,
          steps: [emailStep(world.economicId, mailConnection)],
        },
      });

    const typo = await flow("con_typo");
    expect(typo.status).toBe(400);
    expect(typo.body.error.code).toBe("flow_mail_connection_invalid");
    expect(typo.body.error.message).toBe(
      "Step 1: mailConnection: connection con_typo was not found in this tenant; choose one of its Resend or Postmark connections.",
    );
    const ledger = await flow(world.ledgerId);
    expect(ledger.status).toBe(400);
    expect(ledger.body.error.message).toContain(`Connection ${world.ledgerId} is sandbox-ledger, not a mail provider`);

    // Another tenant's mail connection is not this tenant's.
    const other = await createWorld();
    expect((await flow(await resend(other, "Theirs"))).status).toBe(400);

    const off = await resend(world, "Paused Resend", false);
    const refused = await flow(off);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('"Paused Resend" is switched off');
    // A disabled flow may be set up with it, but not enabled until it is switched on.
    const disabled = await flow(off, false);
    expect(disabled.status).toBe(201);
    const enable = await world.api(`/flows/${disabled.body.id}`, { method: "PATCH", body: { enabled: true } });
    expect(enable.status).toBe(400);
    expect(enable.body.error.code).toBe("flow_mail_connection_invalid");
    expect((await world.api(`/connections/${off}`, { method: "PATCH", body: { enabled: true } })).status).toBe(200);
    expect((await world.api(`/flows/${disabled.body.id}`, { method: "PATCH", body: { enabled: true } })).status).toBe(200);

    // The review's case: a PATCH changing the step to a typo.
    const patched = await world.api(`/flows/${disabled.body.id}`, {
      method: "PATCH",
      body: { steps: [emailStep(world.economicId, "con_typo")] },
    });
    expect(patched.status).toBe(400);
    expect((await world.api(`/flows/${disabled.body.id}`)).body.steps[0].settings.mailConnection).toBe(off);
  });

  it("does not stop a disabled flow with a stale one from being renamed or kept off", async () => {
    const world = await createWorld();
    const mail = await resend(world, "Resend");
    const id = await world.flow("paid", [emailStep(world.economicId, mail)]);
    // Saved before mail connections were checked.
    await database(env)
      .update(flows)
      .set({ steps: [emailStep(world.economicId, "con_gone")] })
      .where(eq(flows.id, id));
    const off = await world.api(`/flows/${id}`, { method: "PATCH", body: { enabled: false } });
    expect(off.status, JSON.stringify(off.body)).toBe(200);
    const renamed = await world.api(`/flows/${id}`, { method: "PATCH", body: { name: "Old emails" } });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    // A PATCH without `enabled` leaves the flow as it was (it used to switch it on).
    expect(renamed.body.enabled).toBe(false);
    expect((await world.api(`/flows/${id}`, { method: "PATCH", body: { enabled: true } })).status).toBe(400);
  });

  it("cannot be deleted while a flow's step names it, nor switched off under an enabled one (409 naming the flow)", async () => {
    const world = await createWorld();
    const mail = await resend(world, "Shop Resend");
    const id = await world.flow("paid", [emailStep(world.economicId, mail)]);

    const deleted = await world.api(`/connections/${mail}`, { method: "DELETE" });
    expect(deleted.status).toBe(409);
    expect(deleted.body.error.code).toBe("connection_in_use");
    expect(deleted.body.error.message).toContain('"paid flow"');
    const off = await world.api(`/connections/${mail}`, { method: "PATCH", body: { enabled: false } });
    expect(off.status).toBe(409);
    expect(off.body.error.code).toBe("connection_in_use");
    expect(off.body.error.message).toContain(`"paid flow" (${id})`);
    expect((await world.api(`/connections/${mail}`)).body.enabled).toBe(true);

    // A disabled flow does not run: the connection may be switched off, but not deleted from under it.
    expect((await world.api(`/flows/${id}`, { method: "PATCH", body: { enabled: false } })).status).toBe(200);
    expect((await world.api(`/connections/${mail}`, { method: "PATCH", body: { enabled: false } })).status).toBe(200);
    expect((await world.api(`/connections/${mail}`, { method: "DELETE" })).status).toBe(409);
    expect((await world.api(`/flows/${id}`, { method: "DELETE" })).status).toBe(204);
    expect((await world.api(`/connections/${mail}`, { method: "DELETE" })).status).toBe(204);
  });

  it("is checked when the flow editor saves, with the reason on the form (not a not-found page)", async () => {
    const world = await createWorld();
    const mail = await resend(world, "Resend");
    const id = await world.flow("paid", [emailStep(world.economicId, mail)]);
    const { browser } = await signedIn(world.tenantId);
    await browser.get(`/flows/${id}`);
    const res = await browser.post(`/flows/${id}`, {
      _op: "save",
      name: "paid flow",
      source: world.shopId,
      stage: "paid",
      enabled: "on",
      stepCount: "1",
      "step0.use": `${world.economicId}|sendInvoiceEmail`,
      "step0.settings.mailConnection": "con_typo",
    });
    expect(res.status).toBe(400);
    expect(browser.lastHtml).toContain("connection con_typo was not found in this tenant");
    expect((await world.api(`/flows/${id}`)).body.steps[0].settings.mailConnection).toBe(mail);
  });

  it("is required of e-conomic's sendInvoiceEmail in an enabled flow once deployed, and not re-checked on a rename", async () => {
    const world = await createWorld();
    const noMail = await world.api("/flows", {
      body: {
        name: "Email invoices",
        source: world.shopId,
        stage: "paid",
        enabled: true,
        steps: [{ target: world.economicId, action: "sendInvoiceEmail", settings: {} }],
      },
    });
    expect(noMail.status).toBe(400);
    expect(noMail.body.error.code).toBe("flow_mail_connection_invalid");
    expect(noMail.body.error.message).toContain("Step 1: mailConnection: this step e-mails the invoice");
    // Saved disabled, it waits for a mail connection; switched on without one, it is refused.
    const draft = await world.api("/flows", {
      body: {
        name: "Email invoices",
        source: world.shopId,
        stage: "paid",
        enabled: false,
        steps: [{ target: world.economicId, action: "sendInvoiceEmail", settings: {} }],
      },
    });
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    const on = await world.api(`/flows/${draft.body.id}`, { method: "PATCH", body: { enabled: true } });
    expect(on.status).toBe(400);

    // An enabled flow whose mail connection went before these checks existed can still be renamed.
    const mail = await resend(world, "Resend");
    const id = await world.flow("fulfilled", [emailStep(world.economicId, mail)]);
    await database(env)
      .update(flows)
      .set({ steps: [emailStep(world.economicId, "con_gone")] })
      .where(eq(flows.id, id));
    const renamed = await world.api(`/flows/${id}`, { method: "PATCH", body: { name: "Renamed" } });
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(
      (await world.api(`/flows/${id}`, { method: "PATCH", body: { steps: [emailStep(world.economicId, "con_gone")] } })).status,
    ).toBe(400);
  });
});
