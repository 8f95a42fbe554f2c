/**
 * A tiny browser for UI tests: keeps cookies, follows nothing on its own, and reads the CSRF token
 * out of the last page, so tests post forms the way a person's browser would.
 */
import { env, SELF } from "cloudflare:test";
import { database } from "../../src/db/client";
import { memberships, type Role, users } from "../../src/db/schema";
import { hashPassword } from "../../src/worker/routes/ui/auth/password";
import { BASE } from "../helpers/world";

export const PASSWORD = "correct horse battery";

/** How a Browser reaches the Worker: SELF by default, or the app under another env (test/ui/system-mail.ts). */
export type Fetcher = (request: Request) => Promise<Response>;

export class Browser {
  cookies = new Map<string, string>();
  lastHtml = "";
  setCookies: string[] = [];

  constructor(private readonly fetcher: Fetcher = (request) => SELF.fetch(request)) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private keep(res: Response): void {
    this.setCookies = res.headers.getSetCookie();
    for (const line of this.setCookies) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/max-age=0/i.test(line) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(path: string): Promise<Response> {
    const res = await this.fetcher(
      new Request(`${BASE}${path}`, { headers: { cookie: this.cookieHeader() }, redirect: "manual" }),
    );
    this.keep(res);
    this.lastHtml = await res.clone().text();
    return res;
  }

  /** The CSRF token of the last page's forms. */
  csrf(): string {
    return /name="_csrf" value="([^"]*)"/.exec(this.lastHtml)?.[1] ?? "";
  }

  async post(path: string, fields: Record<string, string>, opts: { csrf?: string | null } = {}): Promise<Response> {
    const body = new URLSearchParams(fields);
    const token = opts.csrf === undefined ? this.csrf() : opts.csrf;
    if (token !== null) body.set("_csrf", token);
    const res = await this.fetcher(
      new Request(`${BASE}${path}`, {
        method: "POST",
        headers: { cookie: this.cookieHeader(), "content-type": "application/x-www-form-urlencoded" },
        body,
        redirect: "manual",
      }),
    );
    this.keep(res);
    this.lastHtml = await res.clone().text();
    return res;
  }

  /** Loads a page first (for its CSRF token), then posts the form. */
  async submit(formPage: string, action: string, fields: Record<string, string>): Promise<Response> {
    await this.get(formPage);
    return this.post(action, fields);
  }
}

export async function addUser(tenantId: string, role: Role, email = `${role}-${crypto.randomUUID().slice(0, 8)}@example.test`) {
  const db = database(env);
  const existing = await db.select().from(users).all();
  let user = existing.find((u) => u.email === email);
  if (!user) {
    user = {
      id: `usr_${crypto.randomUUID().slice(0, 12)}`,
      email,
      name: `${role} person`,
      passwordHash: await hashPassword(PASSWORD),
      createdAt: Date.now(),
      lastLoginAt: null,
    };
    await db.insert(users).values(user);
  }
  await db.insert(memberships).values({ userId: user.id, tenantId, role });
  return user;
}

export async function signedIn(tenantId: string, role: Role = "owner", fetcher?: Fetcher) {
  const user = await addUser(tenantId, role);
  const browser = new Browser(fetcher);
  await browser.get("/sign-in");
  const res = await browser.post("/sign-in", { email: user.email, password: PASSWORD });
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status} ${browser.lastHtml.slice(0, 300)}`);
  return { browser, user };
}
