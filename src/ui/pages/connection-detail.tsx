/** One connection: its webhook address and setup steps, a test, the edit form, and delete. */
import type { Connector } from "../../connectors/contract";
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
