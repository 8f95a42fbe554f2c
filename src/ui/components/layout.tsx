/**
 * The page frame: skip link, header with "All shops" and the tenant switcher (both for people in
 * two or more tenants), "New shop" and sign-out, navigation, main, footer.
 */
import type { Child } from "hono/jsx";
import type { AlertMailState } from "../../worker/routes/ui/auth/session";
import type { UiSession } from "../../worker/routes/ui/ui-env";
import { staticHref } from "../static-files";
import { CsrfField } from "./form";

export interface Flash {
  kind: "ok" | "error";
  text: string;
}

const NAV: Array<{ key: string; href: string; label: string; outbox?: boolean }> = [
  { key: "dashboard", href: "/", label: "Dashboard" },
  { key: "transfers", href: "/transfers", label: "Transfer log" },
  { key: "dead-letters", href: "/dead-letters", label: "Kept, not processed" },
  { key: "connections", href: "/connections", label: "Connections" },
  { key: "flows", href: "/flows", label: "Flows" },
  { key: "files", href: "/files", label: "Files" },
  { key: "notifications", href: "/notifications", label: "Notifications" },
  { key: "people", href: "/people", label: "Users & API tokens" },
  { key: "audit", href: "/audit", label: "Audit log" },
  { key: "outbox", href: "/outbox", label: "Dev outbox", outbox: true },
];

/**
 * The session as loadSession gives it, with what keeps the tenant's alerts from arriving, and
 * whether the person may create shops (TENANT_CREATORS; set by the UI's session middleware).
 */
type LayoutSession = UiSession & Partial<AlertMailState> & { mayCreateTenants?: boolean };

export function Layout(props: {
  title: string;
  session?: LayoutSession;
  active?: string;
  flash?: Flash | null;
  children: Child;
}) {
  const s = props.session;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Orderly`}</title>
        <link rel="stylesheet" href={staticHref("/app.css")} />
        <script src={staticHref("/ui.js")} defer></script>
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/">
            Orderly
          </a>
          {s ? (
            <div class="who">
              {s.memberships.length > 1 ? (
                <>
                  <a href="/shops" aria-current={props.active === "shops" ? "page" : undefined}>
                    All shops
                  </a>
                  <form method="post" action="/switch-tenant" class="inline">
                    <CsrfField token={s.csrfToken} />
                    <label for="tenant-switch">Tenant</label>
                    <select id="tenant-switch" name="tenantId">
                      {s.memberships.map((m) => (
                        <option value={m.tenantId} selected={m.tenantId === s.tenantId}>
                          {m.tenantName}
                        </option>
                      ))}
                    </select>
                    <button type="submit">Switch</button>
                  </form>
                </>
              ) : (
                <span class="tenant">{s.tenantName}</span>
              )}
              {s.mayCreateTenants ? <a href="/tenants/new">New shop</a> : null}
              <span class="user">
                {s.email} <span class="role">({s.role})</span>
              </span>
              <form method="post" action="/sign-out" class="inline">
                <CsrfField token={s.csrfToken} />
                <button type="submit" class="link">
                  Sign out
                </button>
              </form>
            </div>
          ) : null}
        </header>
        {s ? (
          <nav aria-label="Main">
            <ul>
              {NAV.map((n) => (n.outbox && !s.devOutbox ? { ...n, label: "Emails" } : n)).map((n) => (
                <li>
                  <a href={n.href} aria-current={props.active === n.key ? "page" : undefined}>
                    {n.label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        ) : null}
        <main id="main" tabindex={-1}>
          {s?.noAlertRecipients ? (
            <p class="flash error" role="status">
              No alert address is set: failure alerts and status reports reach nobody.{" "}
              <a href="/notifications">Set an alert address</a>.
            </p>
          ) : null}
          {s?.alertsCannotLeave ? (
            <p class="flash error" role="status">
              No mail provider is chosen for alerts, and this Orderly has no system mail sender: failure alerts and status reports
              are kept as not sent. <a href="/notifications">Choose a mail provider</a>.
            </p>
          ) : null}
          {s?.alertMailFailed && !s.noAlertRecipients && !s.alertsCannotLeave ? (
            <p class="flash error" role="status">
              An alert email of the last 3 days could not be sent (an expired provider token, say). <a href="/outbox">See why</a>,
              then <a href="/notifications">check the mail provider</a>.
            </p>
          ) : null}
          {props.flash ? (
            <p class={`flash ${props.flash.kind}`} role={props.flash.kind === "error" ? "alert" : "status"}>
              {props.flash.text}
            </p>
          ) : null}
          {props.children}
        </main>
        <footer>
          <p>
            Orderly · <a href="/api/v1/openapi.json">JSON API</a>
          </p>
        </footer>
      </body>
    </html>
  );
}
