/**
 * With a mail connection, the outbox page is still there, as "Emails": a failed alert or invoice
 * e-mail shows in the UI, not only in the API (it used to be a 404 once a provider was chosen).
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { mailOutbox, tenants } from "../../src/db/schema";
import { createWorld } from "../helpers/world";
import { signedIn } from "./ui-client";

describe("the emails page", () => {
  it("lists a failed email with its reason when the tenant has a mail connection", async () => {
    const world = await createWorld();
    const mail = await world.api("/connections", {
      body: { connector: "resend", name: "Our Resend", settings: { from: "alerts@lund.dk" }, credentials: { apiKey: "re_test" } },
    });
    expect(mail.status, JSON.stringify(mail.body)).toBe(201);
    await database(env).update(tenants).set({ mailConnectionId: mail.body.id }).where(eq(tenants.id, world.tenantId));
    const id = `mail_${crypto.randomUUID()}`;
    await database(env)
      .insert(mailOutbox)
      .values({
        id,
        tenantId: world.tenantId,
        provider: "resend",
        idempotencyKey: "alert/failures/x",
        fromAddress: "alerts@lund.dk",
        toAddresses: ["ops@lund.dk"],
        subject: "3 transfers failed on e-conomic",
        text: "What happened",
        status: "failed",
        error: "Resend answered 422: the from domain is not verified",
        createdAt: Date.now(),
      });
    const { browser } = await signedIn(world.tenantId);
    expect((await browser.get("/outbox")).status).toBe(200);
    expect(browser.lastHtml).toContain("<h1>Emails</h1>");
    expect(browser.lastHtml).toContain("3 transfers failed on e-conomic");
    expect(browser.lastHtml).toContain('href="/outbox"');
    expect((await browser.get(`/outbox/${id}`)).status).toBe(200);
    expect(browser.lastHtml).toContain("the from domain is not verified");
  });

  it("is the dev outbox without a mail connection", async () => {
    const world = await createWorld();
    const { browser } = await signedIn(world.tenantId);
    expect((await browser.get("/outbox")).status).toBe(200);
    expect(browser.lastHtml).toContain("<h1>Dev outbox</h1>");
  });
});
