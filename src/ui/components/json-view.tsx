/** Readable, collapsible JSON: a <details> with a summary line and the pretty-printed value. */
import { prettyJson } from "./format";

export function JsonView(props: { summary: string; value: unknown; open?: boolean; id?: string }) {
  return (
    <details class="json" open={props.open} id={props.id}>
      <summary>{props.summary}</summary>
      <pre tabindex={0}>
        <code>{prettyJson(props.value)}</code>
      </pre>
    </details>
  );
}
