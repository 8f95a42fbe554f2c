/** Rendering a page in the frame, flash messages across a redirect, and the UI's error pages. */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Child } from "hono/jsx";
import { toDecimalString } from "../../../domain/money";
import { type Flash, Layout } from "../../../ui/components/layout";
import type { UiEnv } from "./ui-env";

const FLASH_COOKIE = "oly_flash";

export async function page(
  c: Context,
  opts: { title: string; active?: string; status?: number; flash?: Flash | null },
  body: Child,
): Promise<Response> {
  const session = (c as Context<UiEnv>).get("session") as UiEnv["Variables"]["session"] | undefined;
  const flash = opts.flash ?? takeFlash(c);
  const html = (
    <Layout title={opts.title} session={session} active={opts.active} flash={flash}>
      {body}
    </Layout>
  );
  return c.html(`<!doctype html>${await html.toString()}`, (opts.status ?? 200) as 200);
}

/** Redirects after a POST (303) with a message shown once on the next page. */
export function redirectWith(c: Context, to: string, text: string, kind: Flash["kind"] = "ok"): Response {
  setCookie(c, FLASH_COOKIE, encodeURIComponent(JSON.stringify({ kind, text })), {
    httpOnly: true,
    secure: true,
    sameSite: "Lax",
    path: "/",
    maxAge: 60,
  });
  return c.redirect(to, 303);
}

function takeFlash(c: Context): Flash | null {
  const raw = getCookie(c, FLASH_COOKIE);
  if (!raw) return null;
  deleteCookie(c, FLASH_COOKIE, { path: "/", secure: true });
  try {
    const value = JSON.parse(decodeURIComponent(raw)) as Flash;
    return (value.kind === "ok" || value.kind === "error") && typeof value.text === "string"
      ? { kind: value.kind, text: value.text.slice(0, 500) }
      : null;
  } catch {
    return null;
  }
}

export function notFoundPage(c: Context): Promise<Response> {
  return page(
    c,
    { title: "Not found", status: 404 },
    <section>
      <h1>Not found</h1>
      <p>There is nothing here in this tenant. It may have been deleted, or it belongs to another tenant.</p>
      <p>
        <a href="/">Back to the dashboard</a>
      </p>
    </section>,
  );
}

export function forbiddenPage(c: Context, why = "Your role in this tenant can read but not change anything."): Promise<Response> {
  return page(
    c,
    { title: "Not allowed", status: 403 },
    <section>
      <h1>Not allowed</h1>
      <p>{why}</p>
      <p>
        <a href="/">Back to the dashboard</a>
      </p>
    </section>,
  );
}

/** Formats a time for people: UTC, to the second. */
export function when(ms: number | null | undefined): string {
  if (!ms) return "—";
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** Minor units to a decimal amount with its currency (two decimals; the log is for reading). */
export function amount(minor: number | null | undefined, currency: string | null | undefined): string {
  if (minor === null || minor === undefined) return "—";
  if (!currency) return String(minor);
  try {
    return `${toDecimalString(minor, currency)} ${currency}`;
  } catch {
    return `${minor} ${currency} (minor units)`;
  }
}
