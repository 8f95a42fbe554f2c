/** Small form pieces: the CSRF field, labelled inputs, and a POST form with its token. */
import type { Child } from "hono/jsx";

export function CsrfField(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}

export function PostForm(props: { action: string; csrf: string; class?: string; children: Child; label?: string }) {
  return (
    <form method="post" action={props.action} class={props.class} aria-label={props.label}>
      <CsrfField token={props.csrf} />
      {props.children}
    </form>
  );
}

export function TextField(props: {
  id: string;
  name: string;
  label: string;
  value?: string | number | null;
  type?: string;
  help?: string;
  required?: boolean;
  autocomplete?: string;
  placeholder?: string;
  min?: number;
  max?: number;
}) {
  const helpId = props.help ? `${props.id}-help` : undefined;
  return (
    <div class="field">
      <label for={props.id}>
        {props.label}
        {props.required ? <span aria-hidden="true"> *</span> : null}
      </label>
      <input
        id={props.id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value ?? ""}
        required={props.required}
        autocomplete={props.autocomplete}
        placeholder={props.placeholder}
        min={props.min}
        max={props.max}
        aria-describedby={helpId}
      />
      {props.help ? (
        <p class="help" id={helpId}>
          {props.help}
        </p>
      ) : null}
    </div>
  );
}

export function SelectField(props: {
  id: string;
  name: string;
  label: string;
  options: Array<{ value: string; label: string }>;
  value?: string | null;
  help?: string;
}) {
  const helpId = props.help ? `${props.id}-help` : undefined;
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name} aria-describedby={helpId}>
        {props.options.map((o) => (
          <option value={o.value} selected={o.value === (props.value ?? "")}>
            {o.label}
          </option>
        ))}
      </select>
      {props.help ? (
        <p class="help" id={helpId}>
          {props.help}
        </p>
      ) : null}
    </div>
  );
}

export function Errors(props: { errors?: string[] | null }) {
  if (!props.errors || props.errors.length === 0) return null;
  return (
    <div class="flash error" role="alert">
      <p>Please fix the following:</p>
      <ul>
        {props.errors.map((e) => (
          <li>{e}</li>
        ))}
      </ul>
    </div>
  );
}
