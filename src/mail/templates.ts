/**
 * Merchant-written email templates with `{{order.number}}`-style placeholders: dot paths, spaces
 * inside the braces allowed. An unknown placeholder is an error, not an empty string, so a typo is
 * caught when the template is saved (`validateTemplate`) rather than in a customer's inbox.
 */
import { OrderlyError } from "../domain/errors";

export type TemplateValues = Record<string, string | number | undefined>;

export interface RenderOptions {
  /** Escape values for HTML (the template's own markup is kept as written). */
  html?: boolean;
}

const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** The distinct placeholder names a template uses, in order of first use. */
export function templatePlaceholders(template: string): string[] {
  return [...new Set(scan(template).names)];
}

/** Save-time check: every placeholder is well formed and one of `allowed`. */
export function validateTemplate(template: string, allowed: readonly string[]): void {
  check(template, new Set(allowed));
}

/**
 * Replaces each placeholder with its value; a name present in `values` with `undefined` renders
 * empty, a name absent from `values` is an error listing every such name.
 */
export function renderTemplate(template: string, values: TemplateValues, options: RenderOptions = {}): string {
  check(template, new Set(Object.keys(values)));
  return template.replace(PLACEHOLDER, (_, inner: string) => {
    const value = values[inner.trim()];
    const text = value === undefined ? "" : String(value);
    return options.html ? escapeHtml(text) : text;
  });
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function check(template: string, known: ReadonlySet<string>): void {
  const { names, malformed } = scan(template);
  const unknown = [...new Set(names.filter((n) => NAME.test(n) && !known.has(n)))];
  const problems: string[] = [];
  if (malformed.length > 0) problems.push(`malformed placeholders ${malformed.map((m) => `"${m}"`).join(", ")}`);
  if (unknown.length > 0) problems.push(`unknown placeholders ${unknown.map((n) => `{{${n}}}`).join(", ")}`);
  if (problems.length === 0) return;
  const offer = known.size > 0 ? ` Available: ${[...known].map((n) => `{{${n}}}`).join(", ")}.` : "";
  throw new OrderlyError(`The template has ${problems.join(" and ")}.${offer}`, {
    errorClass: "validation",
    code: "template_invalid",
    details: { unknown, malformed, available: [...known] },
  });
}

/** Finds placeholders, and a `{{` that never closes (a lone `}}` is common in CSS, so it is left alone). */
function scan(template: string): { names: string[]; malformed: string[] } {
  const names: string[] = [];
  const malformed: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = (match[1] ?? "").trim();
    if (NAME.test(name)) names.push(name);
    else malformed.push(match[0]);
  }
  const rest = template.replace(PLACEHOLDER, "");
  const stray = /\{\{[^}]{0,30}/.exec(rest);
  if (stray) malformed.push(stray[0].trim());
  return { names, malformed };
}
