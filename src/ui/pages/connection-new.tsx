/** Add a connection: pick a system, then fill in the form generated from its settings. */
import type { Connector } from "../../connectors/contract";
import type { FieldSpec } from "../../worker/routes/ui/forms/schema-fields";
import { Errors, PostForm, TextField } from "../components/form";
import { SchemaFields } from "../components/schema-form";

export function ConnectorChooser(props: { connectors: readonly Connector[] }) {
  return (
    <>
      <h1>Add a connection</h1>
      <p>Which system do you want to connect?</p>
      <ul class="choices">
        {props.connectors.map((c) => (
          <li>
            <a href={`/connections/new?connector=${c.id}`}>{c.name}</a>{" "}
            <span class="muted">
              ({c.category}, {c.source ? "sends orders" : "receives data"})
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}

export function ConnectionForm(props: {
  connector: Connector;
  settings: FieldSpec[];
  credentials: FieldSpec[];
  csrf: string;
  values?: { name?: string; settings?: Record<string, unknown> };
  errors?: string[];
}) {
  const c = props.connector;
  return (
    <>
      <h1>Add a {c.name} connection</h1>
      <Errors errors={props.errors} />
      <PostForm action="/connections" csrf={props.csrf} label={`New ${c.name} connection`}>
        <input type="hidden" name="connector" value={c.id} />
        <TextField
          id="name"
          name="name"
          label="Name"
          value={props.values?.name ?? c.name}
          required
          help="How this connection is shown in Orderly."
        />
        {props.settings.length > 0 ? (
          <fieldset>
            <legend>Settings</legend>
            <SchemaFields fields={props.settings} values={props.values?.settings} />
          </fieldset>
        ) : null}
        {props.credentials.length > 0 ? (
          <fieldset>
            <legend>Credentials</legend>
            <p class="help">Stored encrypted and never shown again.</p>
            <SchemaFields fields={props.credentials} secret />
          </fieldset>
        ) : null}
        {c.source ? (
          <TextField
            id="webhookSecret"
            name="webhookSecret"
            type="password"
            label="Webhook secret"
            help="The signing key the source signs its webhooks with. Leave blank and Orderly generates one and shows it once (for Shopify, paste the key Shopify shows under its webhook list instead)."
          />
        ) : null}
        <button type="submit">Save connection</button>
      </PostForm>
    </>
  );
}
