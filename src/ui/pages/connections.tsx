/** The tenant's connections. */
import type { connections } from "../../db/schema";
import { when } from "../../worker/routes/ui/render";

type Row = typeof connections.$inferSelect;

export function ConnectionsPage(props: { rows: Array<Row & { connectorName: string; isSource: boolean }>; canEdit: boolean }) {
  const now = Date.now();
  return (
    <>
      <h1>Connections</h1>
      <p>Each connection is one of your systems: a webshop that sends orders, or a system that receives them.</p>
      {props.canEdit ? (
        <p>
          <a class="button" href="/connections/new">
            Add a connection
          </a>{" "}
          <a href="/setup">Copy a setup from another shop</a>
        </p>
      ) : null}
      {props.rows.length === 0 ? (
        <p>No connections yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">System</th>
              <th scope="col">Role</th>
              <th scope="col">State</th>
              <th scope="col">Changed</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr>
                <td>
                  <a href={`/connections/${r.id}`}>{r.name}</a>
                </td>
                <td>{r.connectorName}</td>
                <td>{r.isSource ? "source" : "target"}</td>
                <td>
                  {!r.enabled
                    ? "disabled"
                    : r.pausedUntil && r.pausedUntil > now
                      ? `paused until ${when(r.pausedUntil)}`
                      : "active"}
                </td>
                <td>{when(r.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
