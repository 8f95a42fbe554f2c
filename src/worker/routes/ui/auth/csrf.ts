/**
 * CSRF protection for every POST form. Signed-in forms carry, in a hidden `_csrf` field, a token
 * of the session and of the tenant the page was drawn for (session.ts, formToken). Forms shown before sign-in (sign-in, reset, invitation) use a double-submit
 * token: a random cookie that the hidden field must repeat, so a foreign site cannot sign a
 * visitor in to an account of its choosing.
 */
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { timingSafeEqual } from "../../../../connectors/signatures";
import { randomToken } from "./tokens";

export const CSRF_FIELD = "_csrf";
const FORM_COOKIE = "oly_form";

export function sameToken(a: string, b: string): boolean {
  const encoder = new TextEncoder();
  return a.length > 0 && timingSafeEqual(encoder.encode(a), encoder.encode(b));
}

/** The pre-session form token, set as a cookie when the visitor has none yet. */
export function preSessionToken(c: Context): string {
  const existing = getCookie(c, FORM_COOKIE);
  if (existing && existing.length >= 20) return existing;
  const token = randomToken(24);
  setCookie(c, FORM_COOKIE, token, { httpOnly: true, secure: true, sameSite: "Strict", path: "/", maxAge: 3600 * 24 });
  return token;
}

export function checkPreSessionToken(c: Context, form: Record<string, unknown>): boolean {
  const cookie = getCookie(c, FORM_COOKIE) ?? "";
  const field = typeof form[CSRF_FIELD] === "string" ? (form[CSRF_FIELD] as string) : "";
  return sameToken(cookie, field);
}
