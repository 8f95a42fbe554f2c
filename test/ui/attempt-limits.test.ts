/**
 * Sign-in and password-reset attempts are limited per address (wrangler.toml `[[ratelimits]]`:
 * 20 sign-ins and 5 resets a minute), so passwords cannot be guessed without end nor an address
 * flooded with reset emails. Another address is not held up by one under attack.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { attemptAllowed, attemptKeys } from "../../src/worker/routes/ui/auth/attempt-limits";
import { createWorld } from "../helpers/world";
import { withSystemMailer } from "./system-mail";
import { addUser, Browser, PASSWORD } from "./ui-client";

/**
 * The local rate limiter counts in windows aligned to the wall clock's minutes: attempts that
 * straddle a minute's end are counted in two windows, and the limit is never reached. Waits for a
 * new window when less than `needMs` is left of this one (a sign-in costs a PBKDF2 each, seconds on
 * a loaded machine), so the test does not depend on when it runs.
 */
async function freshLimiterWindow(needMs: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < needMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

describe("sign-in attempts", () => {
  it("refuses an address's 21st attempt in a minute, even with the right password; another address signs in", async () => {
    const world = await createWorld();
    const target = await addUser(world.tenantId, "admin");
    const bystander = await addUser(world.tenantId, "admin");
    const guesser = new Browser();
    await freshLimiterWindow(30_000);
    for (let i = 0; i < 20; i++) {
      const res = await guesser.submit("/sign-in", "/sign-in", { email: target.email, password: `guess ${i}` });
      expect(res.status).toBe(401);
    }
    const refused = await guesser.submit("/sign-in", "/sign-in", { email: target.email, password: PASSWORD });
    expect(refused.status).toBe(429);
    expect(guesser.lastHtml).toContain("Too many sign-in attempts for this address just now");

    const other = new Browser();
    expect((await other.submit("/sign-in", "/sign-in", { email: bystander.email, password: PASSWORD })).status).toBe(303);
  }, 90_000);
});

describe("password-reset requests", () => {
  it("sends an address at most 5 reset emails a minute, and answers every request the same", async () => {
    const world = await createWorld();
    const { fetcher, linksTo } = withSystemMailer();
    const user = await addUser(world.tenantId, "admin");
    const browser = new Browser(fetcher);
    await freshLimiterWindow(15_000);
    for (let i = 0; i < 7; i++) {
      await browser.submit("/forgot-password", "/forgot-password", { email: user.email });
      expect(browser.lastHtml).toContain("If an account exists");
    }
    expect(linksTo(user.email, "/reset-password")).toHaveLength(5);
  }, 60_000);
});

describe("the limiter itself", () => {
  it("counts the client's IP too when Cloudflare names it", () => {
    const headers = new Headers({ "cf-connecting-ip": "203.0.113.7" });
    expect(attemptKeys("sign-in", "a@example.test", headers)).toEqual(["sign-in:email:a@example.test", "sign-in:ip:203.0.113.7"]);
    expect(attemptKeys("reset", "a@example.test", new Headers())).toEqual(["reset:email:a@example.test"]);
  });

  it("lets attempts through without a binding, or when the limiter fails", async () => {
    expect(await attemptAllowed(undefined, ["k"])).toBe(true);
    const broken = {
      limit: () => Promise.reject(new Error("limiter down")),
    } as unknown as RateLimit;
    expect(await attemptAllowed(broken, ["k"])).toBe(true);
    expect(env.SIGN_IN_LIMITER).toBeDefined();
  });
});
