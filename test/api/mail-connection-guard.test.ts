/** The tenant's mail connection carries every alert: it cannot be deleted or switched off while chosen. */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import { createWorld } from "../helpers/world";
import { signedIn } from "../ui/ui-client";

describe("the tenant's mail connection", () => {
  it("is refused deletion and switching off (409, saying what to do), through the API and the UI", async () => {
    const world = await createWorld();
    const mail = await world.api("/connections", {
      body: { connector: "resend", name: "Our Resend", settings: { from: "alerts@lund.dk" }, credentials: { apiKey: "re_test" } },
    });
    expect(mail.status, JSON.stringify(mail.body)).toBe(201);
    await database(env).update(tenants).set({ mailConnectionId: mail.body.id }).where(eq(tenants.id, world.tenantId));

    const deleted = await world.api(`/connections/${mail.body.id}`, { method: "DELETE" });
    expect(deleted.status).toBe(409);
    expect(deleted.body.error.code).toBe("connection_is_mail_connection");
    expect(deleted.body.error.message).toContain('"Our Resend" sends this tenant\'s alert emails');
    const off = await world.api(`/connections/${mail.body.id}`, { method: "PATCH", body: { enabled: false } });
    expect(off.status).toBe(409);
    expect(off.body.error.message).toContain("cannot be switched off");
    // Renaming it is fine.
    expect((await world.api(`/connections/${mail.body.id}`, { method: "PATCH", body: { name: "Resend" } })).status).toBe(200);

    // The UI's delete button goes through the same handler and shows the message.
    const { browser } = await signedIn(world.tenantId);
    await browser.get(`/connections/${mail.body.id}`);
    const ui = await browser.post(`/connections/${mail.body.id}/delete`, {});
    expect(ui.status).toBe(303);
    expect((await world.api(`/connections/${mail.body.id}`)).status).toBe(200);

    // Once another choice is made, it can go.
    await database(env).update(tenants).set({ mailConnectionId: null }).where(eq(tenants.id, world.tenantId));
    expect((await world.api(`/connections/${mail.body.id}`, { method: "DELETE" })).status).toBe(204);
  });

  it("cannot be one that is switched off: every alert would fail to send (API and UI)", async () => {
    const world = await createWorld();
    const mail = await world.api("/connections", {
      body: {
        connector: "resend",
        name: "Paused Resend",
        enabled: false,
        settings: { from: "alerts@lund.dk" },
        credentials: { apiKey: "re_test" },
      },
    });
    expect(mail.status, JSON.stringify(mail.body)).toBe(201);
    const chosen = await world.api("/tenant", { method: "PATCH", body: { mailConnectionId: mail.body.id } });
    expect(chosen.status).toBe(400);
    expect(chosen.body.error.code).toBe("mail_connection_invalid");
    expect(chosen.body.error.message).toBe(
      'Mail connection "Paused Resend" is switched off: switch it on first, or choose another.',
    );
    const { browser } = await signedIn(world.tenantId);
    await browser.get("/notifications");
    const ui = await browser.post("/notifications", {
      alertEmails: "ops@lund.dk",
      reportSchedule: "off",
      silenceHours: "",
      mailConnectionId: mail.body.id,
      retentionDays: "90",
    });
    expect(ui.status).toBe(400);
    expect(browser.lastHtml).toContain("is switched off: switch it on first");
    const tenant = await world.api("/tenant");
    expect(tenant.body.mailConnectionId).toBeNull();
  });
});
