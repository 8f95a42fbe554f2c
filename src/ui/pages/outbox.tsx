/** Every email Orderly recorded for this tenant (the dev outbox without a mail connection), and one email opened. */
import type { mailOutbox } from "../../db/schema";
import { when } from "../../worker/routes/ui/render";
import { StatusBadge } from "../components/status";

type Row = Pick<typeof mailOutbox.$inferSelect, "id" | "subject" | "toAddresses" | "createdAt" | "status" | "provider">;

export function OutboxPage(props: { rows: Row[]; nextHref: string | null; dev: boolean }) {
  return (
    <>
      <h1>{props.dev ? "Dev outbox" : "Emails"}</h1>
      <p>
        {props.dev
          ? "Emails Orderly sent or tried to send for this tenant. Without a mail connection they stop here and go nowhere."
          : "Emails Orderly gave the tenant's mail connection, newest first: a failed one says why, and alerts that failed are sent again by the cron."}
      </p>
      {props.rows.length === 0 ? (
        <p>No emails yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Subject</th>
              <th scope="col">To</th>
              <th scope="col">Status</th>
              <th scope="col">Time</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((m) => (
              <tr>
                <td>
                  <a href={`/outbox/${m.id}`}>{m.subject}</a>
                </td>
                <td>{m.toAddresses.join(", ")}</td>
                <td>
                  <StatusBadge status={m.status} /> <span class="muted">{m.provider}</span>
                </td>
                <td>{when(m.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.nextHref ? (
        <nav aria-label="Pages" class="pager">
          <a href={props.nextHref} rel="next">
            Older emails
          </a>
        </nav>
      ) : null}
    </>
  );
}

export function OutboxMailPage(props: { mail: typeof mailOutbox.$inferSelect }) {
  const m = props.mail;
  return (
    <>
      <h1>{m.subject}</h1>
      <dl class="summary">
        <dt>From</dt>
        <dd>{m.fromAddress}</dd>
        <dt>To</dt>
        <dd>{m.toAddresses.join(", ")}</dd>
        <dt>Time</dt>
        <dd>{when(m.createdAt)}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={m.status} /> via {m.provider}
          {m.error ? ` · ${m.error}` : ""}
        </dd>
        {m.attachments && m.attachments.length > 0 ? (
          <>
            <dt>Attachments</dt>
            <dd>{m.attachments.map((a) => `${a.filename} (${a.size} bytes)`).join(", ")}</dd>
          </>
        ) : null}
      </dl>
      <h2>Text</h2>
      <pre class="mail" tabindex={0}>
        {m.text ?? "(no text part)"}
      </pre>
      {m.html ? (
        <details>
          <summary>HTML source</summary>
          <pre tabindex={0}>
            <code>{m.html}</code>
          </pre>
        </details>
      ) : null}
      <p>
        <a href="/outbox">Back to the outbox</a>
      </p>
    </>
  );
}
