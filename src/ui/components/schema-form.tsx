/** Renders schema-driven fields (see schema-fields.ts): labels, help text, defaults, write-only secrets. */
import { type FieldSpec, type FormData, formText } from "../../worker/routes/ui/forms/schema-fields";

function idOf(name: string): string {
  return `f-${name.replace(/[^\w-]/g, "-")}`;
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return "";
  return typeof value === "object" ? JSON.stringify(value, null, 2) : String(value);
}

/** What a person submitted for one field, as `readFields` read it. */
function typedText(form: FormData, name: string): string {
  return formText(form, name) ?? "";
}

function recordText(value: unknown): string {
  if (!value || typeof value !== "object") return "";
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `${k} = ${String(v)}`)
    .join("\n");
}

export function SchemaFields(props: {
  fields: FieldSpec[];
  values?: Record<string, unknown>;
  secret?: boolean;
  keepHint?: boolean;
  /**
   * A submitted form shown again after a validation error: each field shows exactly what was typed
   * (even text that did not parse), not the stored value. Never used for secrets.
   */
  typed?: FormData;
}) {
  const values = props.values ?? {};
  const typed = props.secret ? undefined : props.typed;
  return (
    <>
      {props.fields.map((f) => {
        const id = idOf(f.name);
        const helpId = `${id}-help`;
        const current = values[f.key] ?? f.defaultValue;
        const help = [
          f.help,
          f.defaultValue !== undefined && f.kind !== "group" ? `Default: ${asText(f.defaultValue) || "(empty)"}.` : undefined,
          props.secret && props.keepHint ? "Write-only: leave blank to keep the stored value." : undefined,
          f.kind === "record" ? "One per line: key = value." : undefined,
          f.kind === "json" ? "JSON." : undefined,
        ]
          .filter(Boolean)
          .join(" ");
        const describedBy = help ? helpId : undefined;
        const helpText = help ? (
          <p class="help" id={helpId}>
            {help}
          </p>
        ) : null;
        const label = (
          <label for={id}>
            {f.label}
            {f.required ? <span aria-hidden="true"> *</span> : null}
          </label>
        );
        switch (f.kind) {
          case "group":
            return (
              <fieldset>
                <legend>{f.label}</legend>
                {f.help ? <p class="help">{f.help}</p> : null}
                <SchemaFields
                  fields={f.children ?? []}
                  values={(current as Record<string, unknown>) ?? {}}
                  secret={props.secret}
                  keepHint={props.keepHint}
                  typed={typed}
                />
              </fieldset>
            );
          case "boolean":
            return (
              <div class="field check">
                <input
                  id={id}
                  name={f.name}
                  type="checkbox"
                  checked={typed ? ["on", "true"].includes(typedText(typed, f.name)) : current === true}
                  aria-describedby={describedBy}
                />
                {label}
                {helpText}
              </div>
            );
          case "enum":
            return (
              <div class="field">
                {label}
                <select id={id} name={f.name} aria-describedby={describedBy}>
                  {f.required || f.defaultValue !== undefined ? null : <option value="">(not set)</option>}
                  {(f.options ?? []).map((o) => (
                    <option value={o} selected={o === (typed ? typedText(typed, f.name) : current)}>
                      {o}
                    </option>
                  ))}
                </select>
                {helpText}
              </div>
            );
          case "record":
          case "json":
            return (
              <div class="field">
                {label}
                <textarea id={id} name={f.name} rows={4} aria-describedby={describedBy}>
                  {props.secret
                    ? ""
                    : typed
                      ? typedText(typed, f.name)
                      : f.kind === "record"
                        ? recordText(current)
                        : asText(current)}
                </textarea>
                {helpText}
              </div>
            );
          default:
            return (
              <div class="field">
                {label}
                <input
                  id={id}
                  name={f.name}
                  type={props.secret ? "password" : f.kind === "number" ? "number" : "text"}
                  step={f.kind === "number" && !f.integer ? "any" : undefined}
                  value={props.secret ? "" : typed ? typedText(typed, f.name) : asText(current)}
                  autocomplete={props.secret ? "new-password" : "off"}
                  required={f.required && !(props.secret && props.keepHint)}
                  aria-describedby={describedBy}
                />
                {helpText}
              </div>
            );
        }
      })}
    </>
  );
}
