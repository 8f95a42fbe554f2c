/** One connection: its webhook address and setup steps, a test, the edit form, and delete. */
import { env } from "cloudflare:workers";
import type { Connector } from "../../connectors/contract";
import { missedThisWeek, RECONCILE_INTERVAL_MS, reconcileStatus, SWEEP_SOURCES } from "../../worker/reconcile";
import type { CheckLine } from "../../worker/routes/ui/data/connection-check";
import type { FieldSpec, FormData } from "../../worker/routes/ui/forms/schema-fields";
import { CopyField } from "../components/copy-field";
import { Errors, PostForm, TextField } from "../components/form";
import { SchemaFields } from "../components/schema-form";

export interface ConnectionView {
  id: string;
  name: string;
  enabled: boolean;
  settings: Record<string, unknown>;
  webhookUrl?: string;
  setupSteps?: string[];
  webhookSecret?: string;
  /** Stored parts that cannot be decrypted: a blank field cannot keep them, so no "leave blank" hint. */
  unreadable?: { parts: ReadonlyArray<"credentials" | "webhookSecret"> };
}

export function SourceSetup(props: { view: ConnectionView; justCreated?: boolean }) {
  const v = props.view;
  if (!v.webhookUrl) return null;
  return (
    <section aria-labelledby="h-setup">
      <h2 id="h-setup">Webhook address and setup</h2>
      <CopyField id="webhook-url" label="Webhook URL" value={v.webhookUrl} />
      {v.webhookSecret ? (
        <CopyField
          id="webhook-secret"
          label="Webhook secret"
          value={v.webhookSecret}
          help="Shown this once: copy it now into the source's webhook settings. Orderly keeps it encrypted and never shows it again."
        />
      ) : props.justCreated ? null : (
        <p class="help">The webhook secret is stored encrypted and is not shown. Paste a new one below to replace it.</p>
      )}
      <h3>Steps in the source</h3>
      <ol class="steps">
        {(v.setupSteps ?? []).map((s) => (
          <li>{s}</li>
        ))}
      </ol>
    </section>
  );
}

/** What a person submitted in the edit form, shown again when it was refused (secrets left out). */
export interface TypedConnection {
  name: string;
  enabled: boolean;
  form: FormData;
}

export function ConnectionDetailPage(props: {
  view: ConnectionView;
  connector: Connector;
  settings: FieldSpec[];
  credentials: FieldSpec[];
  csrf: string;
  canEdit: boolean;
  check?: CheckLine[] | null;
  errors?: string[];
  typed?: TypedConnection;
  /** The signed-in tenant: the sweep's results are read within it. */
  tenantId?: string;
}) {
  const v = props.view;
  const c = props.connector;
  const typed = props.typed;
  return (
    <>
      <h1>{v.name}</h1>
      <p>
        {c.name} · {c.source ? "source" : "target"} · {v.enabled ? "enabled" : "disabled"} · <code>{v.id}</code>
      </p>
      <SourceSetup view={v} />
      {SWEEP_SOURCES[c.id] ? (
        <ReconcileSection connectionId={v.id} tenantId={props.tenantId} on={v.settings.reconcile === true} />
      ) : null}
      <section aria-labelledby="h-test">
        <h2 id="h-test">Test the connection</h2>
        {props.check ? (
          <ul class="checks" aria-live="polite">
            {props.check.map((l) => (
              <li class={l.ok === true ? "ok" : l.ok === false ? "bad" : "info"}>
                <span class="visually-hidden">{l.ok === true ? "Good: " : l.ok === false ? "Problem: " : "Note: "}</span>
                {l.text}
              </li>
            ))}
          </ul>
        ) : null}
        <form method="get" action={`/connections/${v.id}`}>
          <input type="hidden" name="test" value="1" />
          <button type="submit">Test connection</button>
        </form>
      </section>
      {props.canEdit ? (
        <section aria-labelledby="h-edit">
          <h2 id="h-edit">Change</h2>
          <Errors errors={props.errors} />
          <PostForm action={`/connections/${v.id}`} csrf={props.csrf} label="Change connection">
            <TextField id="name" name="name" label="Name" value={typed ? typed.name : v.name} required />
            <div class="field check">
              <input id="enabled" name="enabled" type="checkbox" checked={typed ? typed.enabled : v.enabled} />
              <label for="enabled">Enabled</label>
            </div>
            {props.settings.length > 0 ? (
              <fieldset>
                <legend>Settings</legend>
                <SchemaFields fields={props.settings} values={v.settings} typed={typed?.form} />
              </fieldset>
            ) : null}
            {props.credentials.length > 0 ? (
              <fieldset>
                <legend>Credentials</legend>
                <SchemaFields fields={props.credentials} secret keepHint={!v.unreadable?.parts.includes("credentials")} />
              </fieldset>
            ) : null}
            {c.source ? (
              <TextField
                id="webhookSecret"
                name="webhookSecret"
                type="password"
                label="New webhook secret"
                help={
                  v.unreadable?.parts.includes("webhookSecret")
                    ? "Write-only: the stored secret cannot be read, so enter it again."
                    : "Write-only: leave blank to keep the stored secret."
                }
              />
            ) : null}
            <button type="submit">Save changes</button>
          </PostForm>
          <PostForm action={`/connections/${v.id}/delete`} csrf={props.csrf} class="danger" label="Delete connection">
            <button type="submit" class="danger">
              Delete this connection
            </button>
            <p class="help">Only a connection no flow uses can be deleted; its transfers stay in the log.</p>
          </PostForm>
        </section>
      ) : null}
    </>
  );
}

