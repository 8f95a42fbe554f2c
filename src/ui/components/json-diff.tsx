/** A field-level diff of two JSON values (an original and its update), shown side by side. */

export interface DiffRow {
  path: string;
  before?: string;
  after?: string;
  change: "added" | "removed" | "changed";
}

function flatten(value: unknown, path: string, out: Map<string, string>): void {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(path, "[]");
    for (const [i, v] of value.entries()) flatten(v, `${path}[${i}]`, out);
  } else if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) out.set(path, "{}");
    for (const [k, v] of entries) flatten(v, path ? `${path}.${k}` : k, out);
  } else {
    out.set(path || "(value)", JSON.stringify(value) ?? "undefined");
  }
}

export function diffJson(before: unknown, after: unknown): DiffRow[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(before, "", a);
  flatten(after, "", b);
  const rows: DiffRow[] = [];
  for (const [path, value] of a) {
    if (!b.has(path)) rows.push({ path, before: value, change: "removed" });
    else if (b.get(path) !== value) rows.push({ path, before: value, after: b.get(path) as string, change: "changed" });
  }
  for (const [path, value] of b) if (!a.has(path)) rows.push({ path, after: value, change: "added" });
  return rows;
}

export function JsonDiff(props: { before: unknown; after: unknown; beforeLabel: string; afterLabel: string }) {
  const rows = diffJson(props.before, props.after);
  if (rows.length === 0) return <p>No field differs.</p>;
  return (
    <table class="diff">
      <caption>
        {rows.length} field{rows.length === 1 ? "" : "s"} differ
      </caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">{props.beforeLabel}</th>
          <th scope="col">{props.afterLabel}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr class={r.change}>
            <th scope="row">
              <code>{r.path}</code> <span class="visually-hidden">({r.change})</span>
            </th>
            <td>{r.before === undefined ? <em>absent</em> : <del>{r.before}</del>}</td>
            <td>{r.after === undefined ? <em>absent</em> : <ins>{r.after}</ins>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
