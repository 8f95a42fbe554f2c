import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { database } from "../../src/db/client";
import { sessions, users } from "../../src/db/schema";
import { sha256Hex } from "../../src/worker/routes/ui/auth/tokens";
import { createWorld } from "../helpers/world";
import { addUser, Browser, PASSWORD, signedIn } from "./ui-client";

describe("signing in and out", () => {
  it("sends a visitor without a session to the sign-in page, remembering where they were going", async () => {
    const res = await new Browser().get("/transfers?status=failed");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/sign-in?next=${encodeURIComponent("/transfers?status=failed")}`);
  });

  it("signs in with the right password: an HttpOnly, Secure, SameSite=Lax session cookie whose id is stored only hashed", async () => {
    const world = await createWorld();
    const user = await addUser(world.tenantId, "owner");
    const browser = new Browser();
    await browser.get("/sign-in");
    const res = await browser.post("/sign-in", { email: user.email.toUpperCase(), password: PASSWORD });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    const cookie = browser.setCookies.find((c) => c.startsWith("oly_session="));
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/Max-Age=1209600/);
    const id = browser.cookies.get("oly_session") ?? "";
    const rows = await database(env).select().from(sessions).all();
    expect(rows.some((r) => r.idHash === id)).toBe(false);
    const stored = rows.find((r) => r.userId === user.id);
    expect(stored?.idHash).toBe(await sha256Hex(id));
    expect(stored!.expiresAt - Date.now()).toBeGreaterThan(13.9 * 86_400_000);
    const home = await browser.get("/");
    expect(home.status).toBe(200);
    expect(browser.lastHtml).toContain("Dashboard");
  });

  it("stores passwords as salted PBKDF2-SHA256 with 100,000 iterations", async () => {
    const world = await createWorld();
    const a = await addUser(world.tenantId, "owner");
    const b = await addUser(world.tenantId, "viewer");
    const [rowA, rowB] = await Promise.all(
      [a.id, b.id].map((id) =>
        database(env)
          .select()
          .from(users)
          .all()
          .then((all) => all.find((u) => u.id === id)),
      ),
    );
    expect(rowA?.passwordHash).toMatch(/^pbkdf2\$100000\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(rowA?.passwordHash).not.toBe(rowB?.passwordHash);
  });

  it("refuses a wrong password or an unknown email with the same answer and no session", async () => {
    const world = await createWorld();
    const user = await addUser(world.tenantId, "owner");
    for (const [email, password] of [
      [user.email, "wrong password!"],
      ["nobody@example.test", PASSWORD],
    ]) {
      const browser = new Browser();
      await browser.get("/sign-in");
      const res = await browser.post("/sign-in", { email: email as string, password: password as string });
      expect(res.status).toBe(401);
      expect(browser.lastHtml).toContain("The email or password is not right.");
      expect(browser.cookies.has("oly_session")).toBe(false);
    }
  });

  it("refuses a sign-in form that did not come from the sign-in page (login CSRF)", async () => {
    const world = await createWorld();
    const user = await addUser(world.tenantId, "owner");
    const browser = new Browser();
    const res = await browser.post("/sign-in", { email: user.email, password: PASSWORD }, { csrf: "forged-token-forged-token" });
    expect(res.status).toBe(403);
    expect(browser.cookies.has("oly_session")).toBe(false);
  });

  it("signs out: the session is deleted and the cookie no longer opens pages", async () => {
    const world = await createWorld();
    const { browser, user } = await signedIn(world.tenantId);
    const cookie = browser.cookies.get("oly_session") ?? "";
    await browser.get("/");
    const out = await browser.post("/sign-out", {});
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/sign-in");
    const left = (await database(env).select().from(sessions).all()).filter((s) => s.userId === user.id);
    expect(left).toEqual([]);
    const replay = new Browser();
    replay.cookies.set("oly_session", cookie);
    expect((await replay.get("/")).status).toBe(303);
  });

  it("ends an expired session", async () => {
    const world = await createWorld();
    const { browser, user } = await signedIn(world.tenantId);
    await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE user_id = ?")
      .bind(Date.now() - 1, user.id)
      .run();
    expect((await browser.get("/")).status).toBe(303);
  });

  it("slides a session used after its first hour to 14 more days", async () => {
    const world = await createWorld();
    const { browser, user } = await signedIn(world.tenantId);
    const soon = Date.now() + 2 * 86_400_000;
    await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE user_id = ?").bind(soon, user.id).run();
    await browser.get("/");
    expect(browser.setCookies.some((c) => c.startsWith("oly_session="))).toBe(true);
    const row = await env.DB.prepare("SELECT expires_at FROM sessions WHERE user_id = ?")
      .bind(user.id)
      .first<{ expires_at: number }>();
    expect(row!.expires_at - Date.now()).toBeGreaterThan(13.9 * 86_400_000);
  });
});