const when = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;

/**
 * The reconciliation sweep's last run (src/worker/reconcile.ts): when, how many orders it looked
 * at, how many had not come by webhook, and its error. Read here, as the route renders this page
 * only for the tenant's own connection.
 */
async function ReconcileSection(props: { connectionId: string; tenantId: string | undefined; on: boolean }) {
  const status = await reconcileStatus(env, props.connectionId, props.tenantId);
  const every = RECONCILE_INTERVAL_MS / 60_000;
  return (
    <section aria-labelledby="h-reconcile" id="reconcile">
      <h2 id="h-reconcile">Reconciliation sweep</h2>
      {!props.on ? (
        <p class="help">
          Off. Switch on "reconcile" below (with the API credentials it names) and Orderly asks the shop every {every} minutes for
          orders its webhooks did not bring.
        </p>
      ) : !status?.lastRunAt ? (
        <p class="help">On; the first sweep runs within a few minutes.</p>
      ) : (
        <dl class="summary">
          <dt>Last sweep</dt>
          <dd>
            {when(status.lastRunAt)}
            {status.lastOutcome === "partial" ? " (more orders to read: the next sweep goes on in a few minutes)" : ""}
          </dd>
          <dt>Orders looked at</dt>
          <dd>{status.lastLooked}</dd>
          <dt>Not brought by webhook</dt>
          <dd>
            {status.lastNew === 0
              ? "none"
              : `${status.lastNew} (${status.lastNewOrders.join(", ")}${status.lastNew > status.lastNewOrders.length ? ", …" : ""}): taken now, and their flows run`}
          </dd>
          <dt>Missed by webhook, in all</dt>
          <dd>
            {missedThisWeek(status)} in the last 7 days; {status.missedTotal}
            {status.onSince ? ` since ${when(status.onSince)}` : ""}
          </dd>
          {status.lastKept > 0 ? (
            <>
              <dt>Could not be taken</dt>
              <dd>
                {status.lastKept}: see <a href="/dead-letters">Kept, not processed</a>
              </dd>
            </>
          ) : null}
          <dt>Read up to</dt>
          <dd>{status.checkpoint === null ? "not yet" : when(status.checkpoint)}</dd>
          {status.lastError ? (
            <>
              <dt>Last error</dt>
              <dd class="bad" role="alert">
                {status.lastError}
              </dd>
            </>
          ) : null}
        </dl>
      )}
    </section>
  );
}
