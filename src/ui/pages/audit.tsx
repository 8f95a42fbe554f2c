/** The audit log: who changed which setting, and when. */
import type { auditLog } from "../../db/schema";
import { when } from "../../worker/routes/ui/render";
import { JsonView } from "../components/json-view";

type Row = typeof auditLog.$inferSelect & { actorEmail: string | null };

export function AuditPage(props: { rows: Row[]; nextHref: string | null }) {
  return (
    <>
      <h1>Audit log</h1>
      <p>Every change made through the UI: connections, flows, notification settings, people, API tokens and retries.</p>
      {props.rows.length === 0 ? (
        <p>Nothing changed yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">On</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr>
                <td>{when(r.createdAt)}</td>
                <td>{r.actorEmail ?? r.actor}</td>
                <td>
                  <code>{r.action}</code>
                </td>
                <td>{r.target ?? ""}</td>
                <td>{r.details && Object.keys(r.details).length > 0 ? <JsonView summary="Details" value={r.details} /> : ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.nextHref ? (
        <nav aria-label="Pages" class="pager">
          <a href={props.nextHref} rel="next">
            Older entries
          </a>
        </nav>
      ) : null}
    </>
  );
}
