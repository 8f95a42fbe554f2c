/** The files exportFile steps wrote (pick lists, order lines), newest order first, each with a download link. */
import type { ListedFile } from "../../connectors/files/files.store";
import { SelectField } from "../components/form";

export interface FilesConnection {
  id: string;
  name: string;
}

const LAYOUT_LABELS: Record<string, string> = { pickList: "Pick list", orderLines: "Order lines" };

function size(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KB`;
}

export function downloadHref(key: string): string {
  return `/files/download?key=${encodeURIComponent(key)}`;
}

export function FilesPage(props: {
  files: ListedFile[];
  connections: FilesConnection[];
  connection: string | null;
  nextHref: string | null;
  firstHref: string | null;
}) {
  const names = new Map(props.connections.map((c) => [c.id, c.name]));
  return (
    <>
      <h1>Files</h1>
      <p>
        Files written by flow steps of Files connections (pick lists and order lines, CSV or XML), newest order first within each
        connection. A warehouse fetches them with an API token from <code>GET /api/v1/files</code>. A step run again keeps the
        file it wrote; it never writes a second one. After the shop's log retention a file's contents are deleted; its record
        stays here, so that the step never writes it again.
      </p>
      {props.connections.length > 0 ? (
        <search aria-label="Filter files">
          <form method="get" action="/files" class="filters">
            <SelectField
              id="connection"
              name="connection"
              label="Connection"
              value={props.connection}
              options={[{ value: "", label: "All" }, ...props.connections.map((c) => ({ value: c.id, label: c.name }))]}
            />
            <button type="submit">Show</button>
          </form>
        </search>
      ) : null}
      {props.files.length === 0 ? (
        props.connections.length === 0 ? (
          <p>
            No files yet, and no Files connection. <a href="/connections/new?connector=files">Add a Files connection</a>, then add
            an <em>exportFile</em> step to a flow (for example on the paid stage).
          </p>
        ) : (
          <p>No files yet. They appear here once a flow with an exportFile step has run.</p>
        )
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col">Order</th>
              <th scope="col">Layout</th>
              <th scope="col">Rows</th>
              <th scope="col">Size</th>
              <th scope="col">Connection</th>
              <th scope="col">Written (UTC)</th>
            </tr>
          </thead>
          <tbody>
            {props.files.map((f) => (
              <tr>
                <td>
                  {f.expiredAt ? (
                    // Emptied by retention: the record shows what was written, there is nothing to download.
                    <>
                      {f.filename} <span class="muted">(deleted after retention, {f.expiredAt.slice(0, 10)})</span>
                    </>
                  ) : (
                    <a href={downloadHref(f.key)} download={f.filename}>
                      {f.filename}
                    </a>
                  )}
                </td>
                <td>{f.transferId ? <a href={`/transfers/${f.transferId}`}>{f.orderNumber || f.orderId}</a> : f.orderNumber}</td>
                <td>
                  {LAYOUT_LABELS[f.layout] ?? f.layout} <span class="muted">({f.format.toUpperCase()})</span>
                </td>
                <td>{f.rows}</td>
                <td>{size(f.size)}</td>
                <td>{names.get(f.connectionId) ?? f.connectionId}</td>
                <td>{f.uploadedAt.slice(0, 19).replace("T", " ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.nextHref || props.firstHref ? (
        <nav aria-label="Pages" class="pager">
          {props.firstHref ? <a href={props.firstHref}>Newest</a> : null}{" "}
          {props.nextHref ? (
            <a href={props.nextHref} rel="next">
              Older files
            </a>
          ) : null}
        </nav>
      ) : null}
    </>
  );
}
