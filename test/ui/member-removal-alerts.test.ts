/**
 * A removed member stops receiving alerts and status reports: their address (in any spelling)
 * leaves the tenant's alert recipients with the membership, the audit entry names it and the
 * confirmation says so. Other addresses, and other tenants' lists, stay.
 */
import { env } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { tenants } from "../../src/db/schema";
import { createWorld } from "../helpers/world";
import { addUser, signedIn } from "./ui-client";

async function alertEmails(tenantId: string): Promise<string[]> {
  const row = await database(env)
    .select({ alertEmails: tenants.alertEmails })
    .from(tenants)
    .where(eq(tenants.id, tenantId))
    .get();
  return row?.alertEmails ?? [];
}

async function setAlertEmails(tenantId: string, alertEmails: string[]): Promise<void> {
  await database(env).update(tenants).set({ alertEmails }).where(eq(tenants.id, tenantId));
}

describe("removing a member", () => {
  it("drops their address from the alert recipients, audits it and says so; other addresses stay", async () => {
    const world = await createWorld();
    const other = await createWorld();
    const { browser: owner } = await signedIn(world.tenantId, "owner");
    const suffix = crypto.randomUUID().slice(0, 8);
    const leaver = await addUser(world.tenantId, "admin", `leaver-${suffix}@example.test`);
    const stayer = await addUser(world.tenantId, "viewer", `stayer-${suffix}@example.test`);
    await addUser(other.tenantId, "admin", leaver.email);
    const shouted = `Leaver-${suffix}@EXAMPLE.test`;
    await setAlertEmails(world.tenantId, ["ops@example.test", shouted, `leaver-${suffix}@other.test`, stayer.email]);
    await setAlertEmails(other.tenantId, [leaver.email]);

    await owner.get("/people");
    expect((await owner.post(`/people/members/${leaver.id}/remove`, {})).status).toBe(303);
    expect(await alertEmails(world.tenantId)).toEqual(["ops@example.test", `leaver-${suffix}@other.test`, stayer.email]);
    // Still a member there: that tenant's recipients are its own business.
    expect(await alertEmails(other.tenantId)).toEqual([leaver.email]);
    await owner.get("/people");
    expect(owner.lastHtml).toContain(`${shouted} no longer gets alerts or status reports`);

    const audit = await env.DB.prepare(
      "SELECT details FROM audit_log WHERE tenant_id = ? AND action = 'member.remove' AND target = ?",
    )
      .bind(world.tenantId, leaver.id)
      .first<{ details: string }>();
    expect(JSON.parse(audit!.details).alertEmailsRemoved).toEqual([shouted]);

    // A member who was not a recipient: the list is left as it is, and the message says nothing of it.
    const quiet = await addUser(world.tenantId, "viewer", `quiet-${suffix}@example.test`);
    await owner.get("/people");
    expect((await owner.post(`/people/members/${quiet.id}/remove`, {})).status).toBe(303);
    expect(await alertEmails(world.tenantId)).toEqual(["ops@example.test", `leaver-${suffix}@other.test`, stayer.email]);
    await owner.get("/people");
    expect(owner.lastHtml).toContain("Removed from this tenant.");
    expect(owner.lastHtml).not.toContain("no longer gets alerts");
  });
});
