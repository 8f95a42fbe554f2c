/** A read-only value with a copy button (the button appears only when JavaScript can copy). */
export function CopyField(props: { id: string; label: string; value: string; help?: string }) {
  return (
    <div class="field copy">
      <label for={props.id}>{props.label}</label>
      <div class="row">
        <input
          id={props.id}
          type="text"
          readonly
          value={props.value}
          aria-describedby={props.help ? `${props.id}-help` : undefined}
        />
        <button type="button" class="copy-button" data-copy={props.id} hidden>
          Copy
        </button>
      </div>
      {props.help ? (
        <p class="help" id={`${props.id}-help`}>
          {props.help}
        </p>
      ) : null}
    </div>
  );
}
