/**
 * A connection whose stored credentials cannot be decrypted (CREDENTIALS_KEY replaced or lost, or
 * a damaged row): its page says so and why, and the edit form takes new credentials whole.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { toBase64 } from "../../src/connectors/signatures";
import { loadConnection } from "../../src/db/connections";
import { encryptJson, encryptSecret } from "../../src/db/credentials";
import { createWorld } from "../helpers/world";
import { signedIn } from "./ui-client";

/** A key with the test key's id ("k1") but other material: the key was replaced, not rotated. */
const replacedKey = { CREDENTIALS_KEY: toBase64(crypto.getRandomValues(new Uint8Array(32))) };

async function store(id: string, column: "credentials" | "webhook_secret", value: string): Promise<void> {
  await env.DB.prepare(`UPDATE connections SET ${column} = ? WHERE id = ?`).bind(value, id).run();
}

async function loseEconomicCredentials(economicId: string): Promise<void> {
  await store(economicId, "credentials", await encryptJson(replacedKey, { appSecretToken: "old", agreementGrantToken: "old" }));
}

async function auditDetails(tenantId: string, target: string): Promise<Array<Record<string, unknown>>> {
  const rows = await env.DB.prepare(
    "SELECT details FROM audit_log WHERE tenant_id = ? AND action = 'connection.update' AND target = ? ORDER BY id",
  )
    .bind(tenantId, target)
    .all<{ details: string }>();
  return rows.results.map((r) => JSON.parse(r.details) as Record<string, unknown>);
}

const NOTICE = "credentials cannot be read and must be entered again";
const ECONOMIC = { enabled: "on", "settings.baseUrl": "https://economic.test" };

describe("repairing a connection whose stored credentials cannot be read, in the UI", () => {
  it("shows why on its page, keeps the list, dashboard and test working, and saves new credentials whole", async () => {
    const world = await createWorld();
    await loseEconomicCredentials(world.economicId);
    const { browser } = await signedIn(world.tenantId, "admin");

    expect((await browser.get("/connections")).status).toBe(200);
    expect(browser.lastHtml).toContain("e-conomic");
    expect((await browser.get("/")).status).toBe(200);
    expect((await browser.get(`/connections/${world.economicId}?test=1`)).status).toBe(200);
    expect(browser.lastHtml).toContain(NOTICE);
    expect(browser.lastHtml).toMatch(/CREDENTIALS_KEY is replaced or lost/);
    expect(browser.lastHtml).toMatch(/<li class="bad">.*cannot be read/);
    // A blank field cannot keep a value nobody can read: the form does not say it would.
    expect(browser.lastHtml).not.toContain("leave blank to keep the stored value");

    // A rename alone saves; the credentials stay unreadable, and the page still says so.
    const renamed = await browser.post(`/connections/${world.economicId}`, { name: "Books", ...ECONOMIC });
    expect(renamed.status).toBe(303);
    await browser.get(`/connections/${world.economicId}`);
    expect(browser.lastHtml).toContain("<h1>Books</h1>");
    expect(browser.lastHtml).toContain(NOTICE);

    // One credential typed: a blank one cannot keep a value no one can read.
    const half = await browser.post(`/connections/${world.economicId}`, {
      name: "Books",
      ...ECONOMIC,
      "credentials.appSecretToken": "typed-app",
    });
    expect(half.status).toBe(400);
    expect(browser.lastHtml).toContain("agreementGrantToken");
    expect(browser.lastHtml).toContain("fill in every credential");
    expect(browser.lastHtml).not.toContain("typed-app");

    const repaired = await browser.post(`/connections/${world.economicId}`, {
      name: "Books",
      ...ECONOMIC,
      "credentials.appSecretToken": "new-app",
      "credentials.agreementGrantToken": "new-grant",
    });
    expect(repaired.status).toBe(303);
    await browser.get(`/connections/${world.economicId}`);
    expect(browser.lastHtml).not.toContain(NOTICE);
    const loaded = await loadConnection(env, world.economicId, world.tenantId);
    expect(loaded?.credentials).toEqual({ appSecretToken: "new-app", agreementGrantToken: "new-grant" });

    const [rename, repair] = await auditDetails(world.tenantId, world.economicId);
    expect(rename).toMatchObject({ credentialsChanged: [] });
    expect(rename).not.toHaveProperty("replacedUnreadable");
    expect(repair).toMatchObject({
      credentialsChanged: ["appSecretToken", "agreementGrantToken"],
      replacedUnreadable: ["credentials"],
    });
  });

  it("repairs a connector without credential fields by saving, and a source's secret by typing a new one", async () => {
    const world = await createWorld();
    await store(world.ledgerId, "credentials", "k1.!!.!!");
    await store(world.shopId, "webhook_secret", await encryptSecret(replacedKey, world.secret));
    const { browser } = await signedIn(world.tenantId);

    await browser.get(`/connections/${world.ledgerId}`);
    expect(browser.lastHtml).toContain(NOTICE);
    expect((await browser.post(`/connections/${world.ledgerId}`, { name: "Ledger", enabled: "on" })).status).toBe(303);
    await browser.get(`/connections/${world.ledgerId}`);
    expect(browser.lastHtml).not.toContain("cannot be read");

    await browser.get(`/connections/${world.shopId}`);
    expect(browser.lastHtml).toContain("webhook secret cannot be read and must be entered again");
    expect(browser.lastHtml).toContain("its webhooks are not processed: refused (503)");
    expect(browser.lastHtml).toContain("the stored secret cannot be read, so enter it again");
    const saved = await browser.post(`/connections/${world.shopId}`, {
      name: "Shop",
      enabled: "on",
      webhookSecret: "new-secret",
    });
    expect(saved.status).toBe(303);
    expect((await loadConnection(env, world.shopId, world.tenantId))?.webhookSecret).toBe("new-secret");
    expect((await auditDetails(world.tenantId, world.shopId)).at(-1)).toMatchObject({ replacedUnreadable: ["webhookSecret"] });
  });

  it("tells a viewer, who still cannot change it; another tenant cannot see or change it", async () => {
    const world = await createWorld();
    const other = await createWorld();
    await loseEconomicCredentials(world.economicId);
    const fields = {
      name: "Taken",
      ...ECONOMIC,
      "credentials.appSecretToken": "theirs",
      "credentials.agreementGrantToken": "theirs",
    };

    const { browser: viewer } = await signedIn(world.tenantId, "viewer");
    await viewer.get(`/connections/${world.economicId}`);
    expect(viewer.lastHtml).toContain(NOTICE);
    expect(viewer.lastHtml).toContain("An owner or admin of this tenant must enter them again.");
    expect(viewer.lastHtml).not.toContain('id="h-edit"');
    expect((await viewer.post(`/connections/${world.economicId}`, fields)).status).toBe(403);

    const { browser: stranger } = await signedIn(other.tenantId, "owner");
    expect((await stranger.get(`/connections/${world.economicId}`)).status).toBe(404);
    await stranger.get("/");
    expect((await stranger.post(`/connections/${world.economicId}`, fields)).status).toBe(404);

    const loaded = await loadConnection(env, world.economicId, world.tenantId);
    expect(loaded?.name).toBe("e-conomic");
    expect(loaded?.unreadable?.parts).toEqual(["credentials"]);
  });
});
