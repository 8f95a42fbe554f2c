/**
 * An admin may not demote or remove an owner, even one made owner while the admin's request was on
 * its way: the route read the person's role as admin before an owner's promotion, and its write
 * then demoted (or removed) a new owner. The promotion is landed deterministically between the
 * admin's role check and its write, by running it just before the admin's batch reaches D1.
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createWorld } from "../helpers/world";
import { addUser, type Browser, signedIn } from "./ui-client";

type Batch = (this: D1Database, statements: D1PreparedStatement[]) => Promise<D1Result[]>;

/** Runs `meanwhile` once, right before the next D1 batch whose SQL matches `pattern` (the writing one). */
function beforeBatch(pattern: RegExp, meanwhile: () => Promise<void>): void {
  const proto = Object.getPrototypeOf(env.DB) as { batch: Batch };
  const original = proto.batch;
  let fired = false;
  vi.spyOn(proto, "batch").mockImplementation(async function (this: D1Database, statements) {
    const sql = statements.map((s) => String((s as unknown as { statement?: string }).statement ?? ""));
    if (!fired && sql.some((q) => pattern.test(q))) {
      fired = true;
      await meanwhile();
    }
    return original.call(this, statements);
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

async function roleOf(tenantId: string, userId: string): Promise<string | null> {
  const row = await env.DB.prepare("SELECT role FROM memberships WHERE tenant_id = ? AND user_id = ?")
    .bind(tenantId, userId)
    .first<{ role: string }>();
  return row?.role ?? null;
}

async function setUp() {
  const world = await createWorld();
  const { browser: owner } = await signedIn(world.tenantId, "owner");
  const { browser: admin } = await signedIn(world.tenantId, "admin");
  const target = await addUser(world.tenantId, "admin");
  await owner.get("/people");
  await admin.get("/people");
  const promote = async (by: Browser) => {
    expect((await by.post(`/people/members/${target.id}/role`, { role: "owner" })).status).toBe(303);
  };
  return { world, owner, admin, target, promote };
}

describe("an admin acting on a person an owner promotes at the same moment", () => {
  it("cannot demote the new owner: 403 with the reason, and the person stays owner", async () => {
    const { world, owner, admin, target, promote } = await setUp();
    beforeBatch(/^update "memberships"/i, () => promote(owner));
    const res = await admin.post(`/people/members/${target.id}/role`, { role: "viewer" });
    expect(res.status).toBe(403);
    expect(admin.lastHtml).toContain("made an owner while your change was on its way");
    expect(await roleOf(world.tenantId, target.id)).toBe("owner");
  });

  it("cannot remove the new owner: 403 with the reason, and the person stays owner", async () => {
    const { world, owner, admin, target, promote } = await setUp();
    beforeBatch(/^delete from "memberships"/i, () => promote(owner));
    const res = await admin.post(`/people/members/${target.id}/remove`, {});
    expect(res.status).toBe(403);
    expect(admin.lastHtml).toContain("made an owner while your change was on its way");
    expect(await roleOf(world.tenantId, target.id)).toBe("owner");
  });

  it("an owner still demotes another owner", async () => {
    const { world, owner, target, promote } = await setUp();
    await promote(owner);
    await owner.get("/people");
    expect((await owner.post(`/people/members/${target.id}/role`, { role: "viewer" })).status).toBe(303);
    expect(await roleOf(world.tenantId, target.id)).toBe("viewer");
  });
});
