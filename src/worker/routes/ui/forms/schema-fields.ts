/**
 * Forms from a connector's zod schemas: the schema is turned into JSON Schema (z.toJSONSchema),
 * walked into field descriptions (string, number, boolean, enum, nested object, record), and a
 * submitted form is read back into a value by the same descriptions. The API's validation then
 * checks the value, so the form never accepts what the API would refuse.
 */
import { z } from "zod";

export type FieldKind = "string" | "number" | "boolean" | "enum" | "record" | "json" | "group";

export interface FieldSpec {
  key: string;
  /** The form field name: prefix and path joined with dots. */
  name: string;
  label: string;
  help?: string;
  kind: FieldKind;
  required: boolean;
  options?: string[];
  defaultValue?: unknown;
  /** For records: whether values are numbers. */
  numericValues?: boolean;
  integer?: boolean;
  children?: FieldSpec[];
}

type Json = Record<string, unknown>;

/** "layoutNumber" → "Layout number", "baseUrl" → "Base URL". */
export function labelOf(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/_/g, " ")
    .toLowerCase()
    .replace(/\b(url|vat|id|oss|ean|cvr|api)\b/g, (w) => w.toUpperCase());
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function unwrap(schema: Json): Json {
  const anyOf = schema.anyOf as Json[] | undefined;
  if (anyOf) {
    const nonNull = anyOf.filter((s) => s.type !== "null");
    if (nonNull.length === 1 && nonNull[0])
      return { ...nonNull[0], description: schema.description ?? nonNull[0].description, default: schema.default };
  }
  return schema;
}

function specOf(key: string, raw: Json, prefix: string, required: boolean): FieldSpec {
  const s = unwrap(raw);
  const name = `${prefix}.${key}`;
  const base = {
    key,
    name,
    label: labelOf(key),
    required,
    ...(typeof s.description === "string" ? { help: s.description } : {}),
    ...(s.default !== undefined ? { defaultValue: s.default } : {}),
  };
  if (Array.isArray(s.enum) && s.enum.every((v) => typeof v === "string"))
    return { ...base, kind: "enum", options: s.enum as string[] };
  if (s.type === "string") return { ...base, kind: "string" };
  if (s.type === "integer" || s.type === "number") return { ...base, kind: "number", integer: s.type === "integer" };
  if (s.type === "boolean") return { ...base, kind: "boolean" };
  if (s.type === "object" && s.properties && Object.keys(s.properties as Json).length > 0 && !s.additionalProperties) {
    return { ...base, kind: "group", children: fieldsOf(s, name) };
  }
  if (s.type === "object" && s.additionalProperties && typeof s.additionalProperties === "object") {
    const value = unwrap(s.additionalProperties as Json);
    if (value.type === "string" || value.type === "integer" || value.type === "number") {
      return { ...base, kind: "record", numericValues: value.type !== "string" };
    }
  }
  return { ...base, kind: "json" };
}

function fieldsOf(json: Json, prefix: string): FieldSpec[] {
  const properties = (json.properties ?? {}) as Record<string, Json>;
  const required = new Set((json.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([key, prop]) => specOf(key, prop, prefix, required.has(key)));
}

/** The fields of a zod object schema, named `<prefix>.<key>`. */
export function fieldsFor(schema: z.ZodType, prefix: string): FieldSpec[] {
  return fieldsOf(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json, prefix);
}

export type FormData = Record<string, string | File | (string | File)[]>;

/** One submitted field's text (the first, when a name repeats); undefined when not sent. */
export function formText(form: FormData, name: string): string | undefined {
  const v = form[name];
  const one = Array.isArray(v) ? v[0] : v;
  return typeof one === "string" ? one : undefined;
}

/** A record line is a short key and value (product numbers, ids); a longer line is refused unread. */
const MAX_RECORD_LINE = 1000;

/**
 * "key = value" or "key: value", split at the first = or : and trimmed; null without a key. Done
 * by hand: the pattern it replaces backtracked cubically on spaces before a word (2,000 took 1.4 s).
 */
function recordLine(line: string): { key: string; value: string } | null {
  const at = line.search(/[=:]/);
  const key = at === -1 ? "" : line.slice(0, at).trim();
  return key ? { key, value: line.slice(at + 1).trim() } : null;
}

/**
 * Reads a submitted form back into a value. Empty inputs are left out so defaults apply (and, with
 * `keepBlank`, so a write-only credential left blank keeps its stored value). Problems that the
 * schema cannot report (malformed JSON or record lines) come back in `errors`.
 */
export function readFields(fields: FieldSpec[], form: FormData, errors: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const raw = formText(form, f.name);
    switch (f.kind) {
      case "boolean":
        out[f.key] = raw === "on" || raw === "true";
        break;
      case "number":
        if (raw?.trim()) out[f.key] = Number.isFinite(Number(raw)) ? Number(raw) : raw;
        break;
      case "string":
        if (raw?.trim()) out[f.key] = raw.trim();
        break;
      case "enum":
        if (raw) out[f.key] = raw;
        break;
      case "record": {
        if (!raw?.trim()) break;
        const record: Record<string, unknown> = {};
        // Where each key was first written: a second line for it would silently replace the first.
        const firstLine = new Map<string, number>();
        for (const [i, line] of raw.split(/\r?\n/).entries()) {
          if (!line.trim()) continue;
          if (line.length > MAX_RECORD_LINE) {
            errors.push(
              `${f.label}, line ${i + 1}: is longer than ${MAX_RECORD_LINE} characters; write one key = value per line.`,
            );
            continue;
          }
          const entry = recordLine(line);
          if (!entry) {
            errors.push(`${f.label}, line ${i + 1}: write it as key = value.`);
            continue;
          }
          const earlier = firstLine.get(entry.key);
          if (earlier !== undefined) {
            errors.push(`${f.label}, line ${i + 1}: "${entry.key}" is already on line ${earlier}; keep one of them.`);
            continue;
          }
          firstLine.set(entry.key, i + 1);
          record[entry.key] = f.numericValues && Number.isFinite(Number(entry.value)) ? Number(entry.value) : entry.value;
        }
        out[f.key] = record;
        break;
      }
      case "json":
        if (!raw?.trim()) break;
        try {
          out[f.key] = JSON.parse(raw);
        } catch {
          errors.push(`${f.label}: this is not valid JSON.`);
        }
        break;
      case "group": {
        const value = readFields(f.children ?? [], form, errors);
        if (Object.keys(value).length > 0 || f.required) out[f.key] = value;
        break;
      }
    }
  }
  return out;
}
