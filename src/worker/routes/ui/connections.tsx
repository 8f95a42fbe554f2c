/** /connections: list, add (form from the connector's schemas), view, test, change, delete. */
import { eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import { getConnector, listConnectors } from "../../../connectors/registry";
import { database } from "../../../db/client";
import { loadConnection, type UnreadableSecrets } from "../../../db/connections";
import { connections } from "../../../db/schema";
import {
  ConnectionDetailPage,
  type ConnectionView,
  SourceSetup,
  type TypedConnection,
} from "../../../ui/pages/connection-detail";
import { ConnectionForm, ConnectorChooser } from "../../../ui/pages/connection-new";
import { ConnectionsPage } from "../../../ui/pages/connections";
import { movedDestinations } from "../api/connections";
import { audit } from "./audit";
import { checkConnection } from "./data/connection-check";
import { type FormData, fieldsFor, readFields } from "./forms/schema-fields";
import { callApi } from "./internal-api";
import { notFoundPage, page, redirectWith } from "./render";
import { canEdit, type UiEnv } from "./ui-env";

export const connectionRoutes = new Hono<UiEnv>();

const str = (v: unknown) => (typeof v === "string" ? v.trim() : "");

connectionRoutes.get("/", async (c) => {
  const rows = await database(c.env)
    .select()
    .from(connections)
    .where(eq(connections.tenantId, c.var.session.tenantId))
    .orderBy(connections.createdAt);
  const list = rows.map((r) => ({
    ...r,
    connectorName: getConnector(r.connector)?.name ?? r.connector,
    isSource: Boolean(getConnector(r.connector)?.source),
  }));
  return page(
    c,
    { title: "Connections", active: "connections" },
    <ConnectionsPage rows={list} canEdit={canEdit(c.var.session.role)} />,
  );
});

connectionRoutes.get("/new", async (c) => {
  const connector = getConnector(c.req.query("connector") ?? "");
  if (!connector)
    return page(c, { title: "Add a connection", active: "connections" }, <ConnectorChooser connectors={listConnectors()} />);
  return page(
    c,
    { title: `Add ${connector.name}`, active: "connections" },
    <ConnectionForm
      connector={connector}
      settings={fieldsFor(connector.settings, "settings")}
      credentials={fieldsFor(connector.credentials, "credentials")}
      csrf={c.var.session.csrfToken}
    />,
  );
});

connectionRoutes.post("/", async (c) => {
  const form = (await c.req.parseBody({ all: true })) as FormData;
  const connector = getConnector(str(form.connector));
  if (!connector) return notFoundPage(c);
  const settingsFields = fieldsFor(connector.settings, "settings");
  const credentialFields = fieldsFor(connector.credentials, "credentials");
  const errors: string[] = [];
  const settings = readFields(settingsFields, form, errors);
  const credentials = readFields(credentialFields, form, errors);
  const secret = str(form.webhookSecret);
  const body = {
    connector: connector.id,
    name: str(form.name),
    settings,
    credentials,
    ...(secret ? { webhookSecret: secret } : {}),
  };
  const result =
    errors.length === 0
      ? await callApi<ConnectionView & { connector: string }>(c, c.var.session.tenantId, "POST", "/connections", body)
      : null;
  if (!result?.ok) {
    return page(
      c,
      { title: `Add ${connector.name}`, active: "connections", status: 400 },
      <ConnectionForm
        connector={connector}
        settings={settingsFields}
        credentials={credentialFields}
        csrf={c.var.session.csrfToken}
        values={{ name: body.name, settings }}
        errors={result?.error ? [result.error] : errors}
      />,
    );
  }
  await audit(c.env, c.var.session, "connection.create", result.body.id, { connector: connector.id, name: body.name, settings });
  return page(
    c,
    { title: "Connection added", active: "connections", status: 201, flash: { kind: "ok", text: `Added ${body.name}.` } },
    <>
      <h1>{result.body.name}</h1>
      <SourceSetup view={result.body} justCreated />
      <p>
        <a href={`/connections/${result.body.id}`}>Open the connection</a> · <a href="/flows/new">Build a flow</a>
      </p>
    </>,
  );
});

/** The API's view of one connection, as the detail page reads it. */
type DetailView = ConnectionView & { connector: string; unreadable?: UnreadableSecrets };

/**
 * Shown at the top of a connection whose stored credentials or webhook secret cannot be read: to
 * everyone (it explains failing steps), with what to do for those who may edit it.
 */
function UnreadableNotice(props: { unreadable: UnreadableSecrets; canEdit: boolean }) {
  const lost = props.unreadable.parts.includes("credentials");
  const what = props.unreadable.parts.map((p) => (p === "credentials" ? "credentials" : "webhook secret")).join(" and ");
  return (
    <div class="flash error" role="alert" id="unreadable-secrets">
      <p>
        <strong>This connection's {what} cannot be read and must be entered again.</strong>{" "}
        {lost ? "Until then every step to it is retried, and fails when its retries run out. " : ""}
        {props.unreadable.parts.includes("webhookSecret")
          ? "Until then its webhooks are not processed: refused (503) where the shop sends them again (Shopify), kept unchecked under Kept, not processed where it does not (WooCommerce). "
          : ""}
      </p>
      <p>{props.unreadable.reason}</p>
      <p>
        {props.canEdit
          ? `Under Change, type ${lost ? "every credential" : "the webhook secret"} again (a blank field cannot keep a value that cannot be read) and save${lost ? ", then retry the failed transfers" : ""}.`
          : "An owner or admin of this tenant must enter them again."}
      </p>
    </div>
  );
}

/** Said when a refused edit had secrets typed in: they are never sent back to the browser. */
const RETYPE_SECRETS =
  "Secrets you typed (credentials, webhook secret) are not shown again, for safety: type them again before you save.";

async function detail(
  c: Context<UiEnv>,
  id: string,
  extra: { check?: boolean; errors?: string[]; status?: number; typed?: TypedConnection } = {},
) {
  const s = c.var.session;
  const res = await callApi<DetailView>(c, s.tenantId, "GET", `/connections/${encodeURIComponent(id)}`);
  const connector = res.ok ? getConnector(res.body.connector) : undefined;
  if (!res.ok || !connector) return notFoundPage(c);
  const check = extra.check ? await checkConnection(c.env, s.tenantId, id) : null;
  return page(
    c,
    { title: res.body.name, active: "connections", status: extra.status ?? 200 },
    <>
      {res.body.unreadable ? <UnreadableNotice unreadable={res.body.unreadable} canEdit={canEdit(s.role)} /> : null}
      <ConnectionDetailPage
        view={res.body}
        connector={connector}
        settings={fieldsFor(connector.settings, "settings")}
        credentials={fieldsFor(connector.credentials, "credentials")}
        csrf={s.csrfToken}
        tenantId={s.tenantId}
        canEdit={canEdit(s.role)}
        check={check}
        errors={extra.errors}
        typed={extra.typed}
      />
    </>,
  );
}

connectionRoutes.get("/:id", (c) => detail(c, c.req.param("id"), { check: c.req.query("test") === "1" }));

connectionRoutes.post("/:id", async (c) => {
  const s = c.var.session;
  const id = c.req.param("id");
  const current = await loadConnection(c.env, id, s.tenantId).catch(() => null);
  if (!current) return notFoundPage(c);
  const form = (await c.req.parseBody({ all: true })) as FormData;
  const errors: string[] = [];
  const settings = readFields(fieldsFor(current.connector.settings, "settings"), form, errors);
  const credentialFields = fieldsFor(current.connector.credentials, "credentials");
  const given = readFields(credentialFields, form, errors);
  const secret = str(form.webhookSecret);
  const lost = current.unreadable?.parts.includes("credentials") ?? false;
  const body = {
    name: str(form.name),
    enabled: form.enabled === "on",
    settings,
    ...credentialsToSend(current.credentials, given, {
      moved: movedDestinations(current.connector, current.settings, settings).length > 0,
      lost,
      hasFields: credentialFields.length > 0,
    }),
    ...(secret ? { webhookSecret: secret } : {}),
  };
  const result =
    errors.length === 0 ? await callApi(c, s.tenantId, "PATCH", `/connections/${encodeURIComponent(id)}`, body) : null;
  if (!result?.ok) {
    // The page is drawn again with what was typed (the stored values would undo the person's
    // edits); typed secrets are dropped, so the message asks for them again.
    const typedSecrets = Object.keys(given).length > 0 || Boolean(secret);
    const refusedLost = lost && (result?.body as { error?: { code?: string } } | null)?.error?.code === "credentials_invalid";
    return detail(c, id, {
      errors: [
        ...(result?.error ? [result.error] : errors),
        ...(refusedLost ? [FILL_ALL_CREDENTIALS] : []),
        ...(typedSecrets ? [RETYPE_SECRETS] : []),
      ],
      status: 400,
      typed: { name: body.name, enabled: body.enabled, form },
    });
  }
  const replaced = (current.unreadable?.parts ?? []).filter((part) =>
    part === "credentials" ? "credentials" in body : Boolean(secret),
  );
  await audit(c.env, s, "connection.update", id, {
    name: body.name,
    enabled: body.enabled,
    settings,
    credentialsChanged: Object.keys(given),
    webhookSecretChanged: Boolean(secret),
    // A repair: unreadable stored values replaced whole, not changed field by field.
    ...(replaced.length > 0 ? { replacedUnreadable: replaced } : {}),
  });
  return redirectWith(c, `/connections/${id}`, "Saved.");
});

/** Said when new credentials for a connection whose stored ones cannot be read were refused. */
const FILL_ALL_CREDENTIALS =
  "The stored credentials cannot be read, so a blank credential field cannot keep its old value: fill in every credential.";

/**
 * The credentials an edit sends. Write-only: a blank field keeps its stored value, unless the
 * connection now points somewhere else (`moved`) or the stored values cannot be read (`lost`); then
 * only what was typed is sent, whole, and the API asks for the rest. Lost credentials of a connector
 * that has no credential fields are replaced by saving at all, or nothing could ever repair them.
 */
function credentialsToSend(
  stored: Record<string, unknown>,
  given: Record<string, unknown>,
  opts: { moved: boolean; lost: boolean; hasFields: boolean },
): { credentials?: Record<string, unknown> } {
  const typed = Object.keys(given).length > 0;
  if (opts.lost) return typed || !opts.hasFields ? { credentials: given } : {};
  if (!typed) return {};
  return { credentials: opts.moved ? given : { ...stored, ...given } };
}

connectionRoutes.post("/:id/delete", async (c) => {
  const s = c.var.session;
  const id = c.req.param("id");
  const result = await callApi(c, s.tenantId, "DELETE", `/connections/${encodeURIComponent(id)}`);
  if (result.status === 404) return notFoundPage(c);
  if (!result.ok) return redirectWith(c, `/connections/${id}`, result.error ?? "Could not delete.", "error");
  await audit(c.env, s, "connection.delete", id);
  return redirectWith(c, "/connections", "Connection deleted.");
});
