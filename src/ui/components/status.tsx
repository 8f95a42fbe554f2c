/** A status badge whose text says the status (colour is only a second cue). */
export function StatusBadge(props: { status: string }) {
  return <span class={`badge s-${props.status}`}>{props.status}</span>;
}
