/** Copy a setup: this shop's connections and flows as a file, and another shop's copied in. */
import { CsrfField, Errors } from "../components/form";

export interface CopiedConnection {
  name: string;
  connector: string;
  enabled: boolean;
  webhookUrl?: string;
  webhookSecret?: string;
  id: string;
}

export function SetupCopyPage(props: {
  shops: Array<{ tenantId: string; tenantName: string }>;
  canEdit: boolean;
  csrf: string;
  errors?: string[];
}) {
  return (
    <>
      <h1>Copy a setup</h1>
      <p>
        Start this shop from one you have already set up: its connections (with their settings) and its flows are added here.
        Credentials, webhook secrets, transfers and people are never copied. Copied connections that need credentials stay
        switched off until you enter them, and every copied flow comes switched off, so nothing runs before you have checked it.
      </p>
      <p>
        <a href="/setup/export.json" download="orderly-setup.json">
          Download this shop's setup (JSON)
        </a>{" "}
        — the same document as <code>GET /api/v1/setup</code>; <code>POST /api/v1/setup</code> copies it into a shop.
      </p>
      <Errors errors={props.errors} />
      {!props.canEdit ? (
        <p>Your role in this shop can read but not change anything, so it cannot copy a setup into it.</p>
      ) : props.shops.length === 0 ? (
        <p>You work in no other shop to copy from.</p>
      ) : (
        <form method="post" action="/setup/copy" aria-label="Copy a setup">
          <CsrfField token={props.csrf} />
          <div class="field">
            <label for="from">Copy from</label>
            <select id="from" name="from" aria-describedby="from-help">
              {props.shops.map((s) => (
                <option value={s.tenantId}>{s.tenantName}</option>
              ))}
            </select>
            <p class="help" id="from-help">
              One of the shops you work in. What it has is added to this shop's connections and flows; nothing here is removed.
            </p>
          </div>
          <button type="submit">Copy its connections and flows</button>
        </form>
      )}
    </>
  );
}

export function SetupCopiedPage(props: {
  from: string;
  connections: CopiedConnection[];
  flows: Array<{ id: string; name: string }>;
  todo: string[];
}) {
  return (
    <>
      <h1>Copied from {props.from}</h1>
      <p>
        {props.connections.length} connection(s) and {props.flows.length} flow(s) were added. Webhook secrets are shown on this
        page only: copy them into the shop's webhook settings now.
      </p>
      {props.todo.length > 0 ? (
        <>
          <h2>What is left to do</h2>
          <ol>
            {props.todo.map((t) => (
              <li>{t}</li>
            ))}
          </ol>
        </>
      ) : null}
      <h2>Connections</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">System</th>
            <th scope="col">State</th>
            <th scope="col">Webhook address and secret</th>
          </tr>
        </thead>
        <tbody>
          {props.connections.map((c) => (
            <tr>
              <td>
                <a href={`/connections/${c.id}`}>{c.name}</a>
              </td>
              <td>{c.connector}</td>
              <td>{c.enabled ? "active" : "disabled: enter its credentials"}</td>
              <td>
                {c.webhookUrl ? <code>{c.webhookUrl}</code> : "—"}
                {c.webhookSecret ? (
                  <>
                    <br />
                    <code>{c.webhookSecret}</code>
                  </>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Flows (switched off)</h2>
      <ul>
        {props.flows.map((f) => (
          <li>
            <a href={`/flows/${f.id}`}>{f.name}</a>
          </li>
        ))}
      </ul>
    </>
  );
}
