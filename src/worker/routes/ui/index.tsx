/**
 * The settings UI: server-rendered pages (hono/jsx) with forms that work without JavaScript.
 * Every page below the sign-in routes needs a session; every POST needs the form token of the
 * session and of the tenant the page was drawn for (a form left open on tenant A, after another tab
 * switched to B, answers 403 and changes nothing); viewers read but every POST that changes the
 * tenant answers 403. All queries are scoped to the session's current tenant, so another tenant's
 * ids answer 404.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { OrderlyError } from "../../../domain/errors";
import { auditRoutes } from "./audit-routes";
import { CSRF_FIELD } from "./auth/csrf";
import { loadSession, switchTenant, tenantOfFormToken } from "./auth/session";
import { authRoutes } from "./auth-routes";
import { connectionRoutes } from "./connections";
import { dashboardRoutes } from "./dashboard";
import { deadLetterRoutes } from "./dead-letters";
import { fileRoutes } from "./files";
import { flowRoutes } from "./flows";
import { notificationRoutes } from "./notifications";
import { outboxRoutes } from "./outbox";
import { peopleRoutes } from "./people";
import { forbiddenPage, notFoundPage, page, redirectWith } from "./render";
import { setupRoutes } from "./setup";
import { shopRoutes } from "./shops";
import { mayCreateTenants, tenantRoutes } from "./tenants";
import { transferRoutes } from "./transfers";
import { canEdit, type UiEnv } from "./ui-env";

/**
 * POSTs about the person's own session, not a tenant: allowed to viewers too, and from a page drawn
 * under any of the person's tenants (the tenant switcher and sign-out are on every page, and the
 * tab they sit in may show a tenant another tab has switched away from). A new shop changes no
 * existing tenant: TENANT_CREATORS decides who may, not the role in the current one.
 */
const SESSION_ACTIONS = new Set(["/switch-tenant", "/sign-out", "/tenants/new"]);

const CSRF_FAILED = "The form was not sent from this site (CSRF check failed). Reload the page and try again.";

const formField = (form: Record<string, unknown>) => (typeof form[CSRF_FIELD] === "string" ? (form[CSRF_FIELD] as string) : "");

export const uiRoutes = new Hono<UiEnv>();

uiRoutes.use("*", async (c, next) => {
  await next();
  c.header(
    "content-security-policy",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  c.header("x-content-type-options", "nosniff");
  c.header("referrer-policy", "same-origin");
  c.header("x-frame-options", "DENY");
  if (!c.res.headers.has("cache-control")) c.header("cache-control", "no-store");
});
uiRoutes.use("*", bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.text("The form is too large (1 MiB at most).", 413) }));

uiRoutes.route("/", authRoutes);

uiRoutes.use("*", async (c, next) => {
  const session = await loadSession(c);
  if (!session) {
    if (c.req.method === "GET" || c.req.method === "HEAD") {
      const next = c.req.path === "/" ? "" : `?next=${encodeURIComponent(c.req.path + new URL(c.req.url).search)}`;
      return c.redirect(`/sign-in${next}`, 303);
    }
    return c.text("Sign in first.", 401);
  }
  // The header offers "New shop" only to those allowed (Layout reads the flag off the session).
  c.set("session", Object.assign(session, { mayCreateTenants: mayCreateTenants(c.env, session.email) }));
  if (c.req.method === "POST") {
    const drawnFor = await tenantOfFormToken(session, formField(await c.req.parseBody()));
    if (!drawnFor) return forbiddenPage(c, CSRF_FAILED);
    if (drawnFor.tenantId !== session.tenantId && !SESSION_ACTIONS.has(c.req.path))
      return forbiddenPage(
        c,
        `Nothing was changed: this page was opened for ${drawnFor.tenantName}, but you have switched to ${session.tenantName} since (in another tab or window). Reload the page to work in ${session.tenantName}, or switch back to ${drawnFor.tenantName} first.`,
      );
    if (!canEdit(session.role) && !SESSION_ACTIONS.has(c.req.path)) return forbiddenPage(c);
  }
  await next();
});

uiRoutes.post("/switch-tenant", async (c) => {
  const form = await c.req.parseBody();
  const tenantId = typeof form.tenantId === "string" ? form.tenantId : "";
  if (!(await switchTenant(c.env, c.var.session, tenantId))) return notFoundPage(c);
  return redirectWith(c, "/", "Switched tenant.");
});

uiRoutes.route("/", dashboardRoutes);
uiRoutes.route("/connections", connectionRoutes);
uiRoutes.route("/flows", flowRoutes);
uiRoutes.route("/transfers", transferRoutes);
uiRoutes.route("/dead-letters", deadLetterRoutes);
uiRoutes.route("/files", fileRoutes);
uiRoutes.route("/notifications", notificationRoutes);
uiRoutes.route("/outbox", outboxRoutes);
uiRoutes.route("/people", peopleRoutes);
uiRoutes.route("/audit", auditRoutes);
uiRoutes.route("/tenants", tenantRoutes);
uiRoutes.route("/shops", shopRoutes);
uiRoutes.route("/setup", setupRoutes);

uiRoutes.notFound((c) => notFoundPage(c));
uiRoutes.onError((error, c) => {
  if (error instanceof OrderlyError && error.status === 404) return notFoundPage(c);
  console.error("ui error", error);
  return page(
    c,
    { title: "Something went wrong", status: 500 },
    <section>
      <h1>Something went wrong</h1>
      <p>Orderly could not show this page. Nothing was changed by it; try again in a moment.</p>
    </section>,
  );
});
